#!/usr/bin/env bash
# smarthostctl sendmail: the .mc lines it derives from smarthost.conf, then
# the real thing: its whole output pasted into the .mc of a throwaway
# Sendmail 8.17 (Debian's packages, unpacked; see tests/lib/sendmail.sh),
# the .cf built with m4, and a message sent through Sendmail ->
# smarthost-milter (unix socket) -> smarthost-relay (the relay mailer to
# the port the lines name) -> a provider-like smarthost with TLS and AUTH.
# Asserts at the smarthost: envelope rewritten to the account, login, the
# milter's trace header; and that with the milter gone (killed) Sendmail
# answers 4xx (F=T) instead of letting the message through.
. "$SMARTHOST_TOP/tests/lib/common.sh"
. "$SMARTHOST_TOP/tests/lib/sendmail.sh"
sm_fetch
t_enter_netns "$@"
. "$SMARTHOST_TOP/tests/lib/pki.sh"
. "$SMARTHOST_TOP/tests/lib/smarthost.sh"
. "$SMARTHOST_TOP/tests/ctl/e2e.sh"
t_need swaks dnsmasq openssl
sm_check
ctl_e2e_init
# Sendmail refuses a milter socket below a world-writable directory (/tmp).
R=$(mktemp -d /run/smarthost-ctl-sendmail.XXXXXX) || t_fail "mktemp in /run"
t_cleanup_add "rm -rf '$R'"

# --- derived values --------------------------------------------------------

printf '%s\n' "[global]" "relay-map = $T/none.map" "[milter]" \
    "socket = inet6:8891" "[relay]" "listen = [::]:10029" >"$T/d.conf"
"$ctl" -c "$T/d.conf" sendmail >"$T/d.mc" || t_fail "smarthostctl sendmail failed"
t_assert_grep "^INPUT_MAIL_FILTER\(\`smarthost', \`S=inet6:8891@::1, F=T, T=S:30s;R:2m;E:10m'\)dnl$" "$T/d.mc" "inet6 milter socket"
t_assert_grep "^define\(\`SMART_HOST', \`\[IPv6:::1\]'\)dnl$" "$T/d.mc" "IPv6 smart host"
t_assert_grep "^define\(\`RELAY_MAILER_ARGS', \`TCP \\\$h 10029'\)dnl$" "$T/d.mc" "relay port"
t_assert_no_grep "ESMTP_MAILER_ARGS" "$T/d.mc" "esmtp mailer left alone"
t_assert_no_grep '^[^Id]' "$T/d.mc" "only dnl, define and INPUT_MAIL_FILTER lines"
printf '%s\n' "[global]" "relay-map = $T/none.map" "[relay]" \
    "listen = unix:/run/relay.sock" >"$T/d.conf"
"$ctl" -c "$T/d.conf" sendmail >/dev/null 2>"$T/d.err"
t_assert_eq 78 "$?" "exit status for a unix listen socket"
t_assert_grep "cannot deliver to a unix socket" "$T/d.err"
"$ctl" -c "$T/d.conf" sendmail extra >/dev/null 2>&1
t_assert_eq 64 "$?" "exit status for an extra argument"
t_ok "derived: inet6 socket, IPv6 smart host, relay port, errors"

# INSTALL shows the output for the sample configuration: no drift.
"$ctl" -c "$SMARTHOST_TOP/conf/smarthost.conf" sendmail >"$T/sample.mc" ||
    t_fail "smarthostctl sendmail on conf/smarthost.conf failed"
while IFS= read -r l; do
	grep -Fxq -- "    $l" "$SMARTHOST_TOP/INSTALL" ||
	    t_fail "INSTALL lacks the line \"$l\" of smarthostctl sendmail"
done < <(grep -v '^dnl' "$T/sample.mc")
t_ok "INSTALL shows the lines printed for conf/smarthost.conf"

# --- a real Sendmail with the milter and the relay -------------------------

ctl_e2e_setup "127.0.0.1 mx.office.test smtp.test" code-sm-0815 \
    "unix:$R/milter.sock" 127.0.0.1:10028
t_spawn milter "$T/milter.log" "$B/smarthost-milter" -f -c "$T/smarthost.conf"
t_spawn relay "$T/relay.log" "$B/smarthost-relay" -f -c "$T/smarthost.conf"
t_wait_for "[ -S '$R/milter.sock' ]" 5 || t_fail "no milter socket: $(cat "$T/milter.log")"
t_wait_port 127.0.0.1 10028 5 || t_fail "relay does not listen: $(cat "$T/relay.log")"

"$ctl" -c "$T/smarthost.conf" sendmail >"$T/lines.mc" ||
    t_fail "smarthostctl sendmail failed"
mkdir -p "$T/sm"
{ sm_mc_base "$T/sm" 2526; cat "$T/lines.mc"; echo "MAILER(\`smtp')dnl"; } >"$T/sm.mc"
sm_build "$T/sm.mc" "$T/sm.cf"
t_assert_grep "^Xsmarthost, S=unix:$R/milter\.sock, F=T, T=S:30s;R:2m;E:10m$" "$T/sm.cf" "milter in the .cf"
t_assert_grep '^DS\[127\.0\.0\.1\]$' "$T/sm.cf" "smart host in the .cf"
# Mailer definitions span lines: one file per mailer.
sed -n '/^Mrelay,/,/^$/p' "$T/sm.cf" >"$T/relay.mailer"
sed -n '/^Mesmtp,/,/^$/p' "$T/sm.cf" >"$T/esmtp.mailer"
t_assert_grep 'A=TCP \$h 10028$' "$T/relay.mailer" "relay mailer port in the .cf"
t_assert_grep 'A=TCP \$h$' "$T/esmtp.mailer" "esmtp mailer unchanged"
t_ok "the printed lines build into a .cf: milter, smart host, relay mailer port"
sh_wait_ready "$T/p1"
sm_start "$T/sm" "$T/sm.cf" 2526

send() { timeout 30 swaks -s 127.0.0.1 -p 2526 --helo client.test "$@"; }
send --from scanner@office.test --to friend@example.net \
    --header "From: Office Scanner <scanner@office.test>" \
    --header "X-Test-Id: sm1" >"$T/s1" 2>&1 ||
    { cat "$T/s1"; t_fail "Sendmail refused the message"; }
sh_wait_msgs "$T/p1" 1 20 || {
	tail -n 20 "$T/relay.log" "$T/milter.log" "$T/sm/smtp.trace" >&2
	t_fail "nothing arrived at the smarthost within 20 s"; }
ctl_e2e_check_arrival sm1
t_assert_eq 1 "$(grep -c '^[[:space:]]*by mx\.office\.test ' "$eml")" "one Sendmail hop"
# Sendmail's queue keeps the sender; the relay sends the login upstream.
t_assert_grep 'sender=<scanner@office\.test> account=alerts@163\.com .*status=sent .*rewrite=yes' "$T/relay.log" "relay log line"
t_ok "Sendmail -> milter -> relay -> smarthost: rewritten, traced"

# F=T: without the milter the message is refused for now, not let through.
# (SIGKILL, as a crash: libmilter takes seconds to stop on SIGTERM.)
disown "$T_PID_milter"		# no "Killed" notice from bash
kill -KILL -- "-$T_PID_milter"
t_wait_for "! kill -0 $T_PID_milter 2>/dev/null" 5 || t_fail "milter still running"
send --from scanner@office.test --to friend@example.net \
    --header "X-Test-Id: sm2" >"$T/s2" 2>&1
t_assert_grep '<\*\* +451 4\.3\.2 ' "$T/s2" "reply with the milter down"
t_assert_eq 1 "$(sh_msgs "$T/p1")" "messages at the smarthost with the milter down"
t_ok "milter down: Sendmail answers 451 4.3.2 (F=T) and nothing leaves unchecked"

grep -rlF code-sm-0815 "$T"/*.log "$T/sm" "$T"/s[12] "$T/p1/log" \
    "$T/lines.mc" 2>/dev/null && t_fail "a log or output holds the code"
t_ok "no log or output holds the authorization code"
