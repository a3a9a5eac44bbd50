#!/usr/bin/env bash
# A wrong code: the run fails with EX_NOPERM (77) and a message naming the
# account and the server, never the code; the notice stays in the mailbox
# untouched and no returned row is written, so the next run (code fixed)
# delivers it.  A server certificate for another name is refused (69).
# Started as root it becomes the configured user (67 if there is none).
. "$SMARTHOST_TOP/tests/return/lib.sh"
t_enter_netns "$@"
rt_setup

rt_seed "fig-9@office.lan" alice@office.lan
rt_save < <(rt_dsn "Undelivered Mail Returned to Sender" "fig-9@office.lan")
rt_uid u "Undelivered Mail"
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

# Started as root, the run becomes the configured user before it opens
# the sent log or runs sendmail; a user that does not exist is refused.
dv_stop "$T_TMP/dv"
sed -i "s|^ssl_cert = .*|ssl_cert = <$T_TMP/pki/imap.crt|;
    s|^ssl_key = .*|ssl_key = <$T_TMP/pki/imap.key|" "$T_TMP/dv/dovecot.conf"
dv_start "$T_TMP/dv"
sed -i 's/^user = root$/user = no-such-user-4711/' "$T_TMP/smarthost.conf"
rt_run
t_assert_eq 67 "$RT_RC" "exit status with a missing user"
t_assert_grep 'user no-such-user-4711 does not exist: refusing to run as root' \
    "$T_TMP/run.log" "the message"
sed -i 's/^user = no-such-user-4711$/user = nobody/' "$T_TMP/smarthost.conf"
chown -R nobody "$T_TMP/state"
install -d -o nobody "$T_TMP/stubout"
printf '#!/bin/sh\nid -un >%s/stubout/user\ncat >/dev/null\n' "$T_TMP" \
    >"$T_TMP/stub"
chmod 755 "$T_TMP/stub"
rt_seed "fig-10@office.lan" alice@office.lan
rt_save < <(rt_dsn "Undelivered Mail Returned to Sender (10)" "fig-10@office.lan")
RT_SENDMAIL=$T_TMP/stub rt_run ||
    { cat "$T_TMP/run.log"; t_fail "the run as nobody failed"; }
t_assert_eq nobody "$(cat "$T_TMP/stubout/user")" "the user sendmail ran as"
rt_uid u10 "(10)"
t_assert_eq marked "$(rt_state "$u10")" "state"
t_ok "a root start becomes the configured user; a missing user is refused (67)"
