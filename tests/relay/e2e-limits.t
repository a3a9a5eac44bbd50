#!/usr/bin/env bash
# Through a real Postfix (relayhost = [127.0.0.1]:10025) into the relay:
# an account whose daily limit is reached (counters kept in the state file,
# as after a restart) defers the mail with the limit's text, without
# contacting the provider; the null sender without an account is refused
# (null-sender = reject) or deferred (defer); a sender without a route is
# bounced with the relay.map text; the log lines carry Postfix's queue ID
# (XFORWARD IDENT).
. "$SMARTHOST_TOP/tests/lib/common.sh"
. "$SMARTHOST_TOP/tests/lib/postfix.sh"
t_enter_netns "$@"
t_need postfix postconf postqueue swaks /usr/bin/python3
t_tmpdir
relay=$B/smarthost-relay
[ -x "$relay" ] || t_fail "$relay not built"
D=$T_TMP
mkdir -p "$D/state"

write_conf() {		# [extra [relay] lines]
	cat >"$D/smarthost.conf" <<EOC
[global]
relay-map = $D/relay.map
secrets = $D/secrets
state-dir = $D/state
user = root
[relay]
control-socket = $D/control.sock
${1:-}
[account t1]
host = smtp.test
port = 4650
tls = implicit
login = a1@test.example
daily-messages = 3
EOC
}
write_conf
printf 'a1@test.example t1\n@office.test t1 rewrite\n' >"$D/relay.map"
printf 't1 code-that-must-not-leak-2\n' >"$D/secrets"
chmod 600 "$D/secrets"
# today, t1 already sent its 3 messages (as a restarted relay reads it)
printf 't1 %s 3 3 0 \n' "$(date +%Y%m%d)" >"$D/state/relay-limits"

t_spawn relay "$D/relay.log" "$relay" -f -c "$D/smarthost.conf"
t_wait_port 127.0.0.1 10025 5 || { cat "$D/relay.log"; t_fail "relay does not listen"; }

pf_create "$D/pf" 2525 || t_fail "pf_create"
pf_conf "$D/pf" "relayhost = [127.0.0.1]:10025" \
    "smtp_send_xforward_command = yes" "bounce_queue_lifetime = 0" \
    "maximal_queue_lifetime = 1h"
pf_start "$D/pf"

pf_send "$D/pf" --from a1@test.example --to r1@dest.test >"$D/swaks1" 2>&1 ||
    { cat "$D/swaks1"; t_fail "Postfix refused the message"; }
pf_wait_log "$D/pf" 'status=deferred' 15 || { tail "$D/pf/maillog"; t_fail "not deferred"; }
t_assert_grep 'to=<r1@dest\.test>.*status=deferred .*451 4\.7\.1 daily limit of 3 messages for account t1 reached; resets at 00:00' \
    "$D/pf/maillog" "Postfix's deferral"
qid=$(grep -Eo 'postfix/smtp\[[0-9]+\]: [0-9A-F]+: to=<r1@dest\.test>' "$D/pf/maillog" | head -1 | sed 's/.*: \([0-9A-F]*\): to=.*/\1/')
[ -n "$qid" ] || t_fail "no queue id in the maillog"
t_assert_grep "qid=$qid sender=<a1@test\.example> account=t1 host=smtp\.test rcpts=0 result=451 status=deferred" "$D/relay.log" "relay log line"
t_assert_eq 1 "$(pf_queue_count "$D/pf")" "messages queued"
t_assert_no_grep 'session=(new|reused)' "$D/relay.log" "provider contacted"
t_ok "daily limit reached: deferred with the limit's text, provider not contacted, qid $qid logged"

# the null sender: a bounce is refused by default ...
pf_send "$D/pf" --from '<>' --to r2@dest.test >"$D/swaks2" 2>&1 || t_fail "Postfix refused <>"
pf_wait_log "$D/pf" 'to=<r2@dest\.test>.*status=(bounced|deferred)' 15 || t_fail "<> not handled"
t_assert_grep 'to=<r2@dest\.test>.*status=bounced .*550 5\.7\.1 null sender \(bounce or DSN\) not relayed' "$D/pf/maillog" "null sender"
t_ok "null sender without an account: 550 5.7.1 (null-sender = reject)"

# ... or deferred with null-sender = defer (after SIGHUP)
write_conf 'null-sender = defer'
kill -HUP "$T_PID_relay"
t_wait_for "grep -q 'configuration reloaded' '$D/relay.log'" 5 || t_fail "no reload"
pf_send "$D/pf" --from '<>' --to r3@dest.test >"$D/swaks3" 2>&1 || t_fail "Postfix refused <>"
pf_wait_log "$D/pf" 'to=<r3@dest\.test>.*status=deferred' 15 || t_fail "<> not deferred"
t_assert_grep 'to=<r3@dest\.test>.*status=deferred .*450 4\.7\.1 null sender' "$D/pf/maillog"
t_ok "null sender with null-sender = defer: 450 4.7.1, stays queued"

# no route: bounced, naming relay.map
pf_send "$D/pf" --from someone@elsewhere.test --to r4@dest.test >"$D/swaks4" 2>&1 || t_fail "Postfix refused"
pf_wait_log "$D/pf" 'to=<r4@dest\.test>.*status=bounced' 15 || { tail "$D/pf/maillog"; t_fail "no-route mail not bounced"; }
t_assert_grep "to=<r4@dest\\.test>.*550 5\\.7\\.1 no route for sender <someone@elsewhere\\.test> in $D/relay\\.map" "$D/pf/maillog"
t_ok "no route: bounced with 550 5.7.1 naming relay.map"

if grep -r 'code-that-must-not-leak' "$D/relay.log" "$D/pf/maillog" "$D"/swaks* >/dev/null; then
	t_fail "a log holds the secret"
fi
t_ok "no log holds the secret"
