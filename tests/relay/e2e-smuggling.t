#!/usr/bin/env bash
# SMTP smuggling through a real Postfix (relayhost = [127.0.0.1]:10025)
# in front of the relay, as smarthost-relay(8) asks it to be set up
# (smtpd_forbid_bare_newline = normalize, no exclusions; Debian 12's
# Postfix 3.7 knows it, default off): each of <LF>.<LF>, <LF>.<CR><LF>,
# <CR><LF>.<LF>, <CR>.<CR>, <CR><LF>.<CR>, <CR><LF>.<CR><CR><LF> (the
# ends of tests/relay/smuggling-lib.sh) followed by a second
# transaction as another account.  Postfix takes a bare <LF> as a line
# end and turns a bare <CR> into a space, and with this setting reads on
# to <CR><LF>.<CR><LF>: the relay gets one clean, dot-stuffed message per
# try, and the provider stores exactly that message, the smuggled commands
# as message text and a line holding one dot (sent stuffed) as such a
# line.  The provider never sees a second transaction nor a MAIL FROM of
# the other account.  (The relay's own refusal of bare <LF> and <CR> is
# tests/relay/smuggling.t and tests/unit/test_server.c.)
. "$SMARTHOST_TOP/tests/relay/e2e-lib.sh"
t_enter_netns "$@"
e2e_init
raw="/usr/bin/python3 $SMARTHOST_TOP/tests/relay/rawclient.py"

. "$SMARTHOST_TOP/tests/relay/smuggling-lib.sh"
smug_relay esmug
e2e_postfix "smtpd_forbid_bare_newline = normalize" \
    "smtpd_forbid_bare_newline_exclusions ="

n=0
for v in "${smug_variants[@]}"; do
	set -- $v
	name=$1 end=$2
	n=$((n + 1))
	$raw 127.0.0.1:2525 smuggle --from a1@test.example --to "r$n@dest.test" \
	    --end "\r\n..\r\nx$end" --smuggle-from boss@test.example --timeout 3 \
	    >"$D/$name.out" 2>&1
	# Postfix took exactly one message and closed after QUIT
	t_assert_eq 1 "$(grep -c '^250 2\.0\.0 Ok: queued as' "$D/$name.out")" "$name: messages Postfix took"
	t_assert_grep '^221 ' "$D/$name.out" "$name: QUIT after the real end"
	t_wait_for "[ \$(msgs) -ge $n ]" 20 ||
	    { tail "$D/pf/maillog"; t_fail "$name: not delivered"; }
	eml=$(grep -l "r$n@dest.test" "$D"/mail-p1.*/msg-*.json | tail -1)
	eml=${eml%.json}.eml
	grep -q $'^\\.\r$' "$eml" ||
	    { cat -A "$eml" >&2; t_fail "$name: the dot-stuffed line did not arrive as a line holding one dot"; }
	grep -q $'MAIL FROM:<boss@test.example>\r$' "$eml" ||
	    { cat -A "$eml" >&2; t_fail "$name: the smuggled command is not message text"; }
	t_assert_eq 0 "$(ev_count event=mail mail_from=boss@test.example)" "$name: MAIL as boss at the provider"
	t_assert_eq 1 "$(ev_count event=rcpt rcpt=r$n@dest.test)" "$name: RCPT commands at the provider"
	t_assert_eq $n "$(msgs)" "$name: messages stored"
	t_ok "$name: one message, the smuggled commands as its text, dot-stuffing intact"
done
t_assert_eq $n "$(msgs)" "messages stored"
t_assert_eq $n "$(ev_count event=mail mail_from=a1@test.example)" "MAIL commands at the provider"
t_assert_eq $n "$(ev_count event=mail)" "MAIL commands at the provider, all senders"
e2e_assert_no_secrets
t_ok "the provider saw $n transactions, one per message, none as boss; no log holds a code"
