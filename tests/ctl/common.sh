# Sourced by tests/ctl/*.t: a private copy of the sample configuration
# and small assertion helpers.  Not a test itself (no .t suffix).
set -u
top=${SMARTHOST_TOP:-$(pwd)}
B=${B:-$top/build}
ctl=$B/smarthostctl
[ -x "$ctl" ] || { echo "FAIL: $ctl not built (run make)"; exit 1; }
T=$(mktemp -d /tmp/smarthostctl-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0

# Copy conf/ into $T with the paths pointing there; secrets mode 0600.
setup_samples() {
	cp "$top"/conf/smarthost.conf "$top"/conf/relay.map \
	    "$top"/conf/secrets "$T"/ || exit 1
	sed -i "s|/etc/smarthost/|$T/|" "$T"/smarthost.conf
	chmod 600 "$T"/secrets
	conf=$T/smarthost.conf
}

# run CMD...: sets out (stdout), err (stderr) and rc.
run() {
	out=$("$@" 2>"$T"/stderr); rc=$?
	err=$(cat "$T"/stderr)
}

# private_dns "$@" (first thing in a test): re-run the test in a private
# network and mount namespace whose /etc/resolv.conf names a dnsmasq on
# 127.0.0.1 that answers every query "no such name".  For commands that
# ask the resolver (check): no query leaves the namespace.
private_dns() {
	if [ "${CTL_IN_NETNS:-}" != 1 ]; then
		[ "$(id -u)" = 0 ] || { echo "FAIL: network namespaces need root"; exit 1; }
		command -v dnsmasq >/dev/null ||
		    { echo "FAIL: dnsmasq missing (Debian package dnsmasq-base)"; exit 1; }
		rm -rf "$T"
		CTL_IN_NETNS=1 exec unshare -mn --propagation private -- "$BASH" "$0" "$@"
	fi
	ip link set lo up || { echo "FAIL: cannot bring lo up"; exit 1; }
	printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$T"/resolv.conf
	chmod 644 "$T"/resolv.conf
	mount --bind "$T"/resolv.conf /etc/resolv.conf ||
	    { echo "FAIL: cannot bind-mount /etc/resolv.conf"; exit 1; }
	# dnsmasq returns once it listens; its pid file ends it on exit.
	dnsmasq -u root --conf-file=/dev/null --no-resolv --no-hosts \
	    --listen-address=127.0.0.1 --bind-interfaces --local=/#/ \
	    --pid-file="$T"/dnsmasq.pid >"$T"/dnsmasq.log 2>&1 ||
	    { echo "FAIL: dnsmasq did not start"; cat "$T"/dnsmasq.log; exit 1; }
	trap 'kill "$(cat "$T"/dnsmasq.pid)"; rm -rf "$T"' EXIT
}

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

# expect_rc WANT WHAT
expect_rc() {
	if [ "$rc" = "$1" ]; then ok "$2: exit $rc"
	else fail "$2: exit $rc, want $1"; printf '%s\n%s\n' "$out" "$err" | sed 's/^/    /'; fi
}

# expect_line HAYSTACK LINE WHAT: LINE is one whole line of HAYSTACK
expect_line() {
	if grep -Fxq -- "$2" <<<"$1"; then ok "$3"
	else fail "$3: no line \"$2\" in:"; sed 's/^/    /' <<<"$1"; fi
}

finish() {
	[ $fails -eq 0 ] && { echo "all passed"; exit 0; }
	echo "$fails failed"; exit 1
}
