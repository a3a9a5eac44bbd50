#!/bin/bash
# smarthostctl oauth, run as root, never writes through a symbolic link
# planted under state-dir (tests/peers/oauth_server.py grants at once, in
# a private network namespace; the service user is nobody):
#  - STATE/oauth a symbolic link to a root-owned directory: refused with
#    the path named, exit 69; the directory keeps its owner, mode and
#    contents, and no token is written there;
#  - state-dir itself a symbolic link: the same;
#  - the same state-dir as a real directory: the token is stored, owned by
#    nobody in a directory of nobody's (written as nobody).
. "$SMARTHOST_TOP/tests/lib/common.sh"
. "$SMARTHOST_TOP/tests/lib/pki.sh"
t_enter_netns "$@"
t_need openssl /usr/bin/python3
ctl=$B/smarthostctl
[ -x "$ctl" ] || t_fail "$ctl not built"
t_tmpdir
D=$T_TMP
mkdir -p "$D/pki"
pki_make "$D/pki" || t_fail "pki_make failed"

rm -f "$D/port"
t_spawn oauth "$D/oauth.out" /usr/bin/python3 \
    "$SMARTHOST_TOP/tests/peers/oauth_server.py" \
    --cert "$D/pki/server.crt" --key "$D/pki/server.key" \
    --user ms@test.example --grant-after 0 --tokens-log "$D/tokens" \
    --log "$D/oauth.log" --ready-file "$D/port"
t_wait_file "$D/port" 10 ||
    { cat "$D/oauth.out" >&2; t_fail "oauth server did not start"; }
URL=https://127.0.0.1:$(cat "$D/port")

write_conf() {		# STATE-DIR
	cat >"$D/smarthost.conf" <<EOC
[global]
relay-map = $D/relay.map
secrets = $D/secrets
state-dir = $1
user = nobody
[relay]
ca-file = $D/pki/ca.crt
[account ms]
host = smtp.test
login = ms@test.example
auth = xoauth2
oauth-provider = microsoft
oauth-client-id = test-client
oauth-token-url = $URL/token
oauth-device-url = $URL/devicecode
EOC
}
printf 'ms@test.example ms\n' >"$D/relay.map"
: >"$D/secrets"
chmod 600 "$D/secrets"

# Root-owned directories with a marker: what planted links point to.
mkdir -m 0755 "$D/victim" "$D/victim2"
touch "$D/victim/marker" "$D/victim2/marker"
state_of() { stat -c '%U:%G %a' "$1"; ls -A "$1" | tr '\n' ' '; }
before=$(state_of "$D/victim")
before2=$(state_of "$D/victim2")

# --- STATE/oauth is a symbolic link --------------------------------------------
mkdir -m 0750 "$D/state"
chown nobody:nogroup "$D/state"
ln -s "$D/victim" "$D/state/oauth"
write_conf "$D/state"
timeout 30 "$ctl" -c "$D/smarthost.conf" oauth ms >"$D/link1.out" 2>"$D/link1.err"
t_assert_eq 69 "$?" "exit status with STATE/oauth a symbolic link"
t_assert_grep "^smarthostctl: account ms: $D/state/oauth: is a symbolic link: refused" \
    "$D/link1.err"
t_assert_eq "$before" "$(state_of "$D/victim")" "the link's target directory"
t_assert_no_grep 'authorized; token stored' "$D/link1.out"
t_ok "STATE/oauth a symbolic link: refused naming it; target owner, mode and contents unchanged"

# --- state-dir is a symbolic link -----------------------------------------------
ln -s "$D/victim2" "$D/state-link"
write_conf "$D/state-link"
timeout 30 "$ctl" -c "$D/smarthost.conf" oauth ms >"$D/link2.out" 2>"$D/link2.err"
t_assert_eq 69 "$?" "exit status with state-dir a symbolic link"
t_assert_grep "^smarthostctl: account ms: $D/state-link: is a symbolic link: refused" \
    "$D/link2.err"
t_assert_eq "$before2" "$(state_of "$D/victim2")" "the link's target directory"
t_ok "state-dir a symbolic link: refused naming it; target owner, mode and contents unchanged"

# --- a real state-dir: stored, as the service user -------------------------------
rm "$D/state/oauth"
write_conf "$D/state"
timeout 30 "$ctl" -c "$D/smarthost.conf" oauth ms >"$D/ok.out" 2>"$D/ok.err" ||
    { cat "$D/ok.out" "$D/ok.err" >&2; t_fail "smarthostctl oauth ms failed"; }
t_assert_grep "^account ms: authorized; token stored in $D/state/oauth/ms.json \(mode 0600\)$" \
    "$D/ok.out"
t_assert_eq "nobody 700" "$(stat -c '%U %a' "$D/state/oauth")" "oauth directory"
t_assert_eq "nobody 600" "$(stat -c '%U %a' "$D/state/oauth/ms.json")" "token file"
t_ok "a real state-dir: token stored 0600, file and directory nobody's"

# no token in any output
[ -s "$D/tokens" ] || t_fail "the server logged no issued token"
while read -r tok; do
	grep -rlF -- "$tok" "$D"/*.out "$D"/*.err "$D/oauth.log" &&
	    t_fail "an output holds a token"
done <"$D/tokens"
t_ok "no token in any output"
