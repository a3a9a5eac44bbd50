#!/usr/bin/env bash
# milter.t — smarthost-milter driven by miltertest, one filter for all
# cases: inbound mail untouched (and no DNS query), each outbound step and
# its reply (cases.lua), Reply-To: under reply-to (replyto.lua), SIGHUP with a broken map keeps the old routes, a
# good one replaces them, SIGTERM stops the filter.  DNS is a dnsmasq in
# a private network namespace.
set -u
top=${SMARTHOST_TOP:-$(pwd)}
B=${B:-$top/build}
here=$top/tests/milter

if [ "${T_IN_NETNS:-}" != 1 ]; then
	export T_IN_NETNS=1 SMARTHOST_TOP=$top B
	exec timeout 120 unshare -mn --propagation private "$0" "$@"
fi
ip link set lo up || { echo "FAIL: cannot bring up lo"; exit 1; }

fail() { echo "FAIL: $*"; [ -f "$T/milter.log" ] && tail -n 30 "$T/milter.log"; exit 1; }
ok() { echo "ok - $*"; }
for c in miltertest dnsmasq; do
	command -v $c >/dev/null || fail "$c not installed (package ${c/dnsmasq/dnsmasq-base})"
done
[ -x "$B/smarthost-milter" ] || fail "$B/smarthost-milter not built"

T=$(mktemp -d /tmp/milter-test.XXXXXX)
chmod 755 "$T"	# others may reach the socket: only its mode keeps them out
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	sleep 0.1
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT

# --- DNS: dnsmasq answering only from the records below -----------------
echo "nameserver 127.0.0.1" >"$T/resolv.conf"
mount --bind "$T/resolv.conf" /etc/resolv.conf || fail "cannot bind resolv.conf"
dnsmasq -k -u root --conf-file=/dev/null --no-resolv --no-hosts \
    --listen-address=127.0.0.1 --bind-interfaces --log-queries \
    --log-facility="$T/dns.log" --local=/test/ --local=/com/ --local=/net/ \
    --txt-record='spf.163.com,v=spf1 ip4:203.0.113.0/24 -all' \
    --txt-record='163.com,v=spf1 include:spf.163.com -all' \
    --txt-record='_dmarc.163.com,v=DMARC1; p=none' \
    --txt-record='spf.mail.qq.com,v=spf1 ip4:198.51.100.0/24 -all' \
    --txt-record='company.test,v=spf1 include:spf.mail.qq.com -all' \
    --txt-record='_dmarc.company.test,v=DMARC1; p=reject' \
    --txt-record='strictfrom.test,v=spf1 -all' \
    --txt-record='_dmarc.strictfrom.test,v=DMARC1; p=reject; adkim=s; aspf=s' \
    --server=/broken.test/127.0.0.9 \
    --mx-host=mx.test,mail.mx.test,10 --host-record=mail.mx.test,192.0.2.25 \
    --host-record=aonly.test,192.0.2.10 \
    2>"$T/dnsmasq.err" &
pids+=($!)
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/53) 2>/dev/null && break; sleep 0.1; done
(exec 3<>/dev/tcp/127.0.0.1/53) 2>/dev/null || fail "dnsmasq did not start: $(cat "$T/dnsmasq.err")"

# --- configuration ------------------------------------------------------
cat >"$T/smarthost.conf" <<CONF
[global]
relay-map = $T/relay.map
secrets = $T/secrets
user = root
local-domains = office.test
internal-networks = 10.0.0.0/8 2001:db8:1::/48
[milter]
socket = unix:$T/milter.sock
dns-timeout = 1s
[account ent-sales]
provider = exmail.qq.com
login = sales@company.test
allowed-users = alice bob
CONF
cat >"$T/relay.map" <<MAP
boss@163.com          boss@163.com
scanner@office.test   alerts@163.com   rewrite
@company.test         ent-sales
mismatch@office.test  alerts@163.com
@mx.test              alerts@163.com   rewrite
@aonly.test           alerts@163.com   rewrite
@nomail.test          alerts@163.com   rewrite
@broken.test          alerts@163.com   rewrite
orig@office.test      alerts@163.com   rewrite,reply-to=original
norep@mx.test         alerts@163.com   rewrite,reply-to=none
auto@mx.test          alerts@163.com   rewrite,reply-to=auto
MAP
"$B/smarthost-milter" -n -c "$T/smarthost.conf" >"$T/n.out" 2>&1 ||
    { cat "$T/n.out"; fail "-n refuses the test configuration"; }
ok "-n accepts the configuration"
echo "nonsense = 1" >>"$T/smarthost.conf"
"$B/smarthost-milter" -n -c "$T/smarthost.conf" >"$T/n.out" 2>&1
rc=$?
[ $rc = 78 ] || fail "-n on a bad file exited $rc, want 78"
grep -q "smarthost.conf:14: unknown option" "$T/n.out" || { cat "$T/n.out"; fail "-n did not name file:line"; }
ok "-n names the bad line and exits 78"
sed -i '$d' "$T/smarthost.conf"

# The socket is changed by its path after it is made: never in a
# directory others can write to, and only for a group that exists.
mkdir -m 1777 "$T/open"
sed "s|^socket = .*|socket = unix:$T/open/milter.sock|" "$T/smarthost.conf" >"$T/open.conf"
timeout 10 "$B/smarthost-milter" -f -c "$T/open.conf" >"$T/open.out" 2>&1
rc=$?
[ $rc = 69 ] || fail "socket in a world-writable directory: exit $rc, want 69: $(cat "$T/open.out")"
grep -qF "milter socket directory $T/open is writable by other users; put the socket in a directory only root can write, such as /run/smarthost" "$T/open.out" ||
    fail "no reason given for the refused socket directory: $(cat "$T/open.out")"
ok "a socket directory others can write to is refused (exit 69)"
sed "s|^socket = .*|&\nsocket-group = nosuchgroup|" "$T/smarthost.conf" >"$T/nogroup.conf"
timeout 10 "$B/smarthost-milter" -f -c "$T/nogroup.conf" >"$T/nogroup.out" 2>&1
rc=$?
[ $rc = 69 ] || fail "socket-group nosuchgroup: exit $rc, want 69: $(cat "$T/nogroup.out")"
grep -qF "socket-group nosuchgroup does not exist; set [milter] socket-group to the group of the MTA's user" "$T/nogroup.out" ||
    fail "no reason given for the missing group: $(cat "$T/nogroup.out")"
rm -f "$T/milter.sock"
ok "a socket-group that does not exist is refused (exit 69)"
# -n finds it too, before a start: exit 78 and the line.
"$B/smarthost-milter" -n -c "$T/nogroup.conf" >"$T/nogroup-n.out" 2>&1
rc=$?
[ $rc = 78 ] || fail "-n with socket-group nosuchgroup: exit $rc, want 78: $(cat "$T/nogroup-n.out")"
gl=$(grep -n '^socket-group = nosuchgroup$' "$T/nogroup.conf" | cut -d: -f1)
grep -qF "$T/nogroup.conf:$gl: [milter] socket-group = nosuchgroup: no such group on this host, so the milter cannot give its socket unix:$T/milter.sock to it" "$T/nogroup-n.out" ||
    fail "-n gives no precise reason for the missing group: $(cat "$T/nogroup-n.out")"
[ -e "$T/milter.sock" ] && fail "-n made the socket"
ok "-n refuses a socket-group that does not exist (exit 78, file:line)"

# (its control socket, at the end: the line numbers above stay)
printf '[milter]\ncontrol-socket = %s\n' "$T/milter-control.sock" >>"$T/smarthost.conf"
# (In an ASan build freed memory is held back in a quarantine; without
# it the peak-memory check below measures the milter, not ASan.)
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0 \
    "$B/smarthost-milter" -f -c "$T/smarthost.conf" 2>"$T/milter.log" &
mpid=$!
pids+=($mpid)
for _ in $(seq 50); do [ -S "$T/milter.sock" ] && break; sleep 0.1; done
[ -S "$T/milter.sock" ] || fail "milter socket did not appear"
mode=$(stat -c %a:%U:%G "$T/milter.sock")
[ "$mode" = 660:root:postfix ] || fail "socket is $mode, want 660:root:postfix"
ok "socket mode 0660, group postfix"
sockconnect() {	# setpriv-options: connect to the socket as that user
	setpriv "$@" /usr/bin/python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print(e.strerror); sys.exit(1)
print("connected")' "$T/milter.sock" 2>&1
}
r=$(sockconnect --reuid=65534 --regid=65534 --clear-groups)
[ "$r" = "Permission denied" ] || fail "uid 65534 connecting to the socket: $r"
r=$(sockconnect --reuid=postfix --regid=postfix --init-groups)
[ "$r" = connected ] || fail "user postfix connecting to the socket: $r"
ok "uid 65534 is refused the socket (EACCES), group postfix connects"

mt() {	# script [var=value...]
	local s=$1; shift
	local args=(-D "sock=unix:$T/milter.sock" -D "dir=$here")
	for v in "$@"; do args+=(-D "$v"); done
	timeout 60 miltertest "${args[@]}" -s "$here/$s" >"$T/mt.out" 2>&1
	local rc=$?
	cat "$T/mt.out"
	return $rc
}
logline() {	# qid: the milter's log line for that message
	grep -E "qid=$1 " "$T/milter.log"
}
expect_log() {	# qid fixed-string
	logline "$1" | grep -qF -- "$2" ||
	    fail "log for $1 lacks: $2; got: $(logline "$1")"
	ok "log $1: $2"
}

# --- inbound: untouched, no DNS ------------------------------------------
: >"$T/dns.log"
mt inbound.lua || fail "inbound.lua"
grep -q "query\[" "$T/dns.log" && fail "inbound mail caused DNS queries: $(cat "$T/dns.log")"
ok "no DNS query for inbound and local mail"
for q in IN1 IN2 IN3 IN4 IN5; do
	logline $q && fail "inbound message $q was judged"
done
ok "inbound messages not judged or logged"

# --- each outbound step -----------------------------------------------
mt cases.lua || fail "cases.lua"
grep -q "query\[TXT\] _dmarc.163.com" "$T/dns.log" || fail "no DMARC query seen"
expect_log ROUTED "sender=<boss@163.com> account=boss@163.com decision=accept reason=ok client=10.1.2.3 sasl=boss"
expect_log ROUTED6 "decision=accept reason=ok client=2001:db8:1::25 sasl=-"
expect_log NOROUTE 'decision=reject reason="no route"'
expect_log NOROUTE 'reply="550 5.7.1 no route for sender stranger@elsewhere.test in relay.map: add a line for stranger@elsewhere.test, @elsewhere.test or *"'
expect_log UNAUTH 'reply="550 5.7.1 carol may not send as sales@company.test: account ent-sales (smarthost.conf line 10) allows only its allowed-users; add carol there or send as your own address"'
expect_log AUTHOK "account=ent-sales decision=accept"
expect_log REWRITE "decision=accept reason=ok client=10.1.2.3 sasl=- relay-envelope=alerts@163.com reply-to=none:local-domain"
expect_log REWRITE2 "relay-envelope=alerts@163.com reply-to=kept"
expect_log MISMATCH "reply=\"553 5.7.1 smtp.163.com requires the envelope sender to be the account login alerts@163.com (it says: 553 Mail from must equal authorized user); add 'rewrite' to relay.map line 4 or send as alerts@163.com\""
expect_log TWOFROM 'decision=reject reason="bad From header"'
expect_log DMARC 'decision=reject reason="DMARC would fail"'
expect_log SECOND 'decision=reject reason="bad From header"'
n=$(grep -c "qid=" "$T/milter.log")
[ "$n" = 16 ] || fail "$n log lines for 16 judged messages"
ok "one log line per judged message"
mt inbound.lua legacy=1 || fail "inbound.lua with an MTA without the newer protocol options"
mt cases.lua legacy=1 || fail "cases.lua with an MTA without the newer protocol options"
ok "the same cases with an MTA offering no leading space, no-reply steps or SKIP"

# --- Reply-To: only where replies can arrive (reply-to = auto) --------------
mt replyto.lua phase=auto || fail "replyto.lua"
grep -q "query\[MX\] mx.test" "$T/dns.log" || fail "no MX query for mx.test"
expect_log RT-MX "relay-envelope=alerts@163.com reply-to=added"
expect_log RT-A "reply-to=added"
expect_log RT-NOMAIL "reply-to=none:no-mx"
expect_log RT-LOCAL "reply-to=none:local-domain"
expect_log RT-DNSFAIL "decision=accept reason=ok"
expect_log RT-DNSFAIL "reply-to=none:dns-failure"
expect_log RT-ORIG "reply-to=added"
expect_log RT-NONE "reply-to=none:option"
expect_log RT-KEPT "reply-to=kept"
mt replyto.lua phase=auto legacy=1 || fail "replyto.lua legacy=1"

# --- any client may send inbound; outbound needs SASL or internal-networks --
mt trust.lua || fail "trust.lua"
untrusted='reply="550 5.7.1 <friend@example.net>: relaying refused: client 192.0.2.7 is neither authenticated nor in internal-networks; outbound mail needs SMTP AUTH"'
expect_log UNTRUSTED 'decision=reject reason="untrusted client"'
expect_log UNTRUSTED "$untrusted"
expect_log UNTRUSTED2 "$untrusted"
expect_log UNTRUSTED3 "$untrusted"
expect_log SASLOUT "account=boss@163.com decision=accept reason=ok client=192.0.2.7 sasl=boss"
mt trust.lua legacy=1 || fail "trust.lua legacy=1"

# --- SMTPUTF8 ---------------------------------------------------------------
mt utf8.lua || fail "utf8.lua"
expect_log U8SENDER 'decision=reject reason=SMTPUTF8'
# (the log shows each byte outside ASCII as "?")
expect_log U8SENDER 'reply="553 5.6.7 <??????@lab.test>: UTF-8 addresses (SMTPUTF8) cannot be sent through the provider accounts, which do not offer SMTPUTF8; use an ASCII address"'
expect_log U8PARAM 'reply="553 5.6.7 <boss@163.com>: SMTPUTF8 mail cannot be sent through the provider accounts, which do not offer SMTPUTF8; send it without SMTPUTF8 (ASCII addresses, RFC 2047 encoded headers)"'
expect_log U8RCPT 'reply="553 5.6.7 <??????@example.net>: UTF-8 addresses (SMTPUTF8) cannot be sent through the provider accounts, which do not offer SMTPUTF8; use an ASCII address"'
expect_log U8DISPLAY 'decision=accept reason=ok'
expect_log U8REWRITE 'decision=accept reason=ok'
mt utf8.lua legacy=1 || fail "utf8.lua legacy=1"

# --- bounded header ----------------------------------------------------------
hwm() { awk '/^VmHWM:/ { print $2 }' /proc/$mpid/status; }
before=$(hwm)
mt limits.lua mem=1 || fail "limits.lua"
after=$(hwm)
[ -n "$before" ] && [ -n "$after" ] || fail "no VmHWM for pid $mpid"
grow=$(( (after - before) / 1024 ))
[ "$grow" -lt 12 ] || fail "peak memory grew by $grow MB over 27 MB of header (from $before kB to $after kB)"
ok "27 MB of header fields raised the filter's peak memory by $grow MB (< 12)"
expect_log HDR1000 'decision=accept'
expect_log HDR1001 'decision=tempfail reason="header too large" '
expect_log HDR1001 'reply="452 4.3.1 message header has too many fields; smarthost-milter takes at most 1000 header fields and 1048576 bytes of header per message"'
expect_log HDRMEM 'decision=tempfail reason="header too large"'
mt limits.lua legacy=1 || fail "limits.lua legacy=1"

# --- reload --------------------------------------------------------------
mt reload.lua phase=old || fail "reload.lua before reload"
cp "$T/relay.map" "$T/relay.map.good"
printf '* boss@163.com rewrite\n@bad..domain boss@163.com\n' >>"$T/relay.map"
kill -HUP $mpid
for _ in $(seq 50); do grep -q "keeping the previous one" "$T/milter.log" && break; sleep 0.1; done
grep -q "keeping the previous one" "$T/milter.log" || fail "broken map not reported"
grep -qF "relay.map:13: " "$T/milter.log" || fail "broken map error lacks file:line"
kill -0 $mpid || fail "milter died on SIGHUP"
ok "SIGHUP with a broken map: error with file:line, filter alive"
mt reload.lua phase=old || fail "old routes not kept after a broken reload"
cp "$T/relay.map.good" "$T/relay.map"
echo '* boss@163.com rewrite' >>"$T/relay.map"
kill -HUP $mpid
for _ in $(seq 50); do grep -q "reloaded " "$T/milter.log" && break; sleep 0.1; done
grep -q "reloaded " "$T/milter.log" || fail "good map not reloaded"
mt reload.lua phase=new || fail "new routes not in force after a good reload"
ok "a good reload replaces the routes"

# --- other actions ---------------------------------------------------------
cp "$T/relay.map.good" "$T/relay.map"
sed -i 's/^dns-timeout = 1s$/&\nno-route = tempfail\ndmarc = tag\nfrom-header = accept\nreply-to = none/' "$T/smarthost.conf"
kill -HUP $mpid
for _ in $(seq 50); do [ "$(grep -c "reloaded " "$T/milter.log")" = 2 ] && break; sleep 0.1; done
[ "$(grep -c "reloaded " "$T/milter.log")" = 2 ] || fail "new actions not reloaded"
mt actions.lua || fail "actions.lua"
expect_log ACT-NOROUTE 'decision=tempfail reason="no route"'
expect_log ACT-NOROUTE 'reply="451 4.7.1 no route for sender nobody@nowhere.test'
expect_log ACT-DMARC 'decision=accept reason="DMARC would fail"'
expect_log DNSFAIL 'decision=tempfail reason="DNS failure"'
expect_log ACT-DNSFAIL 'decision=accept reason=ok'
ok "actions: tempfail, tag, accept; a DNS failure is a tempfail unless dmarc = tag"
mt replyto.lua phase=none || fail "replyto.lua phase=none"
expect_log RT-GNONE "reply-to=none:option"
expect_log RT-GORIG "reply-to=added"
expect_log RT-GAUTO "reply-to=added"
ok "reply-to = none in [milter]; a relay.map line's reply-to= overrides it"

# --- stop ----------------------------------------------------------------
kill -TERM $mpid
for _ in $(seq 30); do kill -0 $mpid 2>/dev/null || break; sleep 0.1; done
kill -0 $mpid 2>/dev/null && fail "milter still running 3 s after SIGTERM"
wait $mpid
rc=$?
[ $rc = 0 ] || fail "milter exited $rc after SIGTERM"
grep -q "stopped" "$T/milter.log" || fail "no 'stopped' in the log"
ok "SIGTERM stops the filter cleanly"
grep -Ei "error|warning" "$T/milter.log" | grep -v "relay.map:13\|keeping the previous" &&
    fail "unexpected errors in the log"
echo "all milter cases passed"
