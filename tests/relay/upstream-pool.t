#!/usr/bin/env bash
# The relay's session pool, driven by upstream-drive against the
# provider-like smarthost in a private network namespace: N transactions
# on one pooled session (one TLS handshake); a new session per message
# resumes TLS (the smarthost logs resumed: true), from 4 threads too; a
# pooled session the provider dropped is replaced before MAIL and the message still goes; the
# pool's idle timeout closes a session with QUIT before the provider's;
# messages-per-session closes it; 8 threads on an account with
# max-connections 2 never have more than 2 sessions at the smarthost; a
# pool wait that runs out gives UPF_LIMIT; a reload drains the sessions of
# an account whose server changed and keeps the others.
. "$SMARTHOST_TOP/tests/relay/upstream-lib.sh"
t_enter_netns "$@"
up_init

printf 'p@test.example Sekr1t-pool-5Rb\n' >"$D/users"
printf 'pool Sekr1t-pool-5Rb\n' >"$D/secrets"
chmod 600 "$D/secrets"
printf 'p@test.example pool\n' >"$D/relay.map"
conf() {		# port [extra account option lines...]
	local port=$1
	shift
	{
		printf '[global]\nrelay-map = %s\nsecrets = %s\n' \
		    "$D/relay.map" "$D/secrets"
		printf '[relay]\nca-file = %s\ncommand-timeout = 5s\n' \
		    "$D/pki/ca.crt"
		printf '[account pool]\nlogin = p@test.example\n'
		printf 'host = smtp.test\nport = %s\ntls = implicit\n' "$port"
		printf '%s\n' "$@"
	} >"${CONF_OUT:-$D/smarthost.conf}"
}
start_peer() {		# name port [smarthost options...]
	local name=$1 port=$2
	shift 2
	t_spawn "$name" "$D/peer-$name.log" /usr/bin/python3 "$peer" \
	    --listen "127.0.0.1:$port" --tls implicit \
	    --cert "$D/pki/server.crt" --key "$D/pki/server.key" \
	    --users "$D/users" --sender-rule 163 --events "$D/ev-$name" "$@"
	t_wait_port 127.0.0.1 "$port" 10 ||
	    { cat "$D/peer-$name.log"; t_fail "smarthost $name not listening"; }
}
drive() {		# name driver options...
	local name=$1
	shift
	timeout 60 "$drive" -c "$D/smarthost.conf" -f p@test.example \
	    -t rcpt@dest.example "$@" >"$D/out-$name" 2>&1
}
count() {		# pattern file
	grep -cE "$1" "$2" 2>/dev/null || true
}
stat_of() {		# key out-file
	sed -n "s/^STATS .* $1=\([0-9]*\).*/\1/p" "$2"
}
mark() {		# events file -> its current line count
	wc -l <"$1"
}
since() {		# events file line -> the lines after it
	tail -n +$(($2 + 1)) "$1"
}

start_peer a 4650 --max-sessions 2
start_peer b 4660 --idle-timeout 1
start_peer c 4670

# 1. pooled reuse: 6 messages, one session, one handshake
conf 4650
m=$(mark "$D/ev-a")
drive reuse -n 6 || { cat "$D/out-reuse"; t_fail "reuse: not all sent"; }
since "$D/ev-a" $m >"$D/ev-reuse"
t_assert_eq 6 "$(count '^SENT code=250' "$D/out-reuse")" "messages sent"
t_assert_eq 5 "$(count '^SENT code=250 reused=1' "$D/out-reuse")" "reused"
t_assert_eq 1 "$(count '"event": "connect"' "$D/ev-reuse")" "connections"
t_assert_eq 1 "$(count '"event": "tls"' "$D/ev-reuse")" "TLS handshakes"
t_assert_eq 1 "$(count '"event": "auth"' "$D/ev-reuse")" "AUTHs"
t_assert_eq 6 "$(count '"event": "data"' "$D/ev-reuse")" "messages seen"
t_assert_eq 1 "$(stat_of opened "$D/out-reuse")" "sessions opened"
t_assert_eq 1 "$(stat_of full "$D/out-reuse")" "full handshakes"
t_assert_eq 5 "$(stat_of reuses "$D/out-reuse")" "reuses counted"
t_assert_eq 1 "$(count '"event": "quit"' "$D/ev-reuse")" "QUIT at the end"
t_ok "6 transactions on one pooled session: 1 connection, 1 handshake, 1 AUTH"

# 2. a session per message (-k): reconnects resume TLS
m=$(mark "$D/ev-a")
drive resume -n 3 -k || { cat "$D/out-resume"; t_fail "resume: not sent"; }
since "$D/ev-a" $m >"$D/ev-resume"
t_assert_eq 3 "$(count '"event": "tls"' "$D/ev-resume")" "handshakes"
t_assert_eq 2 "$(count '"event": "tls".*"resumed": true' "$D/ev-resume")" \
    "resumed handshakes at the smarthost"
t_assert_eq 1 "$(stat_of full "$D/out-resume")" "full handshakes counted"
t_assert_eq 2 "$(stat_of resumed "$D/out-resume")" "resumed counted"
t_ok "new session per message: 1 full and 2 resumed TLS handshakes (smarthost: resumed true)"

# 2b. concurrent reconnects: each takes a ticket of its own (TLS 1.3
# tickets are used once), so only the first wave is full
conf 4670 'max-connections = 4'
drive resume4 -j 4 -n 5 -k || { cat "$D/out-resume4"; t_fail "resume4: not sent"; }
full=$(stat_of full "$D/out-resume4")
resumed=$(stat_of resumed "$D/out-resume4")
[ "$full" -le 4 ] && [ "$resumed" -ge 16 ] ||
    t_fail "4 threads x 5 sessions: $full full, $resumed resumed handshakes"
t_ok "4 threads reconnecting: $full full, $resumed resumed handshakes"

# 3. messages-per-session = 2: 5 messages take 3 sessions
conf 4650 'messages-per-session = 2'
drive perses -n 5 || { cat "$D/out-perses"; t_fail "perses: not sent"; }
t_assert_eq 3 "$(stat_of opened "$D/out-perses")" "sessions for 5 messages"
t_assert_eq 2 "$(stat_of resumed "$D/out-perses")" "resumed"
t_ok "messages-per-session 2: 5 messages over 3 sessions, 2 resumed"

# 4. the provider drops an idle pooled session (its idle timeout 1 s):
# found dead before MAIL (its 421 and close wait unread), replaced, the
# message still goes
conf 4660
drive dead -n 2 -p 1600 || { cat "$D/out-dead"; t_fail "dead: not sent"; }
t_assert_eq 2 "$(count '^SENT code=250 reused=0' "$D/out-dead")" "sent, new"
t_assert_grep 'session=dead reason=".*closed the pooled session' \
    "$D/out-dead" "dead session noticed"
t_assert_eq 1 "$(count '"event": "timeout"' "$D/ev-b")" "provider timeout"
t_assert_eq 2 "$(count '"event": "auth".*"ok": true' "$D/ev-b")" "AUTHs"
t_assert_eq 1 "$(count '"event": "tls".*"resumed": true' "$D/ev-b")" \
    "replacement resumed TLS"
t_ok "pooled session dropped by the provider: replaced transparently before MAIL"

# 5. our idle timeout (1 s) closes the session with QUIT first
conf 4650 'idle-timeout = 1'
m=$(mark "$D/ev-a")
drive idle -n 2 -p 1600 || { cat "$D/out-idle"; t_fail "idle: not sent"; }
since "$D/ev-a" $m >"$D/ev-idle"
t_assert_no_grep 'session=dead' "$D/out-idle" "dead session"
t_assert_eq 2 "$(count '"event": "quit"' "$D/ev-idle")" "QUITs"
t_assert_eq 2 "$(stat_of opened "$D/out-idle")" "sessions opened"
t_ok "pool idle timeout: idle session closed with QUIT, next message on a new one"

# 6. the bound: 8 threads x 4 messages, max-connections 2 (the smarthost
# also refuses a third session)
conf 4650 'max-connections = 2'
m=$(mark "$D/ev-a")
drive bound -j 8 -n 4 -w 30 || { cat "$D/out-bound"; t_fail "bound: not sent"; }
since "$D/ev-a" $m >"$D/ev-bound"
t_assert_eq 32 "$(count '^SENT code=250' "$D/out-bound")" "messages sent"
t_assert_eq 0 "$(count '"event": "busy"' "$D/ev-bound")" "sessions refused"
most=$(sed -n 's/.*"sessions": \([0-9]*\).*/\1/p' "$D/ev-bound" | sort -n | tail -1)
[ "$most" -le 2 ] || t_fail "the smarthost saw $most sessions at once"
peak=$(stat_of peak "$D/out-bound")
[ "$peak" -le 2 ] || t_fail "the pool had $peak sessions at once"
full=$(stat_of full "$D/out-bound")
opened=$(stat_of opened "$D/out-bound")
[ "$full" -le "$opened" ] || t_fail "$full full handshakes for $opened sessions"
t_ok "8 threads, max-connections 2: at most $most sessions at the smarthost, pool peak $peak, $opened opened"

# 6b. the same with a new session per message: a slot is free only once
# the provider has closed the old session (QUIT, 221, EOF)
m=$(mark "$D/ev-a")
drive boundk -j 6 -n 4 -k -w 30 || { cat "$D/out-boundk"; t_fail "boundk: not sent"; }
since "$D/ev-a" $m >"$D/ev-boundk"
t_assert_eq 0 "$(count '"event": "busy"' "$D/ev-boundk")" "sessions refused"
t_assert_eq 24 "$(count '"event": "quit"' "$D/ev-boundk")" "QUITs"
t_ok "6 threads, a session per message, max-connections 2: the smarthost never refused one"

# 7. max-connections 1, no wait: the second thread gets UPF_LIMIT at once
conf 4650 'max-connections = 1'
drive limit -j 2 -n 1 -b 2000000 -w 0 && t_fail "limit: both sent"
t_assert_eq 1 "$(count '^SENT code=250' "$D/out-limit")" "one sent"
t_assert_grep '^FAIL why=UPF_LIMIT code=451 enhanced=4\.4\.5 local=1 text="all 1 sessions of account pool with smtp\.test are busy \(waited 0 s\)"' \
    "$D/out-limit"
t_ok "pool bound reached and no wait: UPF_LIMIT 4.4.5"

# 8. reload (pool_reconfigure, as on SIGHUP): an unchanged account keeps
# its pooled session; a changed one (port) is drained at once (QUIT to the
# old server) and the next message opens a session to the new one
conf 4650
drive reload-same -n 2 -R "$D/smarthost.conf" ||
    { cat "$D/out-reload-same"; t_fail "reload-same: not sent"; }
t_assert_eq 1 "$(stat_of opened "$D/out-reload-same")" "sessions opened"
t_assert_eq 3 "$(stat_of reuses "$D/out-reload-same")" "reuses"
CONF_OUT=$D/moved.conf conf 4670
ma=$(mark "$D/ev-a")
mc=$(mark "$D/ev-c")
drive reload-moved -n 2 -R "$D/moved.conf" ||
    { cat "$D/out-reload-moved"; t_fail "reload-moved: not sent"; }
since "$D/ev-a" $ma >"$D/ev-moved-a"
since "$D/ev-c" $mc >"$D/ev-moved-c"
t_assert_eq 2 "$(stat_of opened "$D/out-reload-moved")" "sessions opened"
t_assert_eq 2 "$(count '"event": "data"' "$D/ev-moved-a")" "messages to the old server"
t_assert_eq 1 "$(count '"event": "quit"' "$D/ev-moved-a")" "old session closed"
t_assert_eq 2 "$(count '"event": "data"' "$D/ev-moved-c")" "messages to the new server"
t_ok "reload: unchanged account keeps its session; a moved one is drained and reconnected"

for f in "$D"/out-* "$D"/ev-* "$D"/peer-*.log; do
	grep -qF -e Sekr1t-pool-5Rb -e "$(printf Sekr1t-pool-5Rb | base64)" \
	    "$f" && t_fail "the authorization code appears in $f"
done
t_ok "no authorization code in any output or event"
