#!/usr/bin/env bash
# rcpt-421.t — the provider answers RCPT with 421 (it closes the
# session: NetEase's "421 HL:IMC" style), the provider stand-in with
# --reject-rcpt and a 421 reply.  SMTP to the relay directly, as Postfix
# talks to it: once command by command, once with RCPT and DATA
# pipelined behind MAIL.  Each time the client is told the provider's
# 421 for the recipient and 554 for DATA, and the relay's log line for
# the transaction shows what the client acts on: result=421, the 421
# reply, status=deferred (not the 554 "no valid recipients", not
# "aborted"), and session=new: the session the 421 closed is named.
. "$SMARTHOST_TOP/tests/relay/e2e-lib.sh"
t_enter_netns "$@"
e2e_init
chat=$SMARTHOST_TOP/tests/relay/smtpchat.py

e2e_users 'a1@test.example right-code-81'
e2e_peer p1 4651 implicit --sender-rule 163 --pipelining \
    --reject-rcpt gone@dest.test \
    --reject-rcpt-reply '421 4.7.0 HL:IMC too many errors, closing'
e2e_relay_conf "$(e2e_account acc1 4651 implicit a1@test.example)" \
    "a1@test.example acc1" 'acc1 right-code-81'
e2e_relay_start

reply='421 4\.7\.0 smtp\.test said: 421 4\.7\.0 HL:IMC too many errors, closing'
/usr/bin/python3 "$chat" --timeout 10 127.0.0.1:10025 "EHLO one.test" \
    "MAIL FROM:<a1@test.example>" "RCPT TO:<gone@dest.test>" "DATA" "QUIT" \
    >"$D/chat-one" 2>&1
cat "$D/chat-one"
t_wait_for "[ \$(grep -c ' result=' '$D/relay.log') -ge 1 ]" 5 ||
    t_fail "no transaction logged"
grep ' result=' "$D/relay.log" | sed -n 1p >"$D/line-one"
/usr/bin/python3 "$chat" --timeout 10 127.0.0.1:10025 "EHLO two.test" \
    "MAIL FROM:<a1@test.example>\\nRCPT TO:<gone@dest.test>\\nDATA" "QUIT" \
    >"$D/chat-two" 2>&1
cat "$D/chat-two"
t_wait_for "[ \$(grep -c ' result=' '$D/relay.log') -ge 2 ]" 5 ||
    t_fail "no second transaction logged"
grep ' result=' "$D/relay.log" | sed -n 2p >"$D/line-two"
for n in one two; do
	t_assert_grep "^$reply\$" "$D/chat-$n" "$n: RCPT answered with the provider's 421"
	t_assert_grep '^554 5\.5\.1 no valid recipients$' "$D/chat-$n" "$n: DATA answered 554"
	cat "$D/line-$n"
	t_assert_grep " rcpts=0 result=421 status=deferred .* reply=\"$reply\"\$" "$D/line-$n" "$n: the transaction's log line"
	# the session the 421 closed took part: it is named, not "none"
	t_assert_grep " session=new " "$D/line-$n" "$n: the session in the log line"
done
grep -q '"event": "rcpt".*"pending": [1-9]' "$D/events-p1" ||
    t_fail "the second transaction was not pipelined upstream"
t_ok "421 at RCPT: logged result=421 status=deferred with the provider's reply, command by command and pipelined"
t_stop relay
t_assert_eq 0 "$?" "relay exit status after SIGTERM"
t_assert_no_grep 'AddressSanitizer|LeakSanitizer|runtime error' "$D/relay.log" "sanitizer reports"
e2e_assert_no_secrets
