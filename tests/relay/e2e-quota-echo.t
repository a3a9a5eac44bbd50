#!/usr/bin/env bash
# Through a real Postfix and the relay into a provider-like smarthost: a
# recipient address that holds a quota diagnostic
# (<SubmissionQuotaExceeded@example.net>), refused by the provider with
# "550 5.1.1 <ADDR>: Recipient address rejected", is a refusal of that
# address only:
#  - Postfix gets the 550 5.1.1 (bounced, not deferred);
#  - the account does not cool off: the next message is delivered at once,
#    and no cool-off is saved in the state file.
. "$SMARTHOST_TOP/tests/relay/e2e-lib.sh"
t_enter_netns "$@"
e2e_init

bad='SubmissionQuotaExceeded@example.net'
e2e_users 'a1@test.example right-code-51'
e2e_peer p1 4651 implicit --sender-rule 163 --reject-rcpt "$bad"
e2e_relay_conf "$(e2e_account acc1 4651 implicit a1@test.example)" \
    "a1@test.example acc1" 'acc1 right-code-51'
e2e_relay_start
e2e_postfix "bounce_queue_lifetime = 0"

e2e_send e1 a1@test.example "$bad"
pf_wait_log "$D/pf" "to=<$bad>.*status=(deferred|bounced)" 15 ||
    { tail "$D/pf/maillog" >&2; t_fail "e1 not tried"; }
t_assert_grep "to=<$bad>.*status=bounced .*550 5\.1\.1 smtp\.test said: 550 5\.1\.1 <$bad>: Recipient address rejected" \
    "$D/pf/maillog" "the provider's 550 reaches Postfix"
t_assert_no_grep "to=<$bad>.*status=deferred" "$D/pf/maillog" "deferral of e1"
t_assert_grep "\"event\": \"rcpt\".*\"rcpt\": \"$bad\".*\"reply\": \"550 5\.1\.1" \
    "$D/events-p1" "the provider refused the recipient"
t_assert_no_grep 'cooling off|quota or rate reply' "$D/relay.log" "cool-off in the relay log"
t_ok "RCPT <$bad> refused 550 5.1.1: bounced with the provider's words, no cool-off"

e2e_send e2 a1@test.example ok@dest.test
e2e_wait_delivered p1 e2 1 15
t_assert_grep 'to=<ok@dest\.test>.*status=sent' "$D/pf/maillog" "e2 sent"
t_assert_no_grep 'is cooling off' "$D/pf/maillog" "cool-off answer"
t_ok "the next message of the same account is delivered at once"

t_stop relay
today=$(date +%Y%m%d)
t_assert_grep "^acc1 $today [0-9]+ [0-9]+ 0 *$" "$D/state/relay-limits" "acc1 counters without a cool-off"
t_ok "no cool-off saved in the state file"

e2e_assert_no_secrets
t_ok "no log holds the authorization code"
