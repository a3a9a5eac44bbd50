# Sourced by tests/ctl/edit.t and reload.t after tests/relay/e2e-lib.sh,
# inside their network namespace; not a test itself (no .t suffix).
#
# d_setup: in $D a smarthost.conf for both daemons (control sockets in
# $D/run, the milter on unix:$D/milter.sock, internal-networks 10/8),
# relay.map routing a1@test.example through account acc1 on the provider
# stand-in p1 (127.0.0.1:4651, implicit TLS, any sender), secrets with
# acc1's code.  d_start_relay, d_start_milter: start one daemon and wait
# for its control socket.  d_mt SENDER: "routed" or "no-route", what the
# running milter says at RCPT for SENDER from an internal client.
# d_send ID FROM: one message through the relay; d_delivered ID: whether
# p1 stored it.

D_CTL=$B/smarthostctl
D_MT_LUA=$SMARTHOST_TOP/tests/ctl/route.lua
D_CHAT=$SMARTHOST_TOP/tests/relay/smtpchat.py

d_setup() {
	t_need miltertest setpriv setsid
	[ -x "$D_CTL" ] || t_fail "$D_CTL not built"
	[ -x "$B/smarthost-milter" ] || t_fail "$B/smarthost-milter not built"
	e2e_init
	e2e_users 'a1@test.example right-code-61'
	e2e_peer p1 4651 implicit
	E_CONTROL_SOCKET=$D/run/control.sock
	e2e_relay_conf "
[milter]
socket = unix:$D/milter.sock
socket-group = root
control-socket = $D/run/milter-control.sock
[account acc1]
host = smtp.test
port = 4651
tls = implicit
login = a1@test.example" "a1@test.example acc1" 'acc1 right-code-61'
	sed -i "s|^\\[global\\]|&\\ninternal-networks = 10.0.0.0/8|" \
	    "$D/smarthost.conf"
	"$D_CTL" -c "$D/smarthost.conf" check >"$D/check.out" 2>&1 ||
	    { cat "$D/check.out" >&2; t_fail "the test configuration has errors"; }
}

d_start_relay() {
	e2e_relay_start
	t_wait_for "[ -S '$D/run/control.sock' ]" 5 ||
	    { cat "$D/relay.log" >&2; t_fail "no relay control socket"; }
}

d_start_milter() {
	t_spawn milter "$D/milter.log" "$B/smarthost-milter" -f -c \
	    "$D/smarthost.conf"
	t_wait_for "[ -S '$D/run/milter-control.sock' ] && [ -S '$D/milter.sock' ]" 5 ||
	    { cat "$D/milter.log" >&2; t_fail "no milter control socket"; }
}

d_mt() {
	timeout 30 miltertest -D "sock=unix:$D/milter.sock" -D "from=$1" \
	    -s "$D_MT_LUA" 2>&1 | tail -n 1
}

d_send() {
	/usr/bin/python3 "$D_CHAT" --timeout 10 127.0.0.1:10025 \
	    "EHLO client.test" "MAIL FROM:<$2>" "RCPT TO:<r@dest.test>" \
	    "DATA" "<<Subject: $1\\nX-Test-Id: $1\\n\\nbody" "QUIT" \
	    >"$D/chat-$1" 2>&1
}

d_delivered() {
	[ "$(e2e_count p1 "$1")" -ge 1 ]
}
