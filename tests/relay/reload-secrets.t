#!/usr/bin/env bash
# A reload of a relay running as an unprivileged user (nobody) while the
# secrets file is root's, mode 0600 (as INSTALL lets admins keep it), with
# a provider-like smarthost and SMTP to the relay directly:
#  - smarthostctl check (as root) warns that the relay's user cannot read
#    the secrets file: a reload keeps the codes, new ones need a restart;
#  - relay.map edited (a route moved to another account, a new route) and
#    SIGHUP: the relay applies the new map (smarthostctl route, reading
#    the files, says the same), sending with the codes read at start;
#  - the log has exactly one warning for that reload, naming the file and
#    how to fix it, and no "reload failed";
#  - the file made the service user's: the next reload reads it, without
#    the warning.
. "$SMARTHOST_TOP/tests/relay/e2e-lib.sh"
t_enter_netns "$@"
e2e_init
ctl=$B/smarthostctl
chat=$SMARTHOST_TOP/tests/relay/smtpchat.py
[ -x "$ctl" ] || t_fail "$ctl not built"

e2e_users 'a1@test.example code-reload-1' 'a2@test.example code-reload-2'
e2e_peer p1 4651 implicit
e2e_relay_conf "$(e2e_account acc1 4651 implicit a1@test.example
    e2e_account acc2 4651 implicit a2@test.example)" "sales@office.test acc1
a2@test.example acc2" 'acc1 code-reload-1' 'acc2 code-reload-2'
sed -i 's/^user = root$/user = nobody/' "$D/smarthost.conf"
# Only the relay runs here, in a namespace without a resolver: DMARC is
# the milter's business (resolver.t covers check's resolver warning).
printf '[milter]\ndmarc = tag\n' >>"$D/smarthost.conf"
chmod 644 "$D/smarthost.conf" "$D/relay.map"
t_assert_eq "root 600" "$(stat -c '%U %a' "$D/secrets")" "secrets file"

# smarthostctl check explains what a root-owned secrets file means
"$ctl" -c "$D/smarthost.conf" check >"$D/check.out" 2>&1 ||
    { cat "$D/check.out"; t_fail "check failed"; }
t_assert_grep "^$D/secrets: warning: owned by uid 0, not readable by user nobody the relay runs as: a reload \(SIGHUP\) keeps the codes read at start, new codes need a restart of smarthost-relay \(or chown nobody $D/secrets\)$" \
    "$D/check.out" "check: secrets not readable by the relay's user"
t_assert_grep ': OK \(1 warning\)$' "$D/check.out" "check summary"
t_ok "check warns that the relay's user cannot re-read the secrets file"

e2e_relay_start
t_assert_grep 'running as user nobody' "$D/relay.log"

msg() {		# ID FROM — one message to the relay
	/usr/bin/python3 "$chat" --timeout 10 127.0.0.1:10025 "EHLO client.test" \
	    "MAIL FROM:<$2>" "RCPT TO:<r@dest.test>" "DATA" \
	    "<<Subject: reload $1\\nX-Test-Id: $1\\n\\nbody" "QUIT" >"$D/chat-$1" 2>&1
	t_assert_grep '^250 .*(queued|OK|Ok|ok)|^250 2\.0\.0' "$D/chat-$1" "message $1 accepted"
	e2e_wait_delivered p1 "$1" 1 10
}
login_of() { e2e_envelope p1 "$1" | awk '{ print $2 }'; }

msg m1 sales@office.test
t_assert_eq a1@test.example "$(login_of m1)" "login before the reload"
t_ok "before the reload: sales@office.test goes out through acc1"

# The map changes: sales@ moves to acc2, a new route for new@ to acc1.
printf '%s\n' 'sales@office.test acc2' 'new@office.test acc1' \
    'a2@test.example acc2' >"$D/relay.map"
"$ctl" -c "$D/smarthost.conf" route sales@office.test >"$D/route.out" 2>&1
t_assert_grep '^account: +acc2$' "$D/route.out" "smarthostctl route after the edit"
n0=$(grep -c 'configuration reloaded' "$D/relay.log")
l0=$(wc -l <"$D/relay.log")
kill -HUP "$T_PID_relay"
t_wait_for "[ \$(grep -c 'configuration reloaded\\|reload failed' '$D/relay.log') -gt $n0 ]" 5 ||
    { cat "$D/relay.log"; t_fail "no reload logged"; }
t_assert_no_grep 'reload failed' "$D/relay.log"
w=$(grep -c "$D/secrets: warning: cannot be re-read by uid $(id -u nobody) (permission denied): the authorization codes read at start stay in force; new codes need a restart, or make the file owned by user nobody (chown nobody $D/secrets) so that a reload reads it" "$D/relay.log")
t_assert_eq 1 "$w" "warnings about the secrets file for one reload"
# (earlier lines may hold the refusal of a connection probe that closed
# before the relay could tell its owner: allow-users)
[ "$(tail -n +$((l0 + 1)) "$D/relay.log" | grep -c 'warning')" = 1 ] ||
    { grep 'warning' "$D/relay.log"; t_fail "warning lines of the reload: expected one"; }
t_ok "SIGHUP: reloaded with one warning that says why the codes stay and how to fix it"

msg m2 sales@office.test
t_assert_eq a2@test.example "$(login_of m2)" "login of the moved route"
msg m3 new@office.test
t_assert_eq a1@test.example "$(login_of m3)" "login of the new route"
t_ok "after the reload: the relay routes by the new map (as smarthostctl route does), with the codes read at start"

# The file made the relay user's: the next reload reads it, no warning.
chown nobody "$D/secrets"
n1=$(grep -c 'configuration reloaded' "$D/relay.log")
l1=$(wc -l <"$D/relay.log")
kill -HUP "$T_PID_relay"
t_wait_for "[ \$(grep -c 'configuration reloaded\\|reload failed' '$D/relay.log') -gt $n1 ]" 5 ||
    { cat "$D/relay.log"; t_fail "no second reload logged"; }
[ "$(tail -n +$((l1 + 1)) "$D/relay.log" | grep -c 'warning')" = 0 ] ||
    { grep 'warning' "$D/relay.log"; t_fail "warning lines of the second reload: expected none"; }
msg m4 sales@office.test
t_assert_eq a2@test.example "$(login_of m4)" "login after the second reload"
t_ok "secrets owned by the relay's user: re-read on SIGHUP without a warning"

t_stop relay
t_assert_no_grep 'AddressSanitizer|LeakSanitizer|runtime error' "$D/relay.log" "sanitizer reports"
e2e_assert_no_secrets
t_ok "no log holds a code"
