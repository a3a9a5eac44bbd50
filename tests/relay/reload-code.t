#!/usr/bin/env bash
# reload-code.t — a new authorization code for an account takes effect
# for pooled sessions: the provider stand-in accepts the old and the new
# code and records which one each session logged in with (never the code
# itself).  SMTP to the relay directly:
#  1. a message logs in with the old code; its session stays pooled;
#  2. a slow transaction takes that session (busy), the secrets file gets
#     the new code and the relay SIGHUP; the slow transaction still
#     completes on its session, which is then closed, not pooled again;
#  3. the next message goes over a new session logged in with the new
#     code;
#  4. a reload that leaves the code alone keeps the pooled session;
#  5. a reload with a third code closes the idle pooled session at once,
#     and the next message logs in with the third code.
. "$SMARTHOST_TOP/tests/relay/e2e-lib.sh"
t_enter_netns "$@"
e2e_init
chat=$SMARTHOST_TOP/tests/relay/smtpchat.py

e2e_users 'a1@test.example old-code-71' 'a1@test.example new-code-72' \
    'a1@test.example third-code-73'
e2e_peer p1 4651 implicit --sender-rule 163
e2e_relay_conf "$(e2e_account acc1 4651 implicit a1@test.example \
    'max-connections = 2')" "a1@test.example acc1" 'acc1 old-code-71'
E_SECRETS+=(new-code-72 third-code-73)
e2e_relay_start

msg() {		# ID [extra commands before DATA]
	local id=$1
	shift
	/usr/bin/python3 "$chat" --timeout 20 127.0.0.1:10025 "EHLO client.test" \
	    "MAIL FROM:<a1@test.example>" "RCPT TO:<r@dest.test>" "$@" "DATA" \
	    "<<Subject: $id\\nX-Test-Id: $id\\n\\nbody" "QUIT" >"$D/chat-$id" 2>&1
}
# session ID of the stored message with X-Test-Id: ID
session_of() {
	local f
	for f in "$D"/mail-p1.*/msg-*.json; do
		grep -q "^X-Test-Id: $1"$'\r*$' "${f%.json}.eml" || continue
		/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["session"])' "$f"
		return
	done
}
# which code (1 old, 2 new) session $1 logged in with
code_of() {
	/usr/bin/python3 - "$D/events-p1" "$1" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] == "auth" and e["session"] == int(sys.argv[2]) and e["ok"]:
        print(e["code"])
EOF
}
disconnected() {	# session $1 is gone
	grep -q "\"event\": \"disconnect\".*\"session\": $1[,}]" "$D/events-p1"
}

msg m1 || { cat "$D/chat-m1"; t_fail "m1 not accepted"; }
e2e_wait_delivered p1 m1 1 10
s1=$(session_of m1)
t_assert_eq 1 "$(code_of "$s1")" "m1's session logged in with code no."
t_ok "m1 delivered over session $s1, logged in with the old code"

# m2 holds the pooled session while the code changes
msg m2 "!sleep 3" &
m2_pid=$!
t_cleanup_add "kill $m2_pid 2>/dev/null"
t_wait_for "[ \$(grep -Ec '\"event\": \"rcpt\".*\"session\": $s1[,}]' '$D/events-p1') -ge 2 ]" 10 ||
    t_fail "m2 did not reach the provider over session $s1"
printf 'acc1 new-code-72\n' >"$D/secrets"
kill -HUP "$T_PID_relay"
t_wait_for "grep -q 'configuration reloaded' '$D/relay.log'" 5 || t_fail "no reload"
disconnected "$s1" && t_fail "busy session $s1 closed under its transaction"
wait "$m2_pid" || { cat "$D/chat-m2"; t_fail "m2 failed"; }
e2e_wait_delivered p1 m2 1 10
t_assert_eq "$s1" "$(session_of m2)" "m2's session (began before the reload)"
t_wait_for "disconnected $s1" 5 ||
    t_fail "session $s1 (old code) still open after its transaction"
t_ok "the busy session with the old code finished its transaction, then was closed"

msg m3 || { cat "$D/chat-m3"; t_fail "m3 not accepted"; }
e2e_wait_delivered p1 m3 1 10
s3=$(session_of m3)
[ "$s3" != "$s1" ] || t_fail "m3 went over the old session $s1"
t_assert_eq 2 "$(code_of "$s3")" "m3's session logged in with code no."
t_ok "after SIGHUP with a new code, m3 went over session $s3, logged in with the new code"

# the same code again: the pooled session stays
kill -HUP "$T_PID_relay"
t_wait_for "[ \$(grep -c 'configuration reloaded' '$D/relay.log') -ge 2 ]" 5 ||
    t_fail "no second reload"
msg m4 || { cat "$D/chat-m4"; t_fail "m4 not accepted"; }
e2e_wait_delivered p1 m4 1 10
t_assert_eq "$s3" "$(session_of m4)" "m4's session after a reload without a new code"
t_ok "a reload without a new code keeps the pooled session"

# an idle session with a replaced code is closed at the reload itself
printf 'acc1 third-code-73\n' >"$D/secrets"
kill -HUP "$T_PID_relay"
t_wait_for "[ \$(grep -c 'configuration reloaded' '$D/relay.log') -ge 3 ]" 5 ||
    t_fail "no third reload"
t_wait_for "disconnected $s3" 5 ||
    t_fail "idle session $s3 (replaced code) not closed at the reload"
msg m5 || { cat "$D/chat-m5"; t_fail "m5 not accepted"; }
e2e_wait_delivered p1 m5 1 10
s5=$(session_of m5)
t_assert_eq 3 "$(code_of "$s5")" "m5's session logged in with code no."
t_ok "a reload with another new code closes the idle session at once; m5 logs in with it"
t_stop relay
t_assert_eq 0 "$?" "relay exit status after SIGTERM"
t_assert_no_grep 'AddressSanitizer|LeakSanitizer|runtime error' "$D/relay.log" "sanitizer reports"
e2e_assert_no_secrets
