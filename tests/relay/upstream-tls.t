#!/usr/bin/env bash
# The relay's client side (pool, upstream, TLS, AUTH), driven by
# upstream-drive against the provider-like smarthost in a private network
# namespace: implicit TLS with AUTH PLAIN and LOGIN, STARTTLS; a wrong-name
# certificate, an untrusted CA and a server without STARTTLS fail with
# UPF_TLS and the smarthost sees no AUTH; a refused code fails with UPF_AUTH
# and the provider's text, and the code appears nowhere; connection
# refused, unknown host, a connect timeout and a silent server fail with
# UPF_CONNECT; an account without a code never connects.
. "$SMARTHOST_TOP/tests/relay/upstream-lib.sh"
t_enter_netns "$@"
up_init "198.51.100.7 blackhole.test"
# packets to 198.51.100.0/24 go nowhere: a connect that times out
ip route add 198.51.100.0/24 dev lo || t_fail "cannot add the blackhole route"
t_resolv 127.0.0.1
P=$D/pki

cat >"$D/users" <<'EOF'
u1@test.example Sekr1t-plain-4Qx
u2@test.example Sekr1t-login-7Wz
u3@test.example Sekr1t-starttls-2Kd
u4@test.example Sekr1t-wrongname-9Pa
u5@test.example Sekr1t-untrusted-3Mv
u6@test.example Sekr1t-nostarttls-6Hr
u7@test.example Sekr1t-right-8Jn
EOF
cat >"$D/secrets" <<'EOF'
plain Sekr1t-plain-4Qx
login Sekr1t-login-7Wz
starttls Sekr1t-starttls-2Kd
wrongname Sekr1t-wrongname-9Pa
untrusted Sekr1t-untrusted-3Mv
nostarttls Sekr1t-nostarttls-6Hr
badcode Sekr1t-wrong-5Tc
refused Sekr1t-refused-1Ab
nodns Sekr1t-nodns-1Cd
silent Sekr1t-silent-1Ef
blackhole Sekr1t-blackhole-1Gh
EOF
chmod 600 "$D/secrets"
: >"$D/relay.map"
{
	printf '[global]\nrelay-map = %s\nsecrets = %s\n' "$D/relay.map" \
	    "$D/secrets"
	printf '[relay]\nca-file = %s\nconnect-timeout = 1s\n' "$P/ca.crt"
	printf 'command-timeout = 2s\n'
} >"$D/smarthost.conf"
account() {		# name login host port tls [extra option lines]
	printf '[account %s]\nlogin = %s\nhost = %s\nport = %s\ntls = %s\n' \
	    "$1" "$2" "$3" "$4" "$5" >>"$D/smarthost.conf"
	[ -n "${6:-}" ] && printf '%s\n' "$6" >>"$D/smarthost.conf"
	printf '%s %s\n' "$2" "$1" >>"$D/relay.map"
}
account plain u1@test.example smtp.test 4650 implicit 'auth = plain'
account login u2@test.example smtp.test 4650 implicit 'auth = login'
account starttls u3@test.example smtp.test 5870 starttls
account wrongname u4@test.example smtp.test 4651 implicit
account untrusted u5@test.example smtp.test 4652 implicit
account nostarttls u6@test.example smtp.test 5871 starttls
account badcode u7@test.example smtp.test 4650 implicit
account refused u8@test.example smtp.test 4659 implicit
account nodns u9@test.example nowhere.test 4650 implicit
account silent u10@test.example smtp.test 4650 starttls
account nosecret u11@test.example smtp.test 4650 implicit
account blackhole u12@test.example blackhole.test 465 implicit

start_peer() {		# name port tls cert key
	local args=(--listen "127.0.0.1:$2" --tls "$3" --users "$D/users"
	    --sender-rule 163 --maildir "$D/mail-$1" --events "$D/ev-$1")
	[ "$3" != none ] && args+=(--cert "$P/$4" --key "$P/$5")
	t_spawn "$1" "$D/peer-$1.log" /usr/bin/python3 "$peer" "${args[@]}"
}
start_peer good 4650 implicit server.crt server.key
start_peer tls587 5870 starttls server.crt server.key
start_peer wrong 4651 implicit wrong.crt wrong.key
start_peer untr 4652 implicit untrusted-chain.crt untrusted.key
start_peer clear 5871 none
for port in 4650 5870 4651 4652 5871; do
	t_wait_port 127.0.0.1 $port 10 ||
	    { cat "$D"/peer-*.log; t_fail "smarthost on $port not listening"; }
done

run() {			# name sender -> $D/out-name (stdout+stderr), rc
	timeout 30 "$drive" -c "$D/smarthost.conf" -f "$2" \
	    -t rcpt@dest.example -w 2 >"$D/out-$1" 2>&1
}
auth_events() {		# events file -> number of auth events
	grep -c '"event": "auth"' "$1" 2>/dev/null || true
}

# implicit TLS, AUTH PLAIN and LOGIN
for m in plain login; do
	n=$([ $m = plain ] && echo 1 || echo 2)
	run $m u$n@test.example || { cat "$D/out-$m"; t_fail "$m: not sent"; }
	t_assert_grep '^SENT code=250 reused=0 ' "$D/out-$m"
	t_assert_grep "\"event\": \"auth\".*\"login\": \"u$n@test.example\".*\"mechanism\": \"${m^^}\".*\"ok\": true.*\"tls\": true" \
	    "$D/ev-good" "AUTH ${m^^} over TLS"
	t_assert_grep "\"mail_from\": \"u$n@test.example\"" \
	    "$(ls "$D"/mail-good/*.json | tail -1)" "stored envelope"
	t_ok "implicit TLS + AUTH ${m^^}: delivered as u$n@test.example"
done
t_assert_grep '"event": "tls".*"sni": "smtp.test"' "$D/ev-good" "SNI sent"
t_ok "SNI smtp.test sent"

# STARTTLS
run starttls u3@test.example || { cat "$D/out-starttls"; t_fail "starttls"; }
t_assert_grep '^SENT code=250 ' "$D/out-starttls"
t_assert_grep '"event": "tls".*"version": "TLSv1.[23]"' "$D/ev-tls587"
t_assert_grep '"event": "auth".*"ok": true.*"tls": true' "$D/ev-tls587"
t_ok "STARTTLS + AUTH: delivered"

# TLS failures: UPF_TLS, nothing sent, no AUTH seen
fail_tls() {		# name sender events text
	run "$1" "$2" && { cat "$D/out-$1"; t_fail "$1: sent"; }
	t_assert_grep "^FAIL why=UPF_TLS code=451 enhanced=4\.7\.[45] local=1 text=.*$4" \
	    "$D/out-$1" "$1 failure"
	t_assert_eq 0 "$(auth_events "$3")" "$1: AUTH events at the smarthost"
	t_assert_no_grep '"event": "mail"' "$3" "$1: MAIL at the smarthost"
}
fail_tls wrongname u4@test.example "$D/ev-wrong" \
    'smtp\.test\[127\.0\.0\.1\]:4651: certificate verify failed: hostname mismatch'
t_ok "wrong-name certificate: UPF_TLS (hostname mismatch), no AUTH seen"
fail_tls untrusted u5@test.example "$D/ev-untr" \
    'certificate verify failed: (self-signed certificate in certificate chain|unable to get local issuer certificate)'
t_ok "untrusted CA: UPF_TLS (certificate verify failed), no AUTH seen"
fail_tls nostarttls u6@test.example "$D/ev-clear" \
    'smtp\.test\[127\.0\.0\.1\]:5871 does not offer STARTTLS; nothing is sent without TLS'
t_assert_grep '"event": "ehlo"' "$D/ev-clear" "EHLO reached the server"
t_ok "STARTTLS not offered: UPF_TLS, no AUTH in clear"

# a refused code: UPF_AUTH with the provider's text; the code nowhere
run badcode u7@test.example && { cat "$D/out-badcode"; t_fail "badcode sent"; }
t_assert_grep '^FAIL why=UPF_AUTH code=451 enhanced=4\.7\.8 local=1 text="smtp\.test\[127\.0\.0\.1\]:4650 refused the authorization code of account badcode \(AUTH PLAIN\): 535 Error: authentication failed"' \
    "$D/out-badcode"
t_assert_grep '"event": "auth".*"login": "u7@test.example".*"ok": false' "$D/ev-good"
t_ok "refused code: UPF_AUTH with the provider's text"

# no code in the secrets: nothing is tried, not even a connection
lines=$(wc -l <"$D/ev-good")
run nosecret u11@test.example && { cat "$D/out-nosecret"; t_fail "nosecret sent"; }
t_assert_eq "$lines" "$(wc -l <"$D/ev-good")" "smarthost events"
t_assert_grep '^FAIL why=UPF_AUTH code=451 enhanced=4\.7\.8 local=1 text="no authorization code for account nosecret in the secrets"' \
    "$D/out-nosecret"
t_ok "no code in the secrets: UPF_AUTH, the provider is not contacted"

# connection failures
run refused u8@test.example && t_fail "refused: sent"
t_assert_grep '^FAIL why=UPF_CONNECT code=451 enhanced=4\.4\.1 local=1 text="connect to smtp\.test\[127\.0\.0\.1\]:4659: Connection refused"' \
    "$D/out-refused"
t_ok "connection refused: UPF_CONNECT 4.4.1"
run nodns u9@test.example && t_fail "nodns: sent"
t_assert_grep '^FAIL why=UPF_CONNECT code=451 enhanced=4\.4\.3 local=1 text="cannot find the address of nowhere\.test: ' \
    "$D/out-nodns"
t_ok "unknown host: UPF_CONNECT 4.4.3"
t0=$(date +%s)
run blackhole u12@test.example && t_fail "blackhole: sent"
t_assert_grep '^FAIL why=UPF_CONNECT code=451 enhanced=4\.4\.1 local=1 text="connect to blackhole\.test\[198\.51\.100\.7\]:465: connection timed out"' \
    "$D/out-blackhole"
dt=$(($(date +%s) - t0))
[ $dt -le 3 ] || t_fail "blackhole took $dt s (connect-timeout 1 s)"
t_ok "connect timeout: UPF_CONNECT 4.4.1 after the 1 s connect-timeout"
# STARTTLS expected, implicit TLS found: the server waits for a
# ClientHello, the client for a greeting, until command-timeout (2 s)
t0=$(date +%s)
run silent u10@test.example && t_fail "silent: sent"
t_assert_grep '^FAIL why=UPF_CONNECT code=451 enhanced=4\.4\.2 local=1 text="smtp\.test\[127\.0\.0\.1\]:4650: timed out while receiving the greeting"' \
    "$D/out-silent"
dt=$(($(date +%s) - t0))
[ $dt -le 5 ] || t_fail "silent server took $dt s (command-timeout 2 s)"
t_ok "silent server: UPF_CONNECT after the 2 s command-timeout (${dt}s)"

# no secret (nor its base64) in any output or log, ours or the peers'
while read -r acct s; do
	b=$(printf '%s' "$s" | base64)
	for f in "$D"/out-* "$D"/ev-* "$D"/peer-*.log; do
		grep -qF -e "$s" -e "$b" "$f" &&
		    t_fail "the code of account $acct appears in $f"
	done
done <"$D/secrets"
t_ok "no authorization code in any output, log or event"
