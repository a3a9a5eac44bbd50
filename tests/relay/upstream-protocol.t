#!/usr/bin/env bash
# The relay's client side against servers that break the protocol (a
# scripted loopback server, one port per case): a reply pipelined after
# the 220 to STARTTLS, a greeting without a code, an overlong line, a code
# that changes within a multi-line reply, a 554 greeting, and a 421 in
# reply to AUTH (the server closing, not refusing the code).  Each fails
# with the right reason and text; nothing after the failure is sent (no
# AUTH, no MAIL in the server's transcript).
. "$SMARTHOST_TOP/tests/relay/upstream-lib.sh"
t_enter_netns "$@"
up_init

# port -> greeting, then answers by command verb; every line received is
# appended to $D/seen-PORT
cat >"$D/scripted.py" <<'EOF'
import socket, ssl, sys, threading
D = sys.argv[1]
TLS = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
TLS.load_cert_chain(D + "/pki/server.crt", D + "/pki/server.key")
EHLO_AUTH = b"250-smtp.test\r\n250 AUTH PLAIN LOGIN\r\n"
EHLO = b"250-smtp.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n"
CASES = {
    5801: (b"220 smtp.test ESMTP\r\n",
           {b"EHLO": EHLO, b"STARTTLS": b"220 go ahead\r\n250 injected\r\n"}),
    5802: (b"hello there\r\n", {}),
    5803: (b"220 " + b"x" * 5000 + b"\r\n", {}),
    5804: (b"220 smtp.test ESMTP\r\n",
           {b"EHLO": b"250-smtp.test\r\n251 STARTTLS\r\n"}),
    5805: (b"554 5.7.1 smtp.test: your IP is on a block list\r\n", {}),
    5806: (b"220 smtp.test ESMTP\r\n",      # implicit TLS
           {b"EHLO": EHLO_AUTH, b"AUTH": b"421 4.7.0 too many sessions\r\n"}),
}
def serve(port, greeting, answers):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(5)
    while True:
        c, _ = ls.accept()
        c.settimeout(10)
        if port == 5806:
            try:
                c = TLS.wrap_socket(c, server_side=True)
            except (OSError, ssl.SSLError):
                c.close()
                continue
        c.sendall(greeting)
        f = c.makefile("rb")
        try:
            for line in f:
                with open("%s/seen-%d" % (D, port), "ab") as s:
                    s.write(line)
                verb = line.split(b" ")[0].strip().upper()
                c.sendall(answers.get(verb, b"250 ok\r\n"))
        except OSError:
            pass
        c.close()
for port, (g, a) in CASES.items():
    threading.Thread(target=serve, args=(port, g, a), daemon=True).start()
print("READY", flush=True)
threading.Event().wait(300)
EOF
t_spawn scripted "$D/scripted.log" /usr/bin/python3 "$D/scripted.py" "$D"
for port in 5801 5802 5803 5804 5805 5806; do
	t_wait_port 127.0.0.1 $port 10 ||
	    { cat "$D/scripted.log"; t_fail "scripted server not on $port"; }
done

: >"$D/relay.map"
: >"$D/secrets"
chmod 600 "$D/secrets"
printf '[global]\nrelay-map = %s\nsecrets = %s\n[relay]\ncommand-timeout = 3s\n' \
    "$D/relay.map" "$D/secrets" >"$D/smarthost.conf"
printf 'ca-file = %s\n' "$D/pki/ca.crt" >>"$D/smarthost.conf"
for port in 5801 5802 5803 5804 5805 5806; do
	printf '[account a%s]\nlogin = u%s@test.example\nhost = smtp.test\n' \
	    $port $port >>"$D/smarthost.conf"
	printf 'port = %s\ntls = %s\n' $port \
	    "$([ $port = 5806 ] && echo implicit || echo starttls)" \
	    >>"$D/smarthost.conf"
	printf 'u%s@test.example a%s\n' $port $port >>"$D/relay.map"
	printf 'a%s Sekr1t-proto-%s\n' $port $port >>"$D/secrets"
done

case_() {		# port expected-FAIL-line-regex what
	timeout 20 "$drive" -c "$D/smarthost.conf" -f "u$1@test.example" \
	    -t rcpt@dest.example -w 2 >"$D/out-$1" 2>&1 &&
	    { cat "$D/out-$1"; t_fail "$3: sent"; }
	t_assert_grep "$2" "$D/out-$1" "$3"
	touch "$D/seen-$1"	# the client may have sent nothing at all
	t_assert_no_grep '^(AUTH|MAIL|RCPT)' "$D/seen-$1" "$3: sent after failure"
	grep -q Sekr1t "$D/out-$1" "$D/seen-$1" 2>/dev/null &&
	    t_fail "$3: a code was sent or printed"
	t_ok "$3"
}
case_ 5801 '^FAIL why=UPF_PROTOCOL code=451 enhanced=4\.5\.0 local=1 text="smtp\.test\[127\.0\.0\.1\]:5801 sent data after its reply to STARTTLS, before the TLS handshake"' \
    "reply pipelined before the TLS handshake: protocol error"
t_assert_grep '^STARTTLS' "$D/seen-5801" "STARTTLS sent"
case_ 5802 '^FAIL why=UPF_PROTOCOL code=451 enhanced=4\.5\.0 local=1 text="smtp\.test\[127\.0\.0\.1\]:5802: reply without a valid code while receiving the greeting"' \
    "greeting without a code: protocol error"
case_ 5803 '^FAIL why=UPF_PROTOCOL code=451 enhanced=4\.5\.0 local=1 text="smtp\.test\[127\.0\.0\.1\]:5803: reply line longer than 2048 bytes while receiving the greeting"' \
    "overlong reply line: protocol error"
case_ 5804 '^FAIL why=UPF_PROTOCOL code=451 enhanced=4\.5\.0 local=1 text="smtp\.test\[127\.0\.0\.1\]:5804: reply code changes from 250 to 251 in a multi-line reply while sending EHLO"' \
    "code changing within a multi-line reply: protocol error"
case_ 5805 '^FAIL why=UPF_CONNECT code=451 enhanced=4\.3\.2 local=1 text="smtp\.test\[127\.0\.0\.1\]:5805 greeted with: 554 5\.7\.1 smtp\.test: your IP is on a block list"' \
    "554 greeting: deferred with the provider's text"
timeout 20 "$drive" -c "$D/smarthost.conf" -f u5806@test.example \
    -t rcpt@dest.example -w 2 >"$D/out-5806" 2>&1 && t_fail "5806: sent"
t_assert_grep '^FAIL why=UPF_CONNECT code=451 enhanced=4\.4\.2 local=1 text="smtp\.test\[127\.0\.0\.1\]:5806 closed the session: 421 4\.7\.0 too many sessions"' \
    "$D/out-5806" "421 to AUTH"
t_assert_grep '^AUTH PLAIN ' "$D/seen-5806" "AUTH sent over TLS"
t_assert_no_grep '^(MAIL|RCPT|\*)' "$D/seen-5806" "sent after 421"
grep -q Sekr1t "$D/out-5806" && t_fail "a code was printed"
t_ok "421 in reply to AUTH: a connection failure (UPF_CONNECT), not a refused code"
