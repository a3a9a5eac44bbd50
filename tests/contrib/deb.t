#!/usr/bin/env bash
# deb.t — debian/ agrees with the tree, without building the package (that
# is make deb; tests/fresh/package.sh installs it on a fresh Debian 12):
#  - conf/ holds exactly the files the package knows: smarthost.conf and
#    relay.map (conffiles), secrets (made by postinst, never shipped);
#  - the conffiles debian/rules makes from conf/ (smarthost-conffiles) are
#    valid: smarthostctl check passes them with the secrets file postinst
#    makes, the map routes nobody, the milter socket is inside Postfix's
#    chroot, smarthostctl postfix names it unix:smarthost/milter.sock and
#    keeps the chroot, smarthost-milter -n accepts them; the Debian
#    tmpfiles.d line makes that socket's directory;
#  - the rule fails when conf/smarthost.conf no longer has the line it
#    changes (so the package cannot silently keep the socket outside);
#  - every unit in contrib/systemd has a drop-in in debian/ that debian/rules
#    installs, whose commands are the unit's with /usr/sbin;
#  - every Build-Depends of debian/control is in contrib/install-deps, and
#    every pkg-config module of the Makefile's PKGS comes from one of them.
set -u
. "${SMARTHOST_TOP:-.}/tests/lib/common.sh"
t_need make
t_tmpdir
D=$T_TMP
cd "$SMARTHOST_TOP" || t_fail "no source tree"
for p in smarthostctl smarthost-milter; do
	[ -x "$B/$p" ] || t_fail "$B/$p not built (run make)"
done

# 1. conf/ and the package's handling of each file.
t_assert_eq "relay.map secrets smarthost.conf" "$(cd conf && echo *)" \
    "conf/ (a new file there needs a place in debian/)"
t_assert_grep '^	rm -f \$\(ETC\)/secrets$' debian/rules "debian/rules drops the secrets sample"
t_assert_grep '/etc/smarthost/secrets' debian/postinst "postinst makes the secrets file"
t_ok "conf/: two conffiles and the secrets file postinst makes"

# 2. The conffiles as the package ships them.
mkdir -p "$D/etc"
make -s -f debian/rules smarthost-conffiles ETC="$D/etc" >"$D/rules.out" 2>&1 ||
    { cat "$D/rules.out" >&2; t_fail "debian/rules smarthost-conffiles failed"; }
[ "$(cd "$D/etc" && echo *)" = "relay.map smarthost.conf" ] ||
    t_fail "smarthost-conffiles made: $(cd "$D/etc" && echo *)"
sed -i -e "s#/etc/smarthost/#$D/etc/#" -e "s#^\#state-dir = .*#state-dir = $D/state#" \
    "$D/etc/smarthost.conf"
t_assert_grep "^relay-map = $D/etc/relay.map\$" "$D/etc/smarthost.conf" "paths moved to the test's"
t_assert_grep '^socket = unix:/var/spool/postfix/smarthost/milter.sock$' "$D/etc/smarthost.conf" \
    "the package's milter socket"
t_assert_no_grep '^[^#[:space:]]' "$D/etc/relay.map" "the package's relay.map routes nobody"
(umask 077 && sed -n '/<<.SECRETS./,/^SECRETS$/p' debian/postinst | sed '1d;$d' >"$D/etc/secrets")
t_assert_grep '^# /etc/smarthost/secrets' "$D/etc/secrets" "postinst's secrets text extracted"
"$B/smarthostctl" -c "$D/etc/smarthost.conf" check >"$D/check.out" 2>&1 ||
    { cat "$D/check.out" >&2; t_fail "smarthostctl check refuses the package's conffiles"; }
t_assert_grep '\(0 routes, [0-9]+ accounts?\), .*: OK$' "$D/check.out" "smarthostctl check"
t_assert_no_grep 'warning' "$D/check.out" "smarthostctl check"
"$B/smarthostctl" -c "$D/etc/smarthost.conf" postfix >"$D/postfix.out" 2>&1 ||
    { cat "$D/postfix.out" >&2; t_fail "smarthostctl postfix failed"; }
t_assert_grep '^smtpd_milters = unix:smarthost/milter\.sock$' "$D/postfix.out" "smarthostctl postfix"
t_assert_no_grep 'chroot = n' "$D/postfix.out" "smarthostctl postfix keeps the chroot"
"$B/smarthost-milter" -n -c "$D/etc/smarthost.conf" >"$D/milter.out" 2>&1 ||
    { cat "$D/milter.out" >&2; t_fail "smarthost-milter -n refuses the package's conffiles"; }
t_assert_grep '^d +/var/spool/postfix/smarthost +0755 +smarthost +smarthost ' debian/tmpfiles-postfix \
    "tmpfiles.d makes the socket's directory, writable by smarthost only"
t_ok "package conffiles: valid, no route, socket unix:smarthost/milter.sock inside the chroot"

# 3. The rule refuses a conf/smarthost.conf it cannot change.
mkdir -p "$D/tree/conf" "$D/tree/debian" "$D/etc2"
cp debian/rules "$D/tree/debian/"
cp conf/relay.map "$D/tree/conf/"
sed 's|^#socket = unix:/run/smarthost/milter.sock$|#socket = unix:/run/elsewhere.sock|' \
    conf/smarthost.conf >"$D/tree/conf/smarthost.conf"
if (cd "$D/tree" && make -s -f debian/rules smarthost-conffiles ETC="$D/etc2") \
    >"$D/rules2.out" 2>&1; then
	t_fail "debian/rules accepted a smarthost.conf without the socket line it changes"
fi
t_ok "debian/rules fails when conf/smarthost.conf lacks the line it changes"

# 4. Units and their Debian drop-ins.
units=$(cd contrib/systemd && ls *.service | sed 's/\.service$//' | tr '\n' ' ')
inrules=$(sed -n 's/^	for u in \(.*\); do \\$/\1/p' debian/rules)
t_assert_eq "${units% }" "$inrules" "units debian/rules installs"
for u in $units; do
	[ -f "debian/$u.conf" ] || t_fail "no drop-in debian/$u.conf for contrib/systemd/$u.service"
	grep -E '^Exec[A-Za-z]+=.' "contrib/systemd/$u.service" |
	    sed 's#/usr/local/sbin/#/usr/sbin/#' >"$D/$u.want"
	grep -E '^Exec[A-Za-z]+=.' "debian/$u.conf" >"$D/$u.got"
	diff "$D/$u.want" "$D/$u.got" >&2 ||
	    t_fail "debian/$u.conf: its commands differ from contrib/systemd/$u.service's"
	for k in $(grep -oE '^Exec[A-Za-z]+' "$D/$u.got" | sort -u); do
		grep -qx "$k=" "debian/$u.conf" ||
		    t_fail "debian/$u.conf: $k= is not reset before it is set"
	done
done
t_ok "each unit has a drop-in with the same commands in /usr/sbin"

# 5. Build-Depends: what install-deps installs, so a machine that runs make
# check builds the package with no surprise.
mapfile -t have < <(contrib/install-deps --list)
sed -n '/^Build-Depends:/,/^[A-Z][A-Za-z-]*:/p' debian/control | sed '$d' |
    sed 's/^Build-Depends://' | tr ',' '\n' | sed 's/(.*)//; s/[[:space:]]//g' |
    grep . >"$D/bdeps"
[ "$(wc -l <"$D/bdeps")" -ge 5 ] || t_fail "no Build-Depends read from debian/control"
while read -r p; do
	[ "$p" = debhelper-compat ] && continue
	printf '%s\n' "${have[@]}" | grep -qx "$p" ||
	    t_fail "Build-Depends $p is not in contrib/install-deps"
done <"$D/bdeps"
t_ok "Build-Depends ($(wc -l <"$D/bdeps")) within contrib/install-deps"

# 6. Every pkg-config module the Makefile builds with (PKGS) comes from a
# package named in Build-Depends.
t_need pkg-config
mods=$(sed -n 's/^PKGS *= *//p' Makefile)
[ -n "$mods" ] || t_fail "no PKGS line in the Makefile"
for m in $mods; do
	pc=$(pkg-config --variable=pcfiledir "$m")/$m.pc
	[ -f "$pc" ] || t_fail "pkg-config module $m: no $pc"
	pkg=$(dpkg-query -S "$pc" | sed 's/:.*//')
	grep -qx "$pkg" "$D/bdeps" ||
	    t_fail "pkg-config module $m comes from $pkg, which debian/control's Build-Depends lacks"
done
t_ok "Build-Depends ship every pkg-config module of PKGS ($mods)"
