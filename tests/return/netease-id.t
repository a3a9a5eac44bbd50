#!/usr/bin/env bash
# NetEase refuses SELECT with "NO SELECT Unsafe Login" until the client has
# sent ID (RFC 2971).  A stand-in proxy (tests/peers/imap_id_proxy.py) does
# that in front of the real Dovecot, as imap.163.com:993, the 163.com
# preset's IMAP server:
#  - the stand-in really refuses a client that sends no ID (Python imaplib);
#  - smarthost-return sends ID after LOGIN, SELECT passes, and a DSN for
#    boss@163.com's rewritten message reaches Alice and is flagged.
RT_ACCOUNT=boss@163.com RT_DV_PORT=1993
. "$SMARTHOST_TOP/tests/return/lib.sh"
t_enter_netns "$@"
rt_setup_world
dv_start "$T_TMP/dv"
t_spawn proxy "$T_TMP/proxy.log" /usr/bin/python3 \
    "$SMARTHOST_TOP/tests/peers/imap_id_proxy.py" --listen 127.0.0.1:993 \
    --cert "$T_TMP/pki/imap.crt" --key "$T_TMP/pki/imap.key" \
    --upstream 127.0.0.1:1993 --upstream-name imap.qq.com \
    --ca "$T_TMP/pki/ca.crt" --events "$T_TMP/proxy.events"
t_wait_for "grep -q READY '$T_TMP/proxy.log'" 10 ||
    { cat "$T_TMP/proxy.log"; t_fail "the proxy did not start"; }

/usr/bin/python3 - "$T_TMP/pki/ca.crt" "$RT_ACCOUNT" "$RT_CODE" \
    >"$T_TMP/imaplib.out" 2>&1 <<'PY'
import imaplib, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
m = imaplib.IMAP4_SSL("imap.163.com", 993, ssl_context=ctx)
m.login(sys.argv[2], sys.argv[3])
try:
    print(m.select("INBOX"))
except imaplib.IMAP4.error as e:
    print("refused:", e)
m.logout()
PY
t_assert_grep "^\('NO'.*Unsafe Login" "$T_TMP/imaplib.out" \
    "a client without ID"
t_ok "the stand-in refuses SELECT to a client that sent no ID"

rt_run || { cat "$T_TMP/run.log"; t_fail "the first run failed"; }
rt_seed "q3@office.lan" alice@office.lan
rt_save < <(rt_dsn "Undelivered Mail Returned to Sender" "q3@office.lan")
rt_run || { cat "$T_TMP/run.log"; t_fail "the run failed (exit $RT_RC)"; }
t_assert_grep '"event": "id"' "$T_TMP/proxy.events" "ID sent"
t_assert_grep '"event": "select"' "$T_TMP/proxy.events" "SELECT passed"
t_assert_eq 1 "$(rt_alice_count)" "messages at Alice"
rt_uid u "Undelivered Mail"
[[ $(rt_flags "$u") == *'$SmarthostReturned'* ]] ||
    t_fail "the DSN is not flagged"
t_assert_eq 1 "$(grep -c 'refused' "$T_TMP/proxy.events")" \
    "refusals (only the imaplib client's)"
t_ok "smarthost-return sends ID after LOGIN: SELECT passes and the DSN reaches Alice"
