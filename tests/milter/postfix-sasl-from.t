#!/usr/bin/env bash
# postfix-sasl-from.t — two things a real Postfix does before the milter
# judges a message, as smarthost-milter(8) documents them:
#  - with smtpd_sasl_local_domain set, Cyrus SASL appends that realm to a
#    login without one: a client that logs in as "alice" reaches the milter
#    as {auth_authen} "alice@REALM", so allowed-users must name
#    alice@REALM (a bare "alice" no longer matches);
#  - Postfix adds a missing From: header (the envelope sender) for local
#    clients (local_header_rewrite_clients, by default the machine's own
#    addresses): the milter's From: check then sees that header; for other
#    clients nothing is added and the milter refuses the message.
. "$SMARTHOST_TOP/tests/lib/common.sh"
t_enter_netns "$@"
. "$T_LIB/postfix.sh"
t_need postfix postconf swaks saslpasswd2
[ -x "$B/smarthost-milter" ] || t_fail "$B/smarthost-milter not built"
t_tmpdir
T=$T_TMP
realm=office.test

# milter ALLOWED: (re)start the milter with allowed-users = ALLOWED.
milter() {
	[ -n "${T_PID_milter:-}" ] && t_stop milter
	rm -f "$T/milter.sock"
	cat >"$T/smarthost.conf" <<CONF
[global]
relay-map = $T/relay.map
secrets = $T/secrets
user = nobody
local-domains = $realm
[milter]
socket = unix:$T/milter.sock
dmarc = off
[account team@163.com]
allowed-users = $1
CONF
	chmod 644 "$T/smarthost.conf"
	t_spawn milter "$T/milter-$2.log" "$B/smarthost-milter" -f -c "$T/smarthost.conf"
	t_wait_for "[ -S '$T/milter.sock' ]" 10 ||
	    t_fail "milter socket missing: $(cat "$T/milter-$2.log")"
}
echo '*  team@163.com  rewrite' >"$T/relay.map"
: >"$T/secrets"
chmod 644 "$T/relay.map"

# Postfix with Cyrus SASL (sasldb) and smtpd_sasl_local_domain; a second
# listener where no client counts as local.
pf_create "$T/pf" 2525
mkdir -p "$T/pf/etc/sasl"
printf '%s\n' "pwcheck_method: auxprop" "auxprop_plugin: sasldb" \
    "mech_list: PLAIN LOGIN" "sasldb_path: $T/pf/etc/sasldb2" \
    >"$T/pf/etc/sasl/smtpd.conf"
printf '%s' 'alice-password' |
    saslpasswd2 -p -c -f "$T/pf/etc/sasldb2" -u "$realm" alice ||
    t_fail "saslpasswd2 failed"
chown root:postfix "$T/pf/etc/sasldb2"
chmod 640 "$T/pf/etc/sasldb2"
pf_conf "$T/pf" "smtpd_sasl_auth_enable = yes" "smtpd_sasl_path = smtpd" \
    "smtpd_sasl_local_domain = $realm" \
    "smtpd_milters = unix:$T/milter.sock" "milter_default_action = tempfail" \
    "default_transport = discard" "relay_transport = discard"
pf_master "$T/pf" \
    "127.0.0.1:2526/inet=127.0.0.1:2526 inet n - n - - smtpd -o local_header_rewrite_clients="
pf_start "$T/pf"
t_wait_port 127.0.0.1 2526 10 || t_fail "second listener not up"

send() {	# send OUT SWAKS-ARGS...: submit a message, transcript in OUT
	local out=$1
	shift
	swaks --server 127.0.0.1 --helo client.test --to friend@example.net \
	    --timeout 20 "$@" >"$out" 2>&1
}

# 1. allowed-users = alice@REALM: alice (logged in as "alice") may send.
milter "alice@$realm" 1
send "$T/s1" --port 2525 --from alice@$realm -a PLAIN -au alice -ap alice-password
t_assert_grep '^ *<- +235 ' "$T/s1" "AUTH as alice"
t_assert_grep '^ *<- +250 2\.0\.0 Ok: queued' "$T/s1" "alice@$realm in allowed-users"
pf_wait_log "$T/pf" "sasl_username=alice@$realm" 10 ||
    t_fail "Postfix did not log sasl_username=alice@$realm"
t_ok "login \"alice\" with smtpd_sasl_local_domain: Postfix and the milter see alice@$realm, which allowed-users names"

# 2. allowed-users = alice: the same login is refused, naming alice@REALM.
milter alice 2
send "$T/s2" --port 2525 --from alice@$realm -a PLAIN -au alice -ap alice-password
t_assert_grep "^ *<\\*\\* +550 5\\.7\\.1 alice@$realm may not send as " "$T/s2" \
    "bare alice in allowed-users"
t_ok "allowed-users = alice does not match: the reply names alice@$realm"

# 3. No From: header, local client (127.0.0.1 is this machine's address):
#    Postfix adds From: <sender>; the milter accepts and sees it.
milter "alice@$realm" 3
# swaks writes a From: header itself; give it a message without one.
printf 'Subject: no from\r\nTo: friend@example.net\r\n\r\nbody\r\n' >"$T/nofrom.eml"
send "$T/s3" --port 2525 --from alice@$realm -a PLAIN -au alice -ap alice-password \
    --data "$T/nofrom.eml"
t_assert_grep '^ *<- +250 2\.0\.0 Ok: queued' "$T/s3" "local client, no From:"
t_assert_no_grep 'From: header' "$T/milter-3.log"
t_ok "no From: from a local client: Postfix adds one, the milter accepts"

# 4. The same message on the listener without local clients: no From: is
#    added and the milter refuses it.
send "$T/s4" --port 2526 --from alice@$realm -a PLAIN -au alice -ap alice-password \
    --data "$T/nofrom.eml"
t_assert_grep '^ *<\*\* +550 5\.6\.0 .*From: header' "$T/s4" "non-local client, no From:"
t_ok "no From: from a client local_header_rewrite_clients does not match: 550 5.6.0"
