# sendmail.sh — a real Sendmail 8.17 for tests, run from Debian's packages
# unpacked into a cache directory.  Source common.sh first, then this file:
#
#	sm_fetch			# before t_enter_netns (needs apt)
#	t_enter_netns "$@"
#	sm_check			# fails naming what is missing
#	t_tmpdir
#	sm_mc_base "$T_TMP/sm" 2526 >"$T_TMP/sm.mc"
#	echo "define(\`SMART_HOST', \`[127.0.0.1]')dnl" >>"$T_TMP/sm.mc"
#	echo "MAILER(\`smtp')dnl" >>"$T_TMP/sm.mc"
#	sm_build "$T_TMP/sm.mc" "$T_TMP/sm.cf"
#	sm_start "$T_TMP/sm" "$T_TMP/sm.cf" 2526
#
# Debian's sendmail-bin conflicts with postfix (both provide
# mail-transport-agent), so it is not installed: sm_fetch downloads
# sendmail-bin, sendmail-base and sendmail-cf once with `apt-get download`
# into $SMARTHOST_CACHE/sendmail (default /var/cache/smarthost-tests) and
# unpacks them there.  The daemon needs libwrap0, liblockfile1 and m4
# (contrib/install-deps).
#
# sm_fetch		Download and unpack unless already there; inside the
#			network namespace it does nothing (sm_check then says
#			what is missing).
# sm_check		Fail unless the daemon, its libraries and m4 are there.
# sm_mc_base DIR PORT	Print the .mc lines of a throwaway instance in DIR
#			(created: queue, pid file, aliases, a service switch
#			without DNS): OSTYPE(linux), domain mx.office.test, no
#			DNS search, no MSA, relaying for anyone, a listener on
#			127.0.0.1:PORT.  Add the smart host, milter and MAILER
#			lines after it.  Needs /etc/hosts to name mx.office.test
#			(t_hosts "127.0.0.1 mx.office.test").
# sm_build MC CF		m4 the .mc into a .cf; fails with m4's message when m4
#			fails or complains (cf.m4's own warnings pass).
# sm_start DIR CF PORT	Run the daemon (-bD, SMTP transcript in DIR/smtp.trace)
#			as T_PID_sendmail, wait (10 s) for the listener.

SM_CACHE=${SMARTHOST_CACHE:-/var/cache/smarthost-tests}/sendmail
SM_BIN=$SM_CACHE/root/usr/libexec/sendmail/sendmail
SM_CF_DIR=$SM_CACHE/root/usr/share/sendmail/cf

sm_fetch() {
	local d
	[ "${T_IN_NETNS:-}" != 1 ] && [ ! -x "$SM_BIN" ] || return 0
	mkdir -p "$SM_CACHE/debs" "$SM_CACHE/root" || t_fail "cannot create $SM_CACHE"
	(cd "$SM_CACHE/debs" && timeout 120 apt-get download -q sendmail-bin \
	    sendmail-base sendmail-cf >/dev/null 2>&1) ||
	    t_fail "cannot fetch Sendmail (apt-get download sendmail-bin sendmail-base sendmail-cf)"
	for d in "$SM_CACHE"/debs/*.deb; do
		dpkg -x "$d" "$SM_CACHE/root" || t_fail "dpkg -x $d"
	done
}

sm_check() {
	local missing
	t_need m4
	[ -x "$SM_BIN" ] || t_fail "$SM_BIN missing (sm_fetch runs apt-get download before the namespace)"
	missing=$(ldd "$SM_BIN" | grep "not found")
	[ -z "$missing" ] ||
	    t_fail "Sendmail lacks libraries (packages libwrap0 liblockfile1): $missing"
	[ -f "$SM_CF_DIR/m4/cf.m4" ] || t_fail "$SM_CF_DIR/m4/cf.m4 missing (package sendmail-cf)"
}

sm_mc_base() {
	local d=${1:?sm_mc_base DIR PORT} port=${2:?sm_mc_base DIR PORT}
	mkdir -p "$d/queue" && chmod 700 "$d/queue" || t_fail "cannot create $d/queue"
	printf 'hosts files\n' >"$d/service.switch"
	: >"$d/aliases"
	cat <<MC
divert(0)dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`mx.office.test')dnl
define(\`QUEUE_DIR', \`$d/queue')dnl
define(\`confPID_FILE', \`$d/sendmail.pid')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confSERVICE_SWITCH_FILE', \`$d/service.switch')dnl
define(\`confBIND_OPTS', \`-DNSRCH -DEFNAMES')dnl
define(\`ALIAS_FILE', \`$d/aliases')dnl
define(\`confDEF_USER_ID', \`nobody:nogroup')dnl
define(\`confTO_ICONNECT', \`5s')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`promiscuous_relay')dnl
FEATURE(\`accept_unresolvable_domains')dnl
DAEMON_OPTIONS(\`Port=$port, Addr=127.0.0.1, Name=MTA')dnl
MC
}

sm_build() {
	local mc=${1:?sm_build MC CF} cf=${2:?sm_build MC CF}
	m4 -D_CF_DIR_="$SM_CF_DIR/" "$SM_CF_DIR/m4/cf.m4" "$mc" >"$cf" 2>"$cf.m4err" ||
	    t_fail "m4 $mc: $(cat "$cf.m4err")"
	# cf.m4 warns (promiscuous_relay) on stderr; m4's own complaints
	# ("m4:FILE:LINE: ...", e.g. an unterminated quote) fail.
	grep -q '^m4:' "$cf.m4err" && t_fail "m4 $mc: $(cat "$cf.m4err")"
	return 0
}

sm_start() {
	local d=${1:?sm_start DIR CF PORT} cf=${2:?} port=${3:?}
	t_spawn sendmail "$d/sendmail.log" "$SM_BIN" -C "$cf" -bD -X "$d/smtp.trace"
	t_wait_port 127.0.0.1 "$port" 10 ||
	    t_fail "sendmail did not listen on $port: $(cat "$d/sendmail.log")"
}
