#!/usr/bin/env bash
# smarthostctl status over the relay's control socket, against a running
# relay and a provider-like smarthost (no Postfix: SMTP to the relay
# directly):
#  - the socket is made in a directory that did not exist, mode 0600;
#  - after three messages (four recipients) through acc1: messages,
#    recipients, daily limit, sessions open/busy/opened, handshakes and
#    reuses per account, the relay's uptime and clients;
#  - after a refused authorization code on acc2: its last error and time,
#    and its cool-off with the reason and until when; its peak stays 0
#    (peak counts sessions logged in, not attempts);
#  - an account without a block shows its preset's host and port;
#  - --json parses and carries the same numbers;
#  - SIGHUP with a new code for acc2: its cool-off ends, the load time moves;
#  - during a transaction: a client, a busy session, a message in flight;
#  - as user nobody: refused with exit 77, both by the socket's mode and
#    (socket opened up) by the relay's SO_PEERCRED check, which logs it;
#  - a request the relay does not know gets an error line;
#  - relay stopped: exit 69 with a clear message, and the socket is gone;
#  - a relay running as nobody answers nobody and root; the socket's
#    directory it made stays root's, so the socket outlives it and the
#    next start takes it over.
. "$SMARTHOST_TOP/tests/relay/e2e-lib.sh"
t_enter_netns "$@"
e2e_init
t_need setpriv
ctl=$B/smarthostctl
chat=$SMARTHOST_TOP/tests/relay/smtpchat.py
[ -x "$ctl" ] || t_fail "$ctl not built"

e2e_users 'a1@test.example right-code-51' 'a2@test.example right-code-52'
e2e_peer p1 4651 implicit --sender-rule 163
sock=$D/run/control.sock
E_CONTROL_SOCKET=$sock
E_RELAY_EXTRA="auth-cooloff = 10m"
e2e_relay_conf "$(e2e_account acc1 4651 implicit a1@test.example \
        'daily-messages = 50' 'max-connections = 3'
    e2e_account acc2 4651 implicit a2@test.example)" "a1@test.example acc1
a2@test.example acc2
pre@163.com pre@163.com" 'acc1 right-code-51' 'acc2 wrong-code-59' \
    'pre@163.com right-code-53'
chmod 644 "$D/smarthost.conf"
e2e_relay_start

t_wait_for "[ -S '$sock' ]" 5 ||
    { cat "$D/relay.log" >&2; t_fail "no control socket at $sock"; }
t_assert_eq 600 "$(stat -c %a "$sock")" "control socket mode"
t_assert_grep "control socket $sock" "$D/relay.log"
t_ok "control socket created (with its directory), mode 0600"

msg() {		# FROM RCPT... — one transaction
	local from=$1 r cmds=()
	shift
	for r in "$@"; do cmds+=("RCPT TO:<$r>"); done
	/usr/bin/python3 "$chat" --timeout 10 127.0.0.1:10025 "EHLO client.test" \
	    "MAIL FROM:<$from>" "${cmds[@]}" "DATA" \
	    "<<Subject: status test\\n\\nbody" "QUIT"
}
msg a1@test.example r1@dest.test >"$D/chat1" &&
    msg a1@test.example r2@dest.test r3@dest.test >"$D/chat2" &&
    msg a1@test.example r4@dest.test >"$D/chat3" ||
    { cat "$D"/chat*; t_fail "SMTP to the relay failed"; }
for i in 1 2 3; do
	t_assert_grep '^250 .*(queued|OK|Ok|ok)|^250 2\.0\.0' "$D/chat$i" "message $i accepted"
done
/usr/bin/python3 "$chat" --timeout 10 127.0.0.1:10025 "EHLO client.test" \
    "MAIL FROM:<a2@test.example>" "QUIT" >"$D/chat4"
t_assert_grep '^454 4\.7\.0 .*acc2' "$D/chat4" "wrong code answered 454"

# status, text
"$ctl" -c "$D/smarthost.conf" status >"$D/st.out" 2>"$D/st.err"
rc=$?
cat "$D/st.out"
t_assert_eq 0 "$rc" "smarthostctl status exit (stderr: $(cat "$D/st.err"))"
t_assert_grep "^smarthost-relay pid $T_PID_relay, up [0-9]+s .*, 0 clients connected, 3 accounts$" "$D/st.out" "relay line"
block() {	# the lines of account $1's block
	awk -v a="account $1 " 'index($0, a) == 1 { p = 1; print; next }
	    /^account / { p = 0 } p' "$D/st.out"
}
block acc1 >"$D/acc1"
block acc2 >"$D/acc2"
t_assert_grep '^account acc1  \(a1@test\.example via smtp\.test:4651, TLS implicit\)$' "$D/acc1"
t_assert_grep '^  today       3 messages \(daily limit 50\), 4 recipients \(no daily limit\), 0 in flight$' "$D/acc1" "acc1 counts"
t_assert_grep '^  sessions    1 open, 0 busy \(at most 3; peak 1; 1 opened\)$' "$D/acc1" "acc1 sessions"
t_assert_grep '^  handshakes  1 full, 0 resumed; 2 transactions on reused sessions$' "$D/acc1" "acc1 handshakes"
t_assert_grep '^  cool-off    no$' "$D/acc1"
t_assert_grep '^  last error  none since the relay started$' "$D/acc1"
t_ok "acc1: 3 messages of 50, 4 recipients, 1 session open and idle, 1 full handshake, 2 reuses"

# an account with no block: host and port come from its preset
t_assert_grep '^account pre@163\.com  \(pre@163\.com via smtp\.163\.com:465, TLS implicit\)$' "$D/st.out" "preset account's host"
t_ok "preset account: status shows the preset's host"

t_assert_grep '^  today       0 messages .*, 0 recipients' "$D/acc2" "acc2 counts"
t_assert_grep '^  sessions    0 open, 0 busy \(at most [0-9]+; peak 0; 0 opened\)$' "$D/acc2" "acc2 sessions: a refused login is no peak"
t_assert_grep '^  cool-off    until [0-9-]+ [0-9:]+ \((9m[0-9]{2}s|10m00s) left\): .*acc2' "$D/acc2" "acc2 cool-off"
t_assert_grep '^  last error  [0-9-]+ [0-9:]+ \([0-9]s ago\): 454 4\.7\.0 .*acc2' "$D/acc2" "acc2 last error"
t_ok "acc2: last error 454 4.7.0 seconds ago, cooling off for 10 minutes"

# status, JSON
"$ctl" -c "$D/smarthost.conf" status --json >"$D/st.json" ||
    t_fail "status --json exit $?"
/usr/bin/python3 - "$D/st.json" "$T_PID_relay" <<'EOF' || t_fail "JSON content"
import json, sys, time
s = json.load(open(sys.argv[1]))
r = s["relay"]
assert r["pid"] == int(sys.argv[2]), r
assert r["clients"] == 0 and r["accounts"] == 3, r
assert 0 <= r["uptime"] < 60 and abs(r["now"] - time.time()) < 30, r
a = {x["name"]: x for x in s["accounts"]}
assert set(a) == {"acc1", "acc2", "pre@163.com"}, a
assert a["pre@163.com"]["host"] == "smtp.163.com", a["pre@163.com"]
one, two = a["acc1"], a["acc2"]
for k, v in dict(messages=3, recipients=4, daily_messages=50, open=1,
                 busy=0, opened=1, full_handshakes=1, reuses=2,
                 cooloff_until=0, last_error_at=0, port=4651).items():
    assert one[k] == v, (k, one[k], v)
assert one["cooling_off"] is False and one["last_error"] == ""
assert one["login"] == "a1@test.example" and one["tls"] == "implicit"
assert two["cooling_off"] is True, two
assert 500 <= two["cooloff_until"] - r["now"] <= 600, two
assert two["last_error"].startswith("454 4.7.0 "), two
assert "acc2" in two["cooloff_reason"], two
print("json ok")
EOF
t_ok "--json parses: the same counts, cool-off and last error"

# a new code for acc2 and SIGHUP: the cool-off ends, the load time moves
sleep 1		# config_loaded counts seconds
printf 'acc1 right-code-51\nacc2 right-code-52\npre@163.com right-code-53\n' >"$D/secrets"
E_SECRETS+=(right-code-52)
kill -HUP "$T_PID_relay"
t_wait_for "grep -q 'configuration reloaded' '$D/relay.log'" 5 || t_fail "no reload"
"$ctl" -c "$D/smarthost.conf" status --json >"$D/st2.json" ||
    t_fail "status --json after SIGHUP: exit $?"
/usr/bin/python3 - "$D/st.json" "$D/st2.json" <<'EOF' || t_fail "JSON after SIGHUP"
import json, sys
before, after = (json.load(open(f)) for f in sys.argv[1:3])
r = after["relay"]
assert r["started"] == before["relay"]["started"], r
assert r["config_loaded"] > before["relay"]["config_loaded"], r
two = {x["name"]: x for x in after["accounts"]}["acc2"]
assert two["cooling_off"] is False and two["cooloff_until"] == 0, two
assert two["last_error"].startswith("454 4.7.0 "), two
EOF
t_ok "after a new code and SIGHUP: acc2 no longer cools off, its last error stays, config_loaded moved"

# during a transaction: a client connected, a session busy, a message in flight
/usr/bin/python3 "$chat" --timeout 10 127.0.0.1:10025 "EHLO client.test" \
    "MAIL FROM:<a1@test.example>" "!sleep 3" "QUIT" >"$D/chat5" 2>&1 &
chat_pid=$!
t_cleanup_add "kill $chat_pid 2>/dev/null"
t_wait_for "'$ctl' -c '$D/smarthost.conf' status >'$D/busy' 2>&1 &&
    grep -q ', 1 client connected, ' '$D/busy' &&
    grep -q '^  sessions    1 open, 1 busy ' '$D/busy'" 5 ||
    { cat "$D/busy" "$D/chat5"; t_fail "no busy session seen within 5 s"; }
t_assert_grep '^  today       3 messages .*, 1 in flight$' "$D/busy" "message in flight"
wait "$chat_pid" || { cat "$D/chat5"; t_fail "the slow client failed"; }
t_ok "during a transaction: 1 client connected, 1 session busy, 1 message in flight"

# somebody else
setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$ctl" -c "$D/smarthost.conf" status >"$D/nobody1" 2>&1
t_assert_eq 77 "$?" "exit as nobody (socket mode 0600)"
t_assert_grep 'Permission denied: only root and the relay.s user may ask' "$D/nobody1"
chmod 666 "$sock"
setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$ctl" -c "$D/smarthost.conf" status >"$D/nobody2" 2>&1
t_assert_eq 77 "$?" "exit as nobody (socket open, SO_PEERCRED)"
t_assert_grep 'smarthost-relay: permission denied: uid 65534 is neither root nor the relay.s user \(uid 0\)' "$D/nobody2"
t_assert_grep 'control: refused uid=65534 pid=[0-9]+' "$D/relay.log" "refusal logged"
chmod 600 "$sock"
t_ok "user nobody: refused (exit 77) by the socket's mode and by the relay's uid check, logged"

/usr/bin/python3 - "$sock" >"$D/bad" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(b"shutdown now\n")
print(s.makefile().read(), end="")
EOF
t_assert_eq 'error unknown request "shutdown now": expected "status" or "reload"' "$(cat "$D/bad")" "unknown request"
t_ok "an unknown request gets one error line"

# relay stopped
t_stop relay
t_assert_eq 0 "$?" "relay exit status after SIGTERM"
t_assert_grep 'stopped' "$D/relay.log"
t_assert_no_grep 'AddressSanitizer|LeakSanitizer|runtime error' "$D/relay.log" "sanitizer reports"
[ -e "$sock" ] && t_fail "control socket left behind after exit"
"$ctl" -c "$D/smarthost.conf" status >"$D/down" 2>&1
t_assert_eq 69 "$?" "exit with the relay stopped"
t_assert_grep "smarthost-relay is not running \(nothing answers on $sock: No such file or directory\)" "$D/down"
t_ok "relay stopped: socket removed, status exits 69 saying the relay is not running"
"$ctl" -c "$D/missing.conf" status >"$D/noconf" 2>&1
t_assert_eq 66 "$?" "exit without smarthost.conf"

# a relay running as user nobody answers nobody (its own user) and root
sock2=$D/run2/control.sock
sed -i "s|^user = root|user = nobody|; s|^control-socket = .*|control-socket = $sock2|" \
    "$D/smarthost.conf"
e2e_relay_start
t_wait_for "[ -S '$sock2' ]" 5 || { cat "$D/relay.log" >&2; t_fail "no $sock2"; }
t_assert_eq "nobody 600" "$(stat -c '%U %a' "$sock2")" "socket owner and mode"
t_assert_eq "root 755" "$(stat -c '%U %a' "$D/run2")" "directory owner and mode"
setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$ctl" -c "$D/smarthost.conf" status >"$D/own" 2>&1 ||
    { cat "$D/own"; t_fail "the relay's own user was refused"; }
t_assert_grep "^smarthost-relay pid $T_PID_relay, " "$D/own"
t_assert_grep '^account acc1  \(a1@test\.example via smtp\.test:4651, TLS implicit\)$' "$D/own"
"$ctl" -c "$D/smarthost.conf" status >"$D/root2" 2>&1 ||
    { cat "$D/root2"; t_fail "root was refused"; }
t_stop relay
t_assert_eq 0 "$?" "relay (as nobody) exit status after SIGTERM"
# The directory stays root's, so nobody cannot remove the socket at exit:
# status says nothing answers, and the next start takes the socket over.
"$ctl" -c "$D/smarthost.conf" status >"$D/down2" 2>&1
t_assert_eq 69 "$?" "status exit with the relay (as nobody) stopped"
t_assert_grep "smarthost-relay is not running \(nothing answers on $sock2: " "$D/down2"
mv "$D/relay.log" "$D/relay-nobody.log"
e2e_relay_start
t_wait_for "'$ctl' -c '$D/smarthost.conf' status >'$D/again' 2>&1" 5 ||
    { cat "$D/again" "$D/relay.log"; t_fail "a restarted relay does not take its old socket over"; }
t_stop relay
cat "$D/relay-nobody.log" >>"$D/relay.log"
t_ok "relay running as nobody: its own user and root are answered; a restart takes the socket over"

t_assert_no_grep 'AddressSanitizer|LeakSanitizer|runtime error' "$D/relay.log" "sanitizer reports"
e2e_assert_no_secrets
for f in "$D"/st.out "$D"/st.json; do
	grep -qE 'right-code|wrong-code' "$f" && t_fail "$f holds a code"
done
t_ok "no log and no status output holds an authorization code"
