# upstream-lib.sh — the start the tests of the relay's client side
# (tests/relay/upstream-*.t) share: they drive the pool and the upstream
# session with upstream-drive (make all-tests) against servers in the
# test's network namespace.  Source it first, then:
#
#	t_enter_netns "$@"
#	up_init ["IP NAME"...]	# $D (= $T_TMP), /etc/hosts: smtp.test on
#				# 127.0.0.1 (+ these), the test PKI in $D/pki;
#				# $drive (upstream-drive), $peer (the
#				# provider-like smarthost, tests/peers/smarthost.py)

. "$SMARTHOST_TOP/tests/lib/common.sh"
. "$SMARTHOST_TOP/tests/lib/pki.sh"

up_init() {
	t_need openssl /usr/bin/python3
	t_tmpdir
	drive=$B/tests/upstream-drive
	peer=$SMARTHOST_TOP/tests/peers/smarthost.py
	[ -x "$drive" ] || t_fail "$drive not built (make all-tests)"
	[ -f "$peer" ] || t_fail "$peer missing"
	D=$T_TMP
	t_hosts "127.0.0.1 smtp.test" "$@"
	pki_make "$D/pki" || t_fail "pki_make"
}
