#!/usr/bin/env bash
# smarthostctl postfix: what it derives from smarthost.conf (milter socket
# in Postfix's syntax, relayhost, chroot advice, limits, errors), then the
# real thing: its --postconf commands applied to a throwaway Postfix (with
# -c added, nothing else), the main.cf/master.cf excerpts checked against
# what postconf then reports, and a message sent through Postfix ->
# smarthost-milter -> smarthost-relay -> a provider-like smarthost with TLS
# and AUTH.  Asserts at the smarthost: envelope rewritten to the account,
# the milter's trace header; in Postfix's log: delivery by the "smarthost"
# service to the relay's address; in the relay's log: Postfix's queue ID
# (XFORWARD).  Then a local submission with sendmail(1) (non_smtpd_milters)
# and, with the milter killed, a 4xx reply (milter_default_action).
. "$SMARTHOST_TOP/tests/lib/common.sh"
t_enter_netns "$@"
. "$SMARTHOST_TOP/tests/lib/pki.sh"
. "$SMARTHOST_TOP/tests/lib/postfix.sh"
. "$SMARTHOST_TOP/tests/lib/smarthost.sh"
. "$SMARTHOST_TOP/tests/ctl/e2e.sh"
t_need postfix postconf swaks dnsmasq openssl
ctl_e2e_init

# --- derived values, no daemons ------------------------------------------

# pf_out CONF-LINES... : smarthostctl postfix and --postconf for a conf
# holding these lines; sets $out (excerpts), $cmds (commands), $rc.
pf_out() {
	printf '%s\n' "[global]" "relay-map = $T/none.map" "$@" >"$T/d.conf"
	out=$("$ctl" -c "$T/d.conf" postfix 2>"$T/d.err")
	rc=$?
	cmds=$("$ctl" -c "$T/d.conf" postfix --postconf 2>>"$T/d.err")
}
has() {	# TEXT LINE WHAT
	grep -Fxq -- "$2" <<<"$1" || { printf '%s\n' "$1" | tail -n 40 >&2
		t_fail "$3: no line \"$2\""; }
}
hasnt() {
	! grep -Fq -- "$2" <<<"$1" || t_fail "$3: unexpected \"$2\""
}

pf_out
t_assert_eq 0 "$rc" "exit status with defaults"
has "$out" "smtpd_milters = unix:/run/smarthost/milter.sock" "default socket"
has "$out" 'non_smtpd_milters = $smtpd_milters' "non_smtpd_milters"
has "$out" "milter_default_action = tempfail" "default action"
has "$out" "milter_protocol = 6" "protocol"
has "$out" "relayhost = [127.0.0.1]:10025" "default relayhost"
has "$out" "default_transport = smarthost" "transport"
has "$out" "smarthost_destination_concurrency_limit = 20" "concurrency"
has "$out" "  -o smtp_send_xforward_command=yes" "XFORWARD"
has "$out" "  -o smtp_tls_security_level=none" "no TLS on the loopback hop"
has "$out" "  -o smtp_data_done_timeout=660s" "data done timeout (10m + 1m)"
has "$out" "smtpd_forbid_bare_newline = normalize" "bare newline normalized"
has "$out" "smtpd_forbid_bare_newline_exclusions =" "no bare newline exclusions"
why=$(awk '/^#/ { c = c " " substr($0, 3); next }
    /^smtpd_forbid_bare_newline = / { print c; exit } { c = "" }' <<<"$out")
[[ $why == *"smarthost-relay refuses a message holding a bare <LF> (smarthost-relay(8))"* ]] ||
    t_fail "the comment on smtpd_forbid_bare_newline does not say why: $why"
has "$cmds" "postconf -e 'smtpd_forbid_bare_newline = normalize'" "postconf -e bare newline"
has "$cmds" "postconf -e 'smtpd_forbid_bare_newline_exclusions ='" "postconf -e exclusions"
has "$cmds" "postconf -e 'relayhost = [127.0.0.1]:10025'" "postconf -e"
has "$cmds" "postconf -M 'smarthost/unix = smarthost unix - - n - - smtp'" "postconf -M"
has "$cmds" "postconf -F '*/inet/chroot = n' 'cleanup/unix/chroot = n'" \
    "chroot off for a socket outside the queue directory"
grep -vq "^postconf -[eMPF] '" <<<"$cmds" &&
    t_fail "--postconf printed something else: $(grep -v "^postconf -[eMPF] '" <<<"$cmds")"
t_ok "defaults: milter socket, relayhost, transport, postconf commands only"

pf_out "[milter]" "socket = unix:/var/spool/postfix/smarthost/milter.sock"
has "$out" "smtpd_milters = unix:smarthost/milter.sock" "socket in the queue directory"
hasnt "$cmds" "chroot" "no chroot change for a socket in the queue directory"
pf_out "[milter]" "socket = inet:8891" "[relay]" "listen = 0.0.0.0:10030" \
    "max-clients = 5" "data-timeout = 2m"
has "$out" "smtpd_milters = inet:127.0.0.1:8891" "inet socket without host"
has "$out" "relayhost = [127.0.0.1]:10030" "wildcard listen address"
has "$out" "smarthost_destination_concurrency_limit = 5" "max-clients"
has "$out" "  -o smtp_data_done_timeout=180s" "data-timeout + 1m"
hasnt "$cmds" "chroot" "no chroot change for an inet socket"
pf_out "[milter]" "socket = inet6:8891@::1" "[relay]" "listen = [::]:10025"
has "$out" "smtpd_milters = inet:[::1]:8891" "inet6 socket"
has "$out" "relayhost = [::1]:10025" "IPv6 wildcard listen address"
has "$out" "# An IPv6 address above: inet_protocols must include ipv6." "IPv6 note"
pf_out "[relay]" "listen = unix:/run/smarthost/relay.sock"
t_assert_eq 78 "$rc" "exit status for a unix listen socket"
t_assert_grep "listen = unix:/run/smarthost/relay.sock: an MTA's SMTP client cannot deliver to a unix socket" "$T/d.err"
pf_out "[milter]" "socket = unix:/run/a,b.sock"
t_assert_eq 78 "$rc" "exit status for a socket path with a comma"
"$ctl" -c "$T/missing.conf" postfix >/dev/null 2>&1
t_assert_eq 66 "$?" "exit status for a missing file"
"$ctl" -c "$T/d.conf" postfix --bogus >/dev/null 2>&1
t_assert_eq 64 "$?" "exit status for a bad option"
t_ok "derived: queue-directory socket, inet/inet6, wildcard listen, limits, errors"

# INSTALL shows the output for the sample configuration: no drift.
"$ctl" -c "$SMARTHOST_TOP/conf/smarthost.conf" postfix >"$T/sample.out" ||
    t_fail "smarthostctl postfix on conf/smarthost.conf failed"
n=0
while IFS= read -r l; do
	grep -Fxq -- "    $l" "$SMARTHOST_TOP/INSTALL" ||
	    t_fail "INSTALL lacks the line \"$l\" of smarthostctl postfix"
	n=$((n + 1))
done < <(grep -vE '^(#|$)' "$T/sample.out")
t_ok "INSTALL shows all $n settings printed for conf/smarthost.conf"

# --- a real Postfix with the milter and the relay ------------------------

ctl_e2e_setup "127.0.0.1 smtp.test" code-pf-4711 \
    "inet:8893@127.0.0.1" 127.0.0.1:10027 \
    "max-clients = 8"
"$ctl" -c "$T/smarthost.conf" check >"$T/check.out" 2>&1 ||
    { cat "$T/check.out"; t_fail "smarthostctl check refused the test configuration"; }
t_spawn milter "$T/milter.log" "$B/smarthost-milter" -f -c "$T/smarthost.conf"
t_spawn relay "$T/relay.log" "$B/smarthost-relay" -f -c "$T/smarthost.conf"
t_wait_port 127.0.0.1 8893 5 || t_fail "milter does not listen: $(cat "$T/milter.log")"
t_wait_port 127.0.0.1 10027 5 || t_fail "relay does not listen: $(cat "$T/relay.log")"
sh_wait_ready "$T/p1"

"$ctl" -c "$T/smarthost.conf" postfix --postconf >"$T/postconf.sh" ||
    t_fail "smarthostctl postfix --postconf failed"
"$ctl" -c "$T/smarthost.conf" postfix >"$T/excerpt" ||
    t_fail "smarthostctl postfix failed"
pf_create "$T/pf" 2525 || t_fail "pf_create"
sed "s|^postconf |postconf -c '$T/pf/etc' |" "$T/postconf.sh" >"$T/apply.sh"
bash -e "$T/apply.sh" >"$T/apply.out" 2>&1 ||
    { cat "$T/apply.out"; t_fail "the printed postconf commands failed"; }
[ -s "$T/apply.out" ] && { cat "$T/apply.out"; t_fail "postconf complained"; }
postconf -c "$T/pf/etc" -n >/dev/null 2>"$T/postconf-n.err"
[ -s "$T/postconf-n.err" ] &&
    { cat "$T/postconf-n.err"; t_fail "postconf -n warns about the applied settings"; }
pf_backdate "$T/pf/etc/main.cf" "$T/pf/etc/master.cf"

# Each main.cf line of the excerpt is what postconf now reports...
n=0
while IFS= read -r line; do
	name=${line%% =*}
	want=${line#* =}; want=${want# }
	t_assert_eq "$want" "$(postconf -c "$T/pf/etc" -h "$name")" "main.cf $name"
	n=$((n + 1))
done < <(sed -n '/^### main.cf/,/^### master.cf/p' "$T/excerpt" | grep -E '^[a-z_0-9]+ =')
[ "$n" -ge 9 ] || t_fail "only $n main.cf lines in the excerpt"
# ...and so is its master.cf entry.
want=$(sed -n '/^### master.cf/,$p' "$T/excerpt" | grep -v '^#' |
    grep -A20 '^smarthost ' | grep -E '^(smarthost |  -o )' | tr -s ' \n' ' ')
got=$(postconf -c "$T/pf/etc" -M smarthost/unix | tr -s ' \n' ' ')
t_assert_eq "${want% }" "${got% }" "master.cf entry"
t_ok "the --postconf commands apply with postconf -c; the excerpts say the same ($n main.cf settings)"

pf_start "$T/pf"
pf_send "$T/pf" --from scanner@office.test --to friend@example.net \
    --header "From: Office Scanner <scanner@office.test>" \
    --header "Subject: through postfix" --header "X-Test-Id: pf1" \
    >"$T/swaks.out" 2>&1 || { cat "$T/swaks.out"; t_fail "Postfix refused the message"; }
qid=$(grep -Eo 'queued as [0-9A-F]+' "$T/swaks.out" | awk '{print $3}')
[ -n "$qid" ] || t_fail "no queue ID in swaks's transcript"
sh_wait_msgs "$T/p1" 1 20 || {
	tail -n 20 "$T/pf/maillog" "$T/relay.log" "$T/milter.log" >&2
	t_fail "nothing arrived at the smarthost within 20 s"; }
ctl_e2e_check_arrival pf1
pf_wait_log "$T/pf" "postfix/smarthost/smtp\[[0-9]+\]: $qid: to=<friend@example\.net>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:10027,.* status=sent" 10 ||
    { tail -n 20 "$T/pf/maillog" >&2; t_fail "Postfix did not log delivery by the smarthost service to 127.0.0.1:10027"; }
# Postfix's queue keeps the sender; the relay sends the login upstream.
t_assert_grep "qid=$qid sender=<scanner@office\.test> account=alerts@163\.com .*status=sent .*rewrite=yes" "$T/relay.log" "relay log line with Postfix's queue ID"
t_ok "Postfix -> milter -> relay -> smarthost: rewritten, traced, queue ID $qid in the relay's log"

# non_smtpd_milters: a local submission with Postfix's sendmail(1) passes
# the milter too (pickup -> cleanup) and leaves the same way.
printf '%s\n' "From: Office Scanner <scanner@office.test>" "To: friend@example.net" \
    "Subject: local" "X-Test-Id: pf2" "" "submitted locally" |
    timeout 10 sendmail -C "$T/pf/etc" -f scanner@office.test friend@example.net ||
    t_fail "Postfix's sendmail(1) refused the message"
sh_wait_msgs "$T/p1" 2 20 || {
	tail -n 20 "$T/pf/maillog" "$T/milter.log" >&2
	t_fail "the locally submitted message did not arrive within 20 s"; }
eml=$(sh_msg_eml "$T/p1" 2)
t_assert_grep '^X-Test-Id: pf2' "$eml" "the local message"
t_assert_eq alerts@163.com "$(sh_msg_field "$T/p1" 2 mail_from)" "envelope sender of the local message"
t_assert_grep '^X-Smarthost: account=alerts@163\.com; host=smtp\.test; rewritten;' "$eml" "trace header of the local message"
t_ok "a message submitted with sendmail(1) passes the milter (non_smtpd_milters)"

# milter_default_action = tempfail: with the milter gone (killed, as in a
# crash) Postfix answers 4xx and nothing leaves unchecked.
disown "$T_PID_milter"		# no "Killed" notice from bash
kill -KILL -- "-$T_PID_milter"
t_wait_for "! kill -0 $T_PID_milter 2>/dev/null" 5 || t_fail "milter still running"
pf_send "$T/pf" --from scanner@office.test --to friend@example.net \
    --header "X-Test-Id: pf3" >"$T/swaks3.out" 2>&1
t_assert_grep '<\*\* +451 4\.7\.1 ' "$T/swaks3.out" "reply with the milter down"
t_assert_grep 'milter-reject: MAIL from .*451 4\.7\.1 Service unavailable' "$T/pf/maillog" "Postfix's milter-reject"
t_assert_eq 2 "$(sh_msgs "$T/p1")" "messages at the smarthost with the milter down"
t_ok "milter down: Postfix answers 451 4.7.1 (milter_default_action = tempfail)"

grep -rlF code-pf-4711 "$T"/*.log "$T/pf/maillog" "$T"/swaks*.out "$T/p1/log" \
    "$T/excerpt" "$T/postconf.sh" 2>/dev/null && t_fail "a log or output holds the code"
t_ok "no log or output holds the authorization code"
