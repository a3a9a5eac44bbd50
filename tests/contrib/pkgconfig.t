#!/usr/bin/env bash
# pkgconfig.t — when pkg-config cannot find a library the build needs,
# make stops before compiling anything, with one line per missing module
# that names the Debian package to install.  pkg-config is pointed at a
# directory holding every .pc file of this machine's but one (then none).
. "$SMARTHOST_TOP/tests/lib/common.sh"
t_need make pkg-config
cd "$SMARTHOST_TOP" || t_fail "cannot cd to $SMARTHOST_TOP"
t_tmpdir
T=$T_TMP

read -ra mods < <(make -s --no-print-directory --eval 'pkgs-now: ; @echo $(PKGS)' pkgs-now)
[ ${#mods[@]} -ge 5 ] || t_fail "the Makefile's PKGS has ${#mods[@]} modules: ${mods[*]}"
# Each module's .pc file, linked into a private pkg-config directory.
mkdir -p "$T/pc" "$T/none"
for m in "${mods[@]}"; do
	pc=$(pkg-config --path "$m") || t_fail "pkg-config does not find $m here (run contrib/install-deps)"
	ln -s "$pc" "$T/pc/$m.pc"
done
# Modules those .pc files require (openssl -> libssl, libcrypto ...).
for pc in $(pkg-config --print-requires --print-requires-private "${mods[@]}" | awk '{print $1}' | sort -u); do
	[ -e "$T/pc/$pc.pc" ] || ln -s "$(pkg-config --path "$pc")" "$T/pc/$pc.pc"
done
PKG_CONFIG_LIBDIR=$T/pc PKG_CONFIG_PATH= pkg-config --exists "${mods[@]}" ||
    t_fail "the private pkg-config directory is incomplete"

# build PCDIR DIR LOG: make all into build dir DIR with pkg-config's
# directory PCDIR; the status is returned.
build() {
	PKG_CONFIG_LIBDIR=$1 PKG_CONFIG_PATH= make --no-print-directory \
	    B="$2" all >"$3" 2>&1
}

gone=milter
rm "$T/pc/$gone.pc"
build "$T/pc" "$T/b1" "$T/one.log" && t_fail "make succeeded without $gone.pc"
t_assert_grep "^pkg-config cannot find '$gone': install libmilter-dev \\(contrib/install-deps does\\)\$" \
    "$T/one.log"
[ "$(grep -c '^pkg-config cannot find' "$T/one.log")" = 1 ] ||
    { cat "$T/one.log"; t_fail "more than the one missing module named"; }
[ -z "$(find "$T/b1" -name '*.o' 2>/dev/null)" ] || t_fail "objects were compiled before the check"
t_ok "without $gone.pc: make names libmilter-dev and compiles nothing"

build "$T/none" "$T/b2" "$T/none.log" && t_fail "make succeeded without any .pc file"
for m in "${mods[@]}"; do
	t_assert_grep "^pkg-config cannot find '$m': install lib[a-z0-9.-]*-dev \\(contrib/install-deps does\\)\$" \
	    "$T/none.log" "module $m"
done
t_ok "without any: one line per module (${mods[*]}), each naming its -dev package"

# And each package named is one install-deps installs.
while read -r pkg; do
	contrib/install-deps --list | grep -qxF "$pkg" ||
	    t_fail "the message names $pkg, which contrib/install-deps does not install"
done < <(sed -n "s/^pkg-config cannot find '[^']*': install \\([^ ]*\\) .*/\\1/p" "$T/none.log")
t_ok "every package named is in contrib/install-deps"
