#!/usr/bin/env bash
# make install into a DESTDIR: programs, man pages and sample files land
# where INSTALL says, the secrets sample is 0600, and a second install
# never overwrites what the administrator edited.
set -u
. "$SMARTHOST_TOP/tests/lib/common.sh"
t_tmpdir
D=$T_TMP/dest
cd "$SMARTHOST_TOP" || t_fail "no source tree"
make -s install DESTDIR="$D" B="$B" >"$T_TMP/install.log" 2>&1 ||
	{ cat "$T_TMP/install.log" >&2; t_fail "make install failed"; }
for f in usr/local/sbin/smarthost-milter usr/local/sbin/smarthost-relay \
    usr/local/sbin/smarthostctl usr/local/share/man/man5/relay.map.5 \
    usr/local/share/man/man5/smarthost.conf.5 \
    usr/local/share/man/man8/smarthostctl.8 \
    usr/local/share/man/man8/smarthost-milter.8 \
    usr/local/share/man/man8/smarthost-relay.8 \
    etc/smarthost/smarthost.conf etc/smarthost/relay.map etc/smarthost/secrets; do
	[ -f "$D/$f" ] || t_fail "make install did not install /$f"
done
t_assert_eq 600 "$(stat -c %a "$D/etc/smarthost/secrets")" "secrets mode"
t_assert_eq 755 "$(stat -c %a "$D/usr/local/sbin/smarthostctl")" "smarthostctl mode"
t_ok "programs, man pages and samples installed; secrets 0600"

echo "# edited by the administrator" >>"$D/etc/smarthost/relay.map"
echo "edited  code" >"$D/etc/smarthost/secrets"
make -s install DESTDIR="$D" B="$B" >"$T_TMP/install2.log" 2>&1 ||
	{ cat "$T_TMP/install2.log" >&2; t_fail "second make install failed"; }
t_assert_grep '^# edited by the administrator$' "$D/etc/smarthost/relay.map" "relay.map kept"
t_assert_grep '^edited  code$' "$D/etc/smarthost/secrets" "secrets kept"
t_ok "a second make install keeps the administrator's files"
