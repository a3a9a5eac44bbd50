#!/bin/bash
# smarthostctl check: the samples pass; a broken map, an unknown option
# and a world-readable secrets file give their exact file:line messages
# and exit 78; a relay reachable from other hosts (listen or allow-clients
# beyond loopback) is warned about; a non-root user who cannot read the
# secrets still gets the rest checked.  check asks the resolver (see
# resolver.t): a dnsmasq in a private network namespace answers it.
. "$(dirname "$0")"/common.sh
private_dns "$@"
setup_samples

run "$ctl" -c "$conf" check
expect_rc 0 "check on the samples"
expect_line "$out" "$conf, $T/relay.map (4 routes, 4 accounts), $T/secrets: OK" \
    "summary line"

# The options the sample shows commented out are valid as written.
sed 's/^#\([a-z-]* = \)/\1/' "$conf" >"$T"/all.conf
[ "$(grep -c '^[a-z-]* = ' "$T"/all.conf)" -gt "$(grep -c '^[a-z-]* = ' "$conf")" ] ||
    fail "no commented options found in the sample"
run "$ctl" -c "$T"/all.conf check
expect_rc 0 "check on the sample with every commented option set"

# A broken copy: duplicate key, unknown account, bad pattern, missing
# account, and an unknown option in smarthost.conf.
cp "$T"/relay.map "$T"/relay.map.good
n=$(wc -l <"$T"/relay.map)
cat >>"$T"/relay.map <<'MAP'
boss@163.com          alerts@163.com
@other.cn             nosuch-account
bad@pat@tern          boss@163.com
@bad_domain.com       boss@163.com
MAP
boss=$(grep -n '^boss@163.com ' "$T"/relay.map.good | cut -d: -f1)
printf '[relay]\nbogus-option = 1\n' >>"$conf"
cl=$(wc -l <"$conf")
run "$ctl" -c "$conf" check
expect_rc 78 "check on a broken configuration"
expect_line "$out" "$conf:$cl: unknown option \"bogus-option\" in [relay]" \
    "unknown option"
expect_line "$out" "$T/relay.map:$((n + 1)): duplicate pattern \"boss@163.com\" (first at $T/relay.map:$boss)" \
    "duplicate pattern names both lines"
expect_line "$out" "$T/relay.map:$((n + 2)): unknown account \"nosuch-account\" (no [account nosuch-account] block in $conf)" \
    "unknown account"
expect_line "$out" "$T/relay.map:$((n + 3)): bad pattern \"bad@pat@tern\": invalid character '@' in domain \"pat@tern\"" \
    "bad pattern (address)"
expect_line "$out" "$T/relay.map:$((n + 4)): bad pattern \"@bad_domain.com\": invalid character '_' in domain \"bad_domain.com\"" \
    "bad pattern (domain)"
expect_line "$out" "$conf: 5 errors" "error count"
# file order: smarthost.conf first, then the map lines ascending
order=$(grep -o '^[^ ]*:[0-9]*:' <<<"$out" | tr '\n' ' ')
want="$conf:$cl: $T/relay.map:$((n + 1)): $T/relay.map:$((n + 2)): $T/relay.map:$((n + 3)): $T/relay.map:$((n + 4)): "
[ "$order" = "$want" ] && ok "diagnostics in file order" || fail "order: $order"

# Back to good files; then a world-readable secrets file.
setup_samples
chmod 644 "$T"/secrets
run "$ctl" -c "$conf" check
expect_rc 78 "check with a world-readable secrets file"
expect_line "$out" "$T/secrets: bad permissions 0644: must not be readable or writable by group or other (chmod 600)" \
    "secrets message names the file and mode"
grep -q 'REPLACE-WITH' <<<"$out$err" && fail "a code was printed" ||
    ok "no code in the output"

# A missing account code is a warning at the map line, not an error.
chmod 600 "$T"/secrets
sed -i '/^office@qq.com/d' "$T"/secrets
star=$(grep -n '^\* ' "$T"/relay.map | cut -d: -f1)
run "$ctl" -c "$conf" check
expect_rc 0 "check with a code missing"
expect_line "$out" "$T/relay.map:$star: warning: no authorization code for account \"office@qq.com\"" \
    "missing code warning"

# A relay other hosts can reach is warned about, saying why.
setup_samples
sed -i 's|^#listen = .*|listen = 0.0.0.0:10025|; s|^#allow-clients = .*|allow-clients = 0.0.0.0/0|' "$conf"
run "$ctl" -c "$conf" check
expect_rc 0 "check with listen and allow-clients open to every host"
why="could send through any account with a forged From:, bypassing the milter's checks (allow-users sees only clients on this host)"
expect_line "$out" "$conf: warning: listen = 0.0.0.0:10025 is neither loopback nor a unix socket: other hosts can connect to the relay, and one that allow-clients admits $why" \
    "listen beyond loopback is warned about"
expect_line "$out" "$conf: warning: allow-clients admits 0.0.0.0/0, beyond loopback (127.0.0.0/8, ::1): a client there $why" \
    "allow-clients beyond loopback is warned about"
expect_line "$out" "$conf, $T/relay.map (4 routes, 4 accounts), $T/secrets: OK (2 warnings)" \
    "summary counts the warnings"
sed -i 's|^listen = .*|listen = 127.0.0.1:10025|; s|^allow-clients = .*|allow-clients = 127.0.0.1 127.0.0.0/8 ::1 10.1.0.0/16 ::ffff:127.0.0.1 fe80::/10|' "$conf"
run "$ctl" -c "$conf" check
expect_rc 0 "check with some networks beyond loopback"
expect_line "$out" "$conf: warning: allow-clients admits 10.1.0.0/16 fe80::/10, beyond loopback (127.0.0.0/8, ::1): a client there $why" \
    "only the networks beyond loopback are named"
grep -q 'listen = ' <<<"$out" && fail "loopback listen warned about" ||
    ok "a loopback listen is not warned about"
for l in '[::1]:10025' "unix:$T/relay.sock" '127.0.0.2:10025'; do
	sed -i "s|^listen = .*|listen = $l|; s|^allow-clients = .*|allow-clients = 127.0.0.0/8 ::1 ::ffff:127.0.0.0/104|" "$conf"
	run "$ctl" -c "$conf" check
	expect_line "$out" "$conf, $T/relay.map (4 routes, 4 accounts), $T/secrets: OK" \
	    "listen = $l, loopback clients only: no warning"
done

# A milter socket-group this host does not have: the milter could not
# start, so check fails and names the line; an inet socket needs no group.
setup_samples
g=nosuch-group-$$
getent group "$g" >/dev/null && fail "group $g exists"
sed -i "s|^\[milter\]\$|&\nsocket = unix:$T/milter.sock\nsocket-group = $g|" "$conf"
gl=$(grep -n "^socket-group = $g\$" "$conf" | cut -d: -f1)
[ -n "$gl" ] || fail "socket-group not added to $conf"
run "$ctl" -c "$conf" check
expect_rc 78 "check with a socket-group that does not exist"
expect_line "$out" "$conf:$gl: [milter] socket-group = $g: no such group on this host, so the milter cannot give its socket unix:$T/milter.sock to it; set socket-group to the group of the MTA's user (postfix for Postfix, root for Sendmail)" \
    "missing socket-group names the line"
sed -i "s|^socket = unix:.*|socket = inet:8891@127.0.0.1|" "$conf"
run "$ctl" -c "$conf" check
expect_rc 0 "check with an inet milter socket and that socket-group"

# Not root and the secrets unreadable: the rest is still checked.
setup_samples
chmod 755 "$T"; chmod 644 "$T"/smarthost.conf "$T"/relay.map
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	run setpriv --reuid=nobody --regid=nogroup --clear-groups "$ctl" -c "$conf" check
	expect_rc 0 "check as nobody, secrets unreadable"
	expect_line "$out" "$T/secrets: warning: not readable by uid $(id -u nobody), not checked (run check as root to check it)" \
	    "unreadable secrets warning"
else
	fail "setpriv missing or not root: cannot test the non-root case"
fi

# Usage and missing files.
run "$ctl" -c "$conf" check extra
expect_rc 64 "check with an argument"
run "$ctl" -c "$T/nonexistent.conf" check
expect_rc 66 "check on a missing file"
run "$ctl" -x check
expect_rc 64 "unknown option"
run "$ctl" nosuchcommand
expect_rc 64 "unknown command"
run "$ctl"
expect_rc 64 "no command"
finish
