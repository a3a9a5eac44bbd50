#!/usr/bin/env bash
# SMTP smuggling, straight into the relay: a message whose "end" is one of
# <LF>.<LF>, <LF>.<CR><LF>, <CR><LF>.<LF>, <CR>.<CR>, <CR><LF>.<CR> (and
# <CR><LF>.<CR><CR><LF>) followed by a second transaction as another
# account is read to its real end (<CR><LF>.<CR><LF>) and refused with
# 550 5.5.2, and the connection is closed.  The provider stand-in records
# what it received: never the second transaction, never the other
# account's MAIL FROM, never the refused message.  A control run with a
# proper <CR><LF>.<CR><LF> shows the same two transactions do reach the
# provider when they are two, with the dot-stuffed line intact.
. "$SMARTHOST_TOP/tests/relay/e2e-lib.sh"
t_enter_netns "$@"
e2e_init
raw="/usr/bin/python3 $SMARTHOST_TOP/tests/relay/rawclient.py"

. "$SMARTHOST_TOP/tests/relay/smuggling-lib.sh"
smug_relay smug

# control: a real end, then a real second transaction as boss
$raw 127.0.0.1:10025 smuggle --from a1@test.example --to r1@dest.test \
    --end '\r\n..\r\n.\r\n' --smuggle-from boss@test.example --timeout 5 \
    >"$D/control.out" 2>&1
t_assert_grep '^250 2\.0\.0 smtp\.test said: 250 Mail OK queued' "$D/control.out" "control"
t_assert_eq 2 "$(grep -c '^250 2\.0\.0 smtp\.test said: 250 Mail OK queued' "$D/control.out")" "control: two messages"
t_wait_for "[ \$(msgs) -ge 2 ]" 10 || t_fail "control messages not stored"
t_assert_eq 1 "$(ev_count event=mail mail_from=boss@test.example)" "control: MAIL as boss"
grep -q $'^\\.\r$' "$D"/mail-p1.*/msg-000001.eml ||
    t_fail "the dot-stuffed line did not arrive as a line holding one dot"
t_ok "control: two proper transactions reach the provider, dot-stuffing intact"

base_mail=$(ev_count event=mail)
base_msgs=$(msgs)
for v in "${smug_variants[@]}"; do
	set -- $v
	name=$1 end=$2 bare=$3
	$raw 127.0.0.1:10025 smuggle --from a1@test.example --to r1@dest.test \
	    --end "$end" --smuggle-from boss@test.example --timeout 5 \
	    >"$D/$name.out" 2>&1
	t_assert_grep "^550 5\\.5\\.2 .*bare <$bare> received" "$D/$name.out" "$name"
	t_assert_grep '^\[closed after' "$D/$name.out" "$name: connection closed"
	t_assert_no_grep 'queued as' "$D/$name.out" "$name"
	t_assert_no_grep '^221' "$D/$name.out" "$name: QUIT was message text"
	# the relay forwarded exactly one MAIL: the first one
	t_assert_eq $((base_mail + 1)) "$(ev_count event=mail)" "$name: MAIL commands at the provider"
	t_assert_eq 1 "$(ev_count event=mail mail_from=boss@test.example)" "$name: MAIL as boss (the control's only)"
	t_assert_eq "$base_msgs" "$(msgs)" "$name: messages stored"
	base_mail=$((base_mail + 1))
	t_ok "$name: refused with 550 5.5.2 bare <$bare>; the provider saw one MAIL, no message, no second transaction"
done
t_assert_eq 2 "$(ev_count event=data)" "messages the provider took (the control's two)"
t_assert_grep 'status=bounced' "$D/relay.log"
e2e_assert_no_secrets
t_ok "no log holds a code"
