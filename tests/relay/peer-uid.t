#!/usr/bin/env bash
# smarthost-relay serves only the MTA's users (allow-users, default
# "postfix root"), whoever owns the client's socket on this host:
#  - uid 65534 (nobody) on 127.0.0.1 is refused with a 554 5.7.1 greeting
#    that names the uid and the user, logged with uid= and user=, and
#    nothing reaches the provider; root is served and delivered;
#  - a uid without a user name is refused naming the uid alone;
#  - allow-users naming nobody (SIGHUP): nobody is then served;
#  - the same on [::1] (inet_diag for IPv6), for IPv4 clients of a [::]
#    listener, and on a unix socket (SO_PEERCRED), numeric uids included;
#  - a local process on a non-loopback local address is checked too,
#    while a client on another host (another network namespace behind a
#    veth pair) is governed by allow-clients alone;
#  - a failed lookup (the relay out of file descriptors) fails closed with
#    421 4.3.0 and is logged.
. "$SMARTHOST_TOP/tests/relay/e2e-lib.sh"
t_enter_netns "$@"
e2e_init
t_need setpriv prlimit nsenter ip
nobody=$(id -u nobody) || t_fail "no user nobody"
nogroup=$(id -g nobody)
# The clients run as other users, who may not be able to read the source
# tree (under /root, mode 0700, on a fresh system): they run a copy in $D.
cp "$SMARTHOST_TOP/tests/relay/smtpchat.py" "$D/smtpchat.py" &&
    chmod 0644 "$D/smtpchat.py" || t_fail "cannot copy smtpchat.py"
chat="/usr/bin/python3 $D/smtpchat.py"
as_nobody=(setpriv --reuid="$nobody" --regid="$nogroup" --clear-groups)
# a uid no user has
noname=54321
while getent passwd "$noname" >/dev/null; do noname=$((noname + 1)); done
as_noname=(setpriv --reuid="$noname" --regid="$nogroup" --clear-groups)

e2e_users 'a1@test.example code-peer-uid-1'
e2e_peer p1 4651 implicit --sender-rule 163
blocks="
[account acc1]
host = smtp.test
port = 4651
tls = implicit
login = a1@test.example"
E_RELAY_EXTRA="max-clients = 10" e2e_relay_conf "$blocks" \
    "a1@test.example acc1" 'acc1 code-peer-uid-1'
e2e_relay_start

# send TARGET ID [COMMAND PREFIX...]: one message, as the prefix's user
send() {
	local target=$1 id=$2
	shift 2
	"$@" $chat "$target" "EHLO client.test" "MAIL FROM:<a1@test.example>" \
	    "RCPT TO:<r-$id@dest.test>" DATA \
	    "<<From: <a1@test.example>\nSubject: $id\nX-Test-Id: $id\n\nbody $id" \
	    QUIT >"$D/chat-$id" 2>&1
}

# not_at_provider ID: neither the message nor its recipient (RCPT) reached
# the provider
not_at_provider() {
	t_assert_eq 0 "$(e2e_count p1 "$1")" "messages $1 at the provider"
	t_assert_no_grep "r-$1@dest\.test" "$D/events-p1" "provider events"
}

# relay_conf NAME EXTRA-RELAY-LINES: $D/NAME.conf, the relay's with more
# [relay] lines
relay_conf() {
	E_RELAY_EXTRA="$2" e2e_relay_conf "$blocks" "a1@test.example acc1" \
	    'acc1 code-peer-uid-1'
	mv "$D/smarthost.conf" "$D/$1.conf"
}

# --- loopback, default allow-users -----------------------------------------
send 127.0.0.1:10025 n1 "${as_nobody[@]}"
t_assert_grep "^554 5\.7\.1 .*uid $nobody \(nobody\) .*allow-users" "$D/chat-n1" \
    "nobody's greeting"
t_assert_no_grep '^220' "$D/chat-n1" "nobody's greeting"
t_assert_grep "client=127\.0\.0\.1:[0-9]+ uid=$nobody user=nobody refused: not in allow-users" \
    "$D/relay.log" "relay log"
t_ok "uid $nobody (nobody) on 127.0.0.1 is refused with 554 5.7.1 naming uid and user, logged"

send 127.0.0.1:10025 x1 "${as_noname[@]}"
t_assert_grep "^554 5\.7\.1 .*uid $noname may not send" "$D/chat-x1" \
    "nameless uid's greeting"
t_assert_grep "client=127\.0\.0\.1:[0-9]+ uid=$noname refused: not in allow-users" \
    "$D/relay.log" "relay log"
t_ok "uid $noname (no user name) is refused naming the uid"

send 127.0.0.1:10025 r1 ||
    { cat "$D/chat-r1"; t_fail "root's dialogue"; }
t_assert_grep '^220 ' "$D/chat-r1" "root's greeting"
e2e_wait_delivered p1 r1 1 20
not_at_provider n1
not_at_provider x1
t_ok "root is served and delivered; nothing of the refused clients reached the provider"

# --- allow-users naming nobody ----------------------------------------------
cp "$D/smarthost.conf" "$D/default.conf"
sed -i 's/^max-clients = 10$/&\nallow-users = root nobody/' "$D/smarthost.conf"
grep -q '^allow-users = root nobody$' "$D/smarthost.conf" || t_fail "conf not edited"
kill -HUP "$T_PID_relay"
t_wait_for "grep -q 'configuration reloaded' '$D/relay.log'" 5 ||
    { cat "$D/relay.log"; t_fail "no reload"; }
send 127.0.0.1:10025 n2 "${as_nobody[@]}" ||
    { cat "$D/chat-n2"; t_fail "nobody's dialogue after allow-users = root nobody"; }
t_assert_grep '^220 ' "$D/chat-n2" "nobody's greeting"
e2e_wait_delivered p1 n2 1 20
send 127.0.0.1:10025 x2 "${as_noname[@]}"
t_assert_grep "^554 5\.7\.1 .*uid $noname " "$D/chat-x2" "uid $noname still refused"
t_ok "allow-users = root nobody: nobody is served and delivered, uid $noname still refused"
t_stop relay

# --- IPv6 ::1 -----------------------------------------------------------------
relay_conf v6 "listen = [::1]:10026"
t_spawn relay6 "$D/relay6.log" "$B/smarthost-relay" -f -c "$D/v6.conf"
t_wait_for "grep -q 'listening on' '$D/relay6.log'" 5 ||
    { cat "$D/relay6.log"; t_fail "relay on [::1] did not start"; }
send '[::1]:10026' n3 "${as_nobody[@]}"
t_assert_grep "^554 5\.7\.1 .*uid $nobody \(nobody\)" "$D/chat-n3" "nobody on ::1"
t_assert_grep "client=\[::1\]:[0-9]+ uid=$nobody user=nobody refused" "$D/relay6.log"
send '[::1]:10026' r3 || { cat "$D/chat-r3"; t_fail "root's dialogue on ::1"; }
e2e_wait_delivered p1 r3 1 20
not_at_provider n3
t_ok "on [::1]: nobody refused with 554 5.7.1, root delivered"

# --- IPv4 clients of a dual-stack [::] listener (::ffff:127.0.0.1) -----------
t_stop relay6
relay_conf dual "listen = [::]:10028"
t_spawn relayd "$D/relayd.log" "$B/smarthost-relay" -f -c "$D/dual.conf"
t_wait_port 127.0.0.1 10028 5 || { cat "$D/relayd.log"; t_fail "relay on [::] does not listen"; }
"${as_nobody[@]}" $chat 127.0.0.1:10028 QUIT >"$D/chat-d1" 2>&1
t_assert_grep "^554 5\.7\.1 .*uid $nobody \(nobody\)" "$D/chat-d1" "nobody via ::ffff:127.0.0.1"
t_assert_grep "client=\[::ffff:127\.0\.0\.1\]:[0-9]+ uid=$nobody user=nobody refused" "$D/relayd.log"
$chat 127.0.0.1:10028 "EHLO x" QUIT >"$D/chat-d2" 2>&1 ||
    { cat "$D/chat-d2"; t_fail "root via ::ffff:127.0.0.1"; }
t_assert_grep '^250 XFORWARD' "$D/chat-d2" "root via ::ffff:127.0.0.1"
t_stop relayd
t_ok "a [::] listener: IPv4 clients (::ffff:127.0.0.1) are looked up as IPv4"

# --- a failed lookup fails closed ------------------------------------------
# Leave the idle relay exactly one free descriptor: accept() takes it, the
# netlink socket of the lookup cannot be had.
t_spawn relay6 "$D/relay6b.log" "$B/smarthost-relay" -f -c "$D/v6.conf"
t_wait_for "grep -q 'listening on' '$D/relay6b.log'" 5 ||
    { cat "$D/relay6b.log"; t_fail "relay on [::1] did not restart"; }
# the limit: the second lowest free descriptor number
free=$(ls "/proc/$T_PID_relay6/fd" | sort -n |
    awk '{ while (n < $1) { print n++ } n = $1 + 1 } END { print n; print n + 1 }' |
    sed -n 2p)
soft=$(prlimit --pid "$T_PID_relay6" --nofile --noheadings --output SOFT) ||
    t_fail "prlimit"
prlimit --pid "$T_PID_relay6" --nofile="$free:" || t_fail "prlimit"
send '[::1]:10026' t4
prlimit --pid "$T_PID_relay6" --nofile="$soft:" || t_fail "prlimit"
t_assert_grep '^421 4\.3\.0 ' "$D/chat-t4" "greeting when the lookup fails"
t_assert_no_grep '^220' "$D/chat-t4" "greeting when the lookup fails"
t_assert_grep "client=\[::1\]:[0-9]+ refused: cannot tell which user connects: netlink socket: Too many open files" \
    "$D/relay6b.log" "relay log"
send '[::1]:10026' r4 || { cat "$D/chat-r4"; t_fail "root after the limit was lifted"; }
e2e_wait_delivered p1 r4 1 20
not_at_provider t4
t_ok "a failed lookup: 421 4.3.0, logged, nothing relayed (served again once it works)"
t_stop relay6

# --- unix socket: SO_PEERCRED, numeric uids --------------------------------
relay_conf unix "listen = unix:$D/relay.sock"
t_spawn relayu "$D/relayu.log" "$B/smarthost-relay" -f -c "$D/unix.conf"
t_wait_for "[ -S '$D/relay.sock' ]" 5 || { cat "$D/relayu.log"; t_fail "no unix socket"; }
send "unix:$D/relay.sock" n5 "${as_nobody[@]}"
t_assert_grep "^554 5\.7\.1 .*uid $nobody \(nobody\)" "$D/chat-n5" "nobody on the unix socket"
t_assert_grep "client=unix uid=$nobody user=nobody refused" "$D/relayu.log"
send "unix:$D/relay.sock" r5 || { cat "$D/chat-r5"; t_fail "root on the unix socket"; }
e2e_wait_delivered p1 r5 1 20
sed -i "s/^\[relay\]\$/&\nallow-users = 0 $nobody/" "$D/unix.conf"
kill -HUP "$T_PID_relayu"
t_wait_for "grep -q 'configuration reloaded' '$D/relayu.log'" 5 ||
    { cat "$D/relayu.log"; t_fail "no reload"; }
send "unix:$D/relay.sock" n6 "${as_nobody[@]}" ||
    { cat "$D/chat-n6"; t_fail "nobody on the unix socket with allow-users = 0 $nobody"; }
e2e_wait_delivered p1 n6 1 20
not_at_provider n5
t_ok "unix socket (SO_PEERCRED): nobody refused, root delivered; allow-users = 0 $nobody serves nobody"
t_stop relayu

# --- another local address, and a client on another host -------------------
# A second namespace behind a veth pair is the other host.
unshare -n sleep 120 &
other=$!
t_cleanup_add "kill $other 2>/dev/null"
t_wait_for "[ \"\$(readlink /proc/$other/ns/net)\" != \"\$(readlink /proc/self/ns/net)\" ]" 5 ||
    t_fail "no second namespace"
ip link add sh-veth0 type veth peer name sh-veth1 || t_fail "veth"
ip link set sh-veth1 netns "$other" || t_fail "veth into the namespace"
ip addr add 198.51.100.1/24 dev sh-veth0 && ip link set sh-veth0 up ||
    t_fail "veth address"
nsenter -t "$other" -n sh -c 'ip link set lo up &&
    ip addr add 198.51.100.2/24 dev sh-veth1 && ip link set sh-veth1 up' ||
    t_fail "veth address in the other namespace"
relay_conf wide "listen = 0.0.0.0:10027
allow-clients = 127.0.0.0/8 ::1 198.51.100.0/24"
t_spawn relayw "$D/relayw.log" "$B/smarthost-relay" -f -c "$D/wide.conf"
t_wait_port 127.0.0.1 10027 5 || { cat "$D/relayw.log"; t_fail "relay on 0.0.0.0 does not listen"; }
send 198.51.100.1:10027 n7 "${as_nobody[@]}"
t_assert_grep "^554 5\.7\.1 .*uid $nobody \(nobody\)" "$D/chat-n7" \
    "nobody on this host's 198.51.100.1"
t_assert_grep "client=198\.51\.100\.1:[0-9]+ uid=$nobody user=nobody refused" "$D/relayw.log"
t_ok "a local process on a non-loopback local address is checked: nobody refused"
t_wait_for "nsenter -t $other -n $chat 198.51.100.1:10027 QUIT >'$D/chat-ping' 2>&1" 10 ||
    { cat "$D/chat-ping"; t_fail "the other host cannot reach the relay"; }
send 198.51.100.1:10027 o7 nsenter -t "$other" -n "${as_nobody[@]}" ||
    { cat "$D/chat-o7"; t_fail "the other host's dialogue"; }
t_assert_grep '^220 ' "$D/chat-o7" "the other host's greeting"
e2e_wait_delivered p1 o7 1 20
t_assert_no_grep "client=198\.51\.100\.2:[0-9]+ .*refused" "$D/relayw.log"
not_at_provider n7
t_ok "a client on another host is governed by allow-clients alone (served)"
t_stop relayw

e2e_assert_no_secrets
t_ok "no log holds the code"
