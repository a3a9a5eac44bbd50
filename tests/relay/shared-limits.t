#!/usr/bin/env bash
# shared-limits.t — two smarthost-relay instances sharing one provider
# account through a real redis-server (limits-store = redis://...), each
# behind its own real Postfix (Postfix 1 on :2525 with relayhost =
# [127.0.0.1]:10025 = relay 1, Postfix 2 on :2526 with relay 2 on :10026),
# one provider stand-in (tests/peers/smarthost.py --max-logins 2,
# answering "421 HL:ICC" beyond 2 sessions per login).  Mail goes into
# the Postfixes by SMTP (tests/relay/multisend.py, each message with its
# own Message-ID), held there and released at once; what counts is what
# Postfix logs and keeps queued and what the provider stores: "delivered
# once" = the provider stored the Message-ID once, the maillog has one
# status=sent for it and the queues end empty.
#  - 100 messages spread over both Postfixes: every one delivered once,
#    the provider's peak is 2 sessions for the login, no "too many
#    connections" refusal;
#  - a daily limit of 30 holds across both relays exactly: of 32, 30 are
#    delivered and 2 deferred by Postfix with the relay's limit text and
#    kept queued (a retry defers them again); after a reload of both relays
#    with a limit of 32, `postqueue -f` delivers each of the 2 once;
#  - a 535 on relay 1 cools the account off on relay 2 as well (relay 2
#    does not even try: Postfix 2 defers with the cool-off's text), and a
#    SIGHUP with a new code on relay 1 ends it for both: both deferred
#    messages are delivered once;
#  - kill -9 of relay 1 while it holds sessions: relay 2 gets them back
#    within the lease time (limits-lease = 3s), not before;
#  - redis-server stopped while mail flows, and relay 1 started while it
#    is down: relay 1 starts and says so (log, smarthostctl status), mail
#    flows on with each relay bounded by its share 1/2 (1 session; 16
#    messages of acc2, deferred with the share's text beyond);
#  - redis-server restarted (empty) while mail flows: nothing lost, nothing
#    delivered twice; each relay keeps its share for a settling window after
#    it reconnects (log, smarthostctl status), so that acc2's message
#    deferred beyond relay 2's share, retried all along, stays deferred
#    while the totals are short; the day's count of acc2 comes back from the
#    relays and its limit holds again over both relays, the windows end
#    (log), a1's sessions again at most 2;
#  - at the end, the limit lifted and the queues flushed: every message of
#    the test is at the provider exactly once and both queues are empty.
. "$SMARTHOST_TOP/tests/relay/e2e-lib.sh"
t_enter_netns "$@"
e2e_init
t_need redis-server redis-cli postsuper
ctl=$B/smarthostctl
send=$SMARTHOST_TOP/tests/relay/multisend.py
[ -x "$ctl" ] || t_fail "$ctl not built"
RPORT=6390
LEASE_MS=3000

redis_start() {
	t_spawn redis "$D/redis.log" redis-server --port "$RPORT" \
	    --bind 127.0.0.1 --save '' --appendonly no --dir "$D"
	t_wait_for "redis-cli -p $RPORT ping 2>/dev/null | grep -q PONG" 10 ||
	    { cat "$D/redis.log" >&2; t_fail "redis-server did not start"; }
}

# relay_conf N SECRETS...: $D/r$N.conf, listening on 1002$((N+4))
relay_conf() {
	local n=$1
	shift
	e2e_relay_n "$n" "redis://127.0.0.1:$RPORT" \
	    "limits-lease = $((LEASE_MS / 1000))s" 'auth-cooloff = 10m' \
	    "$(e2e_account acc1 4651 implicit a1@test.example \
	        'max-connections = 2'
	    e2e_account acc2 4651 implicit a2@test.example \
	        'max-connections = 2' 'daily-messages = 30'
	    e2e_account acc3 4651 implicit a3@test.example \
	        'max-connections = 2')" "$@"
}

relay_start() {
	e2e_relay_n_start "$1" "$D/relay$1.log"
}

status() {	# status N [--json]
	"$ctl" -c "$D/r$1.conf" status ${2:-} 2>&1
}

# daily_limit N: both relays reload with daily-messages = N for acc2.
daily_limit() {
	local n
	sed -i "s/^daily-messages = .*/daily-messages = $1/" "$D/r1.conf" "$D/r2.conf"
	for n in 1 2; do
		"$ctl" -c "$D/r$n.conf" reload >"$D/reload$n" 2>&1
		t_assert_grep '^smarthost-relay: applied the new configuration$' \
		    "$D/reload$n" "relay $n reloading daily-messages = $1"
	done
}

# Postfix N: $D/pfN, smtpd on 252(4+N), relayhost = relay N.  Concurrency
# 10 from the start, so that the relays see concurrent clients; retries
# every 1-2 s; long queue IDs, never reused within the test; messages
# with X-Test-Id go on hold, so that a batch leaves the queue at once.
postfix_start() {
	local d=$D/pf$1
	pf_create "$d" $((2524 + $1)) || t_fail "pf_create $d"
	printf '%s\n' '/^X-Test-Id: / HOLD until the test releases it' \
	    >"$d/etc/header_checks"
	pf_backdate "$d/etc/header_checks"
	pf_conf "$d" "relayhost = [127.0.0.1]:$((10024 + $1))" \
	    "header_checks = regexp:$d/etc/header_checks" \
	    "smtp_send_xforward_command = yes" \
	    "smtp_tls_security_level = none" \
	    "enable_long_queue_ids = yes" \
	    "initial_destination_concurrency = 10" \
	    "default_destination_concurrency_limit = 10" \
	    "queue_run_delay = 1s" "minimal_backoff_time = 1s" \
	    "maximal_backoff_time = 2s" || t_fail "pf_conf $d"
	pf_start "$d"
}

# submit P FROM FIRST COUNT N...: messages P-FIRST.. (COUNT of them) into
# Postfix N... in turn, by SMTP (tests/relay/multisend.py), each with
# Message-ID <P-i@office.test>; Postfix holds them (header_checks) until
# release.  $D/submitted lists every message of the test: "ID N QUEUEID".
submit() {
	local p=$1 from=$2 first=$3 count=$4 n args=()
	shift 4
	for n in "$@"; do
		args+=(--server "127.0.0.1:$((2524 + n))")
	done
	/usr/bin/python3 "$send" "${args[@]}" --from "$from" --prefix "$p" \
	    --first "$first" --count "$count" >"$D/send.out" ||
	    t_fail "multisend failed"
	cat "$D/send.out" >>"$D/send-$p"
	t_assert_eq "$count" "$(grep -c ' 250 .*queued as [0-9A-Za-z]*$' "$D/send.out")" \
	    "messages of $p queued by Postfix"
	awk '{ sub(/.*:/, "", $2); print $1, $2 - 2524, $NF }' "$D/send.out" \
	    >"$D/queued"
	cat "$D/queued" >>"$D/submitted"
}
# release: the messages of the last submit leave the hold queue, and
# Postfix delivers them now (postqueue -f).
release() {
	local n
	for n in 1 2; do
		awk -v n="$n" '$2 == n { print $3 }' "$D/queued" |
		    postsuper -c "$D/pf$n/etc" -H - 2>>"$D/postsuper.log" ||
		    t_fail "postsuper -H failed"
		pf_flush "$D/pf$n"
	done
}

# The Message-IDs (without @office.test) the provider stored, one line per
# stored message (.json written last: only complete ones).
provider_ids() {
	local j
	for j in "$D"/mail-p1.*/msg-*.json; do
		[ -e "$j" ] && echo "${j%.json}.eml"
	done | xargs -r awk '
	    FNR == 1 { hdr = 1 }
	    hdr && /^\r?$/ { hdr = 0; nextfile }
	    hdr && tolower($0) ~ /^message-id:/ {
		sub(/\r$/, ""); sub(/^[^<]*</, ""); sub(/@.*/, ""); print
		nextfile }'
}
at_provider() {	# at_provider P: how many messages of P the provider stored
	provider_ids | grep -c "^$1-[0-9]*\$"
}
wait_provider() {	# wait_provider P N SECONDS
	t_wait_for "[ \$(at_provider '$1') -ge $2 ]" "$3" || {
		pf_queue "$D/pf1" | tail -n 5 >&2; pf_queue "$D/pf2" | tail -n 5 >&2
		t_fail "only $(at_provider "$1") of $2 messages of $1 at the provider within $3 s"
	}
}

# "ID PF SENT DEFERRED BOUNCED LAST-DEFERRAL" for each message the two
# Postfixes took in: how many status=sent/deferred/bounced lines its queue
# ID has in that Postfix's maillog, and the text of its last deferral.
pf_status() {
	local n
	for n in 1 2; do
		awk -v pf="$n" '
		match($0, /\]: [0-9A-Za-z]+: /) {
			q = substr($0, RSTART + 3, RLENGTH - 5)
			if ($0 ~ /\]: [0-9A-Za-z]+: message-id=</) {
				id = $0; sub(/.*message-id=</, "", id)
				sub(/@.*/, "", id); ids[q] = id
			}
			if ($0 ~ / status=sent /) sent[q]++
			if ($0 ~ / status=bounced /) bnc[q]++
			if ($0 ~ / status=deferred /) {
				def[q]++; why = $0; sub(/.* status=deferred /, "", why)
				last[q] = why
			}
		}
		END { for (q in ids) print ids[q], pf, sent[q] + 0, def[q] + 0,
		    bnc[q] + 0, (q in last) ? last[q] : "-" }' "$D/pf$n/maillog"
	done
}
pf_status_of() {	# pf_status_of P: pf_status's lines for P-1, P-2, ...
	pf_status | grep "^$1-[0-9]* "
}

# Each message P-1..P-N at the provider once, with one status=sent line
# (and no bounce) in its Postfix's maillog.
assert_delivered_once() {
	local p=$1 n=$2
	provider_ids | grep "^$p-[0-9]*\$" | sort | uniq -c >"$D/copies-$p"
	t_assert_eq "$n" "$(wc -l <"$D/copies-$p")" "messages of $p at the provider"
	t_assert_eq "" "$(awk '$1 != 1' "$D/copies-$p")" \
	    "messages of $p not at the provider exactly once"
	pf_status_of "$p" >"$D/pfst-$p"
	t_assert_eq "$n" "$(wc -l <"$D/pfst-$p")" "messages of $p in the maillogs"
	t_assert_eq "" "$(awk '$3 != 1 || $5 != 0' "$D/pfst-$p")" \
	    "messages of $p without exactly one status=sent (or bounced)"
}

wait_queues_empty() {	# wait_queues_empty SECONDS
	local n
	pf_flush "$D/pf1"
	pf_flush "$D/pf2"
	for n in 1 2; do
		pf_wait_queue_empty "$D/pf$n" "$1" || {
			pf_queue "$D/pf$n" | tail -n 20 >&2
			t_fail "Postfix $n's queue not empty within $1 s"
		}
	done
}

# Provider events: PEER0 is the line where the running stand-in's events
# begin (peer_start), EV0 the mark of a time window (ev_mark).
PEER0=0 EV0=0
ev_mark() {
	EV0=$(cat "$D/events-p1" 2>/dev/null | wc -l)
}
ev_since() {
	tail -n +$((EV0 + 1)) "$D/events-p1"
}
peer_start() {
	ev_mark
	PEER0=$EV0
	e2e_peer p1 4651 implicit --sender-rule 163 --max-logins 2 "$@"
}
# The most sessions logged in at once for LOGIN since the mark (sessions
# logged in before it and still open count).
peak_logins() {
	tail -n +$((PEER0 + 1)) "$D/events-p1" | /usr/bin/python3 -c '
import json, sys
login, skip = sys.argv[1], int(sys.argv[2])
cur, peak, live = 0, 0, set()
for n, line in enumerate(sys.stdin):
    e = json.loads(line)
    if e["event"] == "auth" and e.get("ok") and e.get("login") == login:
        live.add(e["session"]); cur += 1
    elif e["event"] == "disconnect" and e["session"] in live:
        live.discard(e["session"]); cur -= 1
    if n >= skip - 1:
        peak = max(peak, cur)
print(peak)' "$1" $((EV0 - PEER0))
}
refusals_since() {	# "421 HL:ICC" answers since the mark
	ev_since | grep -c '421 HL:ICC'
}
# The time (ms since the epoch) of the first successful AUTH of LOGIN
# since the mark, or nothing.
first_auth_ms() {
	ev_since | /usr/bin/python3 -c '
import json, sys
for line in sys.stdin:
    e = json.loads(line)
    if e["event"] == "auth" and e.get("ok") and e.get("login") == sys.argv[1]:
        print(int(e["ts"] * 1000)); break' "$1"
}
auths_of() {	# all AUTH attempts of LOGIN at the provider
	grep -c "\"event\": \"auth\".*\"$1\"" "$D/events-p1"
}

# The relay's count of today for an account (smarthostctl status "today").
today_of() {	# today_of N ACCOUNT
	status "$1" | sed -n "/^account $2 /,/^\$/s/^  today  *\\([0-9]*\\) messages.*/\\1/p"
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
postfix_start 1
postfix_start 2
: >"$D/submitted"

# 1. 100 messages over both Postfixes and relays.
submit many a1@test.example 1 100 1 2
release
wait_provider many 100 90
wait_queues_empty 20
assert_delivered_once many 100
t_assert_eq 50 "$(pf_status_of many | awk '$2 == 1 && $3 == 1' | wc -l)" \
    "messages sent by Postfix 1 (relay 1)"
t_assert_eq 50 "$(pf_status_of many | awk '$2 == 2 && $3 == 1' | wc -l)" \
    "messages sent by Postfix 2 (relay 2)"
t_assert_eq 2 "$(peak_logins a1@test.example)" "peak of a1's sessions at the provider"
t_assert_eq 0 "$(refusals_since)" "too many connections refusals"
t_note "deferrals on the way: $(pf_status_of many | awk '{ n += $4 } END { print n + 0 }')"
t_ok "100 messages over two Postfixes and relays: each delivered once (provider, maillogs, empty queues), provider's peak 2 sessions, no 421 HL:ICC"

# 2. A daily limit of 30 over both relays.
submit day a2@test.example 1 32 1 2
release
# Wait for 30 sent and 2 deferred by the limit (others may be deferred
# on the way, e.g. waiting for a session, and sent at a retry).
t_wait_for "[ \$(pf_status_of day | awk '\$3 == 1 || (\$4 > 0 && / daily limit of 30 /)' | wc -l) -ge 32 ]" 60 ||
    { pf_status_of day >&2; t_fail "the 32 messages of acc2 not sent or deferred by the limit within 60 s"; }
pf_status_of day >"$D/day-1"
cat "$D/day-1"
t_assert_eq 30 "$(awk '$3 == 1' "$D/day-1" | wc -l)" "messages of acc2 sent"
t_assert_eq 30 "$(at_provider day)" "messages of acc2 at the provider"
awk '$3 == 0' "$D/day-1" >"$D/day-held"
t_assert_eq 2 "$(wc -l <"$D/day-held")" "messages of acc2 deferred"
t_assert_eq 2 "$(grep -cE '^day-[0-9]+ [12] 0 [1-9][0-9]* 0 \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 451 4\.7\.1 daily limit of 30 messages for account acc2 reached; resets at ' "$D/day-held")" \
    "Postfix's deferrals with the daily limit's text"
t_assert_eq 2 "$(($(pf_queue_count "$D/pf1") + $(pf_queue_count "$D/pf2")))" \
    "messages queued"
status 1 >"$D/st-day"
cat "$D/st-day"
t_assert_grep '^limits-store redis://127\.0\.0\.1:6390: reachable' "$D/st-day" "status: the store"
t_assert_grep '^  all relays  30 messages, 30 recipients today; [012] sessions$' "$D/st-day" "status: acc2's totals over the relays"
# Postfix retries them (postqueue -f): deferred again, still 30.
pf_flush "$D/pf1"
pf_flush "$D/pf2"
t_wait_for "[ \$(pf_status_of day | awk '\$3 == 0 && \$4 >= 2' | wc -l) = 2 ]" 15 ||
    t_fail "the 2 deferred messages were not retried"
t_assert_eq 30 "$(at_provider day)" "messages of acc2 at the provider after a retry"
t_assert_eq 0 "$(pf_status_of day | awk '$5 > 0' | wc -l)" "messages of acc2 bounced"
t_ok "daily limit 30 over two relays: 30 of 32 delivered, 2 deferred by Postfix with the limit's text and kept queued, retried: still 30"
daily_limit 32
wait_queues_empty 30
assert_delivered_once day 32
t_ok "limit raised to 32 (reload), postqueue -f: the 2 held messages delivered once"

# 3. A 535 on relay 1 cools relay 2 off.
submit cool a3@test.example 1 1 1
release
t_wait_for "pf_status_of cool | grep -q '^cool-1 1 0 [1-9]'" 15 ||
    t_fail "Postfix 1 did not defer cool-1"
pf_status_of cool >"$D/cool-0"
t_assert_grep '^cool-1 1 0 [1-9][0-9]* 0 \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 4[0-9][0-9] .*refused the authorization code of account acc3 .*: 535 ' \
    "$D/cool-0" "Postfix 1's deferral after the 535"
auths=$(auths_of a3@test.example)
[ "$auths" -ge 1 ] || t_fail "relay 1 did not try a3's code at the provider"
submit cool a3@test.example 2 1 2
release
t_wait_for "pf_status_of cool | grep -q '^cool-2 2 0 [1-9]'" 15 ||
    t_fail "Postfix 2 did not defer cool-2"
pf_status_of cool >"$D/cool-1"
cat "$D/cool-1"
t_assert_grep '^cool-2 2 0 [1-9][0-9]* 0 \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 4[0-9][0-9] .*account acc3 is cooling off until' \
    "$D/cool-1" "Postfix 2's deferral: relay 2 cooling off"
t_assert_eq "$auths" "$(auths_of a3@test.example)" \
    "AUTHs of a3 at the provider (relay 2 and relay 1's retries must not try)"
t_assert_eq 0 "$(at_provider cool)" "messages of acc3 at the provider"
t_ok "a 535 on relay 1 cools acc3 off on relay 2 as well: both Postfixes keep the mail queued"
printf '%s\n' 'acc1 code-1' 'acc2 code-2' 'acc3 code-3' >"$D/secrets1"
kill -HUP "$T_PID_relay1"
t_wait_for "grep -q 'account=acc3 new authorization code' '$D/relay1.log'" 5 ||
    t_fail "relay 1 did not take the new code"
wait_queues_empty 20
assert_delivered_once cool 2
t_ok "a new code on relay 1 (SIGHUP) ends the cool-off on relay 2: postqueue -f delivers both once"

# 4. kill -9 relay 1 while it holds sessions (messages take 0.5 s at the
# provider now, so that relay 1 opens both sessions).
e2e_peer_stop p1
peer_start --data-delay 0.5
submit k1 a1@test.example 1 6 1
release
wait_provider k1 6 30
wait_queues_empty 10
assert_delivered_once k1 6
status 1 | sed -n '/^account acc1 /,/^$/p' >"$D/st-k0"
cat "$D/st-k0"
t_assert_grep '^  sessions    2 open, 0 busy' "$D/st-k0" "relay 1 holds both sessions of acc1"
t_assert_grep '^  all relays  .* 2 sessions$' "$D/st-k0" "relay 1's idle sessions hold the leases"
submit k2 a1@test.example 1 6 2
ev_mark
kill -KILL "$T_PID_relay1"
killed=$(t__now_ms)
t_wait_for "t_pid_gone $T_PID_relay1" 5 || t_fail "relay 1 still there"
release
# Relay 2 has Postfix's clients waiting for sessions...
t_wait_for "status 2 | grep -Eq ', [1-9][0-9]* clients connected'" 10 ||
    t_fail "Postfix 2 did not connect to relay 2"
waiting=$(($(t__now_ms) - killed))
wait_provider k2 6 30
first=$(first_auth_ms a1@test.example)
[ -n "$first" ] || t_fail "no AUTH of a1 at the provider after the kill"
took=$((first - killed))
t_note "relay 2 had clients $waiting ms after relay 1 died; its first session of a1 logged in after $took ms (lease $LEASE_MS ms)"
# ... and logs in only once the dead relay's leases ran out (renewed every
# lease/3, so they lasted at least 2/3 of the lease after the kill), at the
# latest the lease time later (+2 s: polling, TLS, load).
[ "$took" -ge $((LEASE_MS * 2 / 3 - 500)) ] ||
    t_fail "relay 2 did not wait for the dead relay's leases ($took ms)"
[ "$took" -le $((LEASE_MS + 2000)) ] ||
    t_fail "relay 2 needed $took ms for a session (lease $LEASE_MS ms)"
wait_queues_empty 10
assert_delivered_once k2 6
t_assert_eq 2 "$(peak_logins a1@test.example)" "peak of a1's sessions at the provider"
status 2 | sed -n '/^account acc1 /,/^$/p' >"$D/st-k2"
t_assert_grep '^  sessions    2 open, 0 busy' "$D/st-k2" "relay 2 holds both sessions of acc1 now"
t_ok "kill -9 of relay 1: relay 2 has the sessions back within the lease time; Postfix 2 delivers each once"

# 5. Redis stops while mail flows; relay 1 starts while it is down.
e2e_peer_stop p1
peer_start --data-delay 0.2
submit mid a1@test.example 1 24 2
release
wait_provider mid 3 30
t_stop redis
n=$(at_provider mid)
t_note "Redis stopped with $n of 24 messages at the provider"
[ "$n" -lt 24 ] || t_fail "Redis stopped after the run (all 24 delivered)"
t_wait_for "grep -q 'limits-store redis://127.0.0.1:$RPORT: unreachable .*local share 1/2 in force' '$D/relay2.log'" 5 ||
    t_fail "relay 2 does not say that Redis is unreachable"
relay_start 1
t_wait_for "grep -q 'limits-store redis://127.0.0.1:$RPORT: unreachable .*local share 1/2 in force' '$D/relay1.log'" 5 ||
    t_fail "relay 1 does not say that Redis is unreachable"
status 1 >"$D/st-down1"
cat "$D/st-down1"
t_assert_grep '^limits-store redis://127\.0\.0\.1:6390: unreachable since [0-9]{2}:[0-9]{2}:[0-9]{2}, local share 1/2 in force$' "$D/st-down1" "relay 1's status"
wait_provider mid 24 30
wait_queues_empty 20
assert_delivered_once mid 24
t_ok "Redis stopped mid-run: the 24 messages delivered once; relay 1 starts while Redis is down and says so (log, status)"
# Relay 2 learns of the outage at its next lease renewal (lease/3) and
# then closes the idle sessions above its share (see smarthost-relay(8),
# "Several relays").
t_wait_for "status 2 | sed -n '/^account acc1 /,/^\$/p' | grep -Eq '^  sessions    [01] open'" 5 ||
    t_fail "relay 2 keeps more than its share of acc1's sessions: $(status 2 | grep -m1 '^  sessions')"
ev_mark
submit down a1@test.example 1 16 1 2
release
wait_provider down 16 60
wait_queues_empty 20
assert_delivered_once down 16
t_assert_eq 8 "$(pf_status_of down | awk '$2 == 1 && $3 == 1' | wc -l)" "messages sent by relay 1"
t_assert_eq 8 "$(pf_status_of down | awk '$2 == 2 && $3 == 1' | wc -l)" "messages sent by relay 2"
peak=$(peak_logins a1@test.example)
[ "$peak" -ge 1 ] && [ "$peak" -le 2 ] || t_fail "peak of a1's sessions at the provider: $peak"
t_assert_eq 0 "$(refusals_since)" "too many connections refusals while Redis is down"
status 2 >"$D/st-down2"
cat "$D/st-down2"
t_assert_grep '^limits-store redis://127\.0\.0\.1:6390: unreachable since [0-9]{2}:[0-9]{2}:[0-9]{2}, local share 1/2 in force$' "$D/st-down2" "relay 2's status"
# acc2 through relay 2 beyond its share of the limit of 32: 16.
own=$(today_of 2 acc2)
[ -n "$own" ] || t_fail "no count of acc2 in relay 2's status"
left=$((16 - own < 0 ? 0 : 16 - own))
t_note "relay 2 sent $own messages of acc2 today: $left more within its share"
before=$(($(at_provider day) + $(at_provider cool)))
submit dd a2@test.example 1 $((left + 1)) 2
release
t_wait_for "[ \$(pf_status_of dd | awk '\$3 == 1 || (\$4 > 0 && /this relay.s share/)' | wc -l) -ge $((left + 1)) ]" 30 ||
    { pf_status_of dd >&2; t_fail "the messages of dd not sent or deferred by the share within 30 s"; }
pf_status_of dd >"$D/dd-1"
cat "$D/dd-1"
t_assert_eq "$left" "$(awk '$3 == 1' "$D/dd-1" | wc -l)" "messages of acc2 within relay 2's share"
t_assert_eq 1 "$(grep -cE "^dd-[0-9]+ 2 0 [1-9][0-9]* 0 \\(host 127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\] said: 451 4\\.7\\.1 daily limit of 32 messages for account acc2 reached \\(this relay's share 1/2: 16, while limits-store redis://127\\.0\\.0\\.1:6390 is unreachable\\)" "$D/dd-1")" \
    "Postfix 2's deferral with relay 2's share of the limit"
t_ok "Redis down: mail flows within each relay's share 1/2 (peak $peak sessions, no 421); acc2 deferred beyond relay 2's share 16"

# 6. Redis restarts (empty) while mail flows.  The relays reconnect one
# after the other (each with its own backoff): until both have written
# their counts again, Redis's total of the day is short, so each relay
# keeps its share as a bound for a settling window after its
# reconnection (30 s backoff + 3 s lease + 5 s): acc2's deferred message,
# retried by Postfix 2 all along, stays deferred (relay 2 is at its
# share 16).
t_assert_eq 1 "$(pf_queue_count "$D/pf2")" "messages in Postfix 2's queue (dd's deferred one)"
ev_mark
submit up a1@test.example 1 40 1 2
release
wait_provider up 4 30
redis_start
n=$(at_provider up)
t_note "Redis started with $n of 40 messages at the provider"
[ "$n" -lt 40 ] || t_fail "Redis started after the run (all 40 delivered)"
for r in 1 2; do
	t_wait_for "grep -q 'limits-store redis://127.0.0.1:$RPORT: reachable again' '$D/relay$r.log'" 35 ||
	    t_fail "relay $r did not reconnect"
done
# Each relay logs its window, and its status shows it while it lasts
# (asked at least 3 s before its end).
for r in 1 2; do
	end=$(sed -n "s/.*limits-store redis:\/\/127\.0\.0\.1:$RPORT: reachable again: limits are shared again, with the local share 1\/2 in force as well until \([0-9:]*\), while the other relays write their counts again\$/\1/p" "$D/relay$r.log" | tail -1)
	[ -n "$end" ] || t_fail "relay $r does not log its settling window"
	status "$r" >"$D/st-settle$r"
	left_s=$(($(date -d "$end" +%s) - $(date +%s)))
	t_note "relay $r: local share in force until $end ($left_s s left)"
	[ "$left_s" -le $((30 + LEASE_MS / 1000 + 5)) ] || t_fail "relay $r's window ends at $end"
	[ "$left_s" -lt 3 ] ||
	    t_assert_grep "^limits-store redis://127\.0\.0\.1:6390: reachable again since [0-9]{2}:[0-9]{2}:[0-9]{2}, local share 1/2 in force until $end\$" \
		"$D/st-settle$r" "relay $r's status while it settles"
done
wait_provider up 40 60
t_wait_for "[ \$(pf_queue_count '$D/pf2') = 1 ]" 20 || t_fail "Postfix 2 still has the messages of up"
pf_wait_queue_empty "$D/pf1" 20 || t_fail "Postfix 1 still has the messages of up"
assert_delivered_once up 40
t_note "421 HL:ICC answers while Redis came back: $(refusals_since)"
t_ok "Redis restarted mid-run: the 40 messages delivered once"
total=$((32 + left))
t_wait_for "status 1 | grep -q '^  all relays  $total messages'" 5
status 1 >"$D/st-up"
cat "$D/st-up"
t_assert_grep '^limits-store redis://127\.0\.0\.1:6390: reachable' "$D/st-up" "status after Redis is back"
t_assert_grep "^  all relays  $total messages, $total recipients today; [012] sessions\$" "$D/st-up" "acc2's day total recovered"
# dd's held message retried on relay 2, one more of acc2 on relay 1: both
# deferred with the shared limit (no share in the text any more).
held=$(awk '$3 == 0 { print $1 }' "$D/dd-1")
ndef=$(pf_status_of dd | awk -v id="$held" '$1 == id { print $4 }')
pf_flush "$D/pf2"
submit dd a2@test.example $((left + 2)) 1 1
release
t_wait_for "pf_status_of dd | awk -v id='$held' -v n='$ndef' '\$1 == id && \$4 > n && / reached; resets at /' | grep -q ." 15 ||
    t_fail "$held not deferred with the shared limit again"
t_wait_for "pf_status_of dd | grep -q '^dd-$((left + 2)) 1 0 [1-9]'" 15 ||
    t_fail "Postfix 1 did not defer dd-$((left + 2))"
pf_status_of dd >"$D/dd-2"
cat "$D/dd-2"
t_assert_eq 2 "$(grep -cE '^dd-[0-9]+ [12] 0 [1-9][0-9]* 0 \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 451 4\.7\.1 daily limit of 32 messages for account acc2 reached; resets at ' "$D/dd-2")" \
    "deferrals of acc2 with the shared limit's text over both relays"
t_assert_eq "$before" "$(($(at_provider day) + $(at_provider cool)))" "earlier messages at the provider"
t_assert_eq "$left" "$(at_provider dd)" "messages of acc2 at the provider since Redis went down"
# The windows end (logged once), and the relays share the limits alone.
for r in 1 2; do
	t_wait_for "grep -q 'limits-store redis://127.0.0.1:$RPORT: settled: the relays have had time to write their counts again; limits are shared without the local share again' '$D/relay$r.log'" 45 ||
	    t_fail "relay $r does not log the end of its settling window"
	t_assert_eq 1 "$(grep -c 'limits-store redis://127.0.0.1:6390: settled:' "$D/relay$r.log")" \
	    "relay $r's log lines of the window's end"
	status "$r" >"$D/st-settled$r"
	t_assert_grep '^limits-store redis://127\.0\.0\.1:6390: reachable, limits shared by its relays' \
	    "$D/st-settled$r" "relay $r's status after the window"
done
ev_mark
submit after a1@test.example 1 10 1 2
release
wait_provider after 10 30
assert_delivered_once after 10
t_assert_eq 2 "$(peak_logins a1@test.example)" "peak of a1's sessions at the provider"
t_assert_eq 0 "$(refusals_since)" "too many connections refusals with Redis back"
t_ok "Redis back (empty): acc2's day count recovered, its limit holds over both relays, a1 at most 2 sessions"

# 7. The limit lifted: every message of the test at the provider once.
daily_limit 40
wait_queues_empty 30
n=$(wc -l <"$D/submitted")
provider_ids | sort | uniq -c >"$D/copies-all"
t_assert_eq "$n" "$(wc -l <"$D/copies-all")" "messages at the provider"
t_assert_eq "" "$(awk '$1 != 1' "$D/copies-all")" "messages not at the provider exactly once"
t_assert_eq "" "$(awk '{ print $1 }' "$D/submitted" | sort | join -v1 - <(awk '{ print $2 }' "$D/copies-all" | sort))" \
    "messages submitted but not at the provider"
pf_status >"$D/pfst-all"
t_assert_eq "$n" "$(wc -l <"$D/pfst-all")" "messages in the maillogs"
t_assert_eq "" "$(awk '$3 != 1 || $5 != 0' "$D/pfst-all")" \
    "messages without exactly one status=sent (or bounced)"
t_ok "limit lifted, queues flushed: all $n messages of the test delivered exactly once, both queues empty"

t_stop relay1
t_stop relay2
for f in "$D"/relay1.log "$D"/relay2.log; do
	t_assert_no_grep 'AddressSanitizer|LeakSanitizer|runtime error' "$f" "sanitizer reports"
done
e2e_assert_no_secrets
