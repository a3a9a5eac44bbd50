#!/usr/bin/env bash
# resolver.t — `smarthostctl check` warns when no DNS resolver answers:
# with dmarc = reject (the default) or tempfail the milter tempfails every
# message whose DMARC lookup fails.  In a private network namespace with a
# private /etc/resolv.conf: a nameserver 127.0.0.1 with nothing listening
# (no answer), then a dnsmasq that refuses the name, then one that answers;
# and with dmarc = tag or off no warning (a DNS failure holds no mail).
. "$SMARTHOST_TOP/tests/lib/common.sh"
t_enter_netns "$@"
t_need dnsmasq
ctl=$B/smarthostctl
[ -x "$ctl" ] || t_fail "$ctl not built"
t_tmpdir
T=$T_TMP
t_resolv 127.0.0.1

# The milter looks up _dmarc.DOMAIN; check asks for the first account's.
dom=office-mail.test
conf() {	# conf [MILTER OPTION LINE]
	cat >"$T/smarthost.conf" <<CONF
[global]
relay-map = $T/relay.map
secrets = $T/secrets
[milter]
$1
[account shared]
provider = 163.com
login = ops@$dom
CONF
}
echo '*  shared  rewrite' >"$T/relay.map"
echo 'shared not-a-real-code' >"$T/secrets"
chmod 600 "$T/secrets"

check() {	# check OUTFILE: run check, its status must be 0
	local rc
	"$ctl" -c "$T/smarthost.conf" check >"$1" 2>&1
	rc=$?
	[ $rc = 0 ] || { cat "$1"; t_fail "check exited $rc, want 0 (a warning)"; }
}
warn="^$T/smarthost.conf: warning: no DNS resolver answered the TXT query for _dmarc\\.$dom"

conf ""
t0=$(date +%s)
check "$T/dead"
[ $(($(date +%s) - t0)) -le 10 ] || t_fail "check took longer than 10 s with a dead resolver"
t_assert_grep "$warn: with dmarc = reject the milter tempfails every message \\(451 4\\.4\\.3\\) until one does; check the nameservers in /etc/resolv\\.conf\$" \
    "$T/dead"
t_assert_grep ': OK \(1 warning\)$' "$T/dead"
t_ok "nothing listens on the nameserver: warning naming _dmarc.$dom and dmarc = reject, exit 0"

conf "dmarc = tempfail"
check "$T/dead-tempfail"
t_assert_grep "$warn: with dmarc = tempfail the milter tempfails" "$T/dead-tempfail"
t_ok "dmarc = tempfail: the same warning"

for v in tag off accept; do
	conf "dmarc = $v"
	check "$T/dead-$v"
	t_assert_no_grep 'warning' "$T/dead-$v"
	t_assert_grep ': OK$' "$T/dead-$v"
done
t_ok "dmarc = tag, off, accept: no warning (a DNS failure does not hold mail)"

# A nameserver that refuses the name (dnsmasq without upstream servers):
# the milter's lookup fails as well.
dns() {		# dns NAME ARGS...: (re)start dnsmasq on 127.0.0.1:53
	[ -n "${T_PID_dns:-}" ] && t_stop dns
	t_spawn dns "$T/dnsmasq-$1.log" dnsmasq -k -u root --conf-file=/dev/null \
	    --no-resolv --no-hosts --listen-address=127.0.0.1 --bind-interfaces "${@:2}"
	t_wait_port 127.0.0.1 53 5 || t_fail "dnsmasq did not start"
}
conf ""
dns refused
check "$T/refused"
t_assert_grep "$warn: with dmarc = reject" "$T/refused"
t_ok "a nameserver that refuses: warning"

dns nxdomain --local=/test/
check "$T/nxdomain"
t_assert_no_grep 'warning' "$T/nxdomain"
t_assert_grep ': OK$' "$T/nxdomain"
t_ok "a nameserver that answers 'no such name': no warning"

dns record --local=/test/ --txt-record="_dmarc.$dom,v=DMARC1; p=none"
check "$T/record"
t_assert_no_grep 'warning' "$T/record"
t_ok "a nameserver that answers with the record: no warning"
