#!/usr/bin/env bash
# The relay's round trips with a provider that offers PIPELINING (as 163,
# qq and gmail do), Postfix played by smtpchat.py sending MAIL, RCPTs and
# DATA in one write:
#  - they reach the provider in one batch (its events show RCPT and DATA
#    already waiting behind MAIL), each reply answers its own command, a
#    refused one of two recipients stays refused alone;
#  - the next message on the pooled session costs no RSET;
#  - a refused MAIL in a batch: Postfix gets the provider's refusal and
#    503s for the rest, nothing is delivered, the session stays usable;
#  - a pooled session the provider closed while idle is replaced before
#    MAIL, and the message still goes.
. "$SMARTHOST_TOP/tests/relay/e2e-lib.sh"
t_enter_netns "$@"
e2e_init
chat="/usr/bin/python3 $SMARTHOST_TOP/tests/relay/smtpchat.py"

e2e_users 'a1@test.example code-pipe-1' 'a2@test.example code-pipe-2'
e2e_peer p1 4651 implicit --sender-rule 163 --pipelining \
    --reject-rcpt bad@dest.test
e2e_peer p2 4652 implicit --sender-rule 163 --pipelining --idle-timeout 1
e2e_relay_conf "$(e2e_account acc1 4651 implicit a1@test.example
    e2e_account acc2 4652 implicit a2@test.example)" "a1@test.example acc1
other@test.example acc1
a2@test.example acc2" 'acc1 code-pipe-1' 'acc2 code-pipe-2'
e2e_relay_start

batch() {	# sender rcpt... -> one pipelined MAIL/RCPT/DATA command
	local b="MAIL FROM:<$1>" r
	shift
	for r in "$@"; do
		b="$b\\nRCPT TO:<$r>"
	done
	printf '%s\\nDATA' "$b"
}
ev() {		# peer event -> its lines
	grep "\"event\": \"$2\"" "$D/events-$1" || true
}

# 1. one batch, per-recipient replies, then a second message: no RSET
$chat 127.0.0.1:10025 "EHLO postfix.test" \
    "$(batch a1@test.example r1@dest.test bad@dest.test)" \
    "<<Subject: one\n\nfirst" \
    "$(batch a1@test.example r2@dest.test)" "<<Subject: two\n\nsecond" \
    QUIT >"$D/chat1" 2>&1 || { cat "$D/chat1"; t_fail "chat 1 failed"; }
sed -n '/^250 XFORWARD/,$p' "$D/chat1" | sed 1d | cut -c1-3 | tr '\n' ' ' \
    >"$D/codes1"
t_assert_eq "250 250 550 354 250 250 250 354 250 221 " "$(cat "$D/codes1")" \
    "reply codes, one per command"
t_assert_grep '^550 5\.1\.1 .*bad@dest\.test' "$D/chat1" "refused recipient"
t_assert_eq 2 "$(ev p1 mail | grep -c '"pending": [1-9]')" \
    "MAILs with RCPT and DATA already behind them"
t_assert_eq 2 "$(ev p1 rcpt | grep '"rcpt": "r[12]@' | grep -c '"pending": [1-9]')" \
    "last RCPTs with DATA already behind them"
t_assert_eq 1 "$(ev p1 connect | wc -l)" "sessions opened"
t_assert_eq 0 "$(ev p1 rset | wc -l)" "RSETs at the provider"
t_assert_eq 2 "$(ev p1 data | wc -l)" "messages delivered"
t_assert_grep '"rcpt_tos": \["r1@dest.test"\]' "$D/mail-p1.0/msg-000001.json" \
    "first message's recipients"
t_assert_grep 'session=reused' "$D/relay.log" "second message on the pooled session"
t_ok "pipelined MAIL/RCPT/DATA in one batch, per-recipient refusal, reuse without RSET"

# 2. a refused MAIL in a batch
$chat 127.0.0.1:10025 "EHLO postfix.test" \
    "$(batch other@test.example r3@dest.test)" \
    "$(batch a1@test.example r4@dest.test)" "<<Subject: four\n\nfourth" \
    QUIT >"$D/chat2" 2>&1 || { cat "$D/chat2"; t_fail "chat 2 failed"; }
t_assert_grep '^553 .*Mail from must equal authorized user' "$D/chat2" \
    "the provider's refusal"
t_assert_eq 2 "$(grep -c '^503 5\.5\.1 need MAIL before' "$D/chat2")" \
    "503 to the RCPT and DATA behind it"
t_assert_no_grep '"rcpt": "r3@' "$D/events-p1" "a recipient of the refused MAIL accepted"
t_assert_eq 3 "$(ev p1 data | wc -l)" "messages delivered"
t_assert_eq 1 "$(ev p1 connect | wc -l)" "sessions opened"
t_assert_eq 0 "$(ev p1 rset | wc -l)" "RSETs at the provider"
t_ok "refused MAIL in a batch: refusal and 503s, no delivery, session kept"

# 2b. more recipients than one batch holds: the rest take the ordinary path
many=()
for i in $(seq 1 20); do many+=("m$i@dest.test"); done
$chat 127.0.0.1:10025 "EHLO postfix.test" \
    "$(batch a1@test.example "${many[@]}")" "<<Subject: many\n\ntwenty" \
    QUIT >"$D/chat2b" 2>&1 || { cat "$D/chat2b"; t_fail "chat 2b failed"; }
sed -n '/^250 XFORWARD/,$p' "$D/chat2b" | sed 1d | cut -c1-3 | tr '\n' ' ' \
    >"$D/codes2b"
t_assert_eq "$(printf '250 %.0s' $(seq 0 20))354 250 221 " "$(cat "$D/codes2b")" \
    "reply codes for MAIL, 20 RCPTs, DATA"
t_assert_eq 4 "$(ev p1 data | wc -l)" "messages delivered"
t_assert_eq 20 "$(ev p1 rcpt | grep -c '"rcpt": "m[0-9]*@dest.test"')" "recipients at the provider"
t_ok "20 recipients, more than one batch holds: each answered, all delivered"

# 3. the provider closes the pooled session while idle (its 1 s timeout)
$chat 127.0.0.1:10025 "EHLO postfix.test" \
    "$(batch a2@test.example r5@dest.test)" "<<Subject: five\n\nfifth" \
    "!sleep 1.8" \
    "$(batch a2@test.example r6@dest.test)" "<<Subject: six\n\nsixth" \
    QUIT >"$D/chat3" 2>&1 || { cat "$D/chat3"; t_fail "chat 3 failed"; }
t_assert_eq 2 "$(grep -c '^250 2\.0\.0 .*queued as' "$D/chat3")" "messages sent"
t_assert_eq 1 "$(ev p2 timeout | wc -l)" "provider timeout"
t_assert_eq 2 "$(ev p2 connect | wc -l)" "sessions opened"
t_assert_eq 2 "$(ev p2 data | wc -l)" "messages delivered"
t_assert_grep 'session=dead' "$D/relay.log" "dead session noticed"
t_ok "pooled session closed by the provider: replaced before MAIL"

e2e_assert_no_secrets
