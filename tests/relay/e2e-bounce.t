#!/usr/bin/env bash
# e2e-bounce.t — Postfix's notices reach the original sender.  A real
# Postfix with smarthost-milter and smarthost-relay; alice@office.lan
# (a local domain: transport_maps sends it to a second sink standing for
# local delivery) sends to two recipients through "* office@qq.com
# rewrite".  The provider stand-in accepts one and refuses the other with
# 550.  Asserted: Postfix's queue holds from=<alice@office.lan>; the
# provider saw MAIL FROM:<office@qq.com> and got the accepted copy with
# From: rewritten; Postfix's bounce, naming the refused recipient, is
# delivered locally to alice@office.lan; nothing else (no bounce to
# office@qq.com) went through the relay.
. "$SMARTHOST_TOP/tests/relay/e2e-lib.sh"
t_enter_netns "$@"
e2e_init
t_need smtp-sink
[ -x "$B/smarthost-milter" ] || t_fail "$B/smarthost-milter not built"

e2e_users 'office@qq.com qq-code-61'
e2e_peer p1 4651 implicit --sender-rule qq --reject-rcpt bad@dest.test \
    --reject-rcpt-reply '550 5.1.1 <ADDR>: Mailbox not found'
mkdir -p "$D/local" && chmod 777 "$D/local"
t_spawn local "$D/local.log" smtp-sink -u nobody -d "$D/local/%M." 127.0.0.1:10026 100
t_wait_port 127.0.0.1 10026 5 || t_fail "smtp-sink (local) did not listen"

e2e_relay_conf "
[milter]
socket = unix:$D/milter.sock
dmarc = off
[account office@qq.com]
host = smtp.test
port = 4651
tls = implicit" "*  office@qq.com  rewrite" 'office@qq.com qq-code-61'
sed -i "s|^\[global\]$|&\nlocal-domains = office.lan\ninternal-networks = 127.0.0.0/8|" \
    "$D/smarthost.conf"
chmod 644 "$D/smarthost.conf" "$D/relay.map"
e2e_relay_start
t_spawn milter "$D/milter.log" "$B/smarthost-milter" -f -c "$D/smarthost.conf"
t_wait_for "[ -S '$D/milter.sock' ]" 5 ||
    t_fail "milter socket missing: $(cat "$D/milter.log")"
e2e_postfix "smtpd_milters = unix:$D/milter.sock" \
    "milter_default_action = tempfail" \
    "transport_maps = inline:{ office.lan=smtp:[127.0.0.1]:10026 }"

pf_send "$D/pf" --from alice@office.lan --to good@dest.test,bad@dest.test \
    --header "From: Alice <alice@office.lan>" --header "Subject: test b1" \
    --header "X-Test-Id: b1" >"$D/swaks-b1" 2>&1 ||
    { cat "$D/swaks-b1" >&2; t_fail "Postfix refused the message"; }
qid=$(e2e_qid b1)
[ -n "$qid" ] || t_fail "no queue ID in swaks's transcript"

# Postfix's queue: the original sender.
pf_wait_log "$D/pf" "$qid: from=<alice@office\.lan>" 10 ||
    t_fail "Postfix did not queue $qid from <alice@office.lan>: $(grep "$qid" "$D/pf/maillog")"
t_assert_no_grep "$qid: from=<office@qq\.com>" "$D/pf/maillog" "queue sender rewritten"
t_assert_grep "qid=$qid sender=<alice@office.lan> account=office@qq.com decision=accept .*relay-envelope=office@qq.com reply-to=none:local-domain" \
    "$D/milter.log" "milter log line"
t_ok "Postfix's queue keeps from=<alice@office.lan>"

# The provider: MAIL FROM the login, the accepted recipient only.
e2e_wait_delivered p1 b1 1 15
t_assert_eq "office@qq.com office@qq.com true good@dest.test" \
    "$(e2e_envelope p1 b1)" "envelope at the provider (mail_from login tls rcpts)"
eml=$(grep -l '^X-Test-Id: b1' "$D"/mail-p1.*/msg-*.eml)
t_assert_grep '^From: Alice <office@qq\.com>' "$eml" "From: rewritten"
t_assert_no_grep '^Reply-To:' "$eml" "Reply-To to a local-domains address"
t_assert_grep '"event": "rcpt".*bad@dest\.test' "$D/events-p1" "the provider was offered the refused recipient"
t_ok "the provider saw MAIL FROM:<office@qq.com> and got the accepted copy"

# The bounce: from Postfix, to alice@office.lan, delivered locally.
pf_wait_log "$D/pf" "$qid: to=<bad@dest\.test>.* status=bounced .*550 5\.1\.1" 15 ||
    t_fail "bad@dest.test not bounced: $(grep "$qid" "$D/pf/maillog")"
t_wait_for "grep -qs '^X-Rcpt-Args: <alice@office\.lan>' '$D'/local/*.*" 15 ||
    { tail -n 20 "$D/pf/maillog" >&2; t_fail "no bounce delivered locally to alice@office.lan"; }
bounce=$(grep -l '^X-Rcpt-Args: <alice@office\.lan>' "$D"/local/*.*)
t_assert_eq 1 "$(echo "$bounce" | wc -l)" "notices delivered to alice@office.lan"
t_assert_grep '^X-Mail-Args: <>' "$bounce" "bounce has the null sender"
t_assert_grep '^Subject: Undelivered Mail Returned to Sender' "$bounce" "bounce subject"
t_assert_grep '<bad@dest\.test>: host 127\.0\.0\.1\[127\.0\.0\.1\] said: 550 5\.1\.1' "$bounce" "bounce names the refused recipient"
t_assert_grep '^Final-Recipient: rfc822; ?bad@dest\.test' "$bounce" "DSN names the refused recipient"
t_assert_no_grep '^Final-Recipient: rfc822; ?good@dest\.test' "$bounce" "DSN names the delivered recipient"
t_ok "Postfix's bounce reached alice@office.lan locally"

# Nothing went back out through the relay.
pf_wait_queue_empty "$D/pf" 10 || { pf_queue "$D/pf"; t_fail "mail still queued"; }
sleep 1
t_assert_eq 1 "$(ls "$D"/mail-p1.*/msg-*.json | wc -l)" "messages at the provider"
t_assert_eq 1 "$(grep -c 'status=' "$D/relay.log")" "transactions through the relay"
t_assert_no_grep 'sender=<>' "$D/relay.log" "a null-sender transaction at the relay"
t_assert_no_grep 'to=<office@qq\.com>' "$D/pf/maillog" "mail to office@qq.com"
t_assert_grep "qid=$qid sender=<alice@office\.lan> account=office@qq\.com .*rewrite=yes" \
    "$D/relay.log" "relay log: original sender, rewritten upstream"
e2e_assert_no_secrets
t_ok "no bounce went to office@qq.com through the relay"
