#!/usr/bin/env bash
# shared-limits.t — two smarthost-relay instances sharing one provider
# account through a real redis-server (limits-store = redis://...), one
# provider stand-in (tests/peers/smarthost.py --max-logins 2, answering
# "421 HL:ICC" beyond 2 sessions per login).  Messages are sent to the
# relays directly by concurrent SMTP clients (tests/relay/multisend.py),
# not through Postfix.
#  - 100 messages spread over both relays: every one delivered once, the
#    provider's peak is 2 sessions for the login, no "too many
#    connections" refusal;
#  - a daily limit of 30 holds across both relays exactly: of 32 sent at
#    once, 30 are accepted, 2 deferred with the limit's text;
#  - a 535 on relay 1 cools the account off on relay 2 as well (relay 2
#    does not even try), and a SIGHUP with a new code on relay 1 ends it
#    for both;
#  - kill -9 of relay 1 while it holds sessions: relay 2 gets them back
#    within the lease time (limits-lease = 3s);
#  - redis-server stopped mid-run: mail flows on, each relay bounded by its
#    share 1/2 (1 session, 15 messages of acc2), said by the log and
#    smarthostctl status; a relay started meanwhile runs the same way;
#    after redis-server restarts empty, the day's counts come back
#    (status shows 30 for acc2 over the relays) and nothing was lost or
#    delivered twice.
. "$SMARTHOST_TOP/tests/relay/e2e-lib.sh"
t_enter_netns "$@"
e2e_init
t_need redis-server redis-cli
ctl=$B/smarthostctl
send=$SMARTHOST_TOP/tests/relay/multisend.py
[ -x "$ctl" ] || t_fail "$ctl not built"
RPORT=6390

redis_start() {
	t_spawn redis "$D/redis.log" redis-server --port "$RPORT" \
	    --bind 127.0.0.1 --save '' --appendonly no --dir "$D"
	t_wait_for "redis-cli -p $RPORT ping 2>/dev/null | grep -q PONG" 10 ||
	    { cat "$D/redis.log" >&2; t_fail "redis-server did not start"; }
}

# relay_conf N SECRETS...: $D/r$N.conf, listening on 1002$((N+4))
relay_conf() {
	local n=$1 s
	shift
	mkdir -p "$D/state$n"
	: >"$D/secrets$n"
	chmod 600 "$D/secrets$n"
	for s in "$@"; do
		printf '%s\n' "$s" >>"$D/secrets$n"
		E_SECRETS+=("${s#* }")
	done
	cat >"$D/r$n.conf" <<EOC
[global]
relay-map = $D/relay.map
secrets = $D/secrets$n
state-dir = $D/state$n
user = root
limits-store = redis://127.0.0.1:$RPORT
limits-share = 1/2
limits-lease = 3s
[relay]
listen = 127.0.0.1:$((10024 + n))
ca-file = $D/pki/ca.crt
control-socket = $D/control$n.sock
auth-cooloff = 10m
[account acc1]
host = smtp.test
port = 4651
tls = implicit
login = a1@test.example
max-connections = 2
[account acc2]
host = smtp.test
port = 4651
tls = implicit
login = a2@test.example
max-connections = 2
daily-messages = 30
[account acc3]
host = smtp.test
port = 4651
tls = implicit
login = a3@test.example
max-connections = 2
EOC
}

relay_start() {
	t_spawn "relay$1" "$D/relay$1.log" "$B/smarthost-relay" -f -c "$D/r$1.conf"
	t_wait_port 127.0.0.1 $((10024 + $1)) 5 ||
	    { cat "$D/relay$1.log" >&2; t_fail "relay $1 does not listen"; }
}

status() {	# status N [--json]
	"$ctl" -c "$D/r$1.conf" status ${2:-} 2>&1
}

# The most sessions logged in at once for LOGIN, from the peer's events
# since its last start (line $EV0 of the file).
EV0=0
peer_start() {
	EV0=$(cat "$D/events-p1" 2>/dev/null | wc -l)
	e2e_peer p1 4651 implicit --sender-rule 163 --max-logins 2 "$@"
}
peak_logins() {
	/usr/bin/python3 - "$D/events-p1" "$1" "$EV0" <<'PY'
import json, sys
cur, peak, live = 0, 0, set()
for line in open(sys.argv[1]).readlines()[int(sys.argv[3]):]:
    e = json.loads(line)
    if e["event"] == "auth" and e.get("ok") and e.get("login") == sys.argv[2]:
        live.add(e["session"]); cur += 1; peak = max(peak, cur)
    elif e["event"] == "disconnect" and e["session"] in live:
        live.discard(e["session"]); cur -= 1
print(peak)
PY
}

# Every message of prefix P accepted (250) and at the provider once.
assert_all_delivered() {
	local p=$1 n=$2 bad
	bad=$(grep -vc " 250 " "$D/send-$p" || true)
	[ "$bad" = 0 ] || { grep -v " 250 " "$D/send-$p" >&2; t_fail "$bad of $p not accepted"; }
	t_assert_eq "$n" "$(wc -l <"$D/send-$p")" "replies for $p"
	cat "$D"/mail-p1.*/msg-*.eml | tr -d '\r' |
	    sed -n "s/^X-Test-Id: \($p-[0-9]*\)\$/\1/p" | sort | uniq -c >"$D/copies-$p"
	t_assert_eq "$n" "$(wc -l <"$D/copies-$p")" "messages of $p at the provider"
	t_assert_eq "" "$(awk '$1 != 1' "$D/copies-$p")" "messages of $p not delivered exactly once"
}

e2e_users 'a1@test.example code-1' 'a2@test.example code-2' \
    'a3@test.example code-3'
peer_start
printf '%s\n' 'a1@test.example acc1' 'a2@test.example acc2' \
    'a3@test.example acc3' >"$D/relay.map"
redis_start
relay_conf 1 'acc1 code-1' 'acc2 code-2' 'acc3 wrong-code-3'
relay_conf 2 'acc1 code-1' 'acc2 code-2' 'acc3 code-3'
relay_start 1
relay_start 2
R1=127.0.0.1:10025 R2=127.0.0.1:10026

# 1. 100 messages over both relays.
/usr/bin/python3 "$send" --relay $R1 --relay $R2 --from a1@test.example \
    --count 100 --prefix many --concurrency 12 >"$D/send-many" ||
    t_fail "multisend failed"
assert_all_delivered many 100
t_assert_eq 2 "$(peak_logins a1@test.example)" "peak of a1's sessions at the provider"
t_assert_no_grep '421 HL:ICC' "$D/events-p1" "too many connections refusals"
grep -q 'many-.* 127.0.0.1:10025 250' "$D/send-many" &&
    grep -q 'many-.* 127.0.0.1:10026 250' "$D/send-many" ||
    t_fail "both relays should have carried messages"
t_ok "100 messages over two relays: all delivered once, provider's peak 2 sessions, no 421 HL:ICC"

# 2. A daily limit of 30 over both relays.
/usr/bin/python3 "$send" --relay $R1 --relay $R2 --from a2@test.example \
    --count 32 --prefix day --concurrency 16 >"$D/send-day" ||
    t_fail "multisend failed"
t_assert_eq 30 "$(grep -c ' 250 ' "$D/send-day")" "messages of acc2 accepted"
t_assert_eq 2 "$(grep -cE ' 4[0-9][0-9] 4\.[0-9.]+ .*daily limit of 30 messages for account acc2 reached; resets at' "$D/send-day")" \
    "messages of acc2 deferred with the daily limit's text"
status 1 >"$D/st-day"
cat "$D/st-day"
t_assert_grep '^limits-store redis://127\.0\.0\.1:6390: reachable' "$D/st-day" "status: the store"
t_assert_grep '^  all relays  30 messages, 30 recipients today; [012] sessions$' "$D/st-day" "status: acc2's totals over the relays"
t_ok "daily limit 30 over two relays: exactly 30 of 32 accepted, 2 deferred with the limit's text"

# 3. A 535 on relay 1 cools relay 2 off.
/usr/bin/python3 "$send" --relay $R1 --from a3@test.example --count 1 \
    --prefix c1 >"$D/send-c1" || t_fail "multisend failed"
t_assert_grep '^c1-1 .* 4[0-9][0-9] ' "$D/send-c1" "relay 1 defers after the 535"
auths=$(grep -c '"event": "auth".*"a3@test.example"' "$D/events-p1")
/usr/bin/python3 "$send" --relay $R2 --from a3@test.example --count 1 \
    --prefix c2 >"$D/send-c2" || t_fail "multisend failed"
t_assert_grep '^c2-1 .* 4[0-9][0-9] .*account acc3 is cooling off until' "$D/send-c2" "relay 2 cooling off"
t_assert_eq "$auths" "$(grep -c '"event": "auth".*"a3@test.example"' "$D/events-p1")" \
    "AUTHs of a3 at the provider (relay 2 must not try)"
t_ok "a 535 on relay 1 cools acc3 off on relay 2 as well"
printf '%s\n' 'acc1 code-1' 'acc2 code-2' 'acc3 code-3' >"$D/secrets1"
kill -HUP "$T_PID_relay1"
t_wait_for "grep -q 'account=acc3 new authorization code' '$D/relay1.log'" 5 ||
    t_fail "relay 1 did not take the new code"
/usr/bin/python3 "$send" --relay $R2 --from a3@test.example --count 1 \
    --prefix c3 >"$D/send-c3" || t_fail "multisend failed"
assert_all_delivered c3 1
t_ok "a new code on relay 1 (SIGHUP) ends the cool-off on relay 2"

# 4. kill -9 relay 1 while it holds sessions (messages take 0.5 s at the
# provider now, so that sessions stay busy).
e2e_peer_stop p1
peer_start --data-delay 0.5
/usr/bin/python3 "$send" --relay $R1 --from a1@test.example --count 6 \
    --prefix k1 --concurrency 6 >"$D/send-k1" || t_fail "multisend failed"
assert_all_delivered k1 6
status 1 | sed -n '/^account acc1 /,/^$/p' >"$D/st-k0"
cat "$D/st-k0"
t_assert_grep '^  sessions    2 open, 0 busy' "$D/st-k0" "relay 1 holds both sessions of acc1"
t_assert_grep '^  all relays  .* 2 sessions$' "$D/st-k0" "relay 1's idle sessions hold the leases"
kill -KILL "$T_PID_relay1"
t_wait_for "t_pid_gone $T_PID_relay1" 5 || t_fail "relay 1 still there"
killed=$(t__now_ms)
/usr/bin/python3 "$send" --relay $R2 --from a1@test.example --count 6 \
    --prefix k2 --concurrency 6 >"$D/send-k2" || t_fail "multisend failed"
took=$(($(t__now_ms) - killed))
assert_all_delivered k2 6
echo "relay 2 delivered 6 messages $took ms after relay 1 died"
[ "$took" -ge 1500 ] || t_fail "relay 2 did not wait for the dead relay's leases ($took ms)"
[ "$took" -le 8000 ] || t_fail "relay 2 needed $took ms (lease 3 s)"
t_assert_eq 2 "$(peak_logins a1@test.example)" "peak of a1's sessions at the provider"
status 2 | sed -n '/^account acc1 /,/^$/p' >"$D/st-k2"
t_assert_grep '^  sessions    2 open, 0 busy' "$D/st-k2" "relay 2 holds both sessions of acc1 now"
t_ok "kill -9 of relay 1: relay 2 has the sessions back within the lease time"
e2e_peer_stop p1
peer_start

# 5. Redis stops mid-run; relay 1 starts while it is down.
t_stop redis
relay_start 1
t_wait_for "grep -q 'limits-store redis://127.0.0.1:$RPORT: unreachable .*local share 1/2 in force' '$D/relay1.log'" 5 ||
    t_fail "relay 1 does not say that Redis is unreachable"
# Relay 2 learns of the outage at its next lease renewal (lease/3) and
# then closes the idle sessions above its share; until then it may still
# hold both of acc1's (see smarthost-relay(8), "Several relays").
t_wait_for "grep -q 'limits-store redis://127.0.0.1:$RPORT: unreachable .*local share 1/2 in force' '$D/relay2.log'" 5 ||
    t_fail "relay 2 does not say that Redis is unreachable"
t_wait_for "status 2 | sed -n '/^account acc1 /,/^\$/p' | grep -Eq '^  sessions    [01] open'" 5 ||
    t_fail "relay 2 keeps more than its share of acc1's sessions: $(status 2 | grep -m1 '^  sessions')"
/usr/bin/python3 "$send" --relay $R1 --relay $R2 --from a1@test.example \
    --count 20 --prefix down --concurrency 8 >"$D/send-down" ||
    t_fail "multisend failed"
assert_all_delivered down 20
t_assert_eq 2 "$(peak_logins a1@test.example)" "peak of a1's sessions at the provider"
t_assert_grep 'limits-store redis://127.0.0.1:6390: unreachable .*local share 1/2 in force' "$D/relay2.log" "relay 2's log"
status 2 >"$D/st-down"
cat "$D/st-down"
t_assert_grep '^limits-store redis://127\.0\.0\.1:6390: unreachable since [0-9]{2}:[0-9]{2}:[0-9]{2}, local share 1/2 in force$' "$D/st-down" "status while Redis is down"
/usr/bin/python3 "$send" --relay $R2 --from a2@test.example --count 1 \
    --prefix dd >"$D/send-dd" || t_fail "multisend failed"
t_assert_grep "^dd-1 .* 4[0-9][0-9] .*daily limit of 30 messages for account acc2 reached \\(this relay's share 1/2: 15, while limits-store redis://127.0.0.1:6390 is unreachable\\)" \
    "$D/send-dd" "acc2 over relay 2's share while Redis is down"
t_ok "Redis down: mail flows within each relay's share 1/2, said by the log and status; a relay starts meanwhile"

redis_start
t_wait_for "grep -q 'limits-store redis://127.0.0.1:$RPORT: reachable again' '$D/relay2.log'" 10 ||
    t_fail "relay 2 did not reconnect"
t_wait_for "grep -q 'limits-store redis://127.0.0.1:$RPORT: reachable again' '$D/relay1.log'" 10 ||
    t_fail "relay 1 did not reconnect"
t_wait_for "status 1 | grep -q '^  all relays  30 messages'" 5
status 1 >"$D/st-up"
cat "$D/st-up"
t_assert_grep '^limits-store redis://127\.0\.0\.1:6390: reachable' "$D/st-up" "status after Redis is back"
t_assert_grep '^  all relays  30 messages, 30 recipients today; [012] sessions$' "$D/st-up" "acc2's day total recovered"
/usr/bin/python3 "$send" --relay $R1 --relay $R2 --from a2@test.example \
    --count 2 --prefix after >"$D/send-after" || t_fail "multisend failed"
t_assert_eq 2 "$(grep -c 'daily limit of 30 messages for account acc2 reached; resets at' "$D/send-after")" \
    "acc2 refused over both relays after Redis came back empty"
/usr/bin/python3 "$send" --relay $R1 --relay $R2 --from a1@test.example \
    --count 10 --prefix up --concurrency 6 >"$D/send-up" || t_fail "multisend failed"
assert_all_delivered up 10
t_assert_eq 2 "$(peak_logins a1@test.example)" "peak of a1's sessions at the provider"
t_ok "Redis back (empty): counts recovered, limits hold, nothing lost or duplicated"

t_stop relay1
t_stop relay2
for f in "$D"/relay1.log "$D"/relay2.log; do
	t_assert_no_grep 'AddressSanitizer|LeakSanitizer|runtime error' "$f" "sanitizer reports"
done
e2e_assert_no_secrets


