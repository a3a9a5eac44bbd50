# e2e-lib.sh — the setup the milter's end-to-end tests (postfix-e2e.t,
# postfix-trust.t, dkim-keys.t, sendmail-e2e.t, ctl-from.t) share: smtp-sink
# as the provider stand-in, a smarthost.conf for the milter, the milter
# itself, and a real Postfix with it in smtpd_milters.  Source after
# tests/lib/common.sh, inside the network namespace, with T=$T_TMP:
#
#	mt_sink [NAME [PORT]]	# smtp-sink on 127.0.0.1:PORT (10025), one
#				# file per message in $T/NAME (sink)
#	mt_conf USER NETWORKS [SOCKDIR]
#		# $T/smarthost.conf: relay-map $T/relay.map, secrets
#		# $T/secrets, user USER, local-domains office.test,
#		# internal-networks NETWORKS; [milter] with the socket
#		# unix:SOCKDIR/milter.sock and the control socket in SOCKDIR
#		# ($T); the test appends more [milter] options and its
#		# [account] blocks (cat >>"$T/smarthost.conf")
#	mt_milter [SOCKDIR]	# smarthost-milter -f on $T/smarthost.conf,
#				# waits for SOCKDIR/milter.sock (SOCKDIR: $T)
#	mt_postfix [LINE...]	# Postfix in $T/pf on 2525: smtpd_milters the
#				# milter in $T, milter_default_action = tempfail,
#				# relayhost the sink on 10025, then the LINEs
#	mt_signed KEYRECORD	# signed.test, a domain that DKIM-signs its
#		# mail (selector sel, key record KEYRECORD as dnsmasq's
#		# --txt-record takes it), DMARC p=reject, SPF -all without
#		# the provider, sending through the account signed-relay
#		# (smtp.example.net, spf-include = spf.example.net):
#		# sets MT_SIGNED_DNS (dnsmasq options of these records) and
#		# MT_SIGNED_ACCOUNT (the [account] block for smarthost.conf)
#
# DNS: tests/lib/dns.sh (dns_start), sourced here.

. "$SMARTHOST_TOP/tests/lib/postfix.sh"
. "$SMARTHOST_TOP/tests/lib/dns.sh"

mt_sink() {
	local name=${1:-sink} port=${2:-10025}
	t_need smtp-sink
	mkdir -p "$T/$name" && chmod 777 "$T/$name"
	t_spawn "$name" "$T/$name.log" smtp-sink -u nobody -d "$T/$name/%M." "127.0.0.1:$port" 100
	t_wait_port 127.0.0.1 "$port" 5 || t_fail "smtp-sink $name did not listen on $port"
}

mt_conf() {
	local user=$1 networks=$2 sockdir=${3:-$T}
	cat >"$T/smarthost.conf" <<CONF
[global]
relay-map = $T/relay.map
secrets = $T/secrets
user = $user
local-domains = office.test
internal-networks = $networks
[milter]
socket = unix:$sockdir/milter.sock
control-socket = $sockdir/milter-control.sock
CONF
}

mt_milter() {
	local sock=${1:-$T}/milter.sock
	[ -x "$B/smarthost-milter" ] || t_fail "$B/smarthost-milter not built"
	t_spawn milter "$T/milter.log" "$B/smarthost-milter" -f -c "$T/smarthost.conf"
	t_wait_for "[ -S '$sock' ]" 5 ||
	    { cat "$T/milter.log" >&2; t_fail "milter socket $sock missing"; }
}

mt_postfix() {
	t_need postfix
	pf_create "$T/pf" 2525 || t_fail "pf_create"
	pf_conf "$T/pf" "smtpd_milters = unix:$T/milter.sock" \
	    "milter_default_action = tempfail" "relayhost = [127.0.0.1]:10025" "$@"
	pf_start "$T/pf"
}

mt_signed() {
	MT_SIGNED_DNS=(
		--txt-record='signed.test,v=spf1 -all'
		--txt-record='_dmarc.signed.test,v=DMARC1; p=reject'
		--txt-record="sel._domainkey.signed.test,$1"
		--txt-record='spf.example.net,v=spf1 ip4:198.51.100.0/24 -all'
	)
	MT_SIGNED_ACCOUNT='[account signed-relay]
host = smtp.example.net
login = sales@signed.test
spf-include = spf.example.net
sender-must-match = no'
}
