#!/usr/bin/env bash
# Through a real Postfix (relayhost = [127.0.0.1]:10025) and the relay into
# three provider-like smarthosts with real TLS and AUTH:
#  - implicit TLS (163-like sender rule) and STARTTLS (qq-like), with the
#    right login per sender across three accounts;
#  - a sender under a "rewrite" route leaves as the account's login;
#  - a provider 5xx to one of two recipients: that one bounces with the
#    provider's text, the other is delivered;
#  - 50 messages from one account: the smarthost never sees more concurrent
#    sessions than the account's limit, nor more full TLS handshakes than
#    sessions opened;
#  - the relay's log lines carry Postfix's queue IDs; no log holds a code.
. "$SMARTHOST_TOP/tests/relay/e2e-lib.sh"
t_enter_netns "$@"
e2e_init
t_need smtp-source

e2e_users 'a1@test.example code-one-1' 'a2@test.example code-two-2' \
    'a3@test.example code-three-3'
e2e_peer p1 4651 implicit --sender-rule 163
e2e_peer p2 5871 starttls --sender-rule qq
e2e_peer p3 4652 implicit --sender-rule 163 --max-sessions 2 \
    --reject-rcpt bad@dest.test
e2e_relay_conf "$(e2e_account acc1 4651 implicit a1@test.example
    e2e_account acc2 5871 starttls a2@test.example
    e2e_account acc3 4652 implicit a3@test.example 'max-connections = 2')" \
"a1@test.example acc1
a2@test.example acc2
a3@test.example acc3
@office.test acc1 rewrite" \
    'acc1 code-one-1' 'acc2 code-two-2' 'acc3 code-three-3'
e2e_relay_start
e2e_postfix

e2e_send m1 a1@test.example r1@dest.test
e2e_send m2 a2@test.example r2@dest.test
e2e_send m3 a3@test.example r3@dest.test
e2e_send m4 scanner@office.test r4@dest.test
e2e_wait_delivered p1 m1 1 20
e2e_wait_delivered p2 m2 1 20
e2e_wait_delivered p3 m3 1 20
e2e_wait_delivered p1 m4 1 20
t_assert_eq "a1@test.example a1@test.example true r1@dest.test" "$(e2e_envelope p1 m1)" "m1 at p1"
t_assert_eq "a2@test.example a2@test.example true r2@dest.test" "$(e2e_envelope p2 m2)" "m2 at p2"
t_assert_eq "a3@test.example a3@test.example true r3@dest.test" "$(e2e_envelope p3 m3)" "m3 at p3"
t_assert_grep '"event": "tls"' "$D/events-p2"
t_assert_grep '"event": "auth".*"login": "a2@test.example".*"ok": true' "$D/events-p2"
t_assert_grep '"event": "auth".*"ok": true.*"tls": true' "$D/events-p2" "AUTH over STARTTLS"
t_assert_eq "1 0 0" "$(e2e_count p1 m1) $(e2e_count p2 m1) $(e2e_count p3 m1)" "copies of m1 at p1 p2 p3"
t_assert_eq "0 1 0" "$(e2e_count p1 m2) $(e2e_count p2 m2) $(e2e_count p3 m2)" "copies of m2 at p1 p2 p3"
t_assert_eq "0 0 1" "$(e2e_count p1 m3) $(e2e_count p2 m3) $(e2e_count p3 m3)" "copies of m3 at p1 p2 p3"
q1=$(e2e_qid m1)
[ -n "$q1" ] || t_fail "no queue id for m1"
t_assert_grep "qid=$q1 sender=<a1@test\\.example> account=acc1 host=smtp\\.test rcpts=1 result=250 status=sent .*session=new rewrite=no" "$D/relay.log" "m1 log line"
t_ok "implicit TLS and STARTTLS, right login per sender across three accounts (qid $q1 in the relay log)"

t_assert_eq "a1@test.example a1@test.example true r4@dest.test" "$(e2e_envelope p1 m4)" "m4 (rewrite) at p1"
q4=$(e2e_qid m4)
t_assert_grep "qid=$q4 sender=<scanner@office\\.test> account=acc1 .*status=sent .*rewrite=yes" "$D/relay.log" "m4 log line"
t_ok "a rewrite route sends MAIL FROM as the login and logs rewrite=yes"

# 5xx to one of two recipients
e2e_send m5 a3@test.example good@dest.test bad@dest.test
e2e_wait_delivered p3 m5 1 20
t_assert_eq "a3@test.example a3@test.example true good@dest.test" "$(e2e_envelope p3 m5)" "m5 at p3"
pf_wait_log "$D/pf" 'to=<bad@dest\.test>.*status=bounced' 15 || t_fail "bad@ not bounced"
t_assert_grep 'to=<bad@dest\.test>.*status=bounced \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 550 5\.1\.1 smtp\.test said: 550 5\.1\.1 <bad@dest\.test>: Recipient address rejected: User unknown' "$D/pf/maillog" "bounce text"
t_assert_grep 'to=<good@dest\.test>.*status=sent' "$D/pf/maillog"
t_ok "one recipient refused with 5xx bounces with the provider's text, the other is delivered"

# 50 messages from one account (limit 2 connections)
smtp-source -m 50 -s 10 -f a3@test.example -t many@dest.test \
    -S 'bulk' 127.0.0.1:2525 >"$D/source.out" 2>&1 || t_fail "smtp-source failed"
t_wait_for "[ \$(ls $D/mail-p3.*/msg-*.json | wc -l) -ge 52 ]" 60 || {
	pf_queue "$D/pf" | tail >&2; t_fail "50 messages not all delivered within 60 s"; }
stats=$(/usr/bin/python3 - "$D/events-p3" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
conn = sum(1 for e in ev if e["event"] == "connect")
busy = sum(1 for e in ev if e["event"] == "busy")
full = sum(1 for e in ev if e["event"] == "tls" and not e.get("resumed"))
res = sum(1 for e in ev if e["event"] == "tls" and e.get("resumed"))
peak = max(e["sessions"] for e in ev)
print(conn, busy, full, res, peak)
PY
)
read -r conn busy full resumed peak <<<"$stats"
t_note "p3: sessions opened $conn, refused busy $busy, full handshakes $full, resumed $resumed, peak concurrent $peak"
[ "$peak" -le 2 ] || t_fail "peak concurrent sessions $peak > limit 2"
[ "$busy" -eq 0 ] || t_fail "$busy sessions refused as busy"
[ "$full" -le "$conn" ] || t_fail "full TLS handshakes $full > sessions opened $conn"
[ "$conn" -lt 50 ] || t_fail "no session reuse: $conn sessions for 52 messages"
grep -c 'account=acc3 .*status=sent.*session=reused' "$D/relay.log" >"$D/reused.count"
t_note "relay transactions on a reused session: $(cat "$D/reused.count")"
t_ok "50 messages: peak $peak ≤ 2 concurrent sessions, $full full handshakes ≤ $conn sessions opened"

# SIGHUP during a transaction: it finishes with the snapshot it started
# with; the next transaction sees the new map (acc1 no longer routed)
chat="/usr/bin/python3 $SMARTHOST_TOP/tests/relay/smtpchat.py"
$chat 127.0.0.1:10025 "EHLO x" "MAIL FROM:<a1@test.example>" \
    "RCPT TO:<h@dest.test>" DATA "!sleep 1.5" \
    "<<Subject: in flight\\nX-Test-Id: h1\\n\\nbody" QUIT >"$D/inflight" 2>&1 &
chatpid=$!
t_cleanup_add "kill $chatpid 2>/dev/null"
t_wait_for "grep -q '^354 ' '$D/inflight'" 5 || t_fail "no 354 for the in-flight message"
printf 'a2@test.example acc2\na3@test.example acc3\n' >"$D/relay.map"
kill -HUP "$T_PID_relay"
t_wait_for "grep -q 'configuration reloaded' '$D/relay.log'" 5 || t_fail "no reload"
wait $chatpid || { cat "$D/inflight"; t_fail "in-flight dialogue failed"; }
t_assert_grep '^250 2\.0\.0 smtp\.test said: 250 Mail OK' "$D/inflight" "in-flight message"
e2e_wait_delivered p1 h1 1 5
$chat 127.0.0.1:10025 "EHLO x" "MAIL FROM:<a1@test.example>" QUIT >"$D/after" 2>&1
t_assert_grep '^550 5\.7\.1 no route for sender <a1@test\.example>' "$D/after" "after reload"
t_ok "SIGHUP: the transaction in flight is delivered, the next one uses the new map"

# SIGTERM during a transaction: it is finished, then the relay exits 0
$chat 127.0.0.1:10025 "EHLO x" "MAIL FROM:<a2@test.example>" \
    "RCPT TO:<t@dest.test>" DATA "!sleep 1.5" \
    "<<Subject: at stop\\nX-Test-Id: t1\\n\\nbody" QUIT >"$D/atstop" 2>&1 &
chatpid=$!
t_cleanup_add "kill $chatpid 2>/dev/null"
t_wait_for "grep -q '^354 ' '$D/atstop'" 5 || t_fail "no 354 for the message at stop"
kill -TERM "$T_PID_relay"
t_wait_for "! kill -0 $T_PID_relay 2>/dev/null" 10 || t_fail "relay did not stop"
wait "$T_PID_relay"; rc=$?
t_assert_eq 0 "$rc" "relay exit status"
wait $chatpid
t_assert_grep '^250 2\.0\.0 smtp\.test said: 250 Mail OK' "$D/atstop" "message at stop"
t_assert_eq 1 "$(e2e_count p2 t1)" "copies of the message at stop"
t_assert_grep "account=acc3 sessions_opened=$conn full_handshakes=$full resumed_handshakes=$resumed reuses=[0-9]+ peak_sessions=$peak" "$D/relay.log" "pool statistics at exit"
t_ok "SIGTERM during a transaction: finished and delivered, relay exits 0 (pool statistics logged)"

e2e_assert_no_secrets
t_ok "no log, event file or transcript holds an authorization code"
