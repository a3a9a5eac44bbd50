#!/usr/bin/env bash
# ctl-from.t — `smarthostctl route ADDRESS --from FROM` shows the verdicts
# the milter reaches (same library code), DNS from a dnsmasq in a private
# network namespace.  For a sender the provider's rule refuses (a map line
# without rewrite) and for a SASL user outside an account's allowed-users
# (route --user), route --from and the running milter (driven by
# miltertest) give the same reply, word for word.  So they do for a
# sender that already is the login of an account of its own domain whose
# SPF record lacks the provider: the reply names the preset's include to
# add (or DKIM), not "send as" the address already used.
. "$SMARTHOST_TOP/tests/lib/common.sh"
t_enter_netns "$@"
t_need dnsmasq
t_need miltertest
ctl=$B/smarthostctl
[ -x "$ctl" ] || t_fail "$ctl not built"
t_tmpdir
T=$T_TMP
. "$SMARTHOST_TOP/tests/milter/e2e-lib.sh"
dns_start --local=/test/ --local=/com/ "${DNS_163[@]}" \
    --txt-record='strictfrom.test,v=spf1 -all' \
    --txt-record='_dmarc.strictfrom.test,v=DMARC1; p=reject; adkim=s; aspf=s' \
    --txt-record='spf.mail.qq.com,v=spf1 ip4:198.51.100.0/24 -all' \
    --txt-record='company.test,v=spf1 ip4:192.0.2.1 -all' \
    --txt-record='_dmarc.company.test,v=DMARC1; p=reject' \
    --mx-host=mx.test,mail.mx.test,10 --host-record=mail.mx.test,192.0.2.25

mt_conf root 10.0.0.0/8
cat >>"$T/smarthost.conf" <<CONF
dns-timeout = 1s
[account team@163.com]
allowed-users = alice
[account ent-ops]
provider = exmail.qq.com
login = ops@company.test
CONF
cat >"$T/relay.map" <<MAP
boss@163.com          boss@163.com
scanner@office.test   alerts@163.com   rewrite
printer@office.test   alerts@163.com
team@163.com          team@163.com
*                     boss@163.com   rewrite
ops@company.test      ent-ops
MAP

"$ctl" -c "$T/smarthost.conf" route boss@163.com --from 'Boss <boss@163.com>' >"$T/o1" 2>&1 ||
    { cat "$T/o1"; t_fail "route --from exited $?"; }
t_assert_grep '^alignment: +spf=pass; dkim=pass \(d=163\.com\); dmarc=pass \(p=none\)$' "$T/o1"
t_assert_grep '^milter: +accepts$' "$T/o1"
t_ok "own account: aligned"

"$ctl" -c "$T/smarthost.conf" route scanner@office.test --from 'Scanner <scanner@office.test>' >"$T/o2" 2>&1 ||
    { cat "$T/o2"; t_fail "route --from (rewrite) failed"; }
t_assert_grep '^alignment: +spf=pass; dkim=pass \(d=163\.com\); dmarc=pass \(p=none\)$' "$T/o2"
t_assert_grep '^reply-to: +none \(office\.test is in local-domains\)$' "$T/o2"
t_ok "rewrite: predicted for the login"

# Reply-To under reply-to = auto, looked up with the milter's resolver.
"$ctl" -c "$T/smarthost.conf" route joe@mx.test --from 'Joe <joe@mx.test>' >"$T/o2b" 2>&1 ||
    { cat "$T/o2b"; t_fail "route --from (MX) failed"; }
t_assert_grep '^reply-to: +joe@mx\.test \(mx\.test receives mail from outside\)$' "$T/o2b"
"$ctl" -c "$T/smarthost.conf" route joe@nomail.test --from 'Joe <joe@nomail.test>' >"$T/o2c" 2>&1 ||
    { cat "$T/o2c"; t_fail "route --from (no MX) failed"; }
t_assert_grep '^reply-to: +none \(nomail\.test has no MX or address record\)$' "$T/o2c"
t_ok "route --from: Reply-To for a domain with an MX, none without"

"$ctl" -c "$T/smarthost.conf" route boss@163.com --from 'boss@strictfrom.test' >"$T/o3" 2>&1 ||
    { cat "$T/o3"; t_fail "route --from (strict) failed"; }
t_assert_grep '^alignment: +spf=pass; dkim=pass \(d=163\.com\); dmarc=fail \(p=reject\)$' "$T/o3"
t_assert_grep '^milter: +refuses \(550 5\.7\.1\): From domain strictfrom\.test publishes DMARC p=reject \(strict\)' "$T/o3"
t_ok "strict foreign From: refused, as the milter would"

"$ctl" -c "$T/smarthost.conf" route boss@163.com --from 'boss@strictfrom.test' --json >"$T/o4" 2>&1 ||
    { cat "$T/o4"; t_fail "route --from --json failed"; }
/usr/bin/python3 - "$T/o4" <<'PY' || t_fail "JSON alignment object wrong: $(cat "$T/o4")"
import json, sys
a = json.load(open(sys.argv[1]))["alignment"]
assert (a["spf"], a["dkim"], a["dkim_domain"], a["dmarc"], a["policy"],
        a["milter_refuses"]) == ("pass", "pass", "163.com", "fail", "reject",
        True), a
PY
t_ok "--json carries the verdicts"

"$ctl" -c "$T/smarthost.conf" route boss@163.com --from 'a@163.com, b@163.com' >"$T/o5" 2>&1
rc=$?
t_assert_eq 65 "$rc" "exit status for a From: with two addresses"
t_assert_grep 'bad From: .*names 2 addresses' "$T/o5"
t_ok "bad From: is a data error"

# The printer's line lacks "rewrite" and 163 wants the login as sender:
# route --from and the milter must both refuse, with the same reply.
"$ctl" -c "$T/smarthost.conf" route printer@office.test --from 'P <printer@office.test>' >"$T/o6" 2>&1 ||
    { cat "$T/o6"; t_fail "route --from (printer) exited $?"; }
want=$(sed -n 's/^milter: *refuses (\(553 5\.7\.1\)): /\1 /p' "$T/o6")
[ -n "$want" ] || t_fail "route --from does not say the milter refuses with 553: $(cat "$T/o6")"
t_assert_grep "^milter: +refuses \(553 5\.7\.1\): smtp\.163\.com requires the envelope sender to be the account login alerts@163\.com" "$T/o6"
"$ctl" -c "$T/smarthost.conf" route printer@office.test --from 'P <printer@office.test>' --json >"$T/o7" 2>&1 ||
    { cat "$T/o7"; t_fail "route --from --json (printer) exited $?"; }
/usr/bin/python3 - "$T/o7" "$want" <<'PY' || t_fail "JSON milter object wrong: $(cat "$T/o7")"
import json, sys
d = json.load(open(sys.argv[1]))
m = d["milter"]
assert m["decision"] == "reject", m
assert "%s %s %s" % (m["code"], m["status"], m["reply"]) == sys.argv[2], m
assert d["alignment"]["milter_refuses"] is True, d
PY

mt_milter
cat >"$T/printer.lua" <<'LUA'
dofile(dir .. "/lib.lua")
run("SASL user outside allowed-users: refused at RCPT", function()
	local conn, stage, r = send{ auth = "carol", qid = "CAROL",
	    from = "<team@163.com>",
	    headers = { { "From", "Team <team@163.com>" } } }
	expect_stage(stage, r, "rcpt", SMFIR_REPLYCODE)
	mt.disconnect(conn)
end)
run("UTF-8 sender: refused at RCPT", function()
	local conn, stage, r = send{ qid = "UTF8", from = "<张三@lab.test>",
	    mailargs = { "SMTPUTF8" },
	    headers = { { "From", "=?UTF-8?B?5byg5LiJ?= <boss@163.com>" } } }
	expect_stage(stage, r, "rcpt", SMFIR_REPLYCODE)
	mt.disconnect(conn)
end)
run("own domain, SPF without the provider: refused at end of message", function()
	local conn, stage, r = send{ qid = "OPS", from = "<ops@company.test>",
	    headers = { { "From", "Ops <ops@company.test>" } } }
	expect_stage(stage, r, "eom", SMFIR_REPLYCODE)
	mt.disconnect(conn)
end)
run("printer without rewrite: refused at RCPT", function()
	local conn, stage, r = send{ qid = "PRINTER",
	    from = "<printer@office.test>",
	    headers = { { "From", "P <printer@office.test>" } } }
	expect_stage(stage, r, "rcpt", SMFIR_REPLYCODE)
	mt.disconnect(conn)
end)
finish()
LUA
timeout 30 miltertest -D "sock=unix:$T/milter.sock" -D "dir=$SMARTHOST_TOP/tests/milter" \
    -s "$T/printer.lua" >"$T/mt.out" 2>&1 || { cat "$T/mt.out" "$T/milter.log"; t_fail "miltertest: the milter did not refuse the printer at RCPT"; }
t_wait_for "grep -q 'qid=PRINTER ' '$T/milter.log'" 5 || { cat "$T/milter.log"; t_fail "no milter log line for the printer"; }
grep 'qid=PRINTER ' "$T/milter.log" | grep -qF "decision=reject reason=\"sender mismatch\"" ||
    t_fail "milter decision: $(grep 'qid=PRINTER ' "$T/milter.log")"
grep 'qid=PRINTER ' "$T/milter.log" | grep -qF "reply=\"$want\"" ||
    t_fail "the milter's reply differs from route --from's ($want): $(grep 'qid=PRINTER ' "$T/milter.log")"
t_ok "sender rule: route --from and the milter refuse with the same 553 reply"

# allowed-users: --user names the SASL login, as the MTA tells the milter
"$ctl" -c "$T/smarthost.conf" route team@163.com --from 'Team <team@163.com>' --user carol >"$T/o8" 2>&1 ||
    { cat "$T/o8"; t_fail "route --user carol exited $?"; }
want=$(sed -n 's/^milter: *refuses (\(550 5\.7\.1\)): /\1 /p' "$T/o8")
[ -n "$want" ] || t_fail "route --user carol: no 550 refusal: $(cat "$T/o8")"
t_wait_for "grep -q 'qid=CAROL ' '$T/milter.log'" 5 || t_fail "no milter log line for carol"
grep 'qid=CAROL ' "$T/milter.log" | grep -qF "reply=\"$want\"" ||
    t_fail "the milter's reply differs from route --user's ($want): $(grep 'qid=CAROL ' "$T/milter.log")"
"$ctl" -c "$T/smarthost.conf" route team@163.com --from 'Team <team@163.com>' --user alice >"$T/o9" 2>&1 ||
    { cat "$T/o9"; t_fail "route --user alice exited $?"; }
t_assert_grep '^milter: +accepts$' "$T/o9"
"$ctl" -c "$T/smarthost.conf" route team@163.com --from 'Team <team@163.com>' >"$T/o10" 2>&1 ||
    { cat "$T/o10"; t_fail "route (allowed-users, no --user) exited $?"; }
t_assert_grep '^milter: +accepts, from a SASL user in allowed-users \(team@163\.com has 1; check one with --user\)$' "$T/o10"
t_ok "allowed-users: route --user and the milter agree (carol refused with the same reply, alice accepted)"

# SMTPUTF8: the providers offer none; route --from and the milter refuse a
# UTF-8 sender alike (the milter's log shows each non-ASCII byte as "?").
"$ctl" -c "$T/smarthost.conf" route '张三@lab.test' --from '=?UTF-8?B?5byg5LiJ?= <boss@163.com>' >"$T/o11" 2>&1 ||
    { cat "$T/o11"; t_fail "route --from (UTF-8 sender) exited $?"; }
t_assert_grep '^milter: +refuses \(553 5\.6\.7\): <张三@lab\.test>: UTF-8 addresses \(SMTPUTF8\) cannot be sent through the provider accounts' "$T/o11"
want=$(sed -n 's/^milter: *refuses (\(553 5\.6\.7\)): /\1 /p' "$T/o11" | LC_ALL=C sed 's/[\x80-\xff]/?/g')
t_wait_for "grep -q 'qid=UTF8 ' '$T/milter.log'" 5 || t_fail "no milter log line for the UTF-8 sender"
grep 'qid=UTF8 ' "$T/milter.log" | grep -qF "reply=\"$want\"" ||
    t_fail "the milter's reply differs from route --from's ($want): $(grep 'qid=UTF8 ' "$T/milter.log")"
t_ok "SMTPUTF8: route --from and the milter refuse a UTF-8 sender with the same 553 5.6.7 reply"
# The sender is the login of an account of company.test, whose SPF record
# does not include the provider's (spf.mail.qq.com, exmail.qq.com preset).
"$ctl" -c "$T/smarthost.conf" route ops@company.test --from 'Ops <ops@company.test>' >"$T/o12" 2>&1 ||
    { cat "$T/o12"; t_fail "route --from (ops) exited $?"; }
cat "$T/o12"
t_assert_grep '^alignment: +spf=fail; dkim=none; dmarc=fail \(p=reject\)$' "$T/o12"
t_assert_grep '^milter: +refuses \(550 5\.7\.1\): From domain company\.test publishes DMARC p=reject but neither SPF \(fail for company\.test\) nor DKIM \(none\) aligns with it: recipients would reject this message from company\.test sent through ent-ops; add include:spf\.mail\.qq\.com to the SPF record of company\.test, or DKIM-sign its mail for company\.test$' "$T/o12" "route --from names the SPF include to add"
want=$(sed -n 's/^milter: *refuses (\(550 5\.7\.1\)): /\1 /p' "$T/o12")
t_wait_for "grep -q 'qid=OPS ' '$T/milter.log'" 5 || { cat "$T/milter.log"; t_fail "no milter log line for ops"; }
grep 'qid=OPS ' "$T/milter.log" | grep -qF "reply=\"$want\"" ||
    t_fail "the milter's reply differs from route --from's ($want): $(grep 'qid=OPS ' "$T/milter.log")"
t_ok "own domain without the provider's SPF include: route --from and the milter both say to add include:spf.mail.qq.com"
