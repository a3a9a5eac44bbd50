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

# Cleanup: end the processes still running inside the chroot (daemons a
# step left behind; they keep its mount namespace alive), by pid; then
# remove the temp dir, after checking nothing is mounted under it here.
cleanup() {
	local p pids= i
	for i in 1 2 3; do
		pids=
		for p in /proc/[0-9]*; do
			[ "$(readlink "$p/root" 2>/dev/null)" = "$R" ] && pids="$pids ${p#/proc/}"
		done
		[ -z "$pids" ] && break
		# shellcheck disable=SC2086
		kill -"$([ $i = 3 ] && echo KILL || echo TERM)" $pids 2>/dev/null
		sleep 2
	done
	if [ "${FRESH_KEEP:-}" = 1 ]; then
		echo "readme-bare: kept $R"
		return
	fi
	if findmnt -rn -o TARGET | grep -q "^$D/"; then
		findmnt -rn -o TARGET | grep "^$D/" | sort -r | xargs -r umount -l
	fi
	rm -rf --one-file-system "$D"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

declare -a summary=()
fmt_s() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# step NAME LOGFILE CMD...: run, time, record.
step() {
	local name=$1 log=$2 t0 rc dt
	shift 2
	echo "=== $name"
	t0=$(date +%s)
	"$@" >"$log" 2>&1 </dev/null
	rc=$?
	dt=$(($(date +%s) - t0))
	summary+=("$(printf '%-34s %8s  exit %d' "$name" "$(fmt_s $dt)" $rc)")
	echo "    $(fmt_s $dt), exit $rc (log $log)"
	[ $rc = 0 ] || tail -n 30 "$log" | sed 's/^/    | /'
	return $rc
}

# in_chroot CMD: run the shell command CMD as root in /root/src of the
# bootstrapped system, like a login on that machine: its own /proc, /sys,
# /dev, a fresh /tmp and /run, a clean environment.  "mount --bind R R"
# makes R a mount point, so that the tests' own `unshare -m` can change
# the propagation of "/" inside the chroot.
in_chroot() {
	unshare -m --propagation private -- sh -ec '
	R=$1; cmd=$2
	mount --bind "$R" "$R"
	mount -t proc proc "$R/proc"
	mount --rbind /sys "$R/sys"
	mount --rbind /dev "$R/dev"
	mount -t tmpfs tmpfs "$R/tmp"
	mount -t tmpfs -o mode=755 tmpfs "$R/run"
	exec chroot "$R" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    HOME=/root SHELL=/bin/sh sh -c "cd /root/src && $cmd"' sh "$R" "$1"
}

bootstrap() {
	"$top/tests/fresh/bootstrap.sh" "$R" &&
	cp /etc/resolv.conf "$R/etc/resolv.conf" &&
	mkdir -p "$R/root/src" &&
	git archive HEAD | tar -x -C "$R/root/src"
}

ok=1
t_all=$(date +%s)
step "mmdebstrap + copy of the tree" "$logs/00-bootstrap.log" bootstrap || ok=0
n=1
if [ $ok = 1 ]; then
	for c in "$boot" "${cmds[@]}"; do
		step "$c" "$logs/0$n-${c//[^a-z]/_}.log" in_chroot "$c" || ok=0
		n=$((n + 1))
	done
fi
echo
echo "readme-bare: the README's commands on a bare Debian 12 ($(. "$R/etc/os-release" 2>/dev/null; echo "${PRETTY_NAME:-?}"))"
printf '  %s\n' "${summary[@]}"
echo "  total $(fmt_s $(($(date +%s) - t_all)))"
last=$(ls "$logs"/0*make_check*.log 2>/dev/null | tail -n 1)
[ -n "$last" ] && { echo "  make check:"; grep -E '^(FAIL|failed:|[0-9]+ passed)' "$last" | sed 's/^/    /'; }
[ $ok = 1 ] && echo "readme-bare: OK" || echo "readme-bare: FAILED"
[ $ok = 1 ]
