#!/bin/bash
# smarthostctl config: the effective smarthost.conf; -n only what differs
# from the defaults; the full output read back gives the same output.
. "$(dirname "$0")"/common.sh
setup_samples

run "$ctl" -c "$conf" config -n
expect_rc 0 "config -n"
expect_line "$out" "relay-map = $T/relay.map" "-n: relay-map"
expect_line "$out" "[account exmail-shared]" "-n: account block"
expect_line "$out" "provider = exmail.qq.com" "-n: provider"
expect_line "$out" "login = ops@company.cn" "-n: login"
grep -q '^user = ' <<<"$out" && fail "-n printed a default (user)" || ok "-n: no defaults"

run "$ctl" -c "$conf" config
expect_rc 0 "config"
expect_line "$out" "user = smarthost" "full: default user"
printf '%s\n' "$out" >"$T"/again.conf
first=$out
run "$ctl" -c "$T"/again.conf config
expect_rc 0 "config of its own output"
[ "$out" = "$first" ] && ok "config output round-trips" ||
    { fail "round trip differs:"; diff <(echo "$first") <(echo "$out"); }

printf '[relay]\nbogus-option = 1\n' >>"$conf"
run "$ctl" -c "$conf" config
expect_rc 78 "config with an unknown option"
run "$ctl" -c "$T"/missing.conf config
expect_rc 66 "config of a missing file"
run "$ctl" -c "$conf" config -x
expect_rc 64 "config with a bad option"
finish
