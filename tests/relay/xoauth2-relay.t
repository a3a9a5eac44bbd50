#!/bin/bash
# smarthost-relay with an xoauth2 account, end to end in a private network
# namespace: tests/peers/oauth_server.py (HTTPS, test CA) issues and
# rotates tokens; tests/peers/smarthost.py accepts AUTH XOAUTH2 only with an
# access token that server says is active (--xoauth2-validate).
#  1. smarthostctl oauth (device flow) stores the token file; the relay
#     delivers with AUTH XOAUTH2 using the stored access token (no refresh);
#  2. the access token expired: ten concurrent messages cause exactly one
#     refresh (the token server answers a refresh after 2 s, so that the
#     ten, held by it, overlap at the provider even on a loaded machine);
#     the rotated refresh token is saved (mode 0600);
#  3. after a relay restart with the access token expired again, the
#     refresh succeeds with the saved token (the old one is revoked);
#  3b. the provider refuses the (unexpired) access token: 454 4.7.0, the
#     token is dropped and the next message (after the cool-off) refreshes;
#  4. every refresh token revoked: the mail is deferred with 454 4.7.0,
#     invalid_grant and "run smarthostctl oauth ms again";
#  4b. a corrupted token file: 454 4.7.0 and the log say where (line,
#     column), never the file's bytes (jansson's message would quote them);
#  5. no token issued by the server appears in any log or output;
# smarthostctl status shows the token state (never a token).
. "$SMARTHOST_TOP/tests/relay/e2e-lib.sh"
t_enter_netns "$@"
e2e_init
t_need curl
CHAT=$SMARTHOST_TOP/tests/relay/smtpchat.py
E_RELAY_EXTRA="auth-cooloff = 1s"
e2e_users 'plain@test.example code-1'

t_spawn oauth "$D/oauth.out" /usr/bin/python3 \
    "$SMARTHOST_TOP/tests/peers/oauth_server.py" \
    --cert "$D/pki/server.crt" --key "$D/pki/server.key" \
    --user ms@test.example --grant-after 0 --refresh-delay 2 \
    --tokens-log "$D/tokens" --log "$D/oauth.log" --ready-file "$D/oauth.port"
t_wait_file "$D/oauth.port" 10 || { cat "$D/oauth.out" >&2; t_fail "oauth server did not start"; }
URL=https://127.0.0.1:$(cat "$D/oauth.port")

e2e_peer p1 4651 implicit --sender-rule 163 \
    --xoauth2-validate "$URL/introspect" --xoauth2-ca "$D/pki/ca.crt"
e2e_relay_conf "[account ms]
host = smtp.test
port = 4651
tls = implicit
login = ms@test.example
auth = xoauth2
oauth-provider = microsoft
oauth-client-id = test-client
oauth-token-url = $URL/token
oauth-device-url = $URL/devicecode
max-connections = 10" 'ms@test.example ms'
TF=$D/state/oauth/ms.json

stat_of() {		# NAME: the oauth server's counter
	curl -sS --max-time 5 --cacert "$D/pki/ca.crt" "$URL/stats" |
	    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

refresh_token() {
	/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["refresh_token"])' "$TF"
}

# The stored access token is due: the next use must refresh.
expire_access() {
	/usr/bin/python3 - "$TF" <<'EOF' || t_fail "cannot edit $TF"
import json, os, sys
p = sys.argv[1]
t = json.load(open(p))
t["expires_at"] = 0
with open(p + ".new", "w") as f:
    json.dump(t, f)
os.chmod(p + ".new", 0o600)
os.rename(p + ".new", p)
EOF
}

send() {		# ID: one message straight to the relay, transcript in chat-ID.log
	/usr/bin/python3 "$CHAT" --timeout 20 127.0.0.1:10025 "EHLO client.test" \
	    "MAIL FROM:<ms@test.example>" "RCPT TO:<rcpt@dest.example>" "DATA" \
	    "<<Subject: test $1\\nX-Test-Id: $1\\n\\nbody $1" "QUIT" \
	    >"$D/chat-$1.log" 2>&1
}

# Each start truncates relay.log: keep the earlier ones for the token check.
NSTART=0
relay_start() {
	[ -f "$D/relay.log" ] && cp "$D/relay.log" "$D/relay-$NSTART.log"
	NSTART=$((NSTART + 1))
	e2e_relay_start
}

relay_restart() {
	t_stop relay
	relay_start
}

# --- 1. authorize, then deliver with the stored access token ----------------
timeout 20 "$B/smarthostctl" -c "$D/smarthost.conf" oauth ms \
    >"$D/ctl.log" 2>&1 || { cat "$D/ctl.log" >&2; t_fail "smarthostctl oauth ms failed"; }
t_assert_eq 600 "$(stat -c %a "$TF")" "token file mode"
rt0=$(refresh_token)
relay_start
send m1 || { cat "$D/chat-m1.log" "$D/relay.log" >&2; t_fail "m1: relay did not answer"; }
t_assert_grep '^250 ' "$D/chat-m1.log"
e2e_wait_delivered p1 m1 1 10
t_assert_grep '"event": "auth", "login": "ms@test.example", "mechanism": "XOAUTH2", "ok": true' \
    "$D/events-p1" "XOAUTH2 login at the peer"
t_assert_eq "ms@test.example ms@test.example true rcpt@dest.example" \
    "$(e2e_envelope p1 m1)" "m1 envelope"
t_assert_eq 0 "$(stat_of refreshes)" "refreshes with a fresh token"
t_ok "device flow stored the token; the relay delivered with AUTH XOAUTH2, no refresh"

timeout 30 "$B/smarthostctl" -c "$D/smarthost.conf" probe ms >"$D/probe1.log" 2>&1 ||
    { cat "$D/probe1.log" >&2; t_fail "smarthostctl probe ms: exit $?"; }
t_assert_grep '^  AUTH ok \(XOAUTH2 as ms@test\.example\): 235 ' "$D/probe1.log" "probe with the stored token"
t_ok "smarthostctl probe logs in with the stored access token"

# --- 2. expired: ten concurrent messages, one refresh --------------------------
t_stop relay
expire_access
relay_start
pids=()
for i in 0 1 2 3 4 5 6 7 8 9; do
	send "c$i" &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || t_note "a concurrent client failed (pid $p)"
done
for i in 0 1 2 3 4 5 6 7 8 9; do
	t_assert_grep '^250 .*' "$D/chat-c$i.log" "c$i accepted"
	e2e_wait_delivered p1 "c$i" 1 10
done
t_assert_eq 1 "$(stat_of refreshes)" "refreshes for ten concurrent messages"
peak=$(grep -o '"sessions": [0-9]*' "$D/events-p1" | awk '$2 > m { m = $2 } END { print m + 0 }')
[ "$peak" -ge 3 ] || t_fail "the messages did not overlap (peak $peak sessions at the peer)"
rt1=$(refresh_token)
[ "$rt1" != "$rt0" ] || t_fail "the rotated refresh token was not saved"
t_assert_eq 600 "$(stat -c %a "$TF")" "token file mode after the rotation"
grep -qxF -- "$rt1" "$D/tokens" || t_fail "the saved refresh token is not one the server issued"
"$B/smarthostctl" -c "$D/smarthost.conf" status >"$D/status1.log" 2>&1 ||
    { cat "$D/status1.log" >&2; t_fail "smarthostctl status failed"; }
t_assert_grep '^  oauth       token stored; access token valid until [0-9-]+ [0-9:]+ \(5[0-9]m[0-9]+s left\)$' \
    "$D/status1.log" "status after the refresh"
"$B/smarthostctl" -c "$D/smarthost.conf" status --json >"$D/status1-json.log" 2>&1
t_assert_grep '"oauth_token": true,$' "$D/status1-json.log" "status --json"
t_assert_grep '"oauth_expires_at": [1-9][0-9]+$' "$D/status1-json.log" "status --json"
t_ok "expired access token: one refresh for ten concurrent messages ($peak sessions at once), rotated refresh token saved 0600"

# --- 3. the rotated refresh token survives a restart --------------------------
t_stop relay
expire_access
relay_start
send m2 || t_fail "m2: relay did not answer"
t_assert_grep '^250 ' "$D/chat-m2.log"
e2e_wait_delivered p1 m2 1 10
t_assert_eq 2 "$(stat_of refreshes)" "refreshes after the restart"
t_assert_eq 0 "$(stat_of invalid_grants)" "refreshes refused"
[ "$(refresh_token)" != "$rt1" ] || t_fail "second rotation not saved"
t_ok "after a restart the saved (rotated) refresh token refreshes; the revoked old one is never used"

# --- 3b. the provider refuses the access token: forgotten, refreshed next -----
curl -sS --max-time 5 --cacert "$D/pki/ca.crt" -H 'Content-Type: application/json' \
    -d '{"revoke_access": true}' "$URL/control" >/dev/null || t_fail "control request failed"
relay_restart
send m5
t_assert_grep '^454 4\.7\.0 smtp\.test\[127\.0\.0\.1\]:4651 refused the OAuth2 access token of account ms \(AUTH XOAUTH2\): 535 ' \
    "$D/chat-m5.log" "refused token"
sleep 1.2	# auth-cooloff = 1s
send m6
t_assert_grep '^250 ' "$D/chat-m6.log" "m6 after the refused token"
e2e_wait_delivered p1 m6 1 10
t_assert_eq 3 "$(stat_of refreshes)" "refreshes after the refused token"
t_ok "a token the provider refuses is dropped: 454 4.7.0 naming it, the next message refreshes and is delivered"

# --- 4. invalid_grant defers with what to run ---------------------------------
curl -sS --max-time 5 --cacert "$D/pki/ca.crt" -H 'Content-Type: application/json' \
    -d '{"revoke_all": true}' "$URL/control" >/dev/null || t_fail "control request failed"
t_stop relay
expire_access
relay_start
send m3
t_assert_grep '^454 4\.7\.0 OAuth2 token of account ms: refresh failed: invalid_grant: AADSTS70000: The refresh token has been revoked; run "smarthostctl oauth ms" again$' \
    "$D/chat-m3.log" "deferral text"
t_assert_grep 'account=ms oauth=failed reason=.*invalid_grant.*smarthostctl oauth ms' \
    "$D/relay.log" "relay log"
t_assert_eq 0 "$(e2e_count p1 m3)" "m3 deliveries"
send m4
t_assert_grep '^454 4\.7\.0 OAuth2 token of account ms: refresh failed: invalid_grant' "$D/chat-m4.log"
t_assert_eq 1 "$(stat_of invalid_grants)" "refused refreshes for two messages (the failure is reused for 30 s)"
grep -q 'refused the OAuth2 access token of account ms (AUTH XOAUTH2)' "$D"/relay-*.log ||
    t_fail "no relay log holds the refused token's line"
"$B/smarthostctl" -c "$D/smarthost.conf" status >"$D/status2.log" 2>&1
t_assert_grep '^  oauth       token stored; access token due, refreshed at the next use$' \
    "$D/status2.log" "status after the failed refresh"
t_ok "invalid_grant: 454 4.7.0 with the provider's words and what to run; nothing delivered"

rc=0
timeout 30 "$B/smarthostctl" -c "$D/smarthost.conf" probe ms >"$D/probe2.log" 2>&1 || rc=$?
t_assert_eq 78 "$rc" "probe exit after invalid_grant"
t_assert_eq 1 "$(grep -o 'smarthostctl oauth ms' "$D/probe2.log" | wc -l)" "probe says once what to run"
t_ok "smarthostctl probe after invalid_grant: exit 78, says once to run smarthostctl oauth"

# --- 4b. a corrupted token file: where, never what -----------------------------
# jansson's message quotes the input near the error; a token must not reach
# the relay's log, the 454 (which mailq shows every local user) or stderr.
marker=1//0gM$(openssl rand -hex 12)
t_stop relay
printf '{"refresh_token": "%s\001rest"}\n' "$marker" >"$TF"
chmod 600 "$TF"
relay_start
send m7
col=$((19 + ${#marker}))	# the control character after {"refresh_token": "MARKER
t_assert_grep "^454 4\\.7\\.0 OAuth2 token of account ms: $TF: not a token file: line 1, column $col \\(byte $col\\): invalid JSON syntax" \
    "$D/chat-m7.log" "454 naming the place in the file"
t_assert_grep "account=ms oauth=failed reason=.*not a token file: line 1, column $col" "$D/relay.log" "relay log"
"$B/smarthostctl" -c "$D/smarthost.conf" status >"$D/status3.log" 2>&1
t_assert_grep "not a token file: line 1, column $col \\(byte $col\\)" "$D/status3.log" "status"
if grep -lF -- "${marker#1//0g}" "$D"/chat-m7.log "$D"/relay.log "$D"/status3.log; then
	t_fail "the corrupted token file's bytes reached a log, reply or stderr"
fi
E_SECRETS+=("$marker")
t_ok "corrupted token file: 454 4.7.0 and the log give line and column, not its bytes"

# --- 5. no token in any log ---------------------------------------------------
[ "$(wc -l <"$D/tokens")" -ge 6 ] || t_fail "the server issued fewer tokens than expected"
while read -r tok; do
	E_SECRETS+=("$tok")
done <"$D/tokens"
e2e_assert_no_secrets
t_ok "no token or code in any log or transcript ($(wc -l <"$D/tokens") tokens)"
