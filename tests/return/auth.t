#!/usr/bin/env bash
# A wrong code: the run fails with EX_NOPERM (77) and a message naming the
# account and the server, never the code; the notice stays in the mailbox
# untouched and no returned row is written, so the next run (code fixed)
# delivers it.  A server certificate for another name is refused (69).
. "$SMARTHOST_TOP/tests/return/lib.sh"
t_enter_netns "$@"
rt_setup

rt_seed "fig-9@office.lan" alice@office.lan
rt_dsn "Undelivered Mail Returned to Sender" "fig-9@office.lan" | rt_save
u=$(rt_uid_of "Undelivered Mail")
rt_code "not-the-code-4711"
rt_run
t_assert_eq 77 "$RT_RC" "exit status with a wrong code"
t_assert_grep 'account=office@qq\.com imap=imap\.qq\.com error="login refused' \
    "$T_TMP/run.log" "the error names the account"
t_assert_grep 'AUTHENTICATIONFAILED' "$T_TMP/run.log" "the server's words"
t_assert_no_grep 'not-the-code-4711|qq-code-Zk3p9' "$T_TMP/run.log" \
    "no code in the output"
t_assert_eq "" "$(rt_flags "$u")" "flags after the failed run"
t_assert_eq "" "$(rt_state "$u")" "returned row after the failed run"
t_assert_eq 0 "$(rt_alice_count)" "messages at Alice"
t_ok "a wrong code fails with 77 naming the account, the notice is left as it was"

rt_code "$RT_CODE"
rt_run || { cat "$T_TMP/run.log"; t_fail "the run with the right code failed"; }
t_assert_eq 1 "$(rt_alice_count)" "messages at Alice after the fix"
[[ $(rt_flags "$u") == *'$SmarthostReturned'* ]] || t_fail "not flagged"
t_assert_eq marked "$(rt_state "$u")" "state"
t_ok "the next run with the right code delivers it"

# the server presents a certificate for another name
sed -i "s|^ssl_cert = .*|ssl_cert = <$T_TMP/pki/wrong.crt|;
    s|^ssl_key = .*|ssl_key = <$T_TMP/pki/wrong.key|" "$T_TMP/dv/dovecot.conf"
doveadm -c "$T_TMP/dv/dovecot.conf" reload || t_fail "dovecot reload"
sleep 0.5
rt_run
t_assert_eq 69 "$RT_RC" "exit status with a wrong certificate"
t_assert_grep 'account=office@qq\.com imap=imap\.qq\.com error=.*(verify|mismatch)' \
    "$T_TMP/run.log" "the certificate error"
t_ok "a certificate for another name is refused (69)"
