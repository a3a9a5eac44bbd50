#!/usr/bin/env bash
# Clients that hold the relay without progress are cut off, and the
# provider session they held goes to the next client (the account has
# max-connections = 1), never carrying a half transaction:
#  - NOOPs every 0.3 s in the middle of a transaction: 421 4.4.2 at the
#    transaction deadline (transaction-timeout = 3s), although each NOOP
#    came well within client-timeout;
#  - a message trickling in a line every 0.3 s: the same, and the provider
#    stores nothing of it;
#  - MAIL, RCPT, then megabytes of pipelined NOOPs without ever reading a
#    reply: dropped once its replies have not been taken for
#    client-timeout (2s);
#  - NOOPs outside a transaction: 421 4.4.2 at session-timeout (6s);
#  - a client that says nothing: 421 4.4.2 after client-timeout.
# After each, a second client delivers at once.  Every client loop is
# bounded (rawclient.py --limit).
. "$SMARTHOST_TOP/tests/relay/e2e-lib.sh"
t_enter_netns "$@"
e2e_init
raw="/usr/bin/python3 $SMARTHOST_TOP/tests/relay/rawclient.py"
chat="/usr/bin/python3 $SMARTHOST_TOP/tests/relay/smtpchat.py"

e2e_users 'a1@test.example code-slow-a1'
e2e_peer p1 4651 implicit --sender-rule 163 --pipelining
E_RELAY_EXTRA="client-timeout = 2s
transaction-timeout = 3s
session-timeout = 6s"
e2e_relay_conf "$(e2e_account acc1 4651 implicit a1@test.example \
    'max-connections = 1')" \
"a1@test.example acc1" 'acc1 code-slow-a1'
e2e_relay_start

msgs() { ls "$D"/mail-p1.*/msg-*.json 2>/dev/null | wc -l; }
# seconds in "[closed after N.N s...]"
closed_after() {
	sed -n 's/^\[closed after \([0-9]*\)\.[0-9] s.*/\1/p' "$1"
}
# a second client delivers message ID within 10 s
deliver() {
	local before
	before=$(msgs)
	$chat --timeout 10 127.0.0.1:10025 "EHLO second.test" \
	    "MAIL FROM:<a1@test.example>" "RCPT TO:<r@dest.test>" DATA \
	    "<<Subject: $1\\n\\nbody of $1" QUIT >"$D/deliver-$1.out" 2>&1
	t_assert_grep '^250 2\.0\.0 smtp\.test said: 250 Mail OK queued' \
	    "$D/deliver-$1.out" "second client after $1"
	t_wait_for "[ \$(msgs) -gt $before ]" 10 || t_fail "$1: second message not stored"
}

# NOOPs in the middle of a transaction
$raw 127.0.0.1:10025 noop --from a1@test.example --to r@dest.test \
    --every 0.3 --limit 15 >"$D/noop.out" 2>&1
t_assert_grep '^421 4\.4\.2 .*transaction timeout exceeded \(3 s\)' "$D/noop.out" "NOOPs in a transaction"
s=$(closed_after "$D/noop.out")
[ -n "$s" ] && [ "$s" -lt 8 ] || { cat "$D/noop.out"; t_fail "NOOP client not cut off at the 3 s transaction deadline"; }
[ "$(grep -c '^250 2\.0\.0 Ok' "$D/noop.out")" -ge 5 ] || t_fail "fewer NOOPs answered than expected"
t_assert_grep 'timeout=transaction seconds=3' "$D/relay.log"
t_assert_grep 'sender=<a1@test\.example> account=acc1 .*status=aborted' "$D/relay.log"
deliver noop
t_ok "NOOPs in a transaction: 421 4.4.2 after ${s}s, the account's only session served the next client"

# a message trickling in
before=$(msgs)
$raw 127.0.0.1:10025 noop --from a1@test.example --to r@dest.test --in-data \
    --every 0.3 --limit 15 >"$D/trickle.out" 2>&1
t_assert_grep '^354 ' "$D/trickle.out" "trickle: DATA"
t_assert_grep '^421 4\.4\.2 .*transaction timeout exceeded' "$D/trickle.out" "trickle"
s=$(closed_after "$D/trickle.out")
[ -n "$s" ] && [ "$s" -lt 8 ] || { cat "$D/trickle.out"; t_fail "trickling client not cut off at the transaction deadline"; }
t_assert_eq "$before" "$(msgs)" "messages stored after the trickle"
deliver trickle
t_assert_eq $((before + 1)) "$(msgs)" "messages stored: only the second client's"
grep -l 'Subject: slow' "$D"/mail-p1.*/msg-*.eml >/dev/null 2>&1 &&
    t_fail "the provider stored part of the cut-off message"
t_ok "a trickling message: 421 4.4.2 after ${s}s, nothing of it stored, the next client served"

# megabytes of pipelined NOOPs, no reply read
$raw 127.0.0.1:10025 flood --from a1@test.example --to r@dest.test \
    --limit 20 --max-bytes $((64 << 20)) >"$D/flood.out" 2>&1
grep -q '^\[dropped after' "$D/flood.out" || { cat "$D/flood.out"; t_fail "the flooding client was not dropped"; }
s=$(sed -n 's/^\[dropped after \([0-9]*\)\..*/\1/p' "$D/flood.out")
[ "$s" -lt 10 ] || t_fail "flood dropped only after ${s}s (client-timeout 2 s)"
t_assert_grep 'timeout=client seconds=2' "$D/relay.log"
deliver flood
t_ok "pipelined NOOPs, replies never read: dropped after ${s}s, the next client served"

# NOOPs outside a transaction
$raw 127.0.0.1:10025 noop --every 0.3 --limit 20 >"$D/idle.out" 2>&1
t_assert_grep '^421 4\.4\.2 .*session timeout exceeded \(6 s\)' "$D/idle.out" "NOOPs outside a transaction"
s=$(closed_after "$D/idle.out")
[ -n "$s" ] && [ "$s" -ge 5 ] && [ "$s" -lt 11 ] || { cat "$D/idle.out"; t_fail "session not cut off at the 6 s deadline"; }
t_ok "NOOPs outside a transaction: 421 4.4.2 at the session deadline (${s}s)"

# a silent client
$chat --timeout 10 127.0.0.1:10025 "EHLO silent.test" "!sleep 4" NOOP >"$D/silent.out" 2>&1
t_assert_grep '^421 4\.4\.2 .*client timeout exceeded \(2 s\)' "$D/silent.out" "silent client"
t_ok "a silent client: 421 4.4.2 after client-timeout"

t_assert_eq 3 "$(msgs)" "messages stored in all (the second clients')"
e2e_assert_no_secrets
t_ok "no log holds a code"
