#!/usr/bin/env bash
# credentials.t — the way contrib/systemd/smarthost-relay.service hands the
# secrets to the relay works with the relay's secrets loader.  No systemd
# runs here, so the test does by hand what systemd 252 does for
#	User=smarthost
#	LoadCredential=secrets:/etc/smarthost/secrets
#	BindReadOnlyPaths=%d/secrets:/etc/smarthost/secrets
# copy the file into a credentials directory (file mode 0400 owned by the
# service user, directory 0500), set $CREDENTIALS_DIRECTORY, bind-mount the
# copy over the configured path in a private mount namespace and run the
# unit's ExecStartPre (smarthost-relay -n) as the unprivileged user
# (nobody here).  Checks:
#  - with the bind: configuration OK, every account has its code;
#  - without it, the root-only secrets file is unreadable (the relay says
#    which file and why), even with $CREDENTIALS_DIRECTORY set, and with the
#    file removed the relay misses the codes (it takes "secrets" for an
#    account name): both lines of the unit are needed;
#  - a per-account credential (LoadCredential=ACCOUNT:PATH) is honoured,
#    also with an empty secrets file and every code per account.
set -u
. "${SMARTHOST_TOP:-.}/tests/lib/common.sh"
t_enter_netns "$@"	# only for the private mount namespace
t_need setpriv mount
[ -x "$B/smarthost-relay" ] || t_fail "$B/smarthost-relay not built (run make)"
t_tmpdir
D=$T_TMP
mkdir -p "$D/etc" "$D/state" "$D/creds"
printf '%s\n' '[global]' "relay-map = $D/etc/relay.map" \
    "secrets = $D/etc/secrets" "state-dir = $D/state" >"$D/etc/smarthost.conf"
printf '%s\n' '*  office@qq.com' 'scanner@office.test  alerts@163.com' \
    >"$D/etc/relay.map"
(umask 077; printf '%s\n' 'office@qq.com code-qq-1' 'alerts@163.com code-163-1' \
    >"$D/etc/secrets")
chown nobody "$D/state"

as_nobody() {	# run the unit's ExecStartPre as the service user would
	setpriv --reuid nobody --regid nogroup --clear-groups \
	    "$B/smarthost-relay" -n -c "$D/etc/smarthost.conf" >"$D/out" 2>&1
}

# systemd's credential copy
cp "$D/etc/secrets" "$D/creds/secrets"
chown nobody "$D/creds" "$D/creds/secrets"
chmod 400 "$D/creds/secrets"
chmod 500 "$D/creds"

# 1. without anything: the root-only file is refused with its reason
as_nobody && { cat "$D/out"; t_fail "nobody read a root 0600 secrets file?"; }
t_assert_grep "$D/etc/secrets: cannot open: Permission denied" "$D/out"
t_ok "as the service user, the root-only secrets file is unreadable (hence the credential)"

# 2. credentials directory without the bind: the configured file is still
# unreadable, and with that file gone "secrets" is taken for an account name
CREDENTIALS_DIRECTORY=$D/creds as_nobody
t_assert_grep "$D/etc/secrets: cannot open: Permission denied" "$D/out"
mv "$D/etc/secrets" "$D/etc/secrets.away"
CREDENTIALS_DIRECTORY=$D/creds as_nobody
mv "$D/etc/secrets.away" "$D/etc/secrets"
t_assert_grep 'no authorization code for account "office@qq.com"' "$D/out"
t_ok "LoadCredential alone is not enough: the relay cannot open or would miss the codes"

# 3. the unit's setup: credential bind-mounted over the configured path
mount --bind "$D/creds/secrets" "$D/etc/secrets" || t_fail "bind mount failed"
t_cleanup_add "umount '$D/etc/secrets'"
CREDENTIALS_DIRECTORY=$D/creds as_nobody ||
    { cat "$D/out"; t_fail "relay -n failed with the unit's credential setup"; }
t_assert_grep 'configuration OK' "$D/out"
t_assert_no_grep 'warning|error' "$D/out" "relay -n with the credential"
t_assert_no_grep 'code-qq-1|code-163-1' "$D/out" "relay -n output"
t_ok "LoadCredential + BindReadOnlyPaths: relay -n as the service user finds every code"

# 4. a per-account credential from a drop-in, the file's line removed
umount "$D/etc/secrets"
chmod 700 "$D/creds"
grep -v '^alerts@163.com' "$D/etc/secrets" >"$D/creds/secrets.new"
mv "$D/creds/secrets.new" "$D/creds/secrets"
printf 'code-163-2\n' >"$D/creds/alerts@163.com"
chown nobody "$D/creds/secrets" "$D/creds/alerts@163.com"
chmod 400 "$D/creds/secrets" "$D/creds/alerts@163.com"
chmod 500 "$D/creds"
mount --bind "$D/creds/secrets" "$D/etc/secrets" || t_fail "bind mount failed"
CREDENTIALS_DIRECTORY=$D/creds as_nobody ||
    { cat "$D/out"; t_fail "relay -n failed with a per-account credential"; }
t_assert_no_grep 'warning|error' "$D/out" "relay -n with a per-account credential"
t_ok "a per-account credential (LoadCredential=alerts@163.com:...) supplies that code"

# 5. an empty secrets file (the unit needs one) with every code per account
umount "$D/etc/secrets"
chmod 700 "$D/creds"
: >"$D/creds/secrets"
printf 'code-qq-2\n' >"$D/creds/office@qq.com"
chown nobody "$D/creds"/*
chmod 400 "$D/creds"/*
chmod 500 "$D/creds"
mount --bind "$D/creds/secrets" "$D/etc/secrets" || t_fail "bind mount failed"
CREDENTIALS_DIRECTORY=$D/creds as_nobody ||
    { cat "$D/out"; t_fail "relay -n failed with an empty secrets file"; }
t_assert_no_grep 'warning|error' "$D/out" "relay -n with only per-account credentials"
t_ok "an empty secrets file plus one credential per account is a complete setup"
