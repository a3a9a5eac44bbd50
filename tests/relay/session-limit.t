#!/usr/bin/env bash
# session-limit.t — a provider that allows fewer sessions per login than
# the account's max-connections and refuses one more at AUTH with
# NetEase's "421 HL:ICC too many connections" (tests/peers/smarthost.py
# --max-logins 2).  A burst of messages through an account with
# max-connections 5 (SMTP to the relay directly, each message its own
# client):
#  - every message is delivered: a client whose new session was refused
#    waits for one of the logged-in sessions instead of getting a 4xx;
#  - the provider refuses at most max-connections - 2 AUTHs in all (the
#    opens already under way when the first refusal came), not one per
#    message;
#  - the relay logs the limit, and smarthostctl status shows it with the
#    provider's reply and the time, in text and JSON;
#  - the peak of logged-in sessions is the provider's limit.
. "$SMARTHOST_TOP/tests/relay/e2e-lib.sh"
t_enter_netns "$@"
e2e_init
ctl=$B/smarthostctl
chat=$SMARTHOST_TOP/tests/relay/smtpchat.py
[ -x "$ctl" ] || t_fail "$ctl not built"
N=12

e2e_users 'a1@test.example right-code-61'
e2e_peer p1 4651 implicit --sender-rule 163 --max-logins 2 --data-delay 0.4
E_RELAY_EXTRA="quota-cooloff = 10m"
e2e_relay_conf "$(e2e_account acc1 4651 implicit a1@test.example \
    'max-connections = 5')" "a1@test.example acc1" 'acc1 right-code-61'
e2e_relay_start

pids=()
for i in $(seq $N); do
	/usr/bin/python3 "$chat" --timeout 60 127.0.0.1:10025 "EHLO client.test" \
	    "MAIL FROM:<a1@test.example>" "RCPT TO:<r$i@dest.test>" "DATA" \
	    "<<Subject: burst $i\\nX-Test-Id: burst-$i\\n\\nbody $i" "QUIT" \
	    >"$D/chat$i" 2>&1 &
	pids+=($!)
done
t_cleanup_add "kill ${pids[*]} 2>/dev/null"
for p in "${pids[@]}"; do
	wait "$p"
done
bad=0
for i in $(seq $N); do
	grep -qE '^250 .*(queued|OK|Ok)' "$D/chat$i" || { bad=$((bad + 1)); cat "$D/chat$i"; }
done
t_assert_eq 0 "$bad" "messages the relay did not accept"
for i in $(seq $N); do
	t_assert_eq 1 "$(e2e_count p1 "burst-$i")" "copies of burst-$i at the provider"
done
t_ok "$N messages in a burst: every one accepted and delivered once"

refused=$(grep -c '"event": "auth".*"reply": "421 HL:ICC' "$D/events-p1")
logins=$(grep -c '"event": "auth".*"ok": true' "$D/events-p1")
echo "refused AUTHs: $refused, logins: $logins"
[ "$refused" -ge 1 ] || t_fail "the provider never refused a session: the test proves nothing"
[ "$refused" -le 3 ] || t_fail "$refused AUTHs refused with 421 HL:ICC (at most 3 expected)"
t_ok "the provider refused $refused AUTH(s) in all (at most max-connections - 2)"

t_assert_grep 'account=acc1 host=smtp\.test provider refused a new session \(421 HL:ICC\): sessions limited to [12] for 600 s' "$D/relay.log" "limit logged"
"$ctl" -c "$D/smarthost.conf" status >"$D/st.out" 2>"$D/st.err" ||
    { cat "$D/st.err"; t_fail "smarthostctl status failed"; }
cat "$D/st.out"
t_assert_grep '^  sessions    [0-9]+ open, 0 busy \(at most 5; peak 2; [0-9]+ opened\)$' "$D/st.out" "peak of logged-in sessions"
t_assert_grep '^  limited     sessions limited to 2 by the provider \(421 HL:ICC at [0-9]{2}:[0-9]{2}:[0-9]{2}\) until [0-9-]+ [0-9:]+$' "$D/st.out" "status shows the limit"
"$ctl" -c "$D/smarthost.conf" status --json >"$D/st.json" || t_fail "status --json"
/usr/bin/python3 - "$D/st.json" <<'EOF' || t_fail "JSON: session limit"
import json, sys
s = json.load(open(sys.argv[1]))
a = {x["name"]: x for x in s["accounts"]}["acc1"]
now = s["relay"]["now"]
assert a["session_limit"] == 2, a
assert a["session_limit_reason"] == "421 HL:ICC", a
assert 0 <= now - a["session_limit_at"] < 120, a
assert 480 <= a["session_limit_until"] - now <= 600, a
assert a["peak"] == 2, a
EOF
t_ok "status: sessions limited to 2 by the provider (421 HL:ICC at HH:MM:SS), peak 2"

# A reload lifts the limit.
kill -HUP "$T_PID_relay"
t_wait_for "grep -q 'configuration reloaded' '$D/relay.log'" 5 || t_fail "no reload"
"$ctl" -c "$D/smarthost.conf" status >"$D/st2.out" || t_fail "status after SIGHUP"
t_assert_no_grep '^  limited ' "$D/st2.out" "limit after a reload"
t_ok "after a reload the limit is lifted"
t_stop relay
t_assert_eq 0 "$?" "relay exit status after SIGTERM"
t_assert_no_grep 'AddressSanitizer|LeakSanitizer|runtime error' "$D/relay.log" "sanitizer reports"
e2e_assert_no_secrets
