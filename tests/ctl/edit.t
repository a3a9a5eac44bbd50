#!/usr/bin/env bash
# smarthostctl edit with a running smarthost-relay and smarthost-milter;
# EDITOR is a script writing prepared contents into the copy, one file
# per run of the editor:
#  - a broken map, no terminal: the errors with the map's file:line, the
#    old map kept (contents, mode, owner), no copy left, no reload, exit 78;
#  - a broken map on a terminal (a pty): asked "(e)dit again, (k)eep",
#    "e", then a good map: installed by rename (a new inode) with the old
#    mode and owner, both daemons applied it, and the new route works in
#    both: a message through the relay reaches the provider, the milter
#    takes the sender at RCPT;
#  - smarthost.conf with an unknown option: its file:line, kept;
#  - the secrets for a service user nobody: installed 0600 nobody's; the
#    daemons of that configuration are not running: said so, exit 69;
#  - a map in a world-writable directory: refused, no copy made, exit 73;
#  - nothing changed: said so, no reload; a failing editor: kept, exit 70;
#  - smarthostctl killed (SIGTERM) while the editor runs: no copy left.
. "$SMARTHOST_TOP/tests/relay/e2e-lib.sh"
t_enter_netns "$@"
. "$SMARTHOST_TOP/tests/ctl/daemons.sh"
d_setup
d_start_relay
d_start_milter
pty=$SMARTHOST_TOP/tests/ctl/pty-answer.py

# the editor: writes $D/ed.N (or ed.last) into the file on its Nth run
cat >"$D/ed.sh" <<EOS
#!/bin/sh
n=\$((\$(cat "$D/ed.count" 2>/dev/null || echo 0) + 1))
echo \$n >"$D/ed.count"
f="$D/ed.\$n"
[ -f "\$f" ] || f="$D/ed.last"
cat "\$f" >"\$1"
EOS
chmod 755 "$D/ed.sh"
editor() {	# CONTENT-FILE... for the editor's runs in turn
	local i=1 f
	rm -f "$D"/ed.[0-9]* "$D/ed.count" "$D/ed.last"
	for f in "$@"; do cp "$f" "$D/ed.$i"; i=$((i + 1)); done
	cp "$f" "$D/ed.last"
}
reloads() {	# how many reloads the daemons were asked for
	cat "$D/relay.log" "$D/milter.log" | grep -c 'control: reload requested'
}
no_copies() {
	local left
	left=$(ls -A "$D" | grep -E '^\.(relay\.map|smarthost\.conf|secrets[0-9]*)\.' )
	[ -z "$left" ] || t_fail "copies left in $D: $left"
}
export EDITOR=$D/ed.sh
unset VISUAL

chown nobody:nogroup "$D/relay.map"
chmod 640 "$D/relay.map"
cp -p "$D/relay.map" "$D/map.orig"
printf '%s\n' 'a1@test.example acc1' 'new@test.example acc1' \
    'bad@test.example nosuchaccount' >"$D/map.bad"
printf '%s\n' 'a1@test.example acc1' 'new@test.example acc1' >"$D/map.good"

# --- a broken map, no terminal -------------------------------------------------
editor "$D/map.bad"
n0=$(reloads)
setsid -w "$D_CTL" -c "$D/smarthost.conf" edit </dev/null >"$D/e1" 2>&1
rc=$?
cat "$D/e1"
t_assert_eq 78 "$rc" "edit exit with a broken map and no terminal"
t_assert_grep "^$D/relay.map:3: unknown account \"nosuchaccount\"" "$D/e1" "error names relay.map:3"
t_assert_grep "no terminal to ask: $D/relay.map is kept as it was" "$D/e1"
cmp -s "$D/map.orig" "$D/relay.map" || t_fail "the map was changed"
t_assert_eq "640 nobody nogroup" "$(stat -c '%a %U %G' "$D/relay.map")" "map mode and owner"
t_assert_eq "$n0" "$(reloads)" "reloads asked for"
no_copies
t_ok "broken map without a terminal: relay.map:3 shown, old map kept (contents, 0640 nobody), exit 78"

# --- on a terminal: edit again, then a good map ----------------------------------
t_assert_eq no-route "$(d_mt new@test.example)" "milter before the edit"
d_send BEFORE new@test.example
t_assert_grep '^5[0-9][0-9] ' "$D/chat-BEFORE" "relay refuses new@ before the edit"
editor "$D/map.bad" "$D/map.good"
ino=$(stat -c %i "$D/relay.map")
/usr/bin/python3 "$pty" '(e)dit again, (k)eep the old file?' e \
    "$D_CTL" -c "$D/smarthost.conf" edit map >"$D/e2" 2>&1
rc=$?
cat "$D/e2"
t_assert_eq 0 "$rc" "edit exit after editing again"
t_assert_grep "^$D/relay.map:3: unknown account" "$D/e2"
t_assert_eq 2 "$(cat "$D/ed.count")" "editor runs"
cmp -s "$D/map.good" "$D/relay.map" || t_fail "the good map was not installed"
t_assert_eq "640 nobody nogroup" "$(stat -c '%a %U %G' "$D/relay.map")" "mode and owner kept"
[ "$(stat -c %i "$D/relay.map")" != "$ino" ] || t_fail "map rewritten in place, not renamed"
t_assert_grep "^$D/relay.map: installed \\(mode 0640, " "$D/e2"
t_assert_grep '^smarthost-relay: applied the new configuration' "$D/e2"
t_assert_grep '^smarthost-milter: applied the new configuration' "$D/e2"
no_copies
t_assert_eq routed "$(d_mt new@test.example)" "milter after the edit"
d_send AFTER new@test.example
e2e_wait_delivered p1 AFTER 1 15
t_ok "terminal: (e)dit again, good map installed by rename (0640 nobody kept), both applied, new route in relay and milter"

# --- smarthost.conf with an error -----------------------------------------------
cp -p "$D/smarthost.conf" "$D/conf.orig"
cp "$D/smarthost.conf" "$D/conf.bad"
echo "nonsense = 1" >>"$D/conf.bad"
line=$(wc -l <"$D/conf.bad")
editor "$D/conf.bad"
setsid -w "$D_CTL" -c "$D/smarthost.conf" edit conf </dev/null >"$D/e3" 2>&1
rc=$?
cat "$D/e3"
t_assert_eq 78 "$rc" "edit conf exit"
t_assert_grep "^$D/smarthost.conf:$line: unknown option" "$D/e3"
cmp -s "$D/conf.orig" "$D/smarthost.conf" || t_fail "smarthost.conf was changed"
no_copies
t_ok "smarthost.conf with an unknown option: smarthost.conf:$line shown, kept"

# --- secrets for a service user ----------------------------------------------------
sed -e "s|^secrets = .*|secrets = $D/secrets2|" -e 's|^user = .*|user = nobody|' \
    -e "s|^control-socket = .*|control-socket = $D/run/none.sock|" \
    "$D/smarthost.conf" >"$D/nobody.conf"
cp "$D/secrets" "$D/secrets2"
chmod 600 "$D/secrets2"
printf 'acc1 right-code-62\n' >"$D/secrets.new"
editor "$D/secrets.new"
setsid -w "$D_CTL" -c "$D/nobody.conf" edit secrets </dev/null >"$D/e4" 2>&1
rc=$?
cat "$D/e4"
cmp -s "$D/secrets.new" "$D/secrets2" || t_fail "new secrets not installed"
t_assert_eq "600 nobody nogroup" "$(stat -c '%a %U %G' "$D/secrets2")" "secrets mode and owner"
t_assert_eq 69 "$rc" "edit secrets exit (daemons of nobody.conf not running)"
t_assert_grep '^smarthost-relay: not running ' "$D/e4"
t_assert_grep '^smarthost-milter: not running ' "$D/e4"
t_assert_no_grep 'right-code' "$D/e4" "a code in the output"
no_copies
t_ok "secrets: installed 0600 owned by the service user nobody; daemons not running said, exit 69"

# --- a directory others may write to -------------------------------------------------
mkdir -m 1777 "$D/open"
cp -p "$D/relay.map" "$D/open/relay.map"
sed "s|^relay-map = .*|relay-map = $D/open/relay.map|" "$D/smarthost.conf" >"$D/open.conf"
editor "$D/map.good"
"$D_CTL" -c "$D/open.conf" edit </dev/null >"$D/e7" 2>&1
rc=$?
cat "$D/e7"
t_assert_eq 73 "$rc" "edit exit in a world-writable directory"
t_assert_grep "cannot edit $D/open/relay.map safely: $D/open: .*writ" "$D/e7"
[ -e "$D/ed.count" ] && t_fail "the editor ran"
[ -z "$(ls -A "$D/open" | grep -v '^relay.map$')" ] || t_fail "a copy was made in $D/open"
t_ok "a map in a directory others may write to: refused before any copy, exit 73"

# --- nothing changed; a failing editor --------------------------------------------
n0=$(reloads)
EDITOR=true "$D_CTL" -c "$D/smarthost.conf" edit </dev/null >"$D/e5" 2>&1
rc=$?
cat "$D/e5"
t_assert_eq 0 "$rc" "edit exit when unchanged"
t_assert_grep "^$D/relay.map: unchanged: nothing installed, no reload\$" "$D/e5"
t_assert_eq "$n0" "$(reloads)" "reloads asked for"
EDITOR=false "$D_CTL" -c "$D/smarthost.conf" edit </dev/null >"$D/e6" 2>&1
rc=$?
cat "$D/e6"
t_assert_eq 70 "$rc" "edit exit when the editor fails"
t_assert_grep "the editor \\(false\\) failed \\(exit status 1\\): $D/relay.map is kept as it was" "$D/e6"
cmp -s "$D/map.good" "$D/relay.map" || t_fail "map changed by a failed edit"
no_copies
t_ok "unchanged: no reload, exit 0; failing editor: kept, exit 70"

# --- smarthostctl killed while the editor runs -------------------------------------
cat >"$D/ed-kill.sh" <<EOS
#!/bin/sh
i=0
while [ ! -s "$D/ctl.pid" ] && [ \$i -lt 100 ]; do sleep 0.05; i=\$((i + 1)); done
kill -TERM "\$(cat "$D/ctl.pid")"
sleep 0.2
EOS
chmod 755 "$D/ed-kill.sh"
rm -f "$D/ctl.pid"
EDITOR=$D/ed-kill.sh "$D_CTL" -c "$D/smarthost.conf" edit secrets </dev/null >"$D/e8" 2>&1 &
echo $! >"$D/ctl.pid"
wait $!
t_assert_eq 143 "$?" "exit of smarthostctl killed by SIGTERM"
no_copies
t_ok "SIGTERM while the editor runs: the copy of the secrets is removed"
e2e_assert_no_secrets
