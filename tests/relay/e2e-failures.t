#!/usr/bin/env bash
# Through a real Postfix and the relay into a provider-like smarthost, the
# temporary failures that must leave mail safely in Postfix's queue:
#  - a wrong authorization code: deferred (not bounced) with the account
#    named, the account cools off (no further AUTH attempts); after the
#    secret is fixed, SIGHUP and `postqueue -f`, delivered exactly once;
#  - the smarthost down, then up: deferred, then delivered;
#  - the connection dropped during DATA: deferred, then delivered once;
#  - a provider's quota reply (Gmail 550 5.4.5) defers instead of bouncing
#    and cools the account off.
. "$SMARTHOST_TOP/tests/relay/e2e-lib.sh"
t_enter_netns "$@"
e2e_init

e2e_users 'a1@test.example right-code-41' 'q1@test.example quota-code-42'
e2e_peer p1 4651 implicit --sender-rule 163
e2e_peer quota 4671 implicit \
    --temp-fail-mail '550 5.4.5 Daily sending quota exceeded.' 
E_RELAY_EXTRA="auth-cooloff = 10m"	# longer than the test: only a new code ends it
e2e_relay_conf "$(e2e_account acc1 4651 implicit a1@test.example
    e2e_account accq 4671 implicit q1@test.example)" "a1@test.example acc1
q1@test.example accq" 'acc1 wrong-code-17' 'accq quota-code-42'
e2e_relay_start
e2e_postfix

# wrong code
e2e_send w1 a1@test.example r1@dest.test
pf_wait_log "$D/pf" 'to=<r1@dest\.test>.*status=(deferred|bounced)' 15 || t_fail "w1 not tried"
t_assert_grep 'to=<r1@dest\.test>.*status=deferred .*454 4\.7\.0 .*authorization code of account acc1 .*no new attempt for account acc1 for 600 s' "$D/pf/maillog" "deferral"
t_assert_no_grep 'status=bounced' "$D/pf/maillog" "bounce"
t_assert_grep '"event": "auth".*"ok": false' "$D/events-p1"
t_assert_grep 'account=acc1 .*authorization code refused' "$D/relay.log"
# a retry: the cooling account is not tried again
pf_flush "$D/pf"
pf_wait_log "$D/pf" 'to=<r1@dest\.test>.*status=deferred .*451 4\.7\.1 account acc1 is cooling off until' 10 ||
    t_fail "no retry answered from the cool-off state"
t_assert_eq 1 "$(grep -c '"event": "auth"' "$D/events-p1")" "AUTH attempts at the smarthost"
t_assert_eq 1 "$(pf_queue_count "$D/pf")" "messages queued"
t_ok "wrong code: deferred 454 4.7.0 naming the account, cooled off (one AUTH attempt), still queued"

printf 'acc1 right-code-41\naccq quota-code-42\n' >"$D/secrets"
E_SECRETS+=(right-code-41)
kill -HUP "$T_PID_relay"
t_wait_for "grep -q 'configuration reloaded' '$D/relay.log'" 5 || t_fail "no reload"
t_assert_grep 'account=acc1 new authorization code' "$D/relay.log"
pf_flush "$D/pf"
e2e_wait_delivered p1 w1 1 15
pf_wait_queue_empty "$D/pf" 10 || t_fail "queue not empty"
sleep 1
t_assert_eq 1 "$(e2e_count p1 w1)" "copies of w1 delivered"
t_ok "secret fixed, SIGHUP, postqueue -f: delivered exactly once"

# smarthost down, then up
e2e_peer_stop p1
e2e_send d1 a1@test.example r2@dest.test
pf_wait_log "$D/pf" 'to=<r2@dest\.test>.*status=deferred' 15 || t_fail "d1 not deferred"
t_assert_grep 'to=<r2@dest\.test>.*status=deferred .*said: 4[0-9][0-9] 4\.4\.[0-9] ' "$D/pf/maillog" "deferral while down"
e2e_peer p1 4651 implicit --sender-rule 163
pf_flush "$D/pf"
e2e_wait_delivered p1 d1 1 15
pf_wait_queue_empty "$D/pf" 10 || t_fail "queue not empty"
t_assert_eq 1 "$(e2e_count p1 d1)" "copies of d1 delivered"
t_ok "smarthost down: deferred 4.4.x; up again: delivered once"

# connection dropped during DATA (the first DATA after this restart)
e2e_peer_stop p1
e2e_peer p1 4651 implicit --sender-rule 163 --drop-during-data 1
e2e_send x1 a1@test.example r3@dest.test
pf_wait_log "$D/pf" 'to=<r3@dest\.test>.*status=deferred' 15 || t_fail "x1 not deferred"
t_assert_grep 'to=<r3@dest\.test>.*status=deferred .*451 4\.4\.2 ' "$D/pf/maillog" "deferral after the drop"
t_assert_grep '"event": "drop"' "$D/events-p1"
pf_flush "$D/pf"
e2e_wait_delivered p1 x1 1 30
pf_wait_queue_empty "$D/pf" 10 || t_fail "queue not empty"
t_assert_eq 1 "$(e2e_count p1 x1)" "copies of x1 delivered"
t_ok "connection dropped during DATA: deferred 451 4.4.2, then delivered once"

# a quota reply: deferred, not bounced, and the account cools off
e2e_send q1 q1@test.example r4@dest.test
pf_wait_log "$D/pf" 'to=<r4@dest\.test>.*status=(deferred|bounced)' 15 || t_fail "q1 not tried"
t_assert_grep 'to=<r4@dest\.test>.*status=deferred .*451 4\.7\.1 smtp\.test said: 550 5\.4\.5 Daily sending quota exceeded\.; account accq cooling off for 3600 s' "$D/pf/maillog" "quota deferral"
pf_flush "$D/pf"
pf_wait_log "$D/pf" 'to=<r4@dest\.test>.*status=deferred .*451 4\.7\.1 account accq is cooling off until' 10 ||
    t_fail "no retry answered from the cool-off state"
t_assert_eq 1 "$(grep -c '"event": "mail"' "$D/events-quota")" "MAIL attempts at the quota smarthost"
t_assert_no_grep 'to=<r4@dest\.test>.*status=bounced' "$D/pf/maillog"
t_ok "quota reply 550 5.4.5: deferred 451 4.7.1 with the provider's words, account cooled off"

# at exit the counters are saved: acc1 relayed 3 messages today, accq
# is cooling off (a restarted relay keeps both)
t_stop relay
today=$(date +%Y%m%d)
# x1's first try counts too if its final dot went out before the drop
# (no reply: it may have been delivered), not if the drop came first
n=3
grep -q 'to=<r3@dest\.test>.*status=deferred .*it may have been delivered' \
    "$D/pf/maillog" && n=4
t_assert_grep "^acc1 $today $n $n " "$D/state/relay-limits" "acc1 counters"
t_assert_grep "^accq $today 0 0 [1-9][0-9]* smtp\.test said: 550 5\.4\.5" "$D/state/relay-limits" "accq cool-off"
t_assert_eq "" "$(ls "$D/state" | grep -Ev '^(relay-limits(\.journal)?|sent\.db)$')" "temporary files left in state-dir"
t_assert_eq 0 "$(stat -c %s "$D/state/relay-limits.journal")" "journal compacted at exit"
t_ok "SIGTERM saves the daily counters and cool-off state"

e2e_assert_no_secrets
t_ok "no log, event file or transcript holds an authorization code"
