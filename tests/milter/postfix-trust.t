#!/usr/bin/env bash
# postfix-trust.t — a real Postfix with smarthost-milter: what its
# mynetworks lets relay is not what may use a provider account.
#  - A client in mynetworks (127.0.0.2) but outside internal-networks
#    (127.0.0.1/32) sending out through the "*" map line is refused at
#    RCPT with the milter's reply, and nothing reaches the provider
#    stand-in; the same client to a local-domains recipient passes.
#  - SMTPUTF8 (smtputf8_enable = yes): a UTF-8 sender, or the SMTPUTF8
#    parameter, to an outside recipient is refused at RCPT with 553 5.6.7;
#    an RFC 2047 display name in From: is delivered as sent.
#  - More than 1 MiB of header on an outbound message: 452 4.3.1 at the
#    end of DATA.
#  - The socket is 0660 root:postfix, and Postfix's smtpd reaches it.
. "$SMARTHOST_TOP/tests/lib/common.sh"
t_enter_netns "$@"
. "$SMARTHOST_TOP/tests/milter/e2e-lib.sh"
t_need postfix swaks smtp-sink
[ -x "$B/smarthost-milter" ] || t_fail "$B/smarthost-milter not built"
chat=$SMARTHOST_TOP/tests/relay/smtpchat.py
t_tmpdir
T=$T_TMP

# The provider stand-in (relayhost) and the local mailbox stand-in
# (transport for office.test): one file per message.
mt_sink sink 10025
mt_sink local 10026

mt_conf nobody 127.0.0.1/32
cat >>"$T/smarthost.conf" <<CONF
dmarc = off
CONF
cat >"$T/relay.map" <<MAP
boss@163.com   boss@163.com
*              boss@163.com   rewrite
MAP
chmod 644 "$T/smarthost.conf" "$T/relay.map"
mt_milter
t_assert_eq 660:root:postfix "$(stat -c %a:%U:%G "$T/milter.sock")" "socket mode, owner, group"

mt_postfix "transport_maps = inline:{ office.test=smtp:[127.0.0.1]:10026 }" \
    "smtputf8_enable = yes"
t_assert_eq "mynetworks = 127.0.0.0/8" "$(postconf -c "$T/pf/etc" mynetworks)" "Postfix mynetworks"

# 1. 127.0.0.2: in mynetworks, not in internal-networks.
pf_send "$T/pf" --local-interface 127.0.0.2 --from stranger@elsewhere.test \
    --to friend@example.net --header "From: Stranger <stranger@elsewhere.test>" >"$T/s1" 2>&1
t_assert_grep '<\*\* +550 5\.7\.1 <friend@example\.net>: relaying refused: client 127\.0\.0\.2 is neither authenticated nor in internal-networks; outbound mail needs SMTP AUTH' "$T/s1" "refusal of the outside recipient"
pf_send "$T/pf" --local-interface 127.0.0.2 --from stranger@elsewhere.test \
    --to colleague@office.test --header "From: Stranger <stranger@elsewhere.test>" \
    --header "Subject: inbound from 127.0.0.2" >"$T/s2" 2>&1 ||
    { cat "$T/s2"; t_fail "mail to a local-domains recipient refused"; }
t_wait_for "grep -qs '^Subject: inbound from 127.0.0.2' '$T'/local/*.*" 15 ||
    { pf_queue "$T/pf"; t_fail "local recipient's mail not delivered"; }
msg=$(grep -l '^Subject: inbound from 127.0.0.2' "$T"/local/*.*)
t_assert_grep '^From: Stranger <stranger@elsewhere\.test>$' "$msg" "inbound From: untouched"
t_assert_no_grep '^X-Smarthost:' "$msg" "inbound: no trace header"
t_ok "a mynetworks client outside internal-networks: refused outward, passes to local-domains"

# 2. SMTPUTF8, from an internal client.
python3 "$chat" 127.0.0.1:2525 "EHLO client.test" \
    "MAIL FROM:<张三@lab.test> SMTPUTF8" "RCPT TO:<friend@example.net>" \
    "QUIT" >"$T/s3" 2>&1
t_assert_grep '^250[ -]SMTPUTF8' "$T/s3" "Postfix offers SMTPUTF8"
t_assert_grep '^553 5\.6\.7 <张三@lab\.test>: UTF-8 addresses \(SMTPUTF8\) cannot be sent through the provider accounts, which do not offer SMTPUTF8; use an ASCII address$' "$T/s3" "UTF-8 sender refused"
python3 "$chat" 127.0.0.1:2525 "EHLO client.test" \
    "MAIL FROM:<boss@163.com> SMTPUTF8" "RCPT TO:<friend@example.net>" \
    "QUIT" >"$T/s4" 2>&1
t_assert_grep '^553 5\.6\.7 <boss@163\.com>: SMTPUTF8 mail cannot be sent through the provider accounts' "$T/s4" "SMTPUTF8 parameter refused"
pf_send "$T/pf" --from boss@163.com --to friend@example.net \
    --header "From: =?UTF-8?B?5byg5LiJ?= <boss@163.com>" \
    --header "Subject: =?UTF-8?B?5L2g5aW9?=" >"$T/s5" 2>&1 ||
    { cat "$T/s5"; t_fail "RFC 2047 display name refused"; }
t_wait_for "grep -qs '^Subject: =?UTF-8?B?5L2g5aW9?=' '$T'/sink/*.*" 15 ||
    { pf_queue "$T/pf"; t_fail "RFC 2047 message not at the provider stand-in"; }
msg=$(grep -l '^Subject: =?UTF-8?B?5L2g5aW9?=' "$T"/sink/*.*)
t_assert_grep '^From: =\?UTF-8\?B\?5byg5LiJ\?= <boss@163\.com>$' "$msg" "encoded display name kept"
t_ok "SMTPUTF8 refused at RCPT; RFC 2047 display names pass"

# 3. 22 header fields of about 62,000 bytes (folded): more than 1 MiB.
/usr/bin/python3 - "$T/big.eml" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("From: Boss <boss@163.com>\r\nTo: friend@example.net\r\n"
            "Subject: big header\r\n")
    for i in range(22):
        f.write("X-Filler-%d: " % i + "\r\n ".join(["x" * 998] * 62) + "\r\n")
    f.write("\r\nbody\r\n")
PY
pf_send "$T/pf" --from boss@163.com --to friend@example.net --data "$T/big.eml" >"$T/s6" 2>&1
t_assert_grep '<\*\* +452 4\.3\.1 message header is too large; smarthost-milter takes at most 1000 header fields and 1048576 bytes of header per message' "$T/s6" "oversized header deferred"
t_ok "more than 1 MiB of header: 452 4.3.1"

sleep 0.5
t_assert_eq 1 "$(ls "$T"/sink/ | wc -l)" "messages at the provider stand-in"
t_assert_no_grep 'stranger@elsewhere' "$(ls "$T"/sink/*)" "the refused sender at the provider stand-in"
t_assert_no_grep 'milter.*(warning|error|fatal)|(warning|error|fatal).*milter' "$(pf_log "$T/pf")" "Postfix milter errors"
t_ok "Postfix + smarthost-milter: trust, SMTPUTF8, header bound"
