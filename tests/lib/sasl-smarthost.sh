# sasl-smarthost.sh — a second real Postfix with Cyrus SASL (sasldb) acting
# as the provider's submission server: the most faithful peer for AUTH and
# TLS.  Source common.sh and postfix.sh first.
#
#	pki_make "$T_TMP/pki"
#	sasl_create "$T_TMP/isp" "$T_TMP/pki" 4650 5870
#	sasl_user "$T_TMP/isp" alice@163.com code-163
#	pf_start "$T_TMP/isp"
#	... relay sends to 127.0.0.1:4650 (implicit TLS) or :5870 (STARTTLS)
#	sasl_wait_msgs "$T_TMP/isp" 1 10 || t_fail "nothing delivered"
#	grep '^X-Envelope-From: alice@163.com' "$(sasl_msg "$T_TMP/isp" 1)"
#
# sasl_create DIR PKI WRAPPORT STARTTLSPORT
#	A pf_create'd instance (myhostname smtp.test) with two listeners on
#	127.0.0.1: WRAPPORT with smtpd_tls_wrappermode (like 465) and
#	STARTTLSPORT with TLS required before anything else (like 587); the
#	plain listener pf_create makes is removed.  Certificate PKI/server.crt.
#	AUTH PLAIN LOGIN only over TLS (smtpd_tls_auth_only), relaying only
#	for authenticated clients, and reject_sender_login_mismatch with
#	smtpd_sender_login_maps = each user owns exactly its login address, so
#	a mismatched MAIL FROM gets Postfix's "553 5.7.1 <addr>: Sender
#	address rejected: not owned by user LOGIN" and <> gets "553 5.7.1 <>:
#	Sender address rejected: null sender not allowed" (both at RCPT time,
#	smtpd_delay_reject).
#	Every accepted message is delivered by a pipe(8) transport to
#	DIR/mail/NNN.eml with "X-Envelope-From: SENDER" and
#	"X-Envelope-To: RECIPIENT" lines prepended (one file per recipient).
#	pf_port DIR prints WRAPPORT (what pf_start waits for).
# sasl_user DIR LOGIN PASSWORD   add a SASL user (sasldb2) owning LOGIN as
#	sender address.  Give LOGIN as user@domain (stored as user in realm
#	domain; the client then logs in as user@domain, as at a provider).
# Connection limits like a provider's: pf_conf DIR
#	"smtpd_client_connection_count_limit = 2"
#	"smtpd_client_event_limit_exceptions ="  (anvil: extra sessions get
#	"421 4.7.0 smtp.test Error: too many connections from 127.0.0.1").
# sasl_msgs DIR			number of delivered message files.
# sasl_wait_msgs DIR N SECONDS	poll until at least N are delivered.
# sasl_msg DIR N		path of the N-th delivered file (in order of
#	delivery).

sasl_create() {
	local d=${1:?sasl_create DIR PKI WRAPPORT STARTTLSPORT} pki=${2:?}
	local wport=${3:?} sport=${4:?}
	pf_create "$d" "$wport" || return 1
	pf__cf "$d" -X -M "127.0.0.1:$wport/inet"
	mkdir -p "$d/etc/sasl" "$d/mail"
	chown nobody "$d/mail"
	: >"$d/etc/sender_logins"
	# reject_sender_login_mismatch lets <> through; providers do not.
	echo "<> 553 5.7.1 null sender not allowed" \
	    >"$d/etc/null_sender"
	pf_backdate "$d/etc/null_sender"
	sasl__store_script "$d" >"$d/store.sh"
	chmod 755 "$d/store.sh"
	pf_backdate "$d/etc/sender_logins"
	printf '%s\n' "pwcheck_method: auxprop" "auxprop_plugin: sasldb" \
	    "mech_list: PLAIN LOGIN" "sasldb_path: $d/etc/sasldb2" \
	    >"$d/etc/sasl/smtpd.conf"
	pf_conf "$d" \
	    "myhostname = smtp.test" \
	    "smtpd_tls_cert_file = $pki/server.crt" \
	    "smtpd_tls_key_file = $pki/server.key" \
	    "smtpd_sasl_auth_enable = yes" \
	    "smtpd_sasl_path = smtpd" \
	    "smtpd_tls_auth_only = yes" \
	    "smtpd_relay_restrictions = permit_sasl_authenticated, reject" \
	    "smtpd_sender_login_maps = texthash:$d/etc/sender_logins" \
	    "smtpd_sender_restrictions = reject_sender_login_mismatch, check_sender_access texthash:$d/etc/null_sender" \
	    "smtpd_null_access_lookup_key = <>" \
	    "mynetworks =" \
	    "default_transport = store" "relay_transport = store" \
	    "store_destination_recipient_limit = 1" || return 1
	pf_master "$d" \
	    "127.0.0.1:$wport/inet=127.0.0.1:$wport inet n - n - - smtpd -o smtpd_tls_wrappermode=yes -o smtpd_tls_security_level=encrypt" \
	    "127.0.0.1:$sport/inet=127.0.0.1:$sport inet n - n - - smtpd -o smtpd_tls_security_level=encrypt" \
	    "store/unix=store unix - n n - - pipe flags=q user=nobody argv=$d/store.sh \${sender} \${recipient}"
}

# The pipe(8) delivery program: one file per message and recipient, written
# under a temporary name and renamed, so a visible .eml is complete.
sasl__store_script() {
	cat <<EOF
#!/bin/sh
umask 022
f=$1/mail/\$(date +%s%N)
{ echo "X-Envelope-From: \$1"; echo "X-Envelope-To: \$2"; cat; } >"\$f.tmp" &&
mv "\$f.tmp" "\$f.eml"
EOF
}

sasl_user() {
	local d=${1:?sasl_user DIR LOGIN PASSWORD} login=${2:?} pw=${3:?}
	local user=${login%@*} realm=smtp.test
	[ "$user" != "$login" ] && realm=${login##*@}
	printf '%s' "$pw" | saslpasswd2 -p -c -f "$d/etc/sasldb2" -u "$realm" "$user" ||
	    t_fail "saslpasswd2 failed for $login"
	chown root:postfix "$d/etc/sasldb2"
	chmod 640 "$d/etc/sasldb2"
	printf '%s %s\n' "$login" "$login" >>"$d/etc/sender_logins"
	pf_backdate "$d/etc/sender_logins"
}

sasl__files() {
	ls -1 "$1/mail" 2>/dev/null | grep '\.eml$' | sort -n
}

sasl_msgs() {
	sasl__files "$1" | grep -c .
}

sasl_wait_msgs() {
	t_wait_for "[ \"\$(sasl_msgs '$1')\" -ge $2 ]" "${3:?sasl_wait_msgs DIR N SECONDS}"
}

sasl_msg() {
	local f
	f=$(sasl__files "$1" | sed -n "${2:?sasl_msg DIR N}p")
	[ -n "$f" ] && echo "$1/mail/$f"
}
