# e2e-lib.sh — shared setup of the relay's end-to-end tests
# (tests/relay/e2e-*.t): a real Postfix with relayhost = [127.0.0.1]:10025,
# smarthost-relay, and provider-like smarthosts (tests/peers/smarthost.py)
# with the test PKI, all inside the test's network namespace.  Source it
# after t_enter_netns:
#
#	. "$SMARTHOST_TOP/tests/relay/e2e-lib.sh"
#	t_enter_netns "$@"
#	e2e_init ["IP NAME"...]	# $D, PKI, /etc/hosts: smtp.test (+ these)
#	e2e_users 'a1@test.example code-1' ...	# the smarthosts' users
#	e2e_peer p1 4651 implicit --sender-rule 163
#	e2e_relay_conf "[account ...]..." 'MAP LINES' 'ACCOUNT CODE'...
#		# control socket: $D/control.sock, or $E_CONTROL_SOCKET
#	e2e_account NAME PORT TLS LOGIN [LINE...]	# prints an [account]
#		# block for smtp.test, for e2e_relay_conf "$(...)"
#	e2e_relay_start
#	e2e_postfix
#	e2e_send ID FROM TO...		# Subject and X-Test-Id: ID
#	e2e_wait_delivered p1 ID 1 15	# ID seen N times within S seconds
#	e2e_assert_no_secrets		# no log holds any code
#	e2e_redis_tls CERT IP PORT PASSWORD	# redis-server, TLS only
#	e2e_relay_n N STORE 'GLOBAL LINES' 'RELAY LINES' "$(e2e_account ...)" \
#	    'ACCOUNT CODE'...	# $D/rN.conf: relay N of several sharing STORE
#	e2e_relay_n_start N LOG	# start relay N (t_spawn name relayN)
#
# Peers store messages in $D/mail-NAME (msg-*.eml, msg-*.json) and events
# in $D/events-NAME; restarting a peer with e2e_peer NAME again keeps the
# messages already stored (a new maildir suffix per start).

. "$SMARTHOST_TOP/tests/lib/common.sh"
. "$SMARTHOST_TOP/tests/lib/pki.sh"
. "$SMARTHOST_TOP/tests/lib/postfix.sh"

E_PEER=$SMARTHOST_TOP/tests/peers/smarthost.py
E_SECRETS=()

e2e_init() {
	t_need postfix postconf postqueue swaks openssl /usr/bin/python3
	t_need_python_module aiosmtpd
	[ -x "$B/smarthost-relay" ] || t_fail "$B/smarthost-relay not built"
	[ -f "$E_PEER" ] || t_fail "$E_PEER missing"
	t_tmpdir
	D=$T_TMP
	mkdir -p "$D/state" "$D/pki"
	t_hosts "127.0.0.1 smtp.test" "$@"	# more "IP NAME" lines
	pki_make "$D/pki" || t_fail "pki_make failed"
	: >"$D/users"
}

e2e_users() {
	printf '%s\n' "$@" >>"$D/users"
}

# e2e_peer NAME PORT TLS [smarthost.py options...]
e2e_peer() {
	local name=$1 port=$2 tls=$3 n
	shift 3
	n=$(ls -d "$D/mail-$name"* 2>/dev/null | wc -l)
	mkdir -p "$D/mail-$name.$n"
	t_spawn "peer_$name" "$D/peer-$name.$n.log" /usr/bin/python3 "$E_PEER" \
	    --listen "127.0.0.1:$port" --tls "$tls" \
	    --cert "$D/pki/server.crt" --key "$D/pki/server.key" \
	    --users "$D/users" --maildir "$D/mail-$name.$n" \
	    --events "$D/events-$name" "$@"
	t_wait_for "grep -q READY '$D/peer-$name.$n.log'" 10 ||
	    { cat "$D/peer-$name.$n.log" >&2; t_fail "peer $name did not start"; }
}

e2e_peer_stop() {
	t_stop "peer_$1"
}

# e2e_relay_conf ACCOUNT-BLOCKS MAP-LINES [ACCOUNT CODE]...
e2e_relay_conf() {
	local blocks=$1 map=$2 a
	shift 2
	cat >"$D/smarthost.conf" <<EOC
[global]
relay-map = $D/relay.map
secrets = $D/secrets
state-dir = $D/state
user = root
[relay]
ca-file = $D/pki/ca.crt
control-socket = ${E_CONTROL_SOCKET:-$D/control.sock}
$E_RELAY_EXTRA
$blocks
EOC
	printf '%s\n' "$map" >"$D/relay.map"
	: >"$D/secrets"
	chmod 600 "$D/secrets"
	for a in "$@"; do
		printf '%s\n' "$a" >>"$D/secrets"
		E_SECRETS+=("${a#* }")
	done
}

# e2e_account NAME PORT TLS LOGIN [LINE...]: the [account NAME] block of
# a peer on smtp.test:PORT, then the LINEs (more options of the account).
e2e_account() {
	printf '[account %s]\nhost = smtp.test\nport = %s\ntls = %s\nlogin = %s\n' \
	    "$1" "$2" "$3" "$4"
	shift 4
	[ $# -eq 0 ] || printf '%s\n' "$@"
}

# e2e_relay_n N STORE GLOBAL RELAY ACCOUNTS [SECRETS-LINE...]: $D/rN.conf
# for relay N of several that share limits-store STORE (limits-share 1/2;
# for rediss:// the test CA in limits-ca-file), listening on
# 127.0.0.1:1002(4+N), control socket $D/controlN.sock, state $D/stateN,
# secrets $D/secretsN (the lines given, codes and passwords kept in
# E_SECRETS); GLOBAL and RELAY are more lines of those sections, ACCOUNTS
# the [account] blocks.
e2e_relay_n() {
	local n=$1 store=$2 global=$3 relay=$4 accounts=$5 s ca=
	shift 5
	case $store in rediss://*) ca="limits-ca-file = $D/pki/ca.crt" ;; esac
	mkdir -p "$D/state$n"
	: >"$D/secrets$n"
	chmod 600 "$D/secrets$n"
	for s in "$@"; do
		printf '%s\n' "$s" >>"$D/secrets$n"
		E_SECRETS+=("${s#* }")
	done
	printf '%s\n' '[global]' "relay-map = $D/relay.map" \
	    "secrets = $D/secrets$n" "state-dir = $D/state$n" 'user = root' \
	    "limits-store = $store" 'limits-share = 1/2' >"$D/r$n.conf"
	for s in "$ca" "$global"; do
		[ -z "$s" ] || printf '%s\n' "$s" >>"$D/r$n.conf"
	done
	printf '%s\n' '[relay]' "listen = 127.0.0.1:$((10024 + n))" \
	    "ca-file = $D/pki/ca.crt" "control-socket = $D/control$n.sock" \
	    >>"$D/r$n.conf"
	[ -z "$relay" ] || printf '%s\n' "$relay" >>"$D/r$n.conf"
	printf '%s\n' "$accounts" >>"$D/r$n.conf"
}

# e2e_relay_n_start N LOG: relay N of e2e_relay_n, logging to LOG.
e2e_relay_n_start() {
	t_spawn "relay$1" "$2" "$B/smarthost-relay" -f -c "$D/r$1.conf"
	t_wait_port 127.0.0.1 $((10024 + $1)) 5 ||
	    { cat "$2" >&2; t_fail "relay $1 does not listen"; }
}

e2e_relay_start() {
	t_spawn relay "$D/relay.log" "$B/smarthost-relay" -f -c "$D/smarthost.conf"
	t_wait_port 127.0.0.1 10025 5 ||
	    { cat "$D/relay.log" >&2; t_fail "relay does not listen"; }
}

e2e_postfix() {
	pf_create "$D/pf" 2525 || t_fail "pf_create"
	pf_conf "$D/pf" "relayhost = [127.0.0.1]:10025" \
	    "smtp_send_xforward_command = yes" \
	    "smtp_tls_security_level = none" "$@"
	pf_start "$D/pf"
}

# e2e_send ID FROM TO... — one message into Postfix
e2e_send() {
	local id=$1 from=$2 to
	shift 2
	to=$(IFS=,; echo "$*")
	pf_send "$D/pf" --from "$from" --to "$to" \
	    --header "Subject: test $id" --header "X-Test-Id: $id" \
	    >"$D/swaks-$id" 2>&1 ||
	    { cat "$D/swaks-$id" >&2; t_fail "Postfix refused message $id"; }
}

# How many stored messages of peer NAME carry X-Test-Id: ID
e2e_count() {
	local f n=0
	for f in "$D"/mail-"$1".*/msg-*.json; do
		[ -e "$f" ] || continue
		grep -q "^X-Test-Id: $2"$'\r*$' "${f%.json}.eml" 2>/dev/null &&
		    n=$((n + 1))
	done
	echo $n
}

# e2e_wait_delivered NAME ID COUNT SECONDS
e2e_wait_delivered() {
	t_wait_for "[ \"\$(e2e_count '$1' '$2')\" -ge $3 ]" "$4" || {
		tail -n 15 "$D/pf/maillog" >&2
		tail -n 15 "$D/relay.log" >&2
		t_fail "message $2 not delivered to $1 within $4 s"
	}
}

# The envelope of the stored message of NAME with ID: "mail_from login tls rcpts"
e2e_envelope() {
	local f
	for f in "$D"/mail-"$1".*/msg-*.json; do
		[ -e "$f" ] || continue
		grep -q "^X-Test-Id: $2"$'\r*$' "${f%.json}.eml" 2>/dev/null || continue
		/usr/bin/python3 -c 'import json,sys
e = json.load(open(sys.argv[1]))
print(e["mail_from"], e["login"], str(e["tls"]).lower(),
      ",".join(e["rcpt_tos"]))' "$f"
		return
	done
}

# The queue ID Postfix gave the message with ID (from swaks's transcript)
e2e_qid() {
	grep -Eo 'queued as [0-9A-F]+' "$D/swaks-$1" | head -1 | awk '{print $3}'
}

# e2e_redis_tls CERT IP PORT PASSWORD: a redis-server (t_spawn'ed as
# "redis", log $D/redis-CERT.log) that speaks TLS only on IP:PORT with
# $D/pki/CERT.crt and .key, wants no client certificate and requires
# PASSWORD (kept in $D/redis-CERT.conf, mode 600, never on a command line).
e2e_redis_tls() {
	local cert=$1 ip=$2 port=$3
	(umask 077 && cat >"$D/redis-$cert.conf") <<EOC
port 0
tls-port $port
bind $ip
tls-cert-file $D/pki/$cert.crt
tls-key-file $D/pki/$cert.key
tls-ca-cert-file $D/pki/ca.crt
tls-auth-clients no
requirepass $4
save ""
appendonly no
dir $D
EOC
	t_spawn redis "$D/redis-$cert.log" redis-server "$D/redis-$cert.conf"
	t_wait_port "$ip" "$port" 10 ||
	    { cat "$D/redis-$cert.log" >&2; t_fail "redis-server did not start"; }
}

e2e_assert_no_secrets() {
	local s
	for s in "${E_SECRETS[@]}"; do
		if grep -rqF -- "$s" "$D"/*.log "$D"/events-* "$D"/pf*/maillog \
		    "$D"/swaks-* 2>/dev/null; then
			grep -rlF -- "$s" "$D"/*.log "$D"/events-* \
			    "$D"/pf*/maillog "$D"/swaks-* >&2
			t_fail "a log holds an authorization code"
		fi
	done
}
