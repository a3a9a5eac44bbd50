#!/usr/bin/env bash
# smarthostctl reload against a running smarthost-relay and
# smarthost-milter (their control sockets):
#  - both apply a good configuration: exit 0, each says so, each logs the
#    request; the milter's control socket is mode 0600, and as user nobody
#    (socket opened up) it is refused by SO_PEERCRED, logged;
#  - a map both refuse: each says refused with the map's file:line, exit
#    78, and the milter keeps its routes;
#  - a secrets file only the relay reads, broken: the relay refuses with
#    file:line, the milter applies, the two are said to disagree, exit 78;
#  - SIGHUP still reloads both;
#  - the milter stopped: said so, the relay still applies, exit 69;
#    both stopped: both said so.
. "$SMARTHOST_TOP/tests/relay/e2e-lib.sh"
t_enter_netns "$@"
. "$SMARTHOST_TOP/tests/ctl/daemons.sh"
d_setup
d_start_relay
d_start_milter
ctl() { "$D_CTL" -c "$D/smarthost.conf" "$@"; }

msock=$D/run/milter-control.sock
t_assert_eq "600 root" "$(stat -c '%a %U' "$msock")" "milter control socket mode"
t_assert_grep "control socket $msock" "$D/milter.log"
t_ok "milter control socket made, mode 0600"

# --- both apply ---------------------------------------------------------------
ctl reload >"$D/r1" 2>&1
rc=$?
cat "$D/r1"
t_assert_eq 0 "$rc" "reload exit"
t_assert_grep '^smarthost-relay: applied the new configuration$' "$D/r1"
t_assert_grep '^smarthost-milter: applied the new configuration$' "$D/r1"
t_assert_grep 'control: reload requested' "$D/relay.log"
t_assert_grep 'configuration reloaded' "$D/relay.log"
t_assert_grep 'control: reload requested' "$D/milter.log"
t_assert_grep "reloaded $D/smarthost.conf" "$D/milter.log"
t_ok "both daemons reload and say so: exit 0"

# --- someone else ---------------------------------------------------------------
chmod 666 "$msock"
setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$D_CTL" -c "$D/smarthost.conf" reload >"$D/nobody" 2>&1
rc=$?
chmod 600 "$msock"
cat "$D/nobody"
t_assert_eq 77 "$rc" "reload as nobody"
t_assert_grep '^smarthost-milter: permission denied: uid 65534 is neither root nor the milter.s user \(uid 0\)$' "$D/nobody"
t_assert_grep 'control: refused uid=65534 pid=[0-9]+' "$D/milter.log" "refusal logged"
t_ok "the milter's control socket refuses uid 65534 (SO_PEERCRED), logged"

# --- a map both refuse ------------------------------------------------------------
t_assert_eq no-route "$(d_mt new@test.example)" "milter before"
cp "$D/relay.map" "$D/relay.map.good"
printf '%s\n' 'new@test.example acc1' 'bad@test.example nosuchaccount' >>"$D/relay.map"
ctl reload >"$D/r2" 2>&1
rc=$?
cat "$D/r2"
t_assert_eq 78 "$rc" "reload exit with a broken map"
for d in relay milter; do
	t_assert_grep "^smarthost-$d: refused the new configuration, still running the previous one:\$" "$D/r2"
done
t_assert_eq 2 "$(grep -c "^  $D/relay.map:3: .*nosuchaccount" "$D/r2")" "each daemon names relay.map:3"
t_assert_eq no-route "$(d_mt new@test.example)" "milter keeps its routes"
t_ok "a map both refuse: refused by each, with relay.map:3, exit 78; old routes kept"

# --- secrets only the relay reads ------------------------------------------------
cp "$D/relay.map.good" "$D/relay.map"
echo 'new@test.example acc1' >>"$D/relay.map"
cp "$D/secrets" "$D/secrets.good"
echo 'acc2' >>"$D/secrets"
ctl reload >"$D/r3" 2>&1
rc=$?
cat "$D/r3"
t_assert_eq 78 "$rc" "reload exit when the relay refuses"
t_assert_grep '^smarthost-relay: refused the new configuration, still running the previous one:$' "$D/r3"
t_assert_grep "^  $D/secrets:2: " "$D/r3" "the relay names secrets:2"
t_assert_grep '^smarthost-milter: applied the new configuration$' "$D/r3"
t_assert_grep '^the two daemons now disagree: smarthost-milter runs the new configuration, smarthost-relay the previous one$' "$D/r3"
t_assert_eq routed "$(d_mt new@test.example)" "milter has the new route"
t_ok "secrets only the relay reads: relay refused (secrets:2), milter applied, disagreement said, exit 78"

# --- SIGHUP still works -----------------------------------------------------------
cp "$D/secrets.good" "$D/secrets"
n=$(grep -c 'configuration reloaded' "$D/relay.log")
m=$(grep -c "reloaded $D/smarthost.conf" "$D/milter.log")
kill -HUP "$T_PID_relay" "$T_PID_milter"
t_wait_for "[ \$(grep -c 'configuration reloaded' '$D/relay.log') -gt $n ]" 5 ||
    t_fail "relay did not reload on SIGHUP"
t_wait_for "[ \$(grep -c 'reloaded $D/smarthost.conf' '$D/milter.log') -gt $m ]" 5 ||
    t_fail "milter did not reload on SIGHUP"
t_ok "SIGHUP reloads both daemons"

# --- a daemon not running ----------------------------------------------------------
t_stop milter
t_assert_eq 0 "$?" "milter exit status"
[ -e "$msock" ] && t_fail "milter control socket left behind"
ctl reload >"$D/r4" 2>&1
rc=$?
cat "$D/r4"
t_assert_eq 69 "$rc" "reload exit with the milter stopped"
t_assert_grep '^smarthost-relay: applied the new configuration$' "$D/r4"
t_assert_grep "^smarthost-milter: not running \\(nothing answers on $msock: No such file or directory\\)\$" "$D/r4"
t_stop relay
ctl reload >"$D/r5" 2>&1
rc=$?
cat "$D/r5"
t_assert_eq 69 "$rc" "reload exit with both stopped"
t_assert_grep '^smarthost-relay: not running ' "$D/r5"
t_assert_grep '^smarthost-milter: not running ' "$D/r5"
t_assert_no_grep 'AddressSanitizer|LeakSanitizer|runtime error' "$D/relay.log" "relay sanitizer reports"
t_assert_no_grep 'AddressSanitizer|LeakSanitizer|runtime error' "$D/milter.log" "milter sanitizer reports"
e2e_assert_no_secrets
t_ok "a daemon not running is named, exit 69"
