#!/usr/bin/env bash
# smarthost-return against a real Dovecot (the provider mailbox of
# office@qq.com at imap.qq.com:993 from the preset, verified TLS) and a real
# Postfix delivering to Alice's Maildir:
#  - a DSN (multipart/report) for a message Alice sent reaches Alice and is
#    flagged $SmarthostReturned on the server, not \Seen;
#  - a plain-text bounce quoting the headers does the same;
#  - a reply matched by In-Reply-To reaches Alice;
#  - an unrelated message and a DSN for a message not in the sent log stay
#    untouched (no flag, still in INBOX), and so does a DSN for a message
#    the sent log has from another account;
#  - the returned table says marked for each handled UID; a second run
#    hands nothing again;
#  - -m move puts a handled message in the folder (and leaves the rest);
#  - imap-host and imap-port override the preset's server.
. "$SMARTHOST_TOP/tests/return/lib.sh"
t_enter_netns "$@"
rt_setup

rt_seed "fig-1@office.lan" alice@office.lan
rt_seed "fig-2@office.lan" alice@office.lan
rt_seed "fig-3@office.lan" alice@office.lan
rt_save < <(rt_dsn "Undelivered Mail Returned to Sender" "fig-1@office.lan")
rt_save < <(rt_plain_bounce "系统退信 failure notice" "fig-2@office.lan")
rt_save < <(rt_reply "Re: the quarterly figures" "fig-3@office.lan")
rt_save < <(rt_plain "Lunch")
rt_save < <(rt_dsn "Delivery failure for someone else" "not-ours@elsewhere.example")

rt_run || { cat "$T_TMP/run.log"; t_fail "the run failed (exit $RT_RC)"; }
rt_uid u_dsn "Undelivered Mail"
rt_uid u_pb "failure notice"
rt_uid u_re "quarterly"
rt_uid u_plain "Lunch"
rt_uid u_other "someone else"
[ -n "$u_dsn" ] && [ -n "$u_pb" ] && [ -n "$u_re" ] && [ -n "$u_plain" ] &&
    [ -n "$u_other" ] || t_fail "a message is missing from INBOX"

t_assert_eq 3 "$(rt_alice_count)" "messages in Alice's mailbox"
t_assert_eq 1 "$(rt_alice_grep '^Subject: Undelivered Mail Returned')" \
    "the DSN at Alice"
t_assert_eq 1 "$(rt_alice_grep '^Subject: 系统退信 failure notice')" \
    "the plain bounce at Alice"
t_assert_eq 1 "$(rt_alice_grep '^Subject: Re: the quarterly figures')" \
    "the reply at Alice"
t_assert_eq 1 "$(rt_alice_grep '^Diagnostic-Code: smtp; 550 5.1.1')" \
    "the DSN's report part arrived whole"
t_assert_grep 'from=<>.*status=|from=<>' "$(pf_log "$T_TMP/pf")" \
    "Postfix took them from the null sender"
t_ok "the DSN, the plain bounce and the reply reached Alice"

for u in "$u_dsn" "$u_pb" "$u_re"; do
	f=$(rt_flags "$u")
	[[ $f == *'$SmarthostReturned'* ]] ||
	    t_fail "uid $u not flagged (flags: '$f')"
	[[ $f != *'\Seen'* ]] || t_fail "uid $u was set \\Seen"
	t_assert_eq marked "$(rt_state "$u")" "state of uid $u"
done
t_assert_eq "dsn dsn reply" "$(sqlite3 "$T_TMP/state/sent.db" "SELECT kind FROM
    returned ORDER BY uid" | tr '\n' ' ' | sed 's/ $//')" "kinds"
t_ok "handled messages are flagged on the server, not \\Seen, and marked"

for u in "$u_plain" "$u_other"; do
	t_assert_eq "" "$(rt_flags "$u")" "flags of untouched uid $u"
	t_assert_eq "" "$(rt_state "$u")" "no returned row for uid $u"
done
t_assert_eq 5 "$(dv_count "$T_TMP/dv" "$RT_ACCOUNT" mailbox INBOX ALL)" \
    "messages still in INBOX"
t_ok "an unrelated message and a DSN for a message not in the log stay untouched"

rt_run || t_fail "the second run failed"
t_assert_eq 3 "$(rt_alice_count)" "messages at Alice after a second run"
t_assert_eq "" "$(rt_flags "$u_plain")" "flags of the unrelated message"
t_ok "a second run hands nothing again and still leaves the rest alone"

# A notice naming a message the sent log has from another account did not
# come back to the account that sent it: no match, left as it is, logged.
rt_seed "fig-5@office.lan" alice@office.lan other@163.com
rt_save < <(rt_dsn "Returned mail of another account" "fig-5@office.lan")
rt_run || { cat "$T_TMP/run.log"; t_fail "the run with another account's row failed"; }
rt_uid u_acct "another account"
t_assert_eq "" "$(rt_flags "$u_acct")" "flags of another account's notice"
t_assert_eq "" "$(rt_state "$u_acct")" "no returned row for another account's notice"
t_assert_eq 3 "$(rt_alice_count)" "messages at Alice after another account's notice"
t_assert_grep "account=office@qq\.com uid=$u_acct msgid=fig-5@office\.lan sent_by=other@163\.com result=untouched reason=\"the sent log has it from another account\"" \
    "$T_TMP/run.log" "the log says why"
t_ok "a sent row of another account is no match: the notice stays untouched"

# -m move: the next notice goes to the folder
rt_seed "fig-4@office.lan" alice@office.lan
rt_save < <(rt_dsn "Mail delivery failed: returning message" "fig-4@office.lan")
rt_run -m move -F Returned || { cat "$T_TMP/run.log"; t_fail "move run failed"; }
t_assert_eq 4 "$(rt_alice_count)" "messages at Alice after the move run"
t_assert_eq 1 "$(dv_count "$T_TMP/dv" "$RT_ACCOUNT" mailbox Returned ALL)" \
    "messages in the Returned folder"
t_assert_eq 0 "$(dv_count "$T_TMP/dv" "$RT_ACCOUNT" mailbox INBOX \
    header subject "returning message")" "the moved notice left INBOX"
t_assert_eq 6 "$(dv_count "$T_TMP/dv" "$RT_ACCOUNT" mailbox INBOX ALL)" \
    "the other messages stay in INBOX"
t_ok "-m move moves a handled message to the folder"

# imap-host and imap-port in the [account] block override the preset's
printf 'imap-host = imap.163.com\nimap-port = 993\n' >>"$T_TMP/smarthost.conf"
rt_run || { cat "$T_TMP/run.log"; t_fail "the run with imap-host failed"; }
t_assert_grep 'account=office@qq\.com imap=imap\.163\.com:993 ' \
    "$T_TMP/run.log" "the server named by imap-host"
sed -i 's/^imap-port = 993$/imap-port = 9/' "$T_TMP/smarthost.conf"
rt_run
t_assert_eq 69 "$RT_RC" "exit status when nothing listens on imap-port"
t_assert_grep 'account=office@qq\.com imap=imap\.163\.com error="imap\.163\.com:9: ' \
    "$T_TMP/run.log" "the error names host and port"
t_ok "imap-host and imap-port override the preset's server"
