#!/usr/bin/env bash
# selftest.t — the test peers themselves work: tests/peers/smarthost.py in
# implicit-TLS, STARTTLS and plain modes, the test PKI, a throwaway Postfix
# (tests/lib/postfix.sh) and the Cyrus SASL Postfix smarthost
# (tests/lib/sasl-smarthost.sh), exercised with swaks and openssl s_client
# inside a private network namespace.
set -u
. "${SMARTHOST_TOP:-.}/tests/lib/common.sh"
t_enter_netns "$@"
. "$T_LIB/pki.sh"
. "$T_LIB/postfix.sh"
. "$T_LIB/smarthost.sh"
. "$T_LIB/sasl-smarthost.sh"
t_need swaks openssl postfix postconf postqueue saslpasswd2
t_need_python_module aiosmtpd
t_tmpdir
D=$T_TMP
CODE163='code-163-Xy7'	# authorization codes: must never show up in a log
CODEQQ='code-qq-Pq9'

pki_make "$D/pki" || t_fail "pki_make"
check_cert() {	# cert expected-error-or-OK
	local out
	out=$(openssl verify -CAfile "$D/pki/ca.crt" -verify_hostname smtp.test \
	    "$D/pki/$1.crt" 2>&1)
	[[ $out == *"$2"* ]] || t_fail "openssl verify $1.crt: expected '$2', got: $out"
}
check_cert server ": OK"
check_cert wrong "hostname mismatch"
check_cert untrusted "unable to get local issuer certificate"
check_cert expired "certificate has expired"
openssl x509 -in "$D/pki/server.crt" -noout -ext subjectAltName |
    grep -q 'DNS:smtp.test, DNS:localhost, IP Address:127.0.0.1' ||
    t_fail "server.crt lacks the SANs"
t_ok "pki_make: server cert verifies for smtp.test; wrong, untrusted, expired fail"
sh_users "$D/users" "alice@163.com $CODE163" "bob@qq.com $CODEQQ"
TLSARGS=(--cert "$D/pki/server.crt" --key "$D/pki/server.key" --users "$D/users")

# All peers start in parallel: each Python takes about a second.
sh_spawn p163 "$D/p163" 4650 --tls implicit "${TLSARGS[@]}" --sender-rule 163 \
    --max-sessions 2 --busy-reply '421 HL:ICC too many connections'
sh_spawn pqq "$D/pqq" 5870 --tls starttls "${TLSARGS[@]}" --sender-rule qq
sh_spawn pwrong "$D/pwrong" 4652 --tls implicit --users "$D/users" \
    --cert "$D/pki/wrong.crt" --key "$D/pki/wrong.key"
sh_spawn pplain "$D/pplain" 2526 --tls none --users "$D/users"
sh_spawn sink "$D/sink" 2527 --tls none --no-auth-required

pf_create "$D/pf" 2525
pf_conf "$D/pf" "relayhost = [127.0.0.1]:2527"
sasl_create "$D/isp" "$D/pki" 4651 5871
sasl_user "$D/isp" alice@163.com "$CODE163"
pf_start "$D/pf"
pf_start "$D/isp"
for p in p163 pqq pwrong pplain sink; do sh_wait_ready "$D/$p"; done
t_ok "peers started (smarthost.py x5, Postfix, Cyrus SASL Postfix)"

VERIFY=(--tls-verify --tls-ca-path "$D/pki/ca.crt")

# swaks NAME PORT ARGS...: transcript to $D/NAME.out, status returned.
sw() {
	local name=$1 port=$2
	shift 2
	timeout 20 swaks -s 127.0.0.1 -p "$port" --helo client.test \
	    --to rcpt@example.test "$@" >"$D/$name.out" 2>&1
}

# 1. implicit TLS + AUTH + matching sender: accepted and stored
sw ok163 4650 --tlsc "${VERIFY[@]}" --tls-sni smtp.test -a PLAIN \
    -au alice@163.com -ap "$CODE163" -f alice@163.com ||
    { cat "$D/ok163.out"; t_fail "163-like peer refused a correct message"; }
t_assert_grep '^<~  250 Mail OK queued as msg-000001' "$D/ok163.out"
sh_wait_msgs "$D/p163" 1 5 || t_fail "message not stored"
t_assert_eq alice@163.com "$(sh_msg_field "$D/p163" 1 mail_from)" "stored sender"
t_assert_eq rcpt@example.test "$(sh_msg_field "$D/p163" 1 rcpt_tos)" "stored rcpt"
t_assert_eq true "$(sh_msg_field "$D/p163" 1 tls)" "stored tls flag"
t_assert_grep '^From: alice@163.com' "$(sh_msg_eml "$D/p163" 1)"
t_ok "implicit TLS (verified, SNI) + AUTH PLAIN + matching sender: stored"

# 2. mismatched sender and <> refused with 163's exact text
sw bad163 4650 --tlsc "${VERIFY[@]}" -a LOGIN -au alice@163.com \
    -ap "$CODE163" -f boss@163.com
t_assert_grep '^<~\* 553 Mail from must equal authorized user$' "$D/bad163.out"
sw null163 4650 --tlsc "${VERIFY[@]}" -a LOGIN -au alice@163.com \
    -ap "$CODE163" -f '<>'
t_assert_grep '^ ~> MAIL FROM:<>' "$D/null163.out"
t_assert_grep '^<~\* 553 Mail from must equal authorized user$' "$D/null163.out"
t_assert_eq 1 "$(sh_msgs "$D/p163")" "messages stored after refusals"
t_ok "163 rule: MAIL FROM other address and <> get 553 Mail from must equal authorized user"

# 3. wrong password
sw pw163 4650 --tlsc "${VERIFY[@]}" -a PLAIN -au alice@163.com \
    -ap wrong-password -f alice@163.com
t_assert_grep '^<~\* 535 Error: authentication failed' "$D/pw163.out"
t_assert_eq 1 "$(sh_count "$D/p163" event=auth ok=false login=alice@163.com)" \
    "failed auth events"
t_ok "wrong password: 535, recorded as auth ok=false"

# 4. certificate checks: wrong name, untrusted issuer.  swaks 20201014
# verifies the chain but not the host name, so the name check uses openssl.
openssl s_client -connect 127.0.0.1:4652 -CAfile "$D/pki/ca.crt" \
    -verify_hostname smtp.test -verify_return_error </dev/null \
    >"$D/wrong.ossl" 2>&1 && t_fail "openssl accepted other.test as smtp.test"
t_assert_grep 'verify error:num=62:hostname mismatch' "$D/wrong.ossl"
t_assert_eq 0 "$(sh_count "$D/pwrong" event=ehlo)" "EHLO after bad cert"
sw untrusted 4650 --tlsc --tls-verify --tls-ca-path "$D/pki/untrusted-ca.crt" \
    --quit-after EHLO && t_fail "verified smtp.test against the wrong CA"
t_assert_grep 'TLS startup failed .*certificate verify failed' "$D/untrusted.out"
t_ok "wrong-name and untrusted-CA certificates fail verification"

# 5. STARTTLS (QQ-like): no AUTH before STARTTLS, QQ's sender text after
sw qqplain 5870 -a PLAIN -au bob@qq.com -ap "$CODEQQ" -f bob@qq.com
t_assert_grep '250-STARTTLS' "$D/qqplain.out"
t_assert_no_grep 'AUTH' <(grep '^<-  250' "$D/qqplain.out") "EHLO before STARTTLS"
sw qqok 5870 -tls "${VERIFY[@]}" -a LOGIN -au bob@qq.com -ap "$CODEQQ" \
    -f bob@qq.com || { cat "$D/qqok.out"; t_fail "STARTTLS submission failed"; }
sw qqbad 5870 -tls "${VERIFY[@]}" -a LOGIN -au bob@qq.com -ap "$CODEQQ" \
    -f alice@qq.com
t_assert_grep '^<~\* 501 mail from address must be same as authorization user$' \
    "$D/qqbad.out"
sh_wait_msgs "$D/pqq" 1 5 || t_fail "STARTTLS message not stored"
t_assert_eq 2 "$(sh_count "$D/pqq" event=tls)" "tls events on the STARTTLS peer"
t_ok "STARTTLS mode: AUTH only after STARTTLS, accepted; QQ's 501 for a mismatch"

# 6. plain mode: AUTH advertised in clear, refused, and recorded
sw plain 2526 -a PLAIN -au alice@163.com -ap "$CODE163" -f alice@163.com
t_assert_grep '^<-  250-AUTH LOGIN PLAIN' "$D/plain.out"
t_assert_grep '^<\*\* 538 5.7.11 Encryption required' "$D/plain.out"
t_assert_eq 1 "$(sh_count "$D/pplain" event=auth tls=false login=alice@163.com)" \
    "cleartext AUTH events"
t_ok "--tls none: a cleartext AUTH is refused and recorded with tls=false"

# 7. session limit and TLS resumption (openssl s_client).  Two sessions
# are held open (their stdin is a FIFO we keep open) until the third one
# has been refused.
sclient() {	# args...: a session that ends at EOF on stdin
	timeout 20 openssl s_client -no_ign_eof -connect 127.0.0.1:4650 \
	    -servername smtp.test -CAfile "$D/pki/ca.crt" "$@" 2>&1 7>&-
}
mkfifo "$D/hold"
exec 7<>"$D/hold"
tls0=$(sh_count "$D/p163" event=tls)
sclient -sess_out "$D/sess" <"$D/hold" >"$D/s1.out" 7>&- & s1=$!
sclient <"$D/hold" >"$D/s2.out" 7>&- & s2=$!
sh_wait_count "$D/p163" $((tls0 + 2)) 10 event=tls ||
    t_fail "two TLS sessions did not come up"
sclient <"$D/hold" >"$D/s3.out"	# ends when the peer hangs up
exec 7>&-
wait $s1 $s2
t_assert_grep '^421 HL:ICC too many connections' "$D/s3.out"
t_assert_eq 1 "$(cat "$D"/s[123].out | grep -c '^421 HL:ICC')" "sessions refused"
t_assert_eq 1 "$(sh_count "$D/p163" event=busy)" "busy events"
exec 7<>"$D/hold"
sclient -sess_in "$D/sess" <"$D/hold" >"$D/s4.out" 7>&- & s4=$!
sh_wait_count "$D/p163" 1 10 event=tls resumed=true ||
    t_fail "no resumed TLS session recorded"
exec 7>&-
wait $s4
t_assert_grep '^Reused, TLSv1' "$D/s4.out"
t_ok "--max-sessions: third session gets 421 HL:ICC; TLS resumption recorded"

# 8. events: auth and tls recorded with SNI, never a password
t_assert_eq 1 "$(sh_count "$D/p163" event=tls sni=smtp.test resumed=false \
    session=1)" "tls event of session 1"
[ "$(sh_count "$D/p163" event=auth ok=true)" -ge 3 ] || t_fail "auth events"
for f in "$D"/*/events.jsonl "$D"/*/log "$D"/*.out; do
	b64=$(printf '\0alice@163.com\0%s' "$CODE163" | base64 -w0)
	t_assert_no_grep "$CODE163|$CODEQQ|wrong-password" "$f" "secret in $f"
	case $f in *.out) ;; *) t_assert_no_grep "$b64" "$f" "AUTH blob in $f" ;; esac
done
t_ok "events have tls (sni, resumed) and auth records; no password in any event file or log"

# 9. throwaway Postfix: accepts, queues, relays to the plain sink
pf_send "$D/pf" -f sender@office.test -t rcpt@example.test >"$D/pf.out" ||
    { cat "$D/pf.out"; t_fail "Postfix refused the message"; }
t_assert_grep '^<-  250 2.0.0 Ok: queued as' "$D/pf.out"
pf_wait_queue_empty "$D/pf" 10 || { pf_queue "$D/pf"; t_fail "queue not empty"; }
pf_wait_log "$D/pf" 'status=sent' 5 || t_fail "no status=sent in $(pf_log "$D/pf")"
sh_wait_msgs "$D/sink" 1 5 || t_fail "sink got nothing"
t_assert_eq sender@office.test "$(sh_msg_field "$D/sink" 1 mail_from)" "sink sender"
t_ok "throwaway Postfix queued the message and relayed it to the sink"

# 10. Cyrus SASL Postfix: AUTH over wrappermode TLS, sender mismatch refused
sw isp 4651 --tlsc "${VERIFY[@]}" -a PLAIN -au alice@163.com -ap "$CODE163" \
    -f alice@163.com || { cat "$D/isp.out"; tail "$D/isp/maillog"; t_fail "SASL Postfix refused"; }
t_assert_grep '^<~  235 2.7.0 Authentication successful' "$D/isp.out"
sasl_wait_msgs "$D/isp" 1 10 || { tail "$D/isp/maillog"; t_fail "SASL Postfix did not deliver"; }
t_assert_grep '^X-Envelope-From: alice@163.com$' "$(sasl_msg "$D/isp" 1)"
sw ispbad 4651 --tlsc "${VERIFY[@]}" -a LOGIN -au alice@163.com -ap "$CODE163" \
    -f boss@163.com
t_assert_grep '^<~\* 553 5.7.1 <boss@163.com>: Sender address rejected: not owned by user alice@163.com' \
    "$D/ispbad.out"
sw ispnull 4651 --tlsc "${VERIFY[@]}" -a LOGIN -au alice@163.com -ap "$CODE163" \
    -f '<>' --quit-after RCPT
t_assert_grep '^<~\* 553 5.7.1 <>: Sender address rejected: null sender not allowed$' \
    "$D/ispnull.out"
sw isppw 5871 -tls "${VERIFY[@]}" -a PLAIN -au alice@163.com -ap nope -f alice@163.com
t_assert_grep '^<~\* 535 5.7.8 Error: authentication failed' "$D/isppw.out"
t_ok "Cyrus SASL Postfix: AUTH accepted and delivered, mismatch and <> 553, bad password 535"
