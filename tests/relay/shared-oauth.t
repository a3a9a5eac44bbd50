#!/usr/bin/env bash
# shared-oauth.t — two smarthost-relay instances with one xoauth2 account
# and a real redis-server as their limits-store, in a private network
# namespace: tests/peers/oauth_server.py issues tokens, ROTATES refresh
# tokens and revokes the old one; tests/peers/smarthost.py accepts AUTH
# XOAUTH2 only with an access token that server says is active.
#  1. both relays start from the same token file, its access token
#     expired; messages sent at once to both: the token server sees ONE
#     refresh, every message is delivered once, and both token files hold
#     the rotated refresh token (relay 2 still works after relay 1 is
#     stopped and Redis flushed: it refreshes from its own file; a set in
#     Redis that does not open is ignored and logged once);
#     smarthostctl status says "oauth: shared";
#  2. Redis never holds a token in clear (GET and DUMP of every key);
#  3. not shared without a Redis password, nor with one over plain
#     redis:// to a non-loopback address (10.0.0.1 on a veth interface):
#     the log and status say so, each relay refreshes on its own, no token
#     key in Redis (the limits are still shared);
#  3b. shared with a password over rediss:// to redis.test, a name for
#     10.0.0.1 (TLS only, its certificate verified against the test CA):
#     two relays from one expired token file cause ONE refresh, status
#     says "oauth: shared", Redis holds the set sealed;
#  4. Redis down: a relay refreshes on its own and delivers;
#  5. no token or password in any log, reply or output.
. "$SMARTHOST_TOP/tests/relay/e2e-lib.sh"
t_enter_netns "$@"
e2e_init '10.0.0.1 redis.test'
pki__leaf "$D/pki" redis redis.test DNS:redis.test ca ||
    t_fail "cannot issue the certificate of redis.test"
t_need redis-server redis-cli curl ip
ctl=$B/smarthostctl
CHAT=$SMARTHOST_TOP/tests/relay/smtpchat.py
[ -x "$ctl" ] || t_fail "$ctl not built"
RPORT=6391
RPASS=rp-$(openssl rand -hex 12)
E_SECRETS+=("$RPASS")
export REDISCLI_AUTH=$RPASS

# redis_start [BIND] [--requirepass PASS]
redis_start() {
	local bind=${1:-127.0.0.1}
	shift || true
	t_spawn redis "$D/redis.out" redis-server --port "$RPORT" \
	    --bind "$bind" --save '' --appendonly no --dir "$D" "$@"
	t_wait_for "redis-cli -h $bind -p $RPORT ping 2>/dev/null | grep -q PONG" 10 ||
	    { cat "$D/redis.out" >&2; t_fail "redis-server did not start"; }
}
rcli() {	# rcli HOST ARGS...: redis-cli, with the password when one is set
	local h=$1 tls=()
	shift
	[ "$h" != redis.test ] || tls=(--tls --cacert "$D/pki/ca.crt")
	redis-cli "${tls[@]}" -h "$h" -p "$RPORT" "$@"
}

t_spawn oauth "$D/oauth.out" /usr/bin/python3 \
    "$SMARTHOST_TOP/tests/peers/oauth_server.py" \
    --cert "$D/pki/server.crt" --key "$D/pki/server.key" \
    --user ms@test.example --grant-after 0 --refresh-delay 0.5 \
    --tokens-log "$D/tokens" --log "$D/oauth.log" --ready-file "$D/oauth.port"
t_wait_file "$D/oauth.port" 10 || { cat "$D/oauth.out" >&2; t_fail "oauth server did not start"; }
URL=https://127.0.0.1:$(cat "$D/oauth.port")
e2e_users 'plain@test.example code-1'
e2e_peer p1 4651 implicit --sender-rule 163 \
    --xoauth2-validate "$URL/introspect" --xoauth2-ca "$D/pki/ca.crt"
printf '%s\n' 'ms@test.example ms' >"$D/relay.map"

# relay_conf N STORE [SECRETS-LINE]: $D/r$N.conf, listening on 1002$((N+4))
relay_conf() {
	local n=$1 store=$2
	shift 2
	e2e_relay_n "$n" "$store" 'limits-lease = 3s' 'auth-cooloff = 1s' \
	    "$(e2e_account ms 4651 implicit ms@test.example 'auth = xoauth2' \
	        'oauth-provider = microsoft' 'oauth-client-id = test-client' \
	        "oauth-token-url = $URL/token" \
	        "oauth-device-url = $URL/devicecode" 'max-connections = 10')" "$@"
}

NSTART=0
relay_start() {		# relay_start N: its log is $D/relay$N-$NSTART.log
	NSTART=$((NSTART + 1))
	eval "LOG$1=\$D/relay$1-$NSTART.log"
	e2e_relay_n_start "$1" "$D/relay$1-$NSTART.log"
}

status() {	# status N
	"$ctl" -c "$D/r$1.conf" status 2>&1
}

stat_of() {		# NAME: the oauth server's counter
	curl -sS --max-time 5 --cacert "$D/pki/ca.crt" "$URL/stats" |
	    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

control() {		# JSON: to the oauth server's /control
	curl -sS --max-time 5 --cacert "$D/pki/ca.crt" -H 'Content-Type: application/json' \
	    -d "$1" "$URL/control" >/dev/null || t_fail "oauth server control request failed"
}

tf() { echo "$D/state$1/oauth/ms.json"; }

field() {		# field N KEY: of relay N's token file
	/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$(tf "$1")" "$2"
}

# expire N: relay N's access token due, obtained an hour ago
expire() {
	/usr/bin/python3 - "$(tf "$1")" <<'EOF' || t_fail "cannot edit the token file of relay $1"
import json, os, sys, time
p = sys.argv[1]
t = json.load(open(p))
t["expires_at"] = 0
t["obtained_at"] = int(time.time()) - 3600
with open(p + ".new", "w") as f:
    json.dump(t, f)
os.chmod(p + ".new", 0o600)
os.rename(p + ".new", p)
EOF
}

authorize() {		# authorize N: device flow for relay N's token file
	timeout 20 "$ctl" -c "$D/r$1.conf" oauth ms >"$D/ctl-oauth$1.out" 2>&1 ||
	    { cat "$D/ctl-oauth$1.out" >&2; t_fail "smarthostctl oauth ms (relay $1) failed"; }
	t_assert_eq 600 "$(stat -c %a "$(tf "$1")")" "token file mode"
}

send() {		# send N ID: one message to relay N, transcript in chat-ID.out
	/usr/bin/python3 "$CHAT" --timeout 40 "127.0.0.1:$((10024 + $1))" \
	    "EHLO client.test" "MAIL FROM:<ms@test.example>" \
	    "RCPT TO:<rcpt@dest.example>" "DATA" \
	    "<<Subject: test $2\\nX-Test-Id: $2\\n\\nbody $2" "QUIT" \
	    >"$D/chat-$2.out" 2>&1
}

delivered_once() {	# delivered_once ID...
	local id
	for id in "$@"; do
		t_assert_no_grep '^[45][0-9][0-9]' "$D/chat-$id.out" "$id refused"
		t_assert_grep '^221 ' "$D/chat-$id.out" "$id's session to the end"
		t_wait_for "[ \"\$(e2e_count p1 '$id')\" -ge 1 ]" 15 || {
			tail -n 5 "$D"/relay*.log >&2
			t_fail "message $id not delivered within 15 s"
		}
		t_assert_eq 1 "$(e2e_count p1 "$id")" "copies of $id at the provider"
	done
}

last_refresh_token() { grep '^rt-' "$D/tokens" | tail -n 1; }

# The keys of smarthost:oauth* in the Redis at HOST.
oauth_keys() { rcli "$1" --scan --pattern 'smarthost:oauth*' | sort; }

# one_token_file: relay 1 authorized, relay 2 given a copy of its token
# file, both access tokens due
one_token_file() {
	authorize 1
	mkdir -p -m 700 "$D/state2/oauth"
	cp -p "$(tf 1)" "$(tf 2)"
	expire 1
	expire 2
}

# sealed HOST: the Redis at HOST holds one token key, the sealed set
# (v1:..., 30 days), and no issued token in clear in GET or DUMP of any
# key; NKEYS is set to the number of keys
sealed() {
	local h=$1 k tok ttl out=$D/redis-dump-$1.out
	t_assert_eq "smarthost:oauth:ms" "$(oauth_keys "$h")" "token keys in Redis at $h (the lock is given back)"
	case $(rcli "$h" GET smarthost:oauth:ms) in
	v1:?*) ;;
	*) t_fail "smarthost:oauth:ms at $h is not a sealed token set" ;;
	esac
	ttl=$(rcli "$h" TTL smarthost:oauth:ms)
	[ "$ttl" -gt $((30 * 86400 - 120)) ] && [ "$ttl" -le $((30 * 86400)) ] ||
	    t_fail "smarthost:oauth:ms at $h expires in $ttl s, not 30 days"
	: >"$out"
	NKEYS=0
	while read -r k; do
		NKEYS=$((NKEYS + 1))
		{
			printf 'KEY %s\n' "$k"
			[ "$(rcli "$h" TYPE "$k")" = string ] && rcli "$h" GET "$k"
			rcli "$h" --no-raw DUMP "$k"
		} >>"$out" 2>&1
	done < <(rcli "$h" --scan)
	while read -r tok; do
		! grep -qF -- "$tok" "$out" || t_fail "a token is in Redis at $h in clear"
		! grep -qF -- "${tok:3:16}" "$out" || t_fail "part of a token is in Redis at $h in clear"
	done <"$D/tokens"
}

# ---- 1. one refresh for both relays ----------------------------------------
redis_start 127.0.0.1 --requirepass "$RPASS"
relay_conf 1 "redis://127.0.0.1:$RPORT" "redis $RPASS"
relay_conf 2 "redis://127.0.0.1:$RPORT" "redis $RPASS"
one_token_file
rt0=$(field 1 refresh_token)
t_assert_eq 0 "$(stat_of refreshes)" "refreshes before the relays start"
relay_start 1
relay_start 2
# A slow token endpoint (2 s): the relay that does not refresh finds the
# lock taken and waits for the other's token set.
control '{"refresh_delay": 2}'
rcli 127.0.0.1 CONFIG RESETSTAT >/dev/null
pids=()
for i in 0 1 2 3 4; do
	send 1 "a$i" &
	pids+=($!)
	send 2 "b$i" &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || t_note "a concurrent client failed (pid $p)"
done
t_note "token server: $(stat_of refreshes) refreshes, $(stat_of invalid_grants) refused"
delivered_once a0 a1 a2 a3 a4 b0 b1 b2 b3 b4
t_assert_eq 1 "$(stat_of refreshes)" "refreshes for two relays starting from one token file"
t_assert_eq 0 "$(stat_of invalid_grants)" "refreshes refused"
# SETs: the holder's lock, its token set, and at least one refused lock
nset=$(rcli 127.0.0.1 INFO commandstats | sed -n 's/^cmdstat_set:calls=\([0-9]*\),.*/\1/p')
[ "${nset:-0}" -ge 3 ] || t_fail "no relay waited for the other's refresh ($nset SET calls)"
control '{"refresh_delay": 0.5}'
rt1=$(last_refresh_token)
[ "$rt1" != "$rt0" ] || t_fail "the server did not rotate the refresh token"
t_assert_eq "$rt1" "$(field 1 refresh_token)" "relay 1's token file holds the rotated refresh token"
t_assert_eq "$rt1" "$(field 2 refresh_token)" "relay 2's token file holds the rotated refresh token"
t_assert_eq 600 "$(stat -c %a "$(tf 2)")" "relay 2's token file mode"
for n in 1 2; do
	t_assert_grep "oauth tokens are shared through redis://127\\.0\\.0\\.1:$RPORT: each account's token is refreshed once for all relays" \
	    "$(eval echo "\$LOG$n")" "relay $n says the tokens are shared"
done
status 2 >"$D/status-shared.out"
t_assert_grep '^oauth: shared$' "$D/status-shared.out" "status of relay 2"
"$ctl" -c "$D/r1.conf" status --json >"$D/status-shared-json.out" 2>&1
t_assert_grep '"oauth_shared": 1' "$D/status-shared-json.out" "status --json"
t_ok "one token file, two relays, 10 messages at once: one refresh (the other relay waited for it: $nset SETs), all delivered once, both files hold the rotated refresh token"

# ---- 2. nothing in clear in Redis ----------------------------------------------
sealed 127.0.0.1
[ "$NKEYS" -ge 2 ] || t_fail "only $NKEYS keys in Redis"
ntok=$(wc -l <"$D/tokens")
[ "$ntok" -ge 4 ] || t_fail "the server issued only $ntok tokens"
t_ok "Redis holds the token set sealed (v1:..., 30 days): no token of $ntok in GET or DUMP of $NKEYS keys"

# ---- 1b. relay 2 alone, Redis flushed: its own file refreshes ---------------
t_stop relay1
rcli 127.0.0.1 FLUSHALL >/dev/null
t_stop relay2
expire 2
# A set that does not open (sealed under another password, say): ignored,
# logged once, replaced by relay 2's own after its refresh.
bogus=v1:$(openssl rand -base64 60 | tr -d '\n')
rcli 127.0.0.1 SET smarthost:oauth:ms "$bogus" >/dev/null
relay_start 2
send 2 c1
delivered_once c1
t_assert_eq 1 "$(grep -c "account=ms oauth: the token set in limits-store redis://127.0.0.1:$RPORT does not open with this relay's Redis password: ignored" "$LOG2")" \
    "lines about the set that does not open"
[ "$(rcli 127.0.0.1 GET smarthost:oauth:ms)" != "$bogus" ] ||
    t_fail "relay 2 did not replace the set that does not open"
t_assert_eq 2 "$(stat_of refreshes)" "refreshes after relay 2's restart"
t_assert_eq 0 "$(stat_of invalid_grants)" "refreshes refused (relay 2's file held a revoked token)"
t_assert_eq "$(last_refresh_token)" "$(field 2 refresh_token)" "relay 2 saved the next rotation"
t_assert_eq "smarthost:oauth:ms" "$(oauth_keys 127.0.0.1)" "relay 2 shared its new set"
t_ok "relay 1 stopped, Redis flushed: relay 2 refreshes from its own file (the rotated token it took); a set that does not open is ignored, logged once"
t_stop relay2

# told N TAG LOG-ERE OAUTH-ERE STORE: relay N's log matches LOG-ERE, its
# status (saved in $D/status-TAG-N.out) says "oauth: OAUTH-ERE" and that the
# limits-store STORE is reachable
told() {
	local n=$1 out=$D/status-$2-$1.out
	t_assert_grep "$3" "$(eval echo "\$LOG$n")" "relay $n's log on sharing tokens"
	status "$n" >"$out"
	t_assert_grep "^oauth: $4\$" "$out" "status of relay $n"
	t_assert_grep "^limits-store $5: reachable" "$out" "relay $n's limits-store"
}

# ---- 3. not shared --------------------------------------------------------------
# notshared HOST WHY-REGEX: relays 1 and 2 with their own tokens, both due
notshared() {
	local host=$1 why=$2 n before
	authorize 1
	authorize 2
	expire 1
	expire 2
	before=$(stat_of refreshes)
	relay_start 1
	relay_start 2
	for n in 1 2; do
		told "$n" "not-$host" "oauth tokens are not shared through redis://$host:$RPORT: needs a password and rediss:// or a loopback address \\($why\\); each relay refreshes its own" \
		    "not shared \\($why\\)" "redis://$host:$RPORT"
	done
	send 1 "d1-$host" &
	send 2 "d2-$host"
	wait $! || true
	delivered_once "d1-$host" "d2-$host"
	t_assert_eq $((before + 2)) "$(stat_of refreshes)" "each relay refreshed on its own"
	t_assert_eq "" "$(oauth_keys "$host")" "token keys in Redis"
	t_stop relay1
	t_stop relay2
}

t_stop redis
unset REDISCLI_AUTH
redis_start 127.0.0.1
relay_conf 1 "redis://127.0.0.1:$RPORT"
relay_conf 2 "redis://127.0.0.1:$RPORT"
notshared 127.0.0.1 'no Redis password in the secrets file'
t_ok "no Redis password: not shared, said by the log and status; each relay refreshes on its own"

t_stop redis
# (a veth pair: the dummy driver may be missing from the kernel)
ip link add sh-veth0 type veth peer name sh-veth1 &&
    ip addr add 10.0.0.1/24 dev sh-veth0 && ip link set sh-veth1 up &&
    ip link set sh-veth0 up || t_fail "cannot add 10.0.0.1 on a veth interface"
export REDISCLI_AUTH=$RPASS
redis_start 10.0.0.1 --requirepass "$RPASS"
relay_conf 1 "redis://10.0.0.1:$RPORT" "redis $RPASS"
relay_conf 2 "redis://10.0.0.1:$RPORT" "redis $RPASS"
notshared 10.0.0.1 'plain redis:// to 10\.0\.0\.1, not a loopback address'
t_ok "password over plain redis:// to 10.0.0.1: not shared, said by the log and status; each relay refreshes on its own"
t_stop redis

# ---- 3b. rediss:// to a name for 10.0.0.1: shared ----------------------------
e2e_redis_tls redis 10.0.0.1 "$RPORT" "$RPASS"
relay_conf 1 "rediss://redis.test:$RPORT" "redis $RPASS"
relay_conf 2 "rediss://redis.test:$RPORT" "redis $RPASS"
one_token_file
before=$(stat_of refreshes)
refused=$(stat_of invalid_grants)
relay_start 1
relay_start 2
send 1 f1 &
send 2 f2
wait $! || true
delivered_once f1 f2
t_assert_eq $((before + 1)) "$(stat_of refreshes)" "refreshes for two relays from one token file over rediss://"
t_assert_eq "$refused" "$(stat_of invalid_grants)" "refreshes refused over rediss://"
t_assert_eq "$(last_refresh_token)" "$(field 2 refresh_token)" "relay 2's token file holds the rotated refresh token"
for n in 1 2; do
	told "$n" tls "oauth tokens are shared through rediss://redis\\.test:$RPORT: each account's token is refreshed once for all relays" \
	    shared "rediss://redis\\.test:$RPORT"
done
sealed redis.test
t_stop relay1
t_stop relay2
t_stop redis
t_ok "password over rediss:// to redis.test (10.0.0.1), certificate verified: shared, one refresh for two relays from one token file, the set sealed in Redis"

# ---- 4. Redis down: on its own -----------------------------------------------
relay_conf 1 "redis://127.0.0.1:$RPORT" "redis $RPASS"
expire 1
before=$(stat_of refreshes)
relay_start 1
send 1 e1
delivered_once e1
t_assert_grep "limits-store redis://127\\.0\\.0\\.1:$RPORT: unreachable" "$LOG1" "relay 1 says Redis is unreachable"
t_assert_eq $((before + 1)) "$(stat_of refreshes)" "refreshes with Redis down"
t_assert_eq "$(last_refresh_token)" "$(field 1 refresh_token)" "relay 1 saved the rotation"
t_ok "Redis down: the relay refreshes on its own and delivers"
t_stop relay1

# ---- 5. no secret anywhere -----------------------------------------------------
while read -r tok; do
	E_SECRETS+=("$tok")
done <"$D/tokens"
for s in "${E_SECRETS[@]}"; do
	if grep -lF -- "$s" "$D"/*.out "$D"/relay*.log "$D"/oauth.log "$D"/events-* 2>/dev/null; then
		t_fail "a log, reply or output holds a token or the Redis password"
	fi
done
for f in "$D"/relay*.log; do
	t_assert_no_grep 'AddressSanitizer|LeakSanitizer|runtime error' "$f" "sanitizer reports"
done
t_ok "no token (of $(wc -l <"$D/tokens")) nor the Redis password in any log, reply or output"
