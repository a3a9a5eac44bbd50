# Sourced by tests/ctl/postfix.t and sendmail.t after tests/lib/common.sh,
# pki.sh and smarthost.sh, inside their network namespace; not a test
# itself (no .t suffix).
#
# ctl_e2e_init: the three programs are built; T (= T_TMP) and ctl (the
# smarthostctl to test) are set.
#
# ctl_e2e_setup HOSTS CODE SOCKET LISTEN [RELAY_LINE...]: the world both
# end-to-end halves share: HOSTS in /etc/hosts, dnsmasq on 127.0.0.1
# (tests/lib/dns.sh) answering 163.com's SPF and DMARC, a provider-like
# smarthost p1 on 4651 (implicit TLS, 163's sender rule) knowing
# alerts@163.com with the authorization code CODE, and in $T a
# smarthost.conf (milter socket SOCKET, relay on LISTEN plus any
# RELAY_LINEs), relay.map and secrets sending scanner@office.test as
# alerts@163.com with rewrite.
. "$SMARTHOST_TOP/tests/lib/dns.sh"

ctl_e2e_init() {
	local b
	for b in smarthostctl smarthost-milter smarthost-relay; do
		[ -x "$B/$b" ] || t_fail "$B/$b not built"
	done
	t_tmpdir
	T=$T_TMP
	ctl=$B/smarthostctl
}

ctl_e2e_setup() {
	local hosts=$1 code=$2 socket=$3 listen=$4
	shift 4
	t_hosts "$hosts"
	dns_start --local=/test/ --local=/com/ --local=/net/ "${DNS_163[@]}"
	pki_make "$T/pki" || t_fail "pki_make failed"
	sh_users "$T/users" "alerts@163.com $code"
	sh_spawn p1 "$T/p1" 4651 --tls implicit --cert "$T/pki/server.crt" \
	    --key "$T/pki/server.key" --users "$T/users" --sender-rule 163

	mkdir -p "$T/state"
	{
		cat <<CONF
[global]
relay-map = $T/relay.map
secrets = $T/secrets
state-dir = $T/state
user = root
local-domains = office.test
internal-networks = 127.0.0.0/8
[milter]
socket = $socket
control-socket = $T/milter-control.sock
[relay]
listen = $listen
control-socket = $T/control.sock
ca-file = $T/pki/ca.crt
CONF
		[ $# -gt 0 ] && printf '%s\n' "$@"
		cat <<CONF
[account alerts@163.com]
host = smtp.test
port = 4651
tls = implicit
CONF
	} >"$T/smarthost.conf"
	echo "scanner@office.test alerts@163.com rewrite" >"$T/relay.map"
	(umask 077; echo "alerts@163.com $code" >"$T/secrets")
}

# ctl_e2e_check_arrival ID: the first message at p1 (sets eml) came as
# alerts@163.com over TLS with its login, carries X-Test-Id: ID, the
# milter's trace header and the From: the milter rewrote.
ctl_e2e_check_arrival() {
	t_assert_eq alerts@163.com "$(sh_msg_field "$T/p1" 1 mail_from)" "envelope sender at the smarthost"
	t_assert_eq alerts@163.com "$(sh_msg_field "$T/p1" 1 login)" "login at the smarthost"
	t_assert_eq true "$(sh_msg_field "$T/p1" 1 tls)" "TLS at the smarthost"
	eml=$(sh_msg_eml "$T/p1" 1)
	t_assert_grep "^X-Test-Id: $1" "$eml" "the message"
	t_assert_grep '^X-Smarthost: account=alerts@163\.com; host=smtp\.test; rewritten; spf=pass; dkim=pass \(d=163\.com\); dmarc=pass \(p=none\)' "$eml" "the milter's trace header"
	t_assert_grep '^From: Office Scanner <alerts@163\.com>' "$eml" "From rewritten by the milter"
}
