#!/usr/bin/env bash
# systemd.t — contrib/systemd units, sysusers.d and tmpfiles.d entries:
#  - systemd-analyze verify accepts both units with no diagnostic at all
#    (ExecStart paths pointed at the built binaries; a deliberately broken
#    copy must produce a diagnostic, so the check can fail);
#  - the hardening the units promise is there, and systemd-analyze security
#    rates each unit's exposure at most 2.0;
#  - every Documentation= man page exists in man/;
#  - systemd-sysusers creates the smarthost user and systemd-tmpfiles the
#    directories with the stated owners and modes, in a scratch --root.
# Needs systemd-analyze, systemd-sysusers, systemd-tmpfiles (package
# systemd); fails naming them when absent.
set -u
. "${SMARTHOST_TOP:-.}/tests/lib/common.sh"
t_need systemd-analyze systemd-sysusers systemd-tmpfiles
t_tmpdir
D=$T_TMP
C=$SMARTHOST_TOP/contrib
UNITS="smarthost-milter smarthost-relay"

for u in $UNITS; do
	[ -f "$C/systemd/$u.service" ] || t_fail "contrib/systemd/$u.service missing"
	[ -x "$B/$u" ] || t_fail "$B/$u not built (run make)"
	sed "s#/usr/local/sbin/#$B/#g" "$C/systemd/$u.service" >"$D/$u.service"
done

# 1. systemd-analyze verify: silent and successful.  Man pages are checked
# against man/ below (they are not installed here).
verify() {
	(cd "$D" && systemd-analyze verify --man=no "$@") >"$D/verify.out" 2>&1
}
verify ./smarthost-milter.service ./smarthost-relay.service ||
    { cat "$D/verify.out"; t_fail "systemd-analyze verify failed"; }
[ -s "$D/verify.out" ] && { cat "$D/verify.out"; t_fail "systemd-analyze verify complained"; }
sed 's/^NoNewPrivileges=/NoNewPrivilege=/' "$D/smarthost-relay.service" \
    >"$D/broken.service"
verify ./broken.service
t_assert_grep "Unknown key 'NoNewPrivilege'" "$D/verify.out" "verify on a broken unit"
t_ok "systemd-analyze verify: both units clean (and a misspelt key is reported)"

# 2. the promised settings
need_line() {	# unit line-regex
	grep -Eq "^$2\$" "$C/systemd/$1.service" ||
	    t_fail "$1.service lacks a line matching ^$2\$"
}
for u in $UNITS; do
	for l in 'User=smarthost' 'Group=smarthost' 'NoNewPrivileges=yes' \
	    'ProtectSystem=strict' 'PrivateTmp=yes' 'RuntimeDirectory=smarthost' \
	    'RuntimeDirectoryPreserve=yes' 'CapabilityBoundingSet=' \
	    "ExecStart=/usr/local/sbin/$u -f -c /etc/smarthost/smarthost.conf" \
	    "ExecStartPre=/usr/local/sbin/$u -n -c /etc/smarthost/smarthost.conf" \
	    'ExecReload=/bin/kill -HUP \$MAINPID'; do
		need_line "$u" "$l"
	done
done
need_line smarthost-relay 'StateDirectory=smarthost'
# allow-users: the owner of a TCP client's socket comes from NETLINK_SOCK_DIAG
need_line smarthost-relay 'RestrictAddressFamilies=(AF_[A-Z0-9]+ )*AF_NETLINK( AF_[A-Z0-9]+)*'
need_line smarthost-relay 'LoadCredential=secrets:/etc/smarthost/secrets'
need_line smarthost-relay 'BindReadOnlyPaths=%d/secrets:/etc/smarthost/secrets'
grep -q '^LoadCredential' "$C/systemd/smarthost-milter.service" &&
    t_fail "the milter never reads secrets: it must get no credential"
t_ok "units run as smarthost with NoNewPrivileges, ProtectSystem=strict, PrivateTmp, Runtime/StateDirectory, LoadCredential and AF_NETLINK (relay only), check before start and reload"

for u in $UNITS; do
	(cd "$D" && systemd-analyze security --offline=yes --no-pager "./$u.service") \
	    >"$D/$u.security" 2>&1
	score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' \
	    "$D/$u.security")
	[ -n "$score" ] || { cat "$D/$u.security"; t_fail "no exposure level for $u"; }
	awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' ||
	    { grep '✗' "$D/$u.security"; t_fail "$u exposure $score > 2.0"; }
	t_ok "$u: systemd-analyze security exposure $score (<= 2.0)"
done

# 3. Documentation= pages exist in man/
for u in $UNITS; do
	for m in $(sed -n 's/^Documentation=//p' "$C/systemd/$u.service"); do
		m=${m#man:}
		page=${m%(*}
		sec=${m#*(}
		sec=${sec%)}
		[ -f "$SMARTHOST_TOP/man/$page.$sec" ] ||
		    t_fail "$u.service documents $m but man/$page.$sec is missing"
	done
done
t_ok "every Documentation= man page exists in man/"

# 4. sysusers.d and tmpfiles.d applied to a scratch root
R=$D/root
mkdir -p "$R/etc/smarthost"
cp /etc/passwd /etc/group "$R/etc/"
: >"$R/etc/shadow"
: >"$R/etc/gshadow"
systemd-sysusers --root="$R" "$C/sysusers.d/smarthost.conf" >"$D/sysusers.out" 2>&1 ||
    { cat "$D/sysusers.out"; t_fail "systemd-sysusers failed"; }
line=$(grep '^smarthost:' "$R/etc/passwd") || t_fail "sysusers did not create smarthost"
IFS=: read -r _ _ uid gid _ home shell <<<"$line"
t_assert_eq /var/lib/smarthost "$home" "smarthost's home"
t_assert_eq /usr/sbin/nologin "$shell" "smarthost's shell"
grep -q "^smarthost:x:$gid:" "$R/etc/group" || t_fail "no smarthost group $gid"
t_ok "sysusers.d creates system user smarthost ($uid:$gid, nologin)"

printf 'office@qq.com code\n' >"$R/etc/smarthost/secrets"
chmod 644 "$R/etc/smarthost/secrets"
systemd-tmpfiles --create --root="$R" "$C/tmpfiles.d/smarthost.conf" \
    >"$D/tmpfiles.out" 2>&1 || { cat "$D/tmpfiles.out"; t_fail "systemd-tmpfiles failed"; }
check_path() {	# path mode uid gid
	local got
	got=$(stat -c '%a %u %g' "$R$1" 2>/dev/null) || t_fail "$1 not created"
	t_assert_eq "$2 $3 $4" "$got" "mode uid gid of $1"
}
check_path /run/smarthost 755 "$uid" "$gid"
check_path /var/lib/smarthost 750 "$uid" "$gid"
check_path /etc/smarthost 755 0 0
check_path /etc/smarthost/secrets 600 0 0
t_ok "tmpfiles.d creates /run/smarthost, /var/lib/smarthost and makes secrets 0600 root"
