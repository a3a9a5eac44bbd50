# host-lib.sh — what tests/fresh/readme-bare.sh and tests/fresh/package.sh
# do on this machine around the bootstrapped Debian 12 in $R (inside the
# temp dir $D): run a command in it, time each step, clean up.  The caller
# sets me (its name, for messages), D and R before using these.
#
#   fresh_cleanup                  the EXIT trap: processes left in $R, mounts, $D
#   fresh_chroot [-n] CMD...       CMD as root in $R (own /proc, /sys, /dev, /tmp, /run)
#   fresh_step NAME LOG CMD...     CMD with its output to LOG, timed, into summary[]
#   fresh_summary TITLE            the title, each step's line and the total time

# Processes still running inside the chroot (daemons a step left behind;
# they keep its mount namespace alive) are ended by pid; then the temp dir
# is removed, after unmounting what is still mounted under it here.
# FRESH_KEEP=1 keeps the system and prints its path.
fresh_cleanup() {
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
		echo "$me: kept $R"
		return
	fi
	if findmnt -rn -o TARGET | grep -q "^$D/"; then
		findmnt -rn -o TARGET | grep "^$D/" | sort -r | xargs -r umount -l
	fi
	rm -rf --one-file-system "$D"
}

# fresh_chroot [-n] CMD...: run CMD (env(1) words: NAME=VALUE..., then the
# program and its arguments) as root in $R, like a login on that machine:
# in a private mount namespace, with its own /proc, /sys, /dev, an empty
# /tmp and /run (no systemd runs there, so no service is started), and a
# clean environment (PATH, HOME=/root, SHELL=/bin/sh).  "mount --bind R R"
# makes R a mount point, so that a test's own `unshare -m` can change the
# propagation of "/" inside the chroot.  -n: also in a new network
# namespace with only the loopback up.
fresh_chroot() {
	local net=
	[ "$1" = -n ] && { net=n; shift; }
	unshare -m$net --propagation private -- sh -ec '
	R=$1; net=$2; shift 2
	[ -z "$net" ] || ip link set lo up
	mount --bind "$R" "$R"
	mount -t proc proc "$R/proc"
	mount --rbind /sys "$R/sys"
	mount --rbind /dev "$R/dev"
	mount -t tmpfs tmpfs "$R/tmp"
	mount -t tmpfs -o mode=755 tmpfs "$R/run"
	exec chroot "$R" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    HOME=/root SHELL=/bin/sh "$@"' sh "$R" "$net" "$@"
}

declare -a summary=()
fmt_s() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# fresh_step NAME LOG CMD...: run CMD with stdin from /dev/null and its
# output to LOG, time it, add its line to summary[]; on failure print the
# end of LOG.  Returns CMD's status.
fresh_step() {
	local name=$1 log=$2 t0 rc dt
	shift 2
	echo "=== $name"
	t0=$(date +%s)
	"$@" >"$log" 2>&1 </dev/null
	rc=$?
	dt=$(($(date +%s) - t0))
	summary+=("$(printf '%-44s %8s  %s' "$name" "$(fmt_s $dt)" \
	    "$([ $rc = 0 ] && echo "ok" || echo "FAILED (exit $rc)")")")
	echo "    $(fmt_s $dt), exit $rc (log $log)"
	[ $rc = 0 ] || tail -n 30 "$log" | sed 's/^/    | /'
	return $rc
}

# fresh_summary TITLE: after the steps (t_all: when they began).
fresh_summary() {
	echo
	echo "$me: $1 on a bare Debian 12 ($(. "$R/etc/os-release" 2>/dev/null; echo "${PRETTY_NAME:-?}"))"
	printf '  %s\n' "${summary[@]}"
	echo "  total $(fmt_s $(($(date +%s) - t_all)))"
}
