# dns.sh — a dnsmasq on 127.0.0.1:53 as the only resolver of the test's
# network namespace, answering from the records the test gives it.  Source
# after tests/lib/common.sh, inside the namespace (t_enter_netns):
#
#	dns_start [dnsmasq options...]	# e.g. --local=/test/ --txt-record=...
#	dns_start --local=/com/ "${DNS_163[@]}"
#
# dns_start binds a private /etc/resolv.conf naming 127.0.0.1 (t_resolv),
# starts dnsmasq (t_spawn dns, log $T_TMP/dnsmasq.log) reading no
# configuration, /etc/hosts or upstream of this machine, and waits until
# it listens.  DNS_163: the options of 163.com's SPF (spf.163.com,
# 203.0.113.0/24) and DMARC (p=none) records, the provider account most
# tests route through.

DNS_163=(
	--txt-record='spf.163.com,v=spf1 ip4:203.0.113.0/24 -all'
	--txt-record='163.com,v=spf1 include:spf.163.com -all'
	--txt-record='_dmarc.163.com,v=DMARC1; p=none'
)

dns_start() {
	t_need dnsmasq
	t_resolv 127.0.0.1
	t_spawn dns "$T_TMP/dnsmasq.log" dnsmasq -k -u root --conf-file=/dev/null \
	    --no-resolv --no-hosts --listen-address=127.0.0.1 --bind-interfaces "$@"
	t_wait_port 127.0.0.1 53 5 ||
	    { cat "$T_TMP/dnsmasq.log" >&2; t_fail "dnsmasq did not start"; }
}
