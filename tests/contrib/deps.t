#!/usr/bin/env bash
# deps.t — every command a test script says it needs is installed by
# contrib/install-deps on a bare Debian 12.
#
# The commands: the arguments of every `t_need` and the names after
# `command -v` in tests/ and contrib/.  For each, on this machine (PATH as
# a fresh root login has it): the command exists; the package that owns
# it (dpkg -S) is in install-deps' list, or a dependency of one of them,
# or part of every Debian system (Essential or Priority required: what
# mmdebstrap --variant=minbase installs); and t_need's table
# (t__pkg_of in tests/lib/common.sh) names for it a package install-deps
# installs, so that a missing command is reported with the right name.
. "$SMARTHOST_TOP/tests/lib/common.sh"
t_need dpkg-query apt-cache
cd "$SMARTHOST_TOP" || t_fail "cannot cd to $SMARTHOST_TOP"
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
t_tmpdir

mapfile -t pkgs < <(contrib/install-deps --list)
[ ${#pkgs[@]} -gt 10 ] || t_fail "install-deps --list printed ${#pkgs[@]} packages"

# Every package those pull in (Depends and Pre-Depends, recursively).
apt-cache depends --recurse --installed --no-recommends --no-suggests \
    --no-conflicts --no-breaks --no-replaces --no-enhances "${pkgs[@]}" \
    2>/dev/null | grep -v '^ ' | sort -u >"$T_TMP/closure"
[ "$(wc -l <"$T_TMP/closure")" -gt ${#pkgs[@]} ] ||
    t_fail "apt-cache depends gave no dependency closure"

# Commands named by t_need (continuation lines joined) and command -v.
files=$(grep -rlE 't_need |command -v ' tests contrib --include='*.t' \
    --include='*.sh' --include=demo --include=run --include=bench-milter |
    grep -vx tests/contrib/deps.t)
cmds=$(for f in $files; do
	sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$f" |
	    grep -vE '^[[:space:]]*#' |
	    sed -nE -e 's/^[[:space:]]*t_need ([^;#|&)]*).*/\1/p' \
		-e 's/.*command -v ([A-Za-z0-9/._+-]+).*/\1/p'
done | tr ' \t' '\n\n' | grep -E '^[A-Za-z0-9/._+-]+$' | sort -u)
n=$(grep -c . <<<"$cmds")
[ "$n" -ge 20 ] || t_fail "found only $n needed commands: $cmds"
t_ok "$n commands named by t_need / command -v in tests/ and contrib/"

in_list() { printf '%s\n' "${pkgs[@]}" | grep -qxF -- "$1"; }
base_pkg() {	# Essential or Priority required: on every Debian system
	local f
	f=$(dpkg-query -W -f='${Essential} ${Priority}' "$1" 2>/dev/null) || return 1
	[[ $f == yes* || $f == *required ]]
}
variants() {	# variants PATH: the names dpkg may know it by (usrmerge)
	local p=$1 r
	r=$(readlink -f "$p")
	printf '%s\n' "$p" "$r" "${p#/usr}" "${r#/usr}"
}
# One dpkg -S for every path (it reads every package's file list).
while read -r c; do
	p=$(command -v "$c") && variants "$p"
done <<<"$cmds" | sort -u >"$T_TMP/paths"
mapfile -t paths <"$T_TMP/paths"
dpkg -S "${paths[@]}" 2>/dev/null | grep -v '^diversion' >"$T_TMP/owners"
owner() {	# owner PATH: the package that ships it
	local f o
	while read -r f; do
		o=$(awk -v f="$f" '{ p = $0; sub(/^[^:]*: /, "", p) } p == f { sub(/[:,].*/, ""); print; exit }' \
		    "$T_TMP/owners")
		[ -n "$o" ] && { echo "$o"; return 0; }
	done < <(variants "$1")
	return 1
}

bad=0
while read -r c; do
	if ! p=$(command -v "$c"); then
		echo "missing: $c is not installed here (t__pkg_of says: $(t__pkg_of "$c"))"
		bad=1; continue
	fi
	o=$(owner "$p") || { echo "no package owns $p ($c)"; bad=1; continue; }
	if ! in_list "$o" && ! grep -qxF -- "$o" "$T_TMP/closure" && ! base_pkg "$o"; then
		echo "$c ($p) comes from package $o, which contrib/install-deps does not install"
		bad=1
	fi
	named=$(t__pkg_of "$c")
	if [ "$named" = "?" ]; then
		echo "t__pkg_of in tests/lib/common.sh has no package for $c (it is in $o)"
		bad=1
	elif ! in_list "$named" && ! base_pkg "$named"; then
		echo "t__pkg_of names $named for $c, which contrib/install-deps does not install"
		bad=1
	fi
done <<<"$cmds"
[ $bad = 0 ] || t_fail "commands the tests need that a bare Debian 12 would not get"
t_ok "each comes from install-deps' packages (or their dependencies, or every Debian system), and t_need names its package"
