#!/bin/bash
# Every man page passes "mandoc -Tlint -Wwarning" without a message, and
# every program that was built has a page in man/.
set -u
top=${SMARTHOST_TOP:-$(pwd)}
B=${B:-$top/build}
command -v mandoc >/dev/null || { echo "FAIL: mandoc not installed (Debian package mandoc)"; exit 1; }
fail=0 pages=0
for m in "$top"/man/*.[58]; do
	[ -e "$m" ] || continue
	pages=$((pages + 1))
	out=$(mandoc -Tlint -Wwarning "$m" 2>&1)
	if [ -n "$out" ]; then
		echo "FAIL: $m:"; echo "$out"; fail=1
	else
		echo "ok: ${m#$top/}"
	fi
done
[ $pages -gt 0 ] || { echo "FAIL: no man pages in $top/man"; exit 1; }
for prog in smarthost-milter smarthost-relay smarthostctl smarthost-return; do
	[ -x "$B/$prog" ] || continue
	if [ -e "$top/man/$prog.8" ]; then
		echo "ok: $prog has man/$prog.8"
	else
		echo "FAIL: $B/$prog is built but man/$prog.8 is missing"; fail=1
	fi
done
exit $fail
