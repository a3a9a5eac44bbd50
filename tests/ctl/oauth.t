#!/bin/bash
# smarthostctl oauth ACCOUNT against tests/peers/oauth_server.py (HTTPS with
# the test CA, in a private network namespace):
#  - device flow (Microsoft-like): pending polls, then the grant; the
#    token file is mode 0600, owned by the service user, holds the refresh
#    token; slow_down makes the next poll wait 5 s more;
#  - authorization code with PKCE (Google-like): the "browser" (curl)
#    follows the authorize redirect to the loopback listener; a silent
#    local connection, another path and redirects with a wrong or missing
#    state (400) neither stop nor stall it; the provider's error is printed
#    made printable and cut short;
#  - a client ID the server does not know: the provider's error, exit 69;
#  - an account without auth = xoauth2: exit 78;
#  - no token issued by the server appears in any output.
. "$SMARTHOST_TOP/tests/lib/common.sh"
. "$SMARTHOST_TOP/tests/lib/pki.sh"
t_enter_netns "$@"
t_need openssl curl /usr/bin/python3
ctl=$B/smarthostctl
[ -x "$ctl" ] || t_fail "$ctl not built"
t_tmpdir
D=$T_TMP
mkdir -p "$D/pki" "$D/state"
pki_make "$D/pki" || t_fail "pki_make failed"

oauth_start() {		# NAME [server options]
	local name=$1
	shift
	rm -f "$D/port-$name"
	t_spawn "$name" "$D/$name.out" /usr/bin/python3 \
	    "$SMARTHOST_TOP/tests/peers/oauth_server.py" \
	    --cert "$D/pki/server.crt" --key "$D/pki/server.key" \
	    --user ms@test.example --tokens-log "$D/tokens" \
	    --log "$D/$name.log" --ready-file "$D/port-$name" "$@"
	t_wait_file "$D/port-$name" 10 ||
	    { cat "$D/$name.out" >&2; t_fail "oauth server $name did not start"; }
	PORT=$(cat "$D/port-$name")
	URL=https://127.0.0.1:$PORT
}

write_conf() {		# CLIENT-ID USER
	cat >"$D/smarthost.conf" <<EOC
[global]
relay-map = $D/relay.map
secrets = $D/secrets
state-dir = $D/state
user = $2
[relay]
ca-file = $D/pki/ca.crt
[account ms]
host = smtp.test
login = ms@test.example
auth = xoauth2
oauth-provider = microsoft
oauth-client-id = $1
oauth-token-url = $URL/token
oauth-device-url = $URL/devicecode
[account gm]
host = smtp.test
login = gm@test.example
auth = xoauth2
oauth-provider = google
oauth-client-id = $1
oauth-client-secret = not-so-secret
oauth-token-url = $URL/token
oauth-auth-url = $URL/authorize
[account plain]
host = smtp.test
login = plain@test.example
EOC
	printf '%s\n' "ms@test.example ms" "gm@test.example gm" \
	    "plain@test.example plain" >"$D/relay.map"
	printf 'plain code-1\n' >"$D/secrets"
	chmod 600 "$D/secrets"
}

# --- device flow: two pending polls, then the grant ---------------------------
oauth_start dev --grant-after 2
write_conf test-client nobody
t0=$(t__now_ms)
timeout 30 "$ctl" -c "$D/smarthost.conf" oauth ms >"$D/dev1.stdout" \
    2>"$D/dev1.stderr" || { cat "$D/dev1.stdout" "$D/dev1.stderr" >&2;
    t_fail "smarthostctl oauth ms (device flow) failed"; }
t_assert_grep '^    https://login.test/device$' "$D/dev1.stdout" "verification URI"
t_assert_grep '^    TEST-CODE$' "$D/dev1.stdout" "user code"
f=$D/state/oauth/ms.json
t_assert_grep "^account ms: authorized; token stored in $f \(mode 0600\)$" \
    "$D/dev1.stdout"
t_assert_eq "600 nobody" "$(stat -c '%a %U' "$f")" "token file mode and owner"
t_assert_eq "700 nobody" "$(stat -c '%a %U' "$D/state/oauth")" "oauth dir"
rt=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["refresh_token"])' "$f")
grep -qxF -- "$rt" "$D/tokens" || t_fail "token file holds no issued refresh token"
polls=$(curl -sS --cacert "$D/pki/ca.crt" "$URL/stats" |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["device_polls"])')
t_assert_eq 3 "$polls" "device polls (2 pending + the grant)"
t_ok "device flow: verification URI and user code shown, 3 polls, token file 0600 owned by the service user"

# --- slow_down: the next poll waits interval + 5 s ------------------------------
t_stop dev
oauth_start slow --grant-after 1 --slow-down
write_conf test-client root
timeout 30 "$ctl" -c "$D/smarthost.conf" oauth ms >"$D/dev2.stdout" \
    2>"$D/dev2.stderr" || { cat "$D/dev2.stdout" "$D/dev2.stderr" >&2;
    t_fail "smarthostctl oauth ms (slow_down) failed"; }
gap=$(awk '/POST \/token/ { t[n++] = $1 } END { printf "%d", (t[1] - t[0]) * 10 }' "$D/slow.log")
[ "$gap" -ge 58 ] || { cat "$D/slow.log" >&2; t_fail "poll after slow_down came after ${gap}00 ms, not >= 6 s"; }
t_ok "slow_down honoured: next poll $((gap / 10)).$((gap % 10)) s later"

# --- authorization code with PKCE and the loopback listener ------------------
"$ctl" -c "$D/smarthost.conf" oauth gm --timeout 20 >"$D/gm.stdout" \
    2>"$D/gm.stderr" &
gmpid=$!
t_cleanup_add "kill $gmpid 2>/dev/null"
t_wait_for "grep -q '^    https://127.0.0.1:$PORT/authorize?' '$D/gm.stdout'" 10 ||
    { cat "$D/gm.stdout" "$D/gm.stderr" >&2; t_fail "no authorization URL printed"; }
auth=$(sed -n "s|^    \(https://127.0.0.1:$PORT/authorize?.*\)|\1|p" "$D/gm.stdout")
t_assert_grep 'code_challenge_method=S256' "$D/gm.stdout"
t_assert_grep '^    ssh -L [0-9]+:127.0.0.1:[0-9]+ THIS-HOST$' "$D/gm.stdout" "SSH forwarding hint"
curl -sS -L --max-time 10 --cacert "$D/pki/ca.crt" "$auth" >"$D/browser.out" 2>&1 ||
    { cat "$D/browser.out" >&2; t_fail "the browser's redirect failed"; }
t_assert_grep 'smarthost: authorized' "$D/browser.out" "page shown to the browser"
wait "$gmpid" || { cat "$D/gm.stdout" "$D/gm.stderr" >&2; t_fail "oauth gm failed"; }
t_assert_eq 600 "$(stat -c %a "$D/state/oauth/gm.json")" "gm token file mode"
t_assert_grep 'granted authorization_code' "$D/slow.log" "server saw the PKCE exchange"
t_ok "authorization code with PKCE: URL, SSH hint, redirect to 127.0.0.1, token stored"

# --- the loopback listener: other local users cannot stop or stall it --------
# While a local connection stays silent, a request for another path gets a
# 404 and redirects with a wrong or missing state a 400, the command keeps
# waiting, and the browser's real redirect completes the flow.
gm_start() {		# NAME: oauth gm in the background; sets gmpid lport auth
	"$ctl" -c "$D/smarthost.conf" oauth gm --timeout 30 >"$D/$1.stdout" \
	    2>"$D/$1.stderr" &
	gmpid=$!
	t_cleanup_add "kill $gmpid 2>/dev/null"
	t_wait_for "grep -q '^    ssh -L' '$D/$1.stdout'" 10 ||
	    { cat "$D/$1.stdout" "$D/$1.stderr" >&2; t_fail "$1: no URL printed"; }
	lport=$(sed -n 's|^    ssh -L \([0-9]*\):.*|\1|p' "$D/$1.stdout")
	auth=$(sed -n "s|^    \(https://127.0.0.1:$PORT/authorize?.*\)|\1|p" "$D/$1.stdout")
	[ -n "$lport" ] && [ -n "$auth" ] || t_fail "$1: no port or URL"
}

http_status() {		# URL: the listener's HTTP status ("000": no answer in 5 s)
	curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "$1" 2>/dev/null
}

gm_start gm2
silent=()		# more silent connections than the listener reads at once
for i in 1 2 3 4 5 6 7 8 9 10; do
	exec {fd}<>"/dev/tcp/127.0.0.1/$lport" || t_fail "cannot connect to the listener"
	silent+=("$fd")
done
t_assert_eq 404 "$(http_status "http://127.0.0.1:$lport/favicon.ico")" \
    "another path, while a silent connection is open"
t_assert_eq 400 "$(http_status "http://127.0.0.1:$lport/?code=forged&state=wrong")" \
    "a redirect with a wrong state"
t_assert_eq 400 "$(http_status "http://127.0.0.1:$lport/?code=forged")" \
    "a redirect without a state"
kill -0 "$gmpid" 2>/dev/null ||
    { cat "$D/gm2.stderr" >&2; t_fail "a forged redirect stopped the command"; }
curl -sS -L --max-time 10 --cacert "$D/pki/ca.crt" "$auth" >"$D/browser2.out" 2>&1 ||
    { cat "$D/browser2.out" >&2; t_fail "the real redirect failed"; }
t_assert_grep 'smarthost: authorized' "$D/browser2.out" "page shown to the browser"
wait "$gmpid" || { cat "$D/gm2.stdout" "$D/gm2.stderr" >&2; t_fail "oauth gm after forged redirects failed"; }
for fd in "${silent[@]}"; do
	exec {fd}>&-
done
t_assert_eq 2 "$(grep -c 'granted authorization_code' "$D/slow.log")" "PKCE exchanges"
t_assert_grep "^account gm: authorized; token stored in " "$D/gm2.stdout"
t_ok "10 silent connections, another path, wrong and missing states: answered 404/400, the real redirect still completes"

# The provider's error (with the right state) ends the wait; its text,
# full of escape sequences and control bytes, reaches the terminal only
# made printable and cut short.
gm_start gm3
state=$(sed -n 's|.*[?&]state=\([^&]*\).*|\1|p' <<<"$auth")
[ -n "$state" ] || t_fail "no state in the authorization URL"
long=$(printf 'A%.0s' $(seq 300))
t_assert_eq 400 "$(http_status "http://127.0.0.1:$lport/?state=$state&error=access_denied%1B%5B2J%1B%5D0%3Bowned%07%0D%0A$long&error_description=Denied%1B%5B31mred%7F%C3%A9")" \
    "the provider's error"
wait "$gmpid" && t_fail "oauth gm succeeded after the provider's error"
t_assert_eq 0 "$(LC_ALL=C tr -d '\n' <"$D/gm3.stderr" | LC_ALL=C tr -d '[:print:]' | wc -c)" \
    "non-printable bytes on stderr"
t_assert_grep '^smarthostctl: account gm: the provider refused: access_denied\?\[2J\?\]0;owned\?\?\?A{71}\.\.\.: Denied\?\[31mred\?\?\?$' \
    "$D/gm3.stderr" "the provider's error, made printable and cut"
t_ok "the provider's error with escape sequences and control bytes is printed sanitised and bounded"

# --- the provider's error; an account that does not use xoauth2 ---------------
write_conf wrong-client root
"$ctl" -c "$D/smarthost.conf" oauth ms >"$D/bad.stdout" 2>"$D/bad.stderr"
t_assert_eq 69 "$?" "exit code for a refused client"
t_assert_grep '^smarthostctl: account ms: invalid_client: AADSTS700016: unknown client$' "$D/bad.stderr"
"$ctl" -c "$D/smarthost.conf" oauth plain >"$D/plain.stdout" 2>"$D/plain.stderr"
t_assert_eq 78 "$?" "exit code for a password account"
t_assert_grep '^smarthostctl: account plain does not use auth = xoauth2$' "$D/plain.stderr"
t_ok "provider errors are quoted; password accounts are refused"

for f in dev1 dev2 gm gm2; do
	[ ! -s "$D/$f.stderr" ] || { cat "$D/$f.stderr" >&2; t_fail "$f: a successful run wrote to stderr"; }
done

# --- no token anywhere but the token files ------------------------------------
[ -s "$D/tokens" ] || t_fail "the server logged no issued token"
while read -r tok; do
	if grep -rlF -- "$tok" "$D"/*.stdout "$D"/*.stderr "$D"/*.log \
	    "$D"/*.out "$D/browser.out"; then
		t_fail "an output holds a token"
	fi
done <"$D/tokens"
t_ok "no token in any output ($(wc -l <"$D/tokens") tokens checked)"
