#!/usr/bin/env bash
# options.t — the scripted behaviours of tests/peers/smarthost.py that the
# relay and ctl tests rely on, each against its own peer process (started in
# parallel) inside a private network namespace:
#   --reject-rcpt, --temp-fail-mail, --drop-during-data, --hang-after-data,
#   --data-reply, --auth-reply, --reject-connect, --idle-timeout,
#   --greeting-delay, --xoauth2-validate (against a small HTTPS
#   introspection endpoint defined here) and --xoauth2-tokens.
set -u
. "${SMARTHOST_TOP:-.}/tests/lib/common.sh"
t_enter_netns "$@"
. "$T_LIB/pki.sh"
. "$T_LIB/smarthost.sh"
t_need swaks openssl base64
t_need_python_module aiosmtpd
t_tmpdir
D=$T_TMP
pki_make "$D/pki" || t_fail "pki_make"
sh_users "$D/users" "alice@163.com code-a"
printf 'dave@gmail.com static-token\n' >"$D/tokens"
COMMON=(--tls implicit --cert "$D/pki/server.crt" --key "$D/pki/server.key"
    --users "$D/users")

# An RFC 7662-style introspection endpoint: token "good-token" is active
# for carol@outlook.com.
cat >"$D/introspect.py" <<'EOF'
import http.server, json, ssl, sys, urllib.parse
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        form = urllib.parse.parse_qs(self.rfile.read(n).decode())
        tok = form.get("token", [""])[0]
        b = json.dumps({"active": tok == "good-token",
                        "username": "carol@outlook.com"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 8443), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
s.socket = ctx.wrap_socket(s.socket, server_side=True)
print("READY", flush=True)
s.serve_forever()
EOF
t_spawn introspect "$D/introspect.log" /usr/bin/python3 "$D/introspect.py" \
    "$D/pki/server.crt" "$D/pki/server.key"

sh_spawn rcpt "$D/rcpt" 4601 "${COMMON[@]}" \
    --temp-fail-mail '451 MI:SFQ too many mails' --sender-rule none
sh_spawn drop "$D/drop" 4602 "${COMMON[@]}" --drop-during-data 1 \
    --hang-after-data 1 --data-reply '250 2.0.0 OK custom'
sh_spawn deny "$D/deny" 4603 "${COMMON[@]}" --auth-reply '550 User has no permission' \
    --greeting-delay 1
sh_spawn block "$D/block" 4604 "${COMMON[@]}" --reject-connect '554 IP in blacklist' \
    --idle-timeout 1
sh_spawn oauth "$D/oauth" 4605 "${COMMON[@]}" --xoauth2-tokens "$D/tokens" \
    --xoauth2-validate https://localhost:8443/introspect --xoauth2-ca "$D/pki/ca.crt"
sh_spawn idle "$D/idle" 4606 "${COMMON[@]}" --idle-timeout 1 \
    --reject-rcpt bad@example.test
for p in rcpt drop deny block oauth idle; do sh_wait_ready "$D/$p"; done
t_wait_port 127.0.0.1 8443 10 || t_fail "introspection endpoint did not start"

VERIFY=(--tlsc --tls-verify --tls-ca-path "$D/pki/ca.crt")
sw() {	# name port args...
	local name=$1 port=$2
	shift 2
	timeout 20 swaks -s 127.0.0.1 -p "$port" --helo client.test \
	    --from alice@163.com --to rcpt@example.test "${VERIFY[@]}" \
	    -a LOGIN -au alice@163.com -ap code-a "$@" >"$D/$name.out" 2>&1
}

# --temp-fail-mail wins over everything after the sender rule
sw tfail 4601
t_assert_grep '^<~\* 451 MI:SFQ too many mails$' "$D/tfail.out"
t_ok "--temp-fail-mail answers MAIL FROM with the given text"

# --drop-during-data 1, then --hang-after-data 1 (counted per final dot),
# then --data-reply
sw drop1 4602
t_assert_grep 'Remote host closed connection unexpectedly' "$D/drop1.out"
sw hang1 4602 --timeout 15 & hang=$!
sh_wait_count "$D/drop" 1 10 event=hang || t_fail "no hang event"
sh_wait_msgs "$D/drop" 1 5 || t_fail "hung message not stored"
sleep 0.5	# a reply, if the peer sent one, would be in by now
kill $hang
wait $hang 2>/dev/null
t_assert_eq ' ~> .' "$(grep -E '^ ?[<~] ?|^<' "$D/hang1.out" | tail -n 1)" \
    "last line of the hung session (the final dot, no reply)"
sw ok 4602 || { cat "$D/ok.out"; t_fail "fourth message refused"; }
t_assert_grep '^<~  250 2.0.0 OK custom$' "$D/ok.out"
t_assert_eq 2 "$(sh_msgs "$D/drop")" "messages stored (one hung, one answered)"
t_assert_eq 1 "$(sh_count "$D/drop" event=drop)" "drop events"
t_assert_eq 1 "$(sh_count "$D/drop" event=hang)" "hang events"
t_ok "--drop-during-data, --hang-after-data (stored, no reply), --data-reply"

# --auth-reply refuses even the right code; --greeting-delay delays 220
t0=$EPOCHREALTIME
sw deny 4603
t_assert_grep '^<~\* 550 User has no permission$' "$D/deny.out"
awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { exit !(b - a >= 1) }' ||
    t_fail "--greeting-delay 1 did not delay the session"
t_assert_eq 1 "$(sh_count "$D/deny" event=auth ok=false login=alice@163.com)" "auth events"
t_ok "--auth-reply answers every AUTH with the given text; --greeting-delay"

# --reject-connect
sw block 4604
t_assert_grep '^<~\* 554 IP in blacklist$' "$D/block.out"
t_assert_eq 1 "$(sh_count "$D/block" event=reject)" "reject events"
t_ok "--reject-connect greets with the given text and closes"

# --reject-rcpt: that recipient 550, the other one gets the message
sw rrcpt 4606 --to bad@example.test,good@example.test ||
    { cat "$D/rrcpt.out"; t_fail "message to one good recipient refused"; }
t_assert_grep '^<~\* 550 5.1.1 <bad@example.test>: Recipient address rejected: User unknown$' \
    "$D/rrcpt.out"
sh_wait_msgs "$D/idle" 1 5 || t_fail "message not stored"
t_assert_eq good@example.test "$(sh_msg_field "$D/idle" 1 rcpt_tos)" "stored recipients"
t_ok "--reject-rcpt refuses that recipient only"

# --sender-rule none (the default) takes MAIL FROM:<>; stored as ""
sw null 4606 -f '<>' || { cat "$D/null.out"; t_fail "null sender refused"; }
sh_wait_msgs "$D/idle" 2 5 || t_fail "null-sender message not stored"
t_assert_eq "" "$(sh_msg_field "$D/idle" 2 mail_from)" "stored null sender"
t_assert_eq 1 "$(sh_count "$D/idle" event=mail mail_from=)" "mail events with <>"
t_ok "without a sender rule, MAIL FROM:<> is accepted and stored as an empty sender"

# --idle-timeout: 421 and close after 1 s of silence
# stdin stays open without a byte (a FIFO we hold); the peer must hang up
mkfifo "$D/idlein"
exec 8<>"$D/idlein"
timeout 10 openssl s_client -quiet -connect 127.0.0.1:4606 <"$D/idlein" \
    >"$D/idle.out" 2>/dev/null 8>&-
exec 8>&-
t_assert_grep '^421 4.4.2 smtp.test Error: timeout exceeded' "$D/idle.out"
t_assert_eq 1 "$(sh_count "$D/idle" event=timeout)" "timeout events"
t_ok "--idle-timeout sends 421 4.4.2 and closes idle sessions"

# XOAUTH2: validated by the introspection endpoint, or by the tokens file
xo() {	# name user token
	local blob
	blob=$(printf 'user=%s\001auth=Bearer %s\001\001' "$2" "$3" | base64 -w0)
	(sleep 0.3; echo "EHLO client.test"; sleep 0.2; echo "AUTH XOAUTH2 $blob"
	 sleep 0.5; echo QUIT) | timeout 10 openssl s_client -quiet \
	    -connect 127.0.0.1:4605 -CAfile "$D/pki/ca.crt" >"$D/$1.out" 2>/dev/null
}
xo xgood carol@outlook.com good-token & p1=$!
xo xbad carol@outlook.com stale-token & p2=$!
xo xuser mallory@outlook.com good-token & p3=$!
xo xstatic dave@gmail.com static-token & p4=$!
wait $p1 $p2 $p3 $p4
t_assert_grep '^250-AUTH LOGIN PLAIN XOAUTH2' "$D/xgood.out"
t_assert_grep '^235 ' "$D/xgood.out"
t_assert_grep '^535 ' "$D/xbad.out"
t_assert_grep '^535 ' "$D/xuser.out"
t_assert_grep '^235 ' "$D/xstatic.out"
t_stop introspect
xo xdown carol@outlook.com good-token
t_assert_grep '^454 4.7.0 Temporary authentication failure' "$D/xdown.out"
t_assert_eq 2 "$(sh_count "$D/oauth" event=auth mechanism=XOAUTH2 ok=true)" "XOAUTH2 successes"
t_assert_no_grep 'good-token|stale-token|static-token' "$D/oauth/events.jsonl" "events"
t_assert_no_grep 'good-token|stale-token|static-token' "$D/oauth/log" "peer log"
t_ok "XOAUTH2: introspection-validated and static tokens accepted, wrong token or user 535, endpoint down 454; no token logged"
