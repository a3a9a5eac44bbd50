#!/usr/bin/env bash
# shared-limits-tls.t — limits-store = rediss://: two smarthost-relay
# instances share an account's daily limit through a real redis-server that
# speaks TLS only (--port 0 --tls-port) and requires a password (the
# relays' secrets file line "redis PASSWORD"); the relays trust the test CA
# through limits-ca-file and check the name of the URL's host (localhost).
#  - smarthostctl check names the CA file, and refuses one that does not
#    load;
#  - daily limit 5 over both relays: of 6 sent, exactly 5 accepted, the
#    day's count is in that Redis (read back over TLS with the password),
#    which refuses a client without the password;
#  - a reload with another limits-ca-file says that it waits for a restart;
#  - a redis-server whose certificate names another host, then one whose
#    certificate comes from a CA nobody trusts: the store is unreachable,
#    logged once with OpenSSL's "certificate verify failed: ..." words and
#    shown by smarthostctl status, and mail flows under the local share;
#  - the Redis password appears in no log and no output.
. "$SMARTHOST_TOP/tests/relay/e2e-lib.sh"
t_enter_netns "$@"
e2e_init
t_need redis-server redis-cli
ctl=$B/smarthostctl
send=$SMARTHOST_TOP/tests/relay/multisend.py
[ -x "$ctl" ] || t_fail "$ctl not built"
RPORT=6391
RPASS=rpw-$(openssl rand -hex 12)
E_SECRETS+=("$RPASS")
URL=rediss://localhost:$RPORT

# redis_start CERT: TLS only, with the password, serving $D/pki/CERT.crt
redis_start() {
	e2e_redis_tls "$1" 127.0.0.1 $RPORT "$RPASS"
}

# rcli [--auth] ARGS...: redis-cli over verified TLS, with the password
# from the environment (never on a command line).
rcli() {
	local auth=
	[ "$1" = --auth ] && { auth=$RPASS; shift; }
	REDISCLI_AUTH=$auth redis-cli --tls --cacert "$D/pki/ca.crt" \
	    -h localhost -p $RPORT --no-auth-warning "$@" 2>&1
}

# relay_conf N: $D/r$N.conf, listening on 1002$((N+4))
relay_conf() {
	e2e_relay_n "$1" "$URL" '' '' \
	    "$(e2e_account acc1 4651 implicit a1@test.example \
	        'max-connections = 2'
	    e2e_account acc2 4651 implicit a2@test.example \
	        'max-connections = 2' 'daily-messages = 5')" \
	    'acc1 code-1' 'acc2 code-2' "redis $RPASS"
}

relay_start() {
	e2e_relay_n_start "$1" "$D/relay$1.log"
}

status() {	# status N
	"$ctl" -c "$D/r$1.conf" status 2>&1
}

e2e_users 'a1@test.example code-1' 'a2@test.example code-2'
e2e_peer p1 4651 implicit --sender-rule 163
printf '%s\n' 'a1@test.example acc1' 'a2@test.example acc2' >"$D/relay.map"
relay_conf 1
relay_conf 2
R1=127.0.0.1:10025 R2=127.0.0.1:10026

# 1. The daily limit of 5 over both relays through rediss://.
"$ctl" -c "$D/r1.conf" check >"$D/check" 2>&1 || { cat "$D/check" >&2; t_fail "check refuses the configuration"; }
t_assert_grep "^limits-store $URL: TLS, the certificate of localhost verified against $D/pki/ca.crt\$" "$D/check" "check names the CA"
sed "s|^limits-ca-file = .*|limits-ca-file = $D/no-ca.crt|" "$D/r1.conf" >"$D/r-noca.conf"
! "$ctl" -c "$D/r-noca.conf" check >"$D/check-noca" 2>&1 || t_fail "check accepts a missing limits-ca-file"
t_assert_grep "limits-store $URL: cannot load trusted certificates from $D/no-ca.crt" "$D/check-noca" "check on a missing CA file"
redis_start server
relay_start 1
relay_start 2
/usr/bin/python3 "$send" --relay $R1 --relay $R2 --from a2@test.example \
    --count 6 --prefix day --concurrency 3 >"$D/send-day" ||
    t_fail "multisend failed"
cat "$D/send-day"
t_assert_eq 5 "$(grep -c ' 250 ' "$D/send-day")" "messages of acc2 accepted"
t_assert_eq 1 "$(grep -cE ' 4[0-9][0-9] 4\.[0-9.]+ .*daily limit of 5 messages for account acc2 reached; resets at' "$D/send-day")" \
    "messages of acc2 deferred with the daily limit's text"
grep -q 'day-.* 127.0.0.1:10025 250' "$D/send-day" &&
    grep -q 'day-.* 127.0.0.1:10026 250' "$D/send-day" ||
    t_fail "both relays should have carried messages"
t_assert_eq 5 "$(cat "$D"/mail-p1.*/msg-*.eml | tr -d '\r' | grep -c '^X-Test-Id: day-')" "messages at the provider"
for n in 1 2; do
	t_assert_no_grep 'unreachable' "$D/relay$n.log" "relay $n's store"
	status $n >"$D/st-$n"
	t_assert_grep "^limits-store rediss://localhost:$RPORT: reachable" "$D/st-$n" "status of relay $n"
	t_assert_grep '^  all relays  5 messages, 5 recipients today' "$D/st-$n" "status of relay $n: acc2's totals"
done
rcli --auth --scan --pattern 'smarthost:day:acc2:*' >"$D/keys"
t_assert_eq 1 "$(grep -c '^smarthost:day:acc2:' "$D/keys")" "acc2's day in Redis, read over TLS with the password"
rcli keys '*' >"$D/noauth"
t_assert_grep 'NOAUTH' "$D/noauth" "Redis without the password"
t_ok "rediss:// with a password: daily limit 5 over two relays, exactly 5 of 6 accepted"
sed -i "s|^limits-ca-file = .*|limits-ca-file = $D/pki/ca-bundle.crt|" "$D/r2.conf"
kill -HUP "$T_PID_relay2"
t_wait_for "grep -q 'limits-ca-file changed to $D/pki/ca-bundle.crt: takes effect at restart' '$D/relay2.log'" 5 ||
    t_fail "relay 2 does not say that a new limits-ca-file waits for a restart"
t_assert_eq 0 "$(status 2 | grep -c unreachable)" "relay 2's store after the reload"
t_ok "a new limits-ca-file at a reload: takes effect at restart, said in the log"

# 2. A certificate for another name, then one from an untrusted CA.
t_stop relay1
t_stop relay2
for cert in wrong untrusted; do
	case $cert in
	wrong) why='certificate verify failed: hostname mismatch' ;;
	untrusted) why='certificate verify failed: unable to get local issuer certificate' ;;
	esac
	t_stop redis
	redis_start $cert
	: >"$D/relay1.log"
	relay_start 1
	t_wait_for "grep -q 'limits-store $URL: unreachable ($why): local share 1/2 in force' '$D/relay1.log'" 5 ||
	    { cat "$D/relay1.log" >&2; t_fail "$cert: relay 1 does not say why Redis is unreachable"; }
	status 1 >"$D/st-$cert"
	cat "$D/st-$cert"
	t_assert_grep "^limits-store rediss://localhost:$RPORT: unreachable since [0-9]{2}:[0-9]{2}:[0-9]{2}, local share 1/2 in force\$" "$D/st-$cert" "$cert: status"
	t_assert_grep "^  why         $why\$" "$D/st-$cert" "$cert: status says why"
	/usr/bin/python3 "$send" --relay $R1 --from a1@test.example \
	    --count 3 --prefix "$cert" >"$D/send-$cert" || t_fail "multisend failed"
	t_assert_eq 3 "$(grep -c ' 250 ' "$D/send-$cert")" "$cert: messages accepted under the local share"
	t_assert_eq 3 "$(cat "$D"/mail-p1.*/msg-*.eml | tr -d '\r' | grep -c "^X-Test-Id: $cert-")" "$cert: messages at the provider"
	# reconnections are tried every 1, 2, 4 s: still one line
	sleep 2.5
	t_assert_eq 1 "$(grep -c 'certificate verify failed' "$D/relay1.log")" "$cert: log lines of the failure"
	t_stop relay1
	t_ok "rediss:// to the $cert certificate: unreachable ($why), said once and by status; mail flows under the local share"
done

for f in "$D"/relay1.log "$D"/relay2.log; do
	t_assert_no_grep 'AddressSanitizer|LeakSanitizer|runtime error' "$f" "sanitizer reports"
done
if grep -rlF -- "$RPASS" "$D"/*.log "$D"/send-* "$D"/st-* "$D"/check \
    "$D"/keys "$D"/noauth "$D"/events-* 2>/dev/null; then
	t_fail "the Redis password appears in a log or an output"
fi
e2e_assert_no_secrets
t_ok "the Redis password appears in no log or output"
