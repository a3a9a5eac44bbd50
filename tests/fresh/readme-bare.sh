#!/usr/bin/env bash
# readme-bare.sh — the README's "Two commands" on a freshly bootstrapped
# Debian 12, as root, exactly as the README writes them.
#
# Bootstraps a minimal Debian 12 (tests/fresh/bootstrap.sh: mmdebstrap
# --variant=minbase, from the mirrors this machine's apt uses), copies
# the committed tree in (git archive HEAD), and then runs in a chroot
# inside a private mount namespace, each as its own step: the bootstrap
# command the README names before the two commands, then each command of
# the README's "Two commands" block.
# Prints the time each step took and its exit status, and the last lines of
# `make check` (its "N passed, N failed" line).  Not part of `make check`:
# it downloads some 400 MB of packages and takes tens of minutes.
#
# Usage (as root, from anywhere in the tree):  tests/fresh/readme-bare.sh
# Environment: FRESH_TARBALL (bootstrap.sh), FRESH_DIR (parent of the
# temp dir, default /var/tmp),
# FRESH_KEEP=1 (keep the bootstrapped system; its path is printed),
# FRESH_LOGS (where each step's full output is kept, default
# build/fresh-logs).  Exits 0 only if every step exited 0.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1

die() { echo "readme-bare: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (chroot, mount namespaces)"
for c in mmdebstrap unshare git; do
	command -v "$c" >/dev/null ||
	    die "missing command $c (apt-get install ${c/unshare/util-linux})"
done
src=/etc/apt/sources.list.d/debian.sources
[ -r "$src" ] || die "cannot read $src (the mirrors to bootstrap from)"
[ -z "$(git status --porcelain --untracked-files=no)" ] ||
    echo "readme-bare: note: uncommitted changes are not tested (git archive HEAD)" >&2

# The README's commands: the `...` in the paragraph that precedes the
# "Two commands" block, then each line of the block (comments removed).
readme_cmds() {
	awk '
	/^## Two commands/ { sec = 1; next }
	sec && /^## / { exit }
	sec && /^    [^ ]/ { sub(/^    /, ""); sub(/[ \t]*#.*/, ""); print "cmd\t" $0; blk = 1; next }
	sec && blk && !/^    / && NF { exit }
	sec && !blk { para = para " " $0 }
	END {
		if (match(para, /`[^`]+`/))
			print "boot\t" substr(para, RSTART + 1, RLENGTH - 2)
	}' README.md
}
boot=$(readme_cmds | awk -F'\t' '$1 == "boot" { print $2 }')
mapfile -t cmds < <(readme_cmds | awk -F'\t' '$1 == "cmd" { print $2 }')
[ ${#cmds[@]} -gt 0 ] || die "no command block under '## Two commands' in README.md"
[ -n "$boot" ] || die "README.md names no bootstrap command before the two commands"

logs=${FRESH_LOGS:-$top/build/fresh-logs}
mkdir -p "$logs" || die "cannot create $logs"
D=$(mktemp -d "${FRESH_DIR:-/var/tmp}/smarthost-fresh.XXXXXX") || die "mktemp failed"
R=$D/root

me=readme-bare
. "$top/tests/fresh/host-lib.sh"
trap fresh_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# in_chroot CMD: run the shell command CMD in /root/src of the bootstrapped
# system (fresh_chroot).
in_chroot() {
	fresh_chroot sh -c "cd /root/src && $1"
}

bootstrap() {
	"$top/tests/fresh/bootstrap.sh" "$R" &&
	cp /etc/resolv.conf "$R/etc/resolv.conf" &&
	mkdir -p "$R/root/src" &&
	git archive HEAD | tar -x -C "$R/root/src"
}

ok=1
t_all=$(date +%s)
fresh_step "mmdebstrap + copy of the tree" "$logs/00-bootstrap.log" bootstrap || ok=0
n=1
if [ $ok = 1 ]; then
	for c in "$boot" "${cmds[@]}"; do
		fresh_step "$c" "$logs/0$n-${c//[^a-z]/_}.log" in_chroot "$c" || ok=0
		n=$((n + 1))
	done
fi
fresh_summary "the README's commands"
last=$(ls "$logs"/0*make_check*.log 2>/dev/null | tail -n 1)
[ -n "$last" ] && { echo "  make check:"; grep -E '^(FAIL|failed:|[0-9]+ passed)' "$last" | sed 's/^/    /'; }
[ $ok = 1 ] && echo "readme-bare: OK" || echo "readme-bare: FAILED"
[ $ok = 1 ]
