#!/usr/bin/env bash
# contrib/systemd/smarthost-return.{service,timer}: systemd-analyze verify
# is silent on both (ExecStart pointed at the built binary); the service is
# a oneshot run as smarthost with the secrets as a credential; it must not
# set NoNewPrivileges (Postfix's postdrop is set-group-ID) and may write
# /var/spool/postfix; the timer starts it.
. "$SMARTHOST_TOP/tests/lib/common.sh"
t_need systemd-analyze
t_tmpdir
C=$SMARTHOST_TOP/contrib/systemd
[ -x "$B/smarthost-return" ] || t_fail "$B/smarthost-return not built"
sed "s#/usr/local/sbin/#$B/#g" "$C/smarthost-return.service" \
    >"$T_TMP/smarthost-return.service"
cp "$C/smarthost-return.timer" "$T_TMP/"
(cd "$T_TMP" && systemd-analyze verify --man=no ./smarthost-return.service \
    ./smarthost-return.timer) >"$T_TMP/verify.out" 2>&1 ||
    { cat "$T_TMP/verify.out"; t_fail "systemd-analyze verify failed"; }
[ -s "$T_TMP/verify.out" ] &&
    { cat "$T_TMP/verify.out"; t_fail "systemd-analyze verify complained"; }
t_ok "systemd-analyze verify: service and timer clean"

for l in 'Type=oneshot' 'User=smarthost' \
    'ExecStart=/usr/local/sbin/smarthost-return -c /etc/smarthost/smarthost.conf' \
    'LoadCredential=secrets:/etc/smarthost/secrets' \
    'ReadWritePaths=-/var/spool/postfix' 'ProtectSystem=strict'; do
	grep -qxF -- "$l" "$C/smarthost-return.service" ||
	    t_fail "smarthost-return.service lacks '$l'"
done
t_assert_no_grep '^NoNewPrivileges=yes' "$C/smarthost-return.service" \
    "NoNewPrivileges would break postdrop"
t_assert_grep '^OnUnitInactiveSec=' "$C/smarthost-return.timer" "the interval"
t_assert_grep '^WantedBy=timers.target' "$C/smarthost-return.timer" "install"
t_assert_grep '^Documentation=man:smarthost-return\(8\)' \
    "$C/smarthost-return.service" "documentation"
[ -e "$SMARTHOST_TOP/man/smarthost-return.8" ] || t_fail "man page missing"
t_ok "the service runs once as smarthost, may use postdrop; the timer starts it"
