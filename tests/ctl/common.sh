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
