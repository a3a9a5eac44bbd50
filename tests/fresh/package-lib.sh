# package-lib.sh — the steps of tests/fresh/package.sh, run inside the
# bootstrapped Debian 12 (bash, as root, in /root where the .deb is).  Each
# prints what it checks and fails (exit 1) at the first check that does not
# hold.

fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }

# have WHAT FILE PATTERN: FILE contains a line matching the ERE PATTERN.
have() {
	grep -Eq -- "$3" "$2" || { sed 's/^/  | /' "$2"; fail "$1: no line matching /$3/ in $2"; }
	ok "$1"
}

# modes PATH "MODE USER GROUP"
modes() {
	local got
	got=$(stat -c '%a %U %G' "$1" 2>&1)
	[ "$got" = "$2" ] || fail "$1: $got, expected $2"
	ok "$1 is $2"
}

conf=/etc/smarthost/smarthost.conf

install_package() {
	# Postfix comes as the package's Recommends; as an Internet Site its
	# master.cf is Debian's: smtpd chrooted.
	echo "postfix postfix/main_mailer_type select Internet Site" | debconf-set-selections
	echo "postfix postfix/mailname string fresh.example" | debconf-set-selections
	apt-get update -q
	apt-get install -y -q ./smarthost_*.deb
	dpkg-query -W -f='${Package} ${Status} ${Version}\n' smarthost postfix | tee /tmp/st
	have "smarthost installed" /tmp/st '^smarthost install ok installed '
	have "postfix installed (Recommends)" /tmp/st '^postfix install ok installed '
	# The test's SMTP client; not the package's business.
	apt-get install -y -q --no-install-recommends swaks
}

check_installed() {
	local u
	getent passwd smarthost >/tmp/pw || fail "no user smarthost"
	have "user smarthost from sysusers.d, home /var/lib/smarthost, no shell" /tmp/pw \
	    '^smarthost:x:[0-9]+:[0-9]+:[^:]*:/var/lib/smarthost:/usr/sbin/nologin$'
	modes /etc/smarthost/secrets "600 root root"
	if dpkg -S /etc/smarthost/secrets >/dev/null 2>&1; then
		fail "/etc/smarthost/secrets belongs to a package; postinst must create it"
	fi
	ok "secrets is no file of dpkg's"
	modes /var/lib/smarthost "750 smarthost smarthost"
	modes /var/spool/postfix/smarthost "755 smarthost smarthost"
	dpkg-query -W -f='${Conffiles}\n' smarthost >/tmp/cf
	have "conffile smarthost.conf" /tmp/cf '^ /etc/smarthost/smarthost.conf [0-9a-f]{32}$'
	have "conffile relay.map" /tmp/cf '^ /etc/smarthost/relay.map [0-9a-f]{32}$'
	for u in smarthost-milter smarthost-relay; do
		[ -L /etc/systemd/system/multi-user.target.wants/$u.service ] ||
		    fail "$u.service not enabled"
		ok "$u.service enabled"
	done
	for p in smarthost-milter smarthost-relay smarthostctl; do
		[ -x /usr/sbin/$p ] || fail "/usr/sbin/$p missing"
		[ -f /usr/share/man/man8/$p.8.gz ] || fail "man page $p.8 missing"
	done
	ok "programs in /usr/sbin with their man pages"

	smarthostctl check >/tmp/out 2>&1 || { cat /tmp/out; fail "smarthostctl check: exit $?"; }
	have "smarthostctl check: sample configuration OK" /tmp/out ': OK'
	smarthostctl providers >/tmp/out 2>&1 || { cat /tmp/out; fail "smarthostctl providers: exit $?"; }
	have "smarthostctl providers lists qq.com" /tmp/out 'qq\.com'
	smarthostctl postfix >/tmp/out 2>&1 || { cat /tmp/out; fail "smarthostctl postfix: exit $?"; }
	have "smarthostctl postfix: socket as the chrooted smtpd sees it" /tmp/out \
	    '^smtpd_milters = unix:smarthost/milter\.sock$'
	if grep -q 'chroot = n' /tmp/out; then
		fail "smarthostctl postfix turns the chroot off although the socket is inside it"
	fi
	ok "smarthostctl postfix keeps the chroot"
	smarthost-relay -n -c $conf >/tmp/out 2>&1 || { cat /tmp/out; fail "smarthost-relay -n: exit $?"; }
	have "smarthost-relay -n" /tmp/out 'configuration OK'
	smarthost-milter -n -c $conf >/tmp/out 2>&1 || { cat /tmp/out; fail "smarthost-milter -n: exit $?"; }
	have "smarthost-milter -n" /tmp/out 'configuration OK'
	# Silent only with the drop-ins applied: the units alone name
	# /usr/local/sbin, which does not exist here.
	systemd-analyze verify --man=no /lib/systemd/system/smarthost-milter.service \
	    /lib/systemd/system/smarthost-relay.service >/tmp/out 2>&1 ||
	    { cat /tmp/out; fail "systemd-analyze verify: exit $?"; }
	[ ! -s /tmp/out ] || { cat /tmp/out; fail "systemd-analyze verify printed diagnostics"; }
	ok "systemd-analyze verify: both units, no diagnostic"
}

# swaks_to EXPECT_ERE FROM TO: one message to the local smtpd; its
# transcript must match EXPECT_ERE.
swaks_to() {
	swaks --server 127.0.0.1 --port 25 --helo client.example --from "$2" \
	    --to "$3" --timeout 20 >/tmp/swaks 2>&1 || true
	have "mail from $2 to $3: $1" /tmp/swaks "$1"
}

postfix_milter() {
	local gid i pid
	postconf -F smtp/inet/chroot >/tmp/out
	have "Debian's master.cf runs smtpd chrooted" /tmp/out '^smtp/inet/chroot = y$'
	smarthostctl postfix --postconf | sh -e
	postconf -F smtp/inet/chroot cleanup/unix/chroot >/tmp/out
	have "smtpd still chrooted after smarthostctl's settings" /tmp/out '^smtp/inet/chroot = y$'
	have "cleanup still chrooted" /tmp/out '^cleanup/unix/chroot = y$'
	postconf -n smtpd_milters >/tmp/out
	have "smtpd_milters" /tmp/out '^smtpd_milters = unix:smarthost/milter\.sock$'
	postfix start
	for i in $(seq 50); do
		postfix status >/dev/null 2>&1 && break
		sleep 0.2
	done
	postfix status || fail "postfix did not start"

	# Without the milter: Postfix's tempfail for an unreachable milter.
	swaks_to '^<\*\* +451 4\.7\.1 ' someone@outside.example friend@example.net

	# As the unit starts it: user smarthost, supplementary group postfix.
	gid=$(getent group postfix | cut -d: -f3)
	setpriv --reuid smarthost --regid smarthost --groups "$gid" --inh-caps=-all \
	    smarthost-milter -f -c $conf >/tmp/milter.log 2>&1 &
	pid=$!
	for i in $(seq 100); do
		[ -S /var/spool/postfix/smarthost/milter.sock ] && break
		kill -0 $pid 2>/dev/null || { cat /tmp/milter.log; fail "milter exited"; }
		sleep 0.1
	done
	modes /var/spool/postfix/smarthost/milter.sock "660 smarthost postfix"
	# The shipped relay.map routes nobody: the milter refuses at RCPT.
	swaks_to '^<\*\* +5[0-9][0-9] 5\.7\.[0-9]+ ' someone@outside.example friend@example.net
	sed 's/^/  milter | /' /tmp/milter.log
	have "the milter logged its decision on the unrouted sender" /tmp/milter.log \
	    'sender=<someone@outside\.example> .*decision=reject reason="no route"'
	kill $pid
	wait $pid || true
	postfix stop
}

upgrade() {
	local uid
	uid=$(id -u smarthost)
	printf '%s\n' '# kept by the upgrade' 'boss@163.com  boss@163.com' >>/etc/smarthost/relay.map
	printf '%s\n' 'boss@163.com  CODE-OF-THE-ADMINISTRATOR' >>/etc/smarthost/secrets
	sha256sum /etc/smarthost/relay.map /etc/smarthost/secrets $conf >/tmp/before
	apt-get install -y -q --reinstall ./smarthost_*.deb
	sha256sum /etc/smarthost/relay.map /etc/smarthost/secrets $conf >/tmp/after
	diff /tmp/before /tmp/after || fail "the reinstall changed the configuration"
	ok "edited relay.map, secrets and smarthost.conf unchanged"
	if ls /etc/smarthost/*.dpkg-* 2>/dev/null; then
		fail "dpkg left new or old copies of conffiles"
	fi
	ok "no .dpkg-new/.dpkg-dist/.dpkg-old"
	modes /etc/smarthost/secrets "600 root root"
	[ "$(id -u smarthost)" = "$uid" ] || fail "the user smarthost changed"
	ok "user smarthost kept (uid $uid)"
	smarthostctl route boss@163.com >/tmp/out 2>&1 || { cat /tmp/out; fail "smarthostctl route: exit $?"; }
	have "the edited map routes boss@163.com" /tmp/out 'boss@163\.com'
}

remove_purge() {
	local uid
	uid=$(id -u smarthost)
	echo "the administrator's notes" >/etc/smarthost/notes.txt
	install -d -o smarthost -g smarthost -m 700 /var/lib/smarthost/oauth
	echo '{}' >/var/lib/smarthost/oauth/office@outlook.com.json
	chown smarthost:smarthost /var/lib/smarthost/oauth/office@outlook.com.json

	apt-get remove -y -q smarthost
	[ ! -e /usr/sbin/smarthost-relay ] || fail "remove left the programs"
	for f in smarthost.conf relay.map secrets; do
		[ -f /etc/smarthost/$f ] || fail "remove took /etc/smarthost/$f"
	done
	getent passwd smarthost >/dev/null || fail "remove took the user"
	[ -f /var/lib/smarthost/oauth/office@outlook.com.json ] || fail "remove took the state"
	ok "remove: programs gone, configuration, state and user kept"

	apt-get purge -y -q smarthost
	for f in smarthost.conf relay.map secrets; do
		[ ! -e /etc/smarthost/$f ] || fail "purge left /etc/smarthost/$f"
	done
	ok "purge: conffiles (relay.map edited) and secrets removed"
	[ -f /etc/smarthost/notes.txt ] || fail "purge removed the administrator's own file"
	ok "purge: the administrator's notes.txt kept"
	for d in /var/lib/smarthost /var/spool/postfix/smarthost; do
		[ ! -e $d ] || fail "purge left $d"
	done
	ok "purge: /var/lib/smarthost and /var/spool/postfix/smarthost removed"
	! getent passwd smarthost || fail "purge left the user smarthost"
	! getent group smarthost || fail "purge left the group smarthost"
	ok "purge: user and group smarthost removed"
	find / -xdev \( -uid "$uid" -o -gid "$uid" \) -print >/tmp/left 2>/dev/null || true
	[ ! -s /tmp/left ] || { cat /tmp/left; fail "files of uid $uid remain"; }
	ok "no file of the former uid $uid remains"
	for u in smarthost-milter smarthost-relay; do
		[ ! -e /etc/systemd/system/multi-user.target.wants/$u.service ] ||
		    fail "purge left $u.service enabled"
	done
	ok "purge: units no longer enabled"
	dpkg-query -W -f='${Status}\n' smarthost >/tmp/st 2>&1 || true
	! grep -Eq ' (installed|config-files)$' /tmp/st || { cat /tmp/st; fail "dpkg still knows smarthost"; }
	ok "dpkg: smarthost not installed"
}
