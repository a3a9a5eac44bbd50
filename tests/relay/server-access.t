#!/usr/bin/env bash
# smarthost-relay, server side, without a provider: who may connect (a
# non-loopback client is refused with 554 5.7.1, loopback and unix-socket
# clients are served), max-clients (421 4.3.2), IPv6 and unix listeners,
# -n on good and bad files, SIGHUP with a broken map keeps the old
# configuration, SIGTERM exits 0, no log holds the secret.
. "$SMARTHOST_TOP/tests/lib/common.sh"
t_enter_netns "$@"
t_need ip /usr/bin/python3
t_tmpdir
relay=$B/smarthost-relay
chat="/usr/bin/python3 $SMARTHOST_TOP/tests/relay/smtpchat.py"
[ -x "$relay" ] || t_fail "$relay not built"
D=$T_TMP

# a second address on lo, inside this namespace only
ip addr add 192.0.2.10/32 dev lo || t_fail "cannot add 192.0.2.10 to lo"

write_conf() {		# listen [extra [relay] lines]
	cat >"$D/smarthost.conf" <<EOC
[global]
relay-map = $D/relay.map
secrets = $D/secrets
state-dir = $D/state
user = ${RELAY_USER:-root}
[relay]
listen = $1
max-clients = 2
control-socket = $D/control.sock
${2:-}
[account t1]
host = smtp.test
port = 4650
tls = implicit
login = a1@test.example
EOC
}
printf 'a1@test.example t1\n@office.test t1 rewrite\n' >"$D/relay.map"
printf 't1 code-that-must-not-leak-1\n' >"$D/secrets"
chmod 600 "$D/secrets"

# -n: good files pass, a broken map fails with file:line
write_conf 0.0.0.0:10025
"$relay" -n -c "$D/smarthost.conf" >"$D/n.out" 2>&1 ||
    { cat "$D/n.out"; t_fail "-n refused a good configuration"; }
t_ok "-n accepts a good configuration"
cp "$D/relay.map" "$D/relay.map.good"
printf 'bad line with too many words here\n' >>"$D/relay.map"
"$relay" -n -c "$D/smarthost.conf" >"$D/n2.out" 2>&1 && t_fail "-n accepted a broken map"
t_assert_grep "relay.map:3: " "$D/n2.out" "-n names file:line"
cp "$D/relay.map.good" "$D/relay.map"
t_ok "-n refuses a broken map with file:line"

# listening on every address, loopback-only clients by default
t_spawn relay "$D/relay.log" "$relay" -f -c "$D/smarthost.conf"
t_wait_port 127.0.0.1 10025 5 || { cat "$D/relay.log"; t_fail "relay does not listen"; }
$chat --source 192.0.2.10 192.0.2.10:10025 "EHLO outside" >"$D/out1" 2>&1
t_assert_grep '^554 5\.7\.1 .*not allowed' "$D/out1" "non-loopback client"
t_assert_no_grep '^220' "$D/out1" "non-loopback client"
t_assert_grep 'client=192\.0\.2\.10:[0-9]+ refused' "$D/relay.log"
t_ok "a non-loopback client is refused with 554 5.7.1"

$chat 127.0.0.1:10025 "EHLO inside" "MAIL FROM:<nobody@nowhere.test>" QUIT >"$D/out2" 2>&1 ||
    { cat "$D/out2"; t_fail "loopback dialogue"; }
t_assert_grep '^250-PIPELINING' "$D/out2"
t_assert_grep '^250 XFORWARD NAME ADDR PROTO HELO IDENT SOURCE' "$D/out2"
t_assert_grep '^550 5\.7\.1 no route for sender <nobody@nowhere\.test> in '"$D"'/relay\.map' "$D/out2"
t_ok "a loopback client is served; no route is 550 5.7.1 naming relay.map"

# max-clients = 2: the third concurrent client gets 421 4.3.2
exec 5<>/dev/tcp/127.0.0.1/10025 6<>/dev/tcp/127.0.0.1/10025
read -t 5 -r l5 <&5; read -t 5 -r l6 <&6
$chat 127.0.0.1:10025 >"$D/out3" 2>&1
t_assert_grep '^421 4\.3\.2 ' "$D/out3" "third client"
exec 5>&- 6>&-
t_wait_for "$chat 127.0.0.1:10025 QUIT >'$D/out4' 2>&1" 5 ||
    t_fail "clients not released after they closed"
t_ok "max-clients: the client over the bound gets 421 4.3.2"

# SIGHUP with a broken map: logged with file:line, old map stays
printf 'bad line with too many words here\n' >>"$D/relay.map"
kill -HUP "$T_PID_relay"
t_wait_for "grep -q 'reload failed' '$D/relay.log'" 5 || { cat "$D/relay.log"; t_fail "no reload failure logged"; }
t_assert_grep 'relay\.map:3: ' "$D/relay.log" "reload error"
$chat 127.0.0.1:10025 "EHLO x" "MAIL FROM:<nobody@nowhere.test>" QUIT >"$D/out5" 2>&1
t_assert_grep '^550 5\.7\.1 no route' "$D/out5" "old configuration still served"
t_ok "SIGHUP with a broken map keeps the old configuration"

# a good reload
cp "$D/relay.map.good" "$D/relay.map"
printf '* t1\n' >>"$D/relay.map"
kill -HUP "$T_PID_relay"
t_wait_for "grep -q 'configuration reloaded' '$D/relay.log'" 5 || t_fail "no reload logged"
$chat 127.0.0.1:10025 "EHLO x" "MAIL FROM:<nobody@nowhere.test>" QUIT >"$D/out6" 2>&1
t_assert_no_grep 'no route' "$D/out6" "after reload"
t_assert_grep '^4[0-9][0-9] 4\.' "$D/out6" "MAIL after reload (no provider: 4xx)"
t_ok "SIGHUP loads the new map (the sender now routes; provider down: 4xx)"

# SIGTERM: an idle client gets 421 4.3.2 at once, the relay exits 0
$chat 127.0.0.1:10025 "EHLO x" "!sleep 1.5" NOOP >"$D/out-idle" 2>&1 &
chatpid=$!
t_cleanup_add "kill $chatpid 2>/dev/null"
t_wait_for "grep -q '^250 XFORWARD' '$D/out-idle'" 5 || t_fail "idle client not served"
t0=$(t__now_ms)
kill -TERM "$T_PID_relay"
t_wait_for "! kill -0 $T_PID_relay 2>/dev/null" 10 || t_fail "relay did not stop"
wait "$T_PID_relay"; rc=$?
ms=$(($(t__now_ms) - t0))
t_assert_eq 0 "$rc" "exit status after SIGTERM"
t_assert_grep 'stopped' "$D/relay.log"
[ $ms -lt 3000 ] || t_fail "SIGTERM took $ms ms with an idle client"
wait $chatpid
t_assert_grep '^421 4\.3\.2 .*shutting down' "$D/out-idle" "idle client at SIGTERM"
t_ok "SIGTERM: the idle client gets 421 4.3.2, the relay exits 0 in $ms ms"

# IPv6 and unix listeners
write_conf '[::1]:10026'
t_spawn relay6 "$D/relay6.log" "$relay" -f -c "$D/smarthost.conf"
t_wait_for "$chat '[::1]:10026' QUIT >'$D/out7' 2>&1" 5 || { cat "$D/relay6.log"; t_fail "no IPv6 listener"; }
t_assert_grep '^220 ' "$D/out7"
t_stop relay6
write_conf "unix:$D/relay.sock"
t_spawn relayu "$D/relayu.log" "$relay" -f -c "$D/smarthost.conf"
t_wait_for "[ -S '$D/relay.sock' ]" 5 || { cat "$D/relayu.log"; t_fail "no unix socket"; }
$chat "unix:$D/relay.sock" "EHLO x" QUIT >"$D/out8" 2>&1 || t_fail "unix socket dialogue"
t_assert_grep '^250-8BITMIME' "$D/out8"
t_stop relayu
t_assert_eq "" "$( [ -e "$D/relay.sock" ] && echo left)" "unix socket removed at exit"
t_ok "listens on [::1]:port and on unix:PATH"

# privileges: as user nobody, non-dumpable, state-dir given to nobody
RELAY_USER=nobody write_conf 127.0.0.1:10027
t_spawn relayn "$D/relayn.log" "$relay" -f -c "$D/smarthost.conf"
t_wait_port 127.0.0.1 10027 5 || { cat "$D/relayn.log"; t_fail "relay as nobody does not listen"; }
t_assert_eq "$(id -u nobody)" "$(awk '/^Uid:/ { print $2 $3 $4 $5 == $2 $2 $2 $2 ? $2 : "mixed" }' /proc/$T_PID_relayn/status)" "real, effective, saved and fs uid"
t_assert_eq "$(id -g nobody)" "$(awk '/^Gid:/ { print $2 }' /proc/$T_PID_relayn/status)" "gid"
t_assert_eq "$(id -g nobody)" "$(awk '/^Groups:/ { print $2 }' /proc/$T_PID_relayn/status)" "supplementary groups"
# a non-dumpable process's /proc files belong to root
t_assert_eq root "$(stat -c %U /proc/$T_PID_relayn/environ)" "dumpable flag (owner of /proc/PID/environ)"
t_assert_eq nobody "$(stat -c %U "$D/state")" "owner of state-dir"
$chat 127.0.0.1:10027 "EHLO x" QUIT >"$D/out9" 2>&1 || t_fail "relay as nobody does not serve"
t_stop relayn
t_ok "runs as nobody (all uids and gids), non-dumpable, owns its state-dir"

# no log holds the secret
if grep -r 'code-that-must-not-leak' "$D"/*.log "$D"/out* >/dev/null; then
	t_fail "a log holds the secret"
fi
t_ok "no log or reply holds the secret"
