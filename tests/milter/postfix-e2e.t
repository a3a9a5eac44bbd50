#!/usr/bin/env bash
# postfix-e2e.t — a real Postfix with smarthost-milter in smtpd_milters
# (unix socket, milter running as nobody) and smtp-sink as relayhost;
# swaks submits.  Asserts what the sink received (the envelope sender as
# the client gave it: the relay, not the milter, sends the login; From:
# rewritten, no Reply-To: for a local-domains sender, trace header, the
# forged one gone), what the client
# was told for refused mail, and that Postfix logged no milter trouble.
. "$SMARTHOST_TOP/tests/lib/common.sh"
t_enter_netns "$@"
. "$SMARTHOST_TOP/tests/milter/e2e-lib.sh"
t_need postfix swaks smtp-sink dnsmasq
[ -x "$B/smarthost-milter" ] || t_fail "$B/smarthost-milter not built"
t_tmpdir
T=$T_TMP
export T_KEEP=${T_KEEP:-}

# A DKIM key for signed.test, and a message signed with it.
t_need opendkim-genkey cc
cc -o "$T/dkimsign" "$SMARTHOST_TOP/tests/milter/dkimsign.c" \
    $(pkg-config --cflags --libs opendkim) || t_fail "cannot build dkimsign"
opendkim-genkey -b 1024 -d signed.test -s sel -D "$T" || t_fail "opendkim-genkey"
dkimtxt=$(grep -o '"[^"]*"' "$T/sel.txt" | tr -d '"\n')
printf '%s\n' "From: Sales <sales@signed.test>" "To: friend@example.net" \
    "Subject: signed here" "Date: Sun, 22 Nov 2026 02:00:00 +0000" \
    "Message-ID: <e2e-1@signed.test>" "" "Hello," "signed body." >"$T/m.eml"
"$T/dkimsign" signed.test sel "$T/sel.private" <"$T/m.eml" >"$T/signed.eml" ||
    t_fail "dkimsign could not sign"
sed 's/^signed body\.$/changed body./' "$T/signed.eml" >"$T/tampered.eml"

# DNS for the alignment prediction.
mt_signed "$dkimtxt"
dns_start --local=/test/ --local=/com/ --local=/net/ "${DNS_163[@]}" \
    --txt-record='strictfrom.test,v=spf1 -all' \
    --txt-record='_dmarc.strictfrom.test,v=DMARC1; p=reject; adkim=s; aspf=s' \
    "${MT_SIGNED_DNS[@]}"

# The sink: one file per message, envelope as X-Mail-Args / X-Rcpt-Args.
mt_sink

mt_conf nobody 127.0.0.0/8
printf '%s\n' "dns-timeout = 3s" "$MT_SIGNED_ACCOUNT" >>"$T/smarthost.conf"
cat >"$T/relay.map" <<MAP
boss@163.com          boss@163.com
scanner@office.test   alerts@163.com   rewrite
mismatch@office.test  alerts@163.com
@signed.test          signed-relay
MAP
chmod 644 "$T/smarthost.conf" "$T/relay.map"
mt_milter
user=$(ps -o user= -p "$T_PID_milter")
t_assert_eq nobody "$user" "milter runs as"

mt_postfix "non_smtpd_milters = unix:$T/milter.sock"

# 1. Rewritten: From, trace header; forged one gone; envelope kept.
pf_send "$T/pf" --from scanner@office.test --to friend@example.net \
    --header "From: Office Scanner <scanner@office.test>" \
    --header "X-Smarthost: account=forged" >"$T/s1" 2>&1 ||
    { cat "$T/s1"; t_fail "rewritten message refused"; }
pf_wait_queue_empty "$T/pf" 15 || { pf_queue "$T/pf"; t_fail "mail still queued"; }
t_wait_for "ls '$T'/sink/*.* >/dev/null 2>&1" 5 || t_fail "sink got nothing"
msg=$(ls "$T"/sink/*.* | head -n 1)
t_assert_grep '^X-Mail-Args: <scanner@office\.test>' "$msg" "envelope sender kept"
t_assert_grep '^X-Rcpt-Args: <friend@example\.net>' "$msg" "recipient"
t_assert_grep '^From: Office Scanner <alerts@163\.com>$' "$msg" "From rewritten"
t_assert_no_grep '^Reply-To:' "$msg" "Reply-To for a local-domains sender"
t_assert_grep '^X-Smarthost: account=alerts@163\.com; host=smtp\.163\.com; rewritten; spf=pass; dkim=pass \(d=163\.com\); dmarc=pass \(p=none\)$' "$msg" "trace header"
n=$(grep -c '^X-Smarthost:' "$msg")
t_assert_eq 1 "$n" "trace headers in the delivered message"
t_ok "rewritten message: From: as the account, envelope left for the relay"

# 2.-4. Refused while the client is connected, with the precise reply.
pf_send "$T/pf" --from stranger@elsewhere.test --to friend@example.net >"$T/s2" 2>&1
t_assert_grep '<\*\* +550 5\.7\.1 no route for sender stranger@elsewhere\.test in relay\.map: add a line for stranger@elsewhere\.test, @elsewhere\.test or \*' "$T/s2" "no-route reply"
pf_send "$T/pf" --from mismatch@office.test --to friend@example.net >"$T/s3" 2>&1
t_assert_grep "<\*\* +553 5\.7\.1 smtp\.163\.com requires the envelope sender to be the account login alerts@163\.com \(it says: 553 Mail from must equal authorized user\); add 'rewrite' to relay\.map line 3 or send as alerts@163\.com" "$T/s3" "mismatch reply"
pf_send "$T/pf" --from boss@163.com --to friend@example.net \
    --header "From: Boss <boss@strictfrom.test>" >"$T/s4" 2>&1
t_assert_grep '<\*\* +550 5\.7\.1 From domain strictfrom\.test publishes DMARC p=reject \(strict\)' "$T/s4" "DMARC reply"
t_ok "refused mail told why at SMTP time"

# 5. Signed here (SPF fails, DKIM aligns): verified by the milter, accepted;
#    the same message with its body changed is refused.
pf_send "$T/pf" --from sales@signed.test --to friend@example.net \
    --data "$T/signed.eml" >"$T/s5" 2>&1 || { cat "$T/s5"; t_fail "signed message refused"; }
pf_wait_queue_empty "$T/pf" 15 || { pf_queue "$T/pf"; t_fail "mail still queued"; }
t_wait_for "grep -qs '^signed body' '$T'/sink/*.*" 5 || t_fail "signed message not at the sink"
msg=$(grep -l '^X-Mail-Args: <sales@signed\.test>' "$T"/sink/*.*)
t_assert_grep '^X-Smarthost: account=signed-relay; host=smtp\.example\.net; spf=fail; dkim=pass \(d=signed\.test\); dmarc=pass \(p=reject\)$' "$msg" "trace header of the signed message"
pf_send "$T/pf" --from sales@signed.test --to friend@example.net \
    --data "$T/tampered.eml" >"$T/s6" 2>&1
t_assert_grep '<\*\* +550 5\.7\.1 From domain signed\.test publishes DMARC p=reject but neither SPF \(fail for signed\.test\) nor DKIM \(none\) aligns' "$T/s6" "tampered message refused"
t_ok "existing DKIM signatures verified by the milter"
# 6. A local submission (sendmail -> pickup -> cleanup, non_smtpd_milters).
printf '%s\n' "From: Scanner <scanner@office.test>" "To: friend@example.net" \
    "Subject: local" "" "from the command line" |
    timeout 20 sendmail -C "$T/pf/etc" -f scanner@office.test friend@example.net ||
    t_fail "sendmail submission failed"
t_wait_for "grep -qs '^from the command line' '$T'/sink/*.*" 15 ||
    { pf_queue "$T/pf"; t_fail "local submission not at the sink"; }
msg=$(grep -l '^Subject: local' "$T"/sink/*.*)
t_assert_grep '^X-Mail-Args: <scanner@office\.test>' "$msg" "local submission: envelope kept"
t_assert_grep '^From: Scanner <alerts@163\.com>$' "$msg" "local submission: From"
t_assert_grep '^X-Smarthost: account=alerts@163\.com; ' "$msg" "local submission: trace"
t_ok "local submission judged through non_smtpd_milters"
sleep 0.5
n=$(ls "$T"/sink/ | wc -l)
t_assert_eq 3 "$n" "messages at the sink"

log=$(pf_log "$T/pf")
t_assert_no_grep 'milter.*(warning|error|fatal)|(warning|error|fatal).*milter' "$log" "Postfix milter errors"
t_assert_grep 'milter-reject: RCPT from .*550 5\.7\.1 no route' "$log" "Postfix logged the refusal"
t_assert_grep 'qid=[0-9A-F]+ sender=<scanner@office.test> account=alerts@163.com decision=accept' "$T/milter.log" "milter log with Postfix queue ID"
t_ok "Postfix + smarthost-milter end to end"
