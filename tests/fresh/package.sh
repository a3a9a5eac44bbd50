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

me=package
. "$top/tests/fresh/host-lib.sh"
trap fresh_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# step NAME CMD...: fresh_step with the next numbered log.
n=0
step() {
	local name=$1
	shift
	n=$((n + 1))
	fresh_step "$name" "$logs/$(printf %02d $n)-${name//[^a-zA-Z0-9]/_}.log" "$@"
}

# in_chroot [-n] SCRIPT: run the bash script SCRIPT in the bootstrapped
# system (fresh_chroot; -n: its own network namespace) in /root, with the
# package's checks (tests/fresh/package-lib.sh) loaded.
in_chroot() {
	local net=()
	[ "$1" = -n ] && { net=(-n); shift; }
	fresh_chroot "${net[@]}" DEBIAN_FRONTEND=noninteractive \
	    bash -c ". /root/package-lib.sh; cd /root; set -e; $1"
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
fresh_summary "$(basename "${deb:-no .deb}")"
[ $ok = 1 ] && echo "package: OK" || echo "package: FAILED"
[ $ok = 1 ]
