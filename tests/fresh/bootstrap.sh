#!/usr/bin/env bash
# bootstrap.sh DIR — a minimal Debian 12 in DIR (mmdebstrap
# --variant=minbase bookworm, from the mirrors this machine's apt uses:
# /etc/apt/sources.list.d/debian.sources).  With FRESH_TARBALL=PATH the
# system is made once as that tar and each call extracts it, so that the
# scripts of make fresh-check share one bootstrap; make fresh-check removes
# it at the end.  As root.
set -eu
dir=${1:?usage: bootstrap.sh DIR}
src=/etc/apt/sources.list.d/debian.sources
[ -r "$src" ] || { echo "bootstrap: cannot read $src (the mirrors to bootstrap from)" >&2; exit 1; }
for c in mmdebstrap tar; do	# not in contrib/install-deps: fresh-check only
	command -v "$c" >/dev/null ||
	    { echo "bootstrap: missing command $c (apt-get install $c)" >&2; exit 1; }
done

if [ -z "${FRESH_TARBALL:-}" ]; then
	exec mmdebstrap --variant=minbase bookworm "$dir" "$src"
fi
if [ ! -s "$FRESH_TARBALL" ]; then
	mkdir -p "$(dirname "$FRESH_TARBALL")"
	mmdebstrap --variant=minbase bookworm "$FRESH_TARBALL.tmp.tar" "$src"
	mv "$FRESH_TARBALL.tmp.tar" "$FRESH_TARBALL"
fi
mkdir -p "$dir"
tar -x -C "$dir" -f "$FRESH_TARBALL"
