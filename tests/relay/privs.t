#!/usr/bin/env bash
# smarthost-relay's privileges and the files it opens as root:
#  - "user =" naming a user that does not exist: the relay refuses to
#    start (exit 67, EX_NOUSER) and says so; it never goes on as root;
#  - daemon mode (no -f), running as nobody: the process that runs holds
#    the authorization codes locked in memory (VmLck > 0);
#  - state-dir a symbolic link to a root-owned directory: refused (exit
#    78) with the path named; the directory keeps its owner and mode;
#  - control-socket in a directory that is a symbolic link: no socket is
#    made through it (a warning names the path), mail is still served;
#    a directory the relay makes for it stays root's (0755), the socket
#    is the service user's (0600); a control-socket path that is a
#    symbolic link to a file: refused, the file unchanged;
#  - listen = unix:PATH where PATH is a regular file: refused, the file
#    kept (it used to be removed).
. "$SMARTHOST_TOP/tests/lib/common.sh"
t_enter_netns "$@"
t_need /usr/bin/python3 setpriv
t_tmpdir
relay=$B/smarthost-relay
ctl=$B/smarthostctl
chat="/usr/bin/python3 $SMARTHOST_TOP/tests/relay/smtpchat.py"
[ -x "$relay" ] || t_fail "$relay not built"
[ -x "$ctl" ] || t_fail "$ctl not built"
D=$T_TMP
nouser=smarthost-test-no-such-user
getent passwd "$nouser" >/dev/null && t_fail "user $nouser exists"

write_conf() {		# USER STATE-DIR CONTROL-SOCKET [LISTEN]
	cat >"$D/smarthost.conf" <<EOC
[global]
relay-map = $D/relay.map
secrets = $D/secrets
state-dir = $2
user = $1
[relay]
listen = ${4:-127.0.0.1:10025}
control-socket = $3
[account t1]
host = smtp.test
port = 4650
tls = implicit
login = a1@test.example
EOC
}
printf 'a1@test.example t1\n' >"$D/relay.map"
printf 't1 code-that-must-not-leak-1\n' >"$D/secrets"
chmod 600 "$D/secrets"

# A root-owned directory with a marker file: what a planted link points to.
mkdir -m 0755 "$D/victim"
touch "$D/victim/marker"
victim_state() { stat -c '%U:%G %a' "$D/victim"; ls -A "$D/victim" | tr '\n' ' '; }
before=$(victim_state)

# --- a user that does not exist ----------------------------------------------
write_conf "$nouser" "$D/state" "$D/run/control.sock"
timeout 10 "$relay" -f -c "$D/smarthost.conf" >"$D/nouser.log" 2>&1
t_assert_eq 67 "$?" "exit status with a user that does not exist"
t_assert_grep "user $nouser does not exist: refusing to run as root" \
    "$D/nouser.log"
t_port_free 10025 || t_fail "the relay listens although its user does not exist"
t_ok "user = $nouser (no such user): refused with exit 67, not run as root"

# --- daemon mode: the codes are locked in the process that runs ----------------
write_conf nobody "$D/state" "$D/run/control.sock"
"$relay" -c "$D/smarthost.conf" >"$D/daemon.out" 2>&1 ||
    { cat "$D/daemon.out"; t_fail "the relay did not start as a daemon"; }
t_wait_for "'$ctl' -c '$D/smarthost.conf' status >'$D/daemon.st' 2>&1" 5 ||
    { cat "$D/daemon.st"; t_fail "the daemon does not answer status"; }
pid=$(sed -n 's/^smarthost-relay pid \([0-9]*\),.*/\1/p' "$D/daemon.st")
[ -n "$pid" ] || { cat "$D/daemon.st"; t_fail "no pid in the status"; }
t_cleanup_add "kill $pid 2>/dev/null"
t_assert_eq nobody "$(ps -o user= -p "$pid")" "the daemon's user"
lck=$(awk '/^VmLck:/ { print $2 }' "/proc/$pid/status")
if ldd "$relay" | grep -q libasan; then
	# AddressSanitizer turns mlock() into a no-op: nothing to measure
	t_note "ASan build: mlock is a no-op, VmLck (${lck:-missing} kB) not checked"
else
	[ "${lck:-0}" -gt 0 ] ||
	    { grep -E '^(VmLck|Uid)' "/proc/$pid/status"; t_fail "daemon mode: VmLck is ${lck:-missing} kB: the codes are not locked"; }
fi
kill "$pid"
t_wait_for "t_pid_gone $pid" 10 || t_fail "the daemon did not stop on SIGTERM"
t_ok "daemon mode as nobody: ${lck} kB locked in the running process"

# --- state-dir is a symbolic link ---------------------------------------------
ln -s "$D/victim" "$D/state-link"
write_conf nobody "$D/state-link" "$D/run/control.sock"
timeout 10 "$relay" -f -c "$D/smarthost.conf" >"$D/statelink.log" 2>&1
t_assert_eq 78 "$?" "exit status with state-dir a symbolic link"
t_assert_grep "state-dir $D/state-link: is a symbolic link: refused" \
    "$D/statelink.log"
t_assert_eq "$before" "$(victim_state)" "the link's target directory"
t_ok "state-dir a symbolic link: refused, naming it; the target is untouched"

# --- the control socket -------------------------------------------------------
# in a directory that is a symbolic link: no socket made through it
ln -s "$D/victim" "$D/run-link"
write_conf nobody "$D/state" "$D/run-link/control.sock"
t_spawn relay "$D/ctllink.log" "$relay" -f -c "$D/smarthost.conf"
t_wait_port 127.0.0.1 10025 5 || { cat "$D/ctllink.log"; t_fail "relay does not listen"; }
t_assert_grep "control socket: $D/run-link: is a symbolic link: refused" \
    "$D/ctllink.log"
$chat 127.0.0.1:10025 "EHLO x" QUIT >"$D/chat1" 2>&1
t_assert_grep '^250' "$D/chat1" "mail is served without the control socket"
t_assert_eq "$before" "$(victim_state)" "the link's target directory"
t_stop relay
t_ok "control socket in a linked directory: refused, naming it; nothing made in the target"

# a directory the relay makes stays root's; the socket is the user's
write_conf nobody "$D/state" "$D/run/control.sock"
t_spawn relay "$D/ctl.log" "$relay" -f -c "$D/smarthost.conf"
# (the daemon above, as nobody, could not remove its socket: wait for this one)
t_wait_for "grep -q 'control socket $D/run/control.sock' '$D/ctl.log'" 5 ||
    { cat "$D/ctl.log"; t_fail "no control socket"; }
t_assert_eq "root 755" "$(stat -c '%U %a' "$D/run")" "socket directory made by the relay"
t_assert_eq "nobody 600" "$(stat -c '%U %a' "$D/run/control.sock")" "control socket"
setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$ctl" -c "$D/smarthost.conf" status >"$D/own" 2>&1 ||
    { cat "$D/own"; t_fail "the relay's own user was refused"; }
t_stop relay
t_ok "a socket directory the relay makes is root's 0755; the socket nobody's 0600"

# the socket path itself a symbolic link to a file: refused, file unchanged
printf 'keep\n' >"$D/victim/file"
chmod 644 "$D/victim/file"
before=$(victim_state)
rm -f "$D/run/control.sock"	# left by the relay running as nobody
ln -s "$D/victim/file" "$D/run/control.sock"
t_spawn relay "$D/ctlfile.log" "$relay" -f -c "$D/smarthost.conf"
t_wait_port 127.0.0.1 10025 5 || { cat "$D/ctlfile.log"; t_fail "relay does not listen"; }
t_assert_grep "control socket: $D/run/control.sock exists and is not a socket" \
    "$D/ctlfile.log"
t_assert_eq "root 644 keep" "$(stat -c '%U %a' "$D/victim/file") $(cat "$D/victim/file")" \
    "the file the socket path links to"
[ -L "$D/run/control.sock" ] || t_fail "the link at the socket path was removed"
t_stop relay
rm -f "$D/run/control.sock"
t_ok "a control-socket path that links to a file: refused, file unchanged"

# --- listen = unix:PATH where PATH is a regular file -----------------------------
printf 'precious\n' >"$D/not-a-socket"
write_conf nobody "$D/state" "$D/run/control.sock" "unix:$D/not-a-socket"
timeout 10 "$relay" -f -c "$D/smarthost.conf" >"$D/listenfile.log" 2>&1
t_assert_eq 71 "$?" "exit status when the listen path is a file"
t_assert_grep "unix:$D/not-a-socket: exists and is not a socket" "$D/listenfile.log"
t_assert_eq precious "$(cat "$D/not-a-socket" 2>&1)" "the file at the listen path"
t_ok "listen = unix:PATH over a regular file: refused, the file kept"

t_assert_no_grep 'code-that-must-not-leak' "$D/ctl.log" "relay log"
for f in "$D"/*.log; do
	t_assert_no_grep 'AddressSanitizer|LeakSanitizer|runtime error' "$f" "sanitizer reports"
done
t_ok "no log holds the code"
