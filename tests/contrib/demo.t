#!/usr/bin/env bash
# demo.t — `make demo` (contrib/demo) runs the whole path and its report
# shows every behaviour with the right accounts, hosts and codes: routed,
# rewritten (163 on implicit TLS, QQ on STARTTLS), refused at SMTP time for a
# sender mismatch and for DMARC, deferred for a wrong authorization code and
# still queued with the reason, and the 163-like smarthost's own refusal;
# the way back: a bounce and a reply about Alice's rewritten message, put
# into office@qq.com's Dovecot mailbox, reach her Maildir through one run
# of smarthost-return, and `smarthostctl log alice@office.lan` shows both
# returned.
# It exits 0 within a minute, prints no authorization code, stops the
# daemons cleanly, and leaves no process or temporary file behind.
. "$SMARTHOST_TOP/tests/lib/common.sh"
t_tmpdir
[ -x "$SMARTHOST_TOP/contrib/demo" ] || t_fail "contrib/demo missing or not executable"
mkdir -m 755 "$T_TMP/tmp"
out=$T_TMP/report

t0=$(t__now_ms)
TMPDIR=$T_TMP/tmp "$SMARTHOST_TOP/contrib/demo" >"$out" 2>"$T_TMP/stderr"
rc=$?
ms=$(($(t__now_ms) - t0))
t_note "demo took $ms ms"
[ $rc -eq 0 ] || { cat "$out" "$T_TMP/stderr" >&2; t_fail "demo exited $rc"; }
[ $ms -lt 60000 ] || t_fail "demo took $ms ms (more than a minute)"
t_assert_no_grep '!!' "$out" "outcomes the demo did not expect"
t_ok "demo exits 0 in $ms ms"
t_assert_grep '^smarthostctl check: smarthost\.conf, relay\.map \(5 routes, 4 accounts\), secrets: OK$' "$out" "smarthostctl check"
t_ok "smarthostctl check accepts the demo's files"

# section N: the report lines of message N (up to the next blank line)
section() {
	awk -v n="$1" '$0 ~ "^" n "\\. " { p = 1 } p && /^$/ { exit } p' "$out" \
	    >"$T_TMP/m$1"
	[ -s "$T_TMP/m$1" ] || { cat "$out" >&2; t_fail "no section $1 in the report"; }
	echo "$T_TMP/m$1"
}

m=$(section 1)
t_assert_grep '^   told      250 2\.0\.0 Ok: queued as [0-9A-F]+$' "$m" "1: told"
t_assert_grep '^   ctl route smtp\.163\.com:465 implicit, envelope boss@163\.com \(as sent\)$' "$m" "1: smarthostctl route"
t_assert_grep '^   relay     account=boss@163\.com host=smtp\.163\.com status=sent result=250 ' "$m" "1: relay"
t_assert_grep '^   received  smtp\.163\.com: MAIL FROM:<boss@163\.com> RCPT TO:<friend@example\.net>$' "$m" "1: envelope"
t_assert_grep '^ +over TLSv1\.[23] \(SNI smtp\.163\.com\), AUTH PLAIN as boss@163\.com$' "$m" "1: TLS and AUTH"
t_assert_grep '^ +From: Boss <boss@163\.com>$' "$m" "1: From"
t_assert_grep '^ +X-Smarthost: account=boss@163\.com; host=smtp\.163\.com; spf=pass; dkim=pass \(d=163\.com\); dmarc=pass \(p=none\)$' "$m" "1: trace"
t_assert_grep '^   outcome   delivered as boss@163\.com at smtp\.163\.com$' "$m" "1: outcome"
t_ok "1 routed: boss@163.com delivered at smtp.163.com over TLS with its own login"

m=$(section 2)
t_assert_grep '^   ctl route smtp\.163\.com:465 implicit, envelope alerts@163\.com \(rewritten from scanner@office\.lan by the relay; Postfix.s notices go to scanner@office\.lan\)$' "$m" "2: smarthostctl route"
t_assert_grep '^   milter    decision=accept account=alerts@163\.com relay-envelope=alerts@163\.com reply-to=none:local-domain$' "$m" "2: milter"
t_assert_grep '^   relay     account=alerts@163\.com host=smtp\.163\.com status=sent .*rewrite=yes' "$m" "2: relay rewrites the envelope"
t_assert_grep '^   received  smtp\.163\.com: MAIL FROM:<alerts@163\.com> ' "$m" "2: envelope"
t_assert_grep '^ +From: Office Scanner <alerts@163\.com>$' "$m" "2: From"
t_assert_no_grep '^ +Reply-To:' "$m" "2: Reply-To to a local-domains address"
t_assert_grep '^ +X-Smarthost: account=alerts@163\.com; host=smtp\.163\.com; rewritten; ' "$m" "2: trace"
t_assert_grep '^   outcome   rewritten to alerts@163\.com, delivered at smtp\.163\.com$' "$m" "2: outcome"
t_ok "2 rewritten: scanner@office.lan left as alerts@163.com (envelope by the relay), no Reply-To to a local domain"

m=$(section 3)
t_assert_grep '^   ctl route smtp\.qq\.com:587 starttls, envelope office@qq\.com \(rewritten from alice@office\.lan by the relay; Postfix.s notices go to alice@office\.lan\)$' "$m" "3: smarthostctl route"
t_assert_grep '^   relay     account=office@qq\.com host=smtp\.qq\.com status=sent ' "$m" "3: relay"
t_assert_grep '^ +over TLSv1\.[23] \(SNI smtp\.qq\.com\), AUTH PLAIN as office@qq\.com$' "$m" "3: STARTTLS and AUTH"
t_assert_grep '^ +From: Alice <office@qq\.com>$' "$m" "3: From"
t_assert_no_grep '^ +Reply-To:' "$m" "3: Reply-To to a local-domains address"
t_assert_grep '^   outcome   rewritten to office@qq\.com, delivered at smtp\.qq\.com$' "$m" "3: outcome"
t_ok "3 rewritten: alice@office.lan left as office@qq.com through the STARTTLS smarthost"

m=$(section 4)
t_assert_grep "^   told      553 5\\.7\\.1 smtp\\.163\\.com requires the envelope sender to be the account login alerts@163\\.com \\(it says: 553 Mail from must equal authorized user\\); add 'rewrite' to relay\\.map line 5" "$m" "4: told"
t_assert_grep '^   ctl route smtp\.163\.com:465 implicit, envelope printer@office\.lan: REFUSED by the provider, which wants alerts@163\.com' "$m" "4: smarthostctl route"
t_assert_no_grep '^   received' "$m" "4: nothing sent on"
t_assert_grep '^   outcome   refused at SMTP time: 553 5\.7\.1$' "$m" "4: outcome"
t_ok "4 sender mismatch refused at SMTP time with 163's own words and the fix"

m=$(section 5)
t_assert_grep '^   told      550 5\.7\.1 From domain company\.example publishes DMARC p=reject but neither SPF \(pass for 163\.com' "$m" "5: told"
t_assert_grep '^   outcome   refused at SMTP time: 550 5\.7\.1$' "$m" "5: outcome"
t_ok "5 DMARC misalignment refused at SMTP time"

m=$(section 6)
t_assert_grep '^   told      250 2\.0\.0 Ok: queued as [0-9A-F]+$' "$m" "6: told"
t_assert_grep '^   relay     account=sales@qq\.com host=smtp\.qq\.com status=deferred result=454 .*reply="454 4\.7\.0 smtp\.qq\.com\[127\.0\.0\.1\]:587 refused the authorization code of account sales@qq\.com' "$m" "6: relay"
t_assert_grep '^   received  smtp\.qq\.com: no message$' "$m" "6: nothing received"
t_assert_grep '^ +AUTH PLAIN as sales@qq\.com refused \(1 attempt\)$' "$m" "6: one AUTH attempt"
t_assert_grep "^   outcome   deferred: still in Postfix's queue$" "$m" "6: outcome"
qid=$(grep -Eo 'queued as [0-9A-F]+' "$m" | cut -d' ' -f3)
t_assert_grep "^  $qid +[0-9]+ .* sales@qq\\.com$" "$out" "6: in postqueue -p"
t_assert_grep '^  \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 454 4\.7\.0 .*authorization code of account sales@qq\.com' "$out" "6: deferral reason in the queue"
t_assert_grep '^  -- [0-9]+ Kbytes in 1 Request\.$' "$out" "only the deferred message queued"
t_assert_grep '^The relay on sales@qq\.com \(smarthostctl status\):$' "$out" "6: status section"
t_assert_grep '^    cool-off +until .*refused the authorization code of account sales@qq\.com' "$out" "6: status shows the cool-off"
t_assert_grep '^smarthostctl probe sales@qq\.com \(exit status [1-9][0-9]*\):$' "$out" "6: probe fails"
t_assert_grep '^  tls: TLSv1\.[23] .*certificate verified for smtp\.qq\.com$' "$out" "6: probe verified TLS"
t_assert_grep '^  problem: the provider refused the authorization code of sales@qq\.com$' "$out" "6: probe names the problem"
t_assert_grep '^  next: smtp\.qq\.com wants the 授权码' "$out" "6: probe says what to do"
t_ok "6 wrong code: deferred 454 4.7.0, still queued with the reason; smarthostctl status shows the cool-off, probe explains it"

m=$(section 7)
t_assert_grep '^   told      553 5\.0\.0 smtp\.163\.com said: 553 Mail from must equal authorized user$' "$m" "7: told"
t_assert_grep '^ +MAIL FROM:<printer@office\.lan> refused: 553 Mail from must equal authorized user$' "$m" "7: at the smarthost"
t_ok "7 without the milter the 163-like smarthost refuses the mismatched sender itself"

m=$(section 8)
t_assert_grep '^   sent log  <[^>]+> from alice@office\.lan as office@qq\.com, sent$' "$m" "8: the sent log holds message 3"
mid=$(sed -n 's/^   sent log  \(<[^>]*>\) .*/\1/p' "$m")
t_assert_eq "$mid" "$(sed -n 's/^             In-Reply-To: //p' "$m")" "8: the reply's In-Reply-To"
t_assert_eq "$mid" "$(sed -n 's/^             text\/rfc822-headers: Message-Id: //p' "$m")" "8: the Message-Id the bounce quotes"
t_assert_grep '^   mailbox   office@qq\.com at imap\.qq\.com:993 \(Dovecot\): 2 new messages$' "$m" "8: both in the provider mailbox"
t_assert_grep '^             Status: 5\.2\.2 \(552 5\.2\.2 <friend@example\.net>: mailbox full\)$' "$m" "8: the DSN's status"
t_assert_grep '^   return    one run of smarthost-return \(exit status 0\):$' "$m" "8: smarthost-return ran"
t_assert_grep '^             account=office@qq\.com imap=imap\.qq\.com:993 candidates=2$' "$m" "8: logged in to imap.qq.com"
t_assert_grep '^             account=office@qq\.com uid=[0-9]+ kind=dsn rcpt=alice@office\.lan result=delivered$' "$m" "8: the bounce handed to Alice"
t_assert_grep '^             account=office@qq\.com uid=[0-9]+ kind=reply rcpt=alice@office\.lan result=delivered$' "$m" "8: the reply handed to Alice"
t_assert_grep '^             Return-Path: <>  From: Mail Delivery System <MAILER-DAEMON@mx\.example\.net>  Subject: Undelivered Mail Returned to Sender$' "$m" "8: the bounce in Alice's Maildir"
t_assert_grep '^             Return-Path: <>  From: Friend <friend@example\.net>  Subject: Re: demo 3: rewritten$' "$m" "8: the reply in Alice's Maildir"
t_assert_grep '^   on server 2 kept, flags: \$SmarthostReturned$' "$m" "8: both marked, none deleted"
t_assert_grep '^   outcome   the bounce and the reply reached alice@office\.lan$' "$m" "8: outcome"
t_ok "8 the way back: the bounce and the reply for office@qq.com reached alice@office.lan through smarthost-return"

awk '/^smarthostctl log alice@office\.lan:$/ { p = 1; next } p && /^$/ { exit } p' \
    "$out" >"$T_TMP/ctllog"
t_assert_grep "^  message-id: $mid\$" "$T_TMP/ctllog" "log: message 3"
t_assert_grep '^  envelope-from: alice@office\.lan$' "$T_TMP/ctllog" "log: original sender"
t_assert_grep '^  status: sent$' "$T_TMP/ctllog" "log: sent"
t_assert_grep '^  reply: 250 2\.0\.0 smtp\.qq\.com said: 250 ' "$T_TMP/ctllog" "log: the provider's reply"
t_assert_grep '^  returned: dsn to alice@office\.lan at .* \(marked\)$' "$T_TMP/ctllog" "log: the bounce returned"
t_assert_grep '^  returned: reply to alice@office\.lan at .* \(marked\)$' "$T_TMP/ctllog" "log: the reply returned"
t_ok "smarthostctl log alice@office.lan: sent with the provider's reply, bounce and reply returned to her"

t_assert_grep '^No authorization code appears in ' "$out" "demo's own secret check"
t_assert_no_grep 'authcode-' "$out" "a code in the report"
t_assert_no_grep 'authcode-' "$T_TMP/stderr" "a code on stderr"
t_ok "no authorization code printed"

t_assert_grep '^smarthost-relay and smarthost-milter stopped on SIGTERM with status 0\.$' "$out" "daemons' exit"
t_ok "relay and milter stop cleanly"

left=$(ls -A "$T_TMP/tmp")
t_assert_eq "" "$left" "files left in TMPDIR"
if pgrep -f "$T_TMP/tmp/" >"$T_TMP/pids"; then
	ps -o pid,args -p "$(paste -sd, "$T_TMP/pids")" >&2
	t_fail "processes of the demo still running"
fi
t_ok "demo cleaned up: no temporary files, no processes"
