#!/usr/bin/env bash
# An account with auth = xoauth2 logs in to IMAP with AUTHENTICATE XOAUTH2
# and its OAuth2 access token: Dovecot checks the token by introspection
# (RFC 7662) at tests/peers/oauth_server.py, which issued it to
# "smarthostctl oauth".  A DSN then reaches Alice; the log names no token.
# A token the server no longer accepts fails with 77.
. "$SMARTHOST_TOP/tests/return/lib.sh"
t_enter_netns "$@"
rt_setup_world
t_spawn oauth "$T_TMP/oauth.out" /usr/bin/python3 \
    "$SMARTHOST_TOP/tests/peers/oauth_server.py" --listen 127.0.0.1:8443 \
    --cert "$T_TMP/pki/server.crt" --key "$T_TMP/pki/server.key" \
    --user "$RT_ACCOUNT" --grant-after 1 --tokens-log "$T_TMP/tokens" \
    --log "$T_TMP/oauth.log" --ready-file "$T_TMP/oauth.port"
t_wait_file "$T_TMP/oauth.port" 10 ||
    { cat "$T_TMP/oauth.out"; t_fail "the OAuth2 server did not start"; }
URL=https://127.0.0.1:8443
dv_oauth2 "$T_TMP/dv" "$URL/introspect" "$T_TMP/pki/ca.crt"
dv_start "$T_TMP/dv"
cat >>"$T_TMP/smarthost.conf" <<EOF
auth = xoauth2
oauth-provider = microsoft
oauth-client-id = test-client
oauth-token-url = $URL/token
oauth-device-url = $URL/devicecode
EOF
: >"$T_TMP/secrets"
timeout 30 "$B/smarthostctl" -c "$T_TMP/smarthost.conf" oauth "$RT_ACCOUNT" \
    >"$T_TMP/ctl.out" 2>&1 ||
    { cat "$T_TMP/ctl.out"; t_fail "smarthostctl oauth failed"; }

rt_run || { cat "$T_TMP/run.log"; t_fail "the first run failed"; }
rt_seed "x1@office.lan" alice@office.lan
rt_save < <(rt_dsn "Undelivered Mail Returned to Sender" "x1@office.lan")
rt_run || { cat "$T_TMP/run.log"; t_fail "the run failed (exit $RT_RC)"; }
t_assert_eq 1 "$(rt_alice_count)" "messages at Alice"
rt_uid u "Undelivered Mail"
[[ $(rt_flags "$u") == *'$SmarthostReturned'* ]] ||
    t_fail "the DSN is not flagged"
t_assert_grep 'POST /introspect' "$T_TMP/oauth.log" \
    "Dovecot asked the authorization server about the token"
while read -r tok; do
	[ -n "$tok" ] || continue
	grep -qF -- "$tok" "$T_TMP/runs.log" && t_fail "a token is in the log"
done <"$T_TMP/tokens"
t_ok "an xoauth2 account logs in with AUTHENTICATE XOAUTH2 and its DSN reaches Alice"

curl -sfk --data revoke_access=1 "$URL/control" >/dev/null ||
    t_fail "cannot revoke the access tokens"
rt_run
t_assert_eq 77 "$RT_RC" "exit status with a revoked token"
t_assert_grep 'account=office@qq\.com imap=imap\.qq\.com error="login refused' \
    "$T_TMP/run.log" "the error names the account"
t_ok "a token the server refuses fails with 77 naming the account"
