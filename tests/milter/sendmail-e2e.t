#!/usr/bin/env bash
# sendmail-e2e.t — a real Sendmail 8.17 with smarthost-milter as its
# INPUT_MAIL_FILTER and smtp-sink as SMART_HOST; swaks submits.
#
# Debian's sendmail-bin conflicts with postfix, so it is not installed:
# tests/lib/sendmail.sh fetches the packages once with `apt-get download`
# (outside the network namespace) and runs the daemon from the unpacked
# tree with a .cf built by m4.  Without them the test fails saying so.
. "$SMARTHOST_TOP/tests/lib/common.sh"
. "$SMARTHOST_TOP/tests/lib/sendmail.sh"
sm_fetch
t_enter_netns "$@"
. "$SMARTHOST_TOP/tests/milter/e2e-lib.sh"
t_need m4 swaks smtp-sink dnsmasq
sm_check
[ -x "$B/smarthost-milter" ] || t_fail "$B/smarthost-milter not built"
t_tmpdir
T=$T_TMP
# Sendmail refuses a milter socket below a world-writable directory (/tmp).
R=$(mktemp -d /run/smarthost-sendmail.XXXXXX) || t_fail "mktemp in /run"
t_cleanup_add "rm -rf '$R'"

t_hosts "127.0.0.1 mx.office.test"
dns_start --local=/test/ --local=/com/ --local=/net/ "${DNS_163[@]}"
mt_sink

mt_conf root 127.0.0.0/8 "$R"
printf '%s\n' "scanner@office.test alerts@163.com rewrite" \
    "mismatch@office.test alerts@163.com" >"$T/relay.map"
mt_milter "$R"

{ sm_mc_base "$T" 2526; cat <<MC; } >"$T/test.mc"
define(\`SMART_HOST', \`[127.0.0.1]')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h 10025')dnl
define(\`ESMTP_MAILER_ARGS', \`TCP \$h 10025')dnl
INPUT_MAIL_FILTER(\`smarthost', \`S=unix:$R/milter.sock, F=T, T=S:10s;R:10s;E:30s')dnl
MAILER(\`smtp')dnl
MC
sm_build "$T/test.mc" "$T/test.cf"
t_assert_grep '^Xsmarthost, S=unix:' "$T/test.cf" "milter in the .cf"
sm_start "$T" "$T/test.cf" 2526

send() { timeout 30 swaks -s 127.0.0.1 -p 2526 --helo client.test "$@"; }
send --from scanner@office.test --to friend@example.net \
    --header "From: Office Scanner <scanner@office.test>" \
    --header "X-Smarthost: forged" >"$T/s1" 2>&1 ||
    { cat "$T/s1"; t_fail "rewritten message refused"; }
# A sink file is complete once the body is in it.
t_wait_for "grep -qs 'This is a test mailing' '$T'/sink/*.*" 15 ||
    t_fail "sink got nothing: $(cat "$T/milter.log")"
msg=$(grep -ls 'This is a test mailing' "$T"/sink/*.* | head -n 1)
# The relay, not the milter, sends the login: Sendmail's queue keeps
# the sender, so Sendmail's own notices go back to it.
t_assert_grep '^X-Mail-Args: <scanner@office\.test>' "$msg" "envelope sender kept"
t_assert_grep '^From: Office Scanner <alerts@163\.com>$' "$msg" "From rewritten"
t_assert_no_grep '^Reply-To:' "$msg" "Reply-To for a local-domains sender"
t_assert_grep '^X-Smarthost: account=alerts@163\.com; host=smtp\.163\.com; rewritten; spf=pass; dkim=pass \(d=163\.com\); dmarc=pass \(p=none\)$' "$msg" "trace header"
t_assert_eq 1 "$(grep -c '^X-Smarthost:' "$msg")" "trace headers"
t_ok "Sendmail: From: rewritten, envelope left for the relay"

send --from mismatch@office.test --to friend@example.net >"$T/s2" 2>&1
t_assert_grep "<\*\* +553 5\.7\.1 .*smtp\.163\.com requires the envelope sender to be the account login alerts@163\.com \(it says: 553 Mail from must equal authorized user\); add 'rewrite' to relay\.map line 2" "$T/s2" "mismatch reply"
send --from stranger@elsewhere.test --to friend@example.net >"$T/s3" 2>&1
t_assert_grep '<\*\* +550 5\.7\.1 .*no route for sender stranger@elsewhere\.test' "$T/s3" "no-route reply"
t_ok "Sendmail: refusals reach the client"
t_assert_grep 'qid=[0-9A-Za-z]+ sender=<scanner@office.test> account=alerts@163.com decision=accept' "$T/milter.log" "milter log with Sendmail's queue ID"
