#!/usr/bin/env bash
# package.sh — the Debian package on a freshly bootstrapped Debian 12, as
# an administrator would use it, each step timed:
#
#  1. make deb (on this machine; FRESH_DEB=PATH uses a built .deb instead);
#  2. a minimal Debian 12 (mmdebstrap --variant=minbase from the mirrors
#     this machine's apt uses; FRESH_TARBALL=PATH reuses or keeps the
#     bootstrapped system as a tar, see tests/fresh/bootstrap.sh);
#  3. apt-get install ./smarthost_*.deb, Recommends included, so Depends and
#     Recommends (Postfix, preseeded "Internet Site") resolve for real;
#  4. the installed files: user, secrets (0600 root, not a dpkg file),
#     directories, conffiles, units enabled; smarthostctl check, providers
#     and postfix (unix:smarthost/milter.sock, chroot kept);
#     smarthost-relay -n, smarthost-milter -n; systemd-analyze verify of
#     both units with their Debian drop-ins;
#  5. Postfix with Debian's master.cf (smtpd chrooted) set up with
#     "smarthostctl postfix --postconf", the milter started by hand as the
#     unit starts it (user smarthost, group postfix), in a network
#     namespace of its own: swaks sends to the chrooted smtpd; before the
#     milter runs Postfix answers 451 4.7.1 (milter unreachable), then the
#     milter refuses the sender the shipped relay.map does not route (its
#     5.7.x reply) and logs that decision;
#  6. upgrade: the same version installed again keeps the edited relay.map,
#     the secrets file and the user;
#  7. remove keeps conffiles, state and the user; purge removes the conffiles
#     (edited too), the secrets, /var/lib/smarthost, the socket directory,
#     the user and group, and leaves a file of the administrator's.
#
# Not part of `make check` (downloads packages; minutes).  Usage, as root:
#	tests/fresh/package.sh
# Environment: FRESH_DEB, FRESH_TARBALL, FRESH_DIR (parent of the temp dir,
# default /var/tmp), FRESH_KEEP=1 (keep the system, its path is printed),
# FRESH_LOGS (each step's output, default build/fresh-logs/package).
# Exits 0 only if every step passed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1

die() { echo "package: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (chroot, mount and network namespaces)"
for c in mmdebstrap unshare ip tar; do
	command -v "$c" >/dev/null || die "missing command $c"
done

logs=${FRESH_LOGS:-$top/build/fresh-logs/package}
mkdir -p "$logs" || die "cannot create $logs"
D=$(mktemp -d "${FRESH_DIR:-/var/tmp}/smarthost-fresh-pkg.XXXXXX") || die "mktemp failed"
R=$D/root

cleanup() {	# processes left in the chroot (by pid), then the temp dir
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
		echo "package: kept $R"
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

# step NAME CMD...: run with output to its log, time, record.
n=0
step() {
	local name=$1 log t0 rc dt
	shift
	n=$((n + 1))
	log=$logs/$(printf %02d $n)-${name//[^a-zA-Z0-9]/_}.log
	echo "=== $name"
	t0=$(date +%s)
	"$@" >"$log" 2>&1 </dev/null
	rc=$?
	dt=$(($(date +%s) - t0))
	summary+=("$(printf '%-44s %8s  %s' "$name" "$(fmt_s $dt)" \
	    "$([ $rc = 0 ] && echo ok || echo "FAILED (exit $rc)")")")
	echo "    $(fmt_s $dt), exit $rc (log $log)"
	[ $rc = 0 ] || tail -n 30 "$log" | sed 's/^/    | /'
	return $rc
}

# in_chroot [-n] SCRIPT: run the bash script SCRIPT as root in the
# bootstrapped system, with its own /proc, /sys, /dev, /tmp and /run (empty:
# no systemd runs there, so no service is started by the package), a
# clean environment, and the package's checks (tests/fresh/package-lib.sh)
# loaded.  -n: in a new network namespace with only the loopback up.
in_chroot() {
	local net=
	[ "$1" = -n ] && { net=n; shift; }
	unshare -m$net --propagation private -- sh -ec '
	R=$1; script=$2; net=$3
	[ -z "$net" ] || ip link set lo up
	mount --bind "$R" "$R"
	mount -t proc proc "$R/proc"
	mount --rbind /sys "$R/sys"
	mount --rbind /dev "$R/dev"
	mount -t tmpfs tmpfs "$R/tmp"
	mount -t tmpfs -o mode=755 tmpfs "$R/run"
	exec chroot "$R" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    HOME=/root SHELL=/bin/sh DEBIAN_FRONTEND=noninteractive \
	    bash -c ". /root/package-lib.sh; cd /root; set -e; $script"' sh "$R" "$1" "$net"
}

build_deb() {
	if [ -n "${FRESH_DEB:-}" ]; then
		[ -f "$FRESH_DEB" ] || { echo "FRESH_DEB=$FRESH_DEB: no such file"; return 1; }
		deb=$FRESH_DEB
		return 0
	fi
	nice make deb || return 1
	deb=$(ls "$top"/build/deb/smarthost_*.deb) || return 1
}

bootstrap() {
	"$top/tests/fresh/bootstrap.sh" "$R" &&
	cp /etc/resolv.conf "$R/etc/resolv.conf" &&
	# No daemon a package installs may start here: the chroot shares this
	# machine's network until step 5.
	printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d" &&
	chmod 755 "$R/usr/sbin/policy-rc.d" &&
	cp "$deb" "$R/root/" &&
	cp "$top/tests/fresh/package-lib.sh" "$R/root/package-lib.sh"
}

ok=1
t_all=$(date +%s)
deb=
step "make deb${FRESH_DEB:+ (FRESH_DEB given)}" build_deb || ok=0
[ $ok = 1 ] && { step "bootstrap Debian 12 (minbase)" bootstrap || ok=0; }
if [ $ok = 1 ]; then
	step "apt-get install ./smarthost_*.deb" in_chroot install_package || ok=0
fi
if [ $ok = 1 ]; then
	step "installed files, smarthostctl, -n, verify" in_chroot check_installed || ok=0
	step "chrooted Postfix smtpd -> milter socket" in_chroot -n postfix_milter || ok=0
	step "upgrade: same version again" in_chroot upgrade || ok=0
	step "remove, then purge" in_chroot remove_purge || ok=0
fi
echo
echo "package: $(basename "${deb:-no .deb}") on a bare Debian 12 ($(. "$R/etc/os-release" 2>/dev/null; echo "${PRETTY_NAME:-?}"))"
printf '  %s\n' "${summary[@]}"
echo "  total $(fmt_s $(($(date +%s) - t_all)))"
[ $ok = 1 ] && echo "package: OK" || echo "package: FAILED"
[ $ok = 1 ]
