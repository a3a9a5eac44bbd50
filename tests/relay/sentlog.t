#!/usr/bin/env bash
# The sent log and `smarthostctl log`, through a real Postfix
# (relayhost = [127.0.0.1]:10025, XFORWARD on as `smarthostctl postfix`
# prints) and the relay into a provider-like smarthost, alice@office.lan
# leaving through acc1 under a rewrite route:
#  - m1 accepted: one row, status sent with the provider's 250 reply;
#  - m2 to good@ and bad@, bad@ refused 550 by the provider: a sent row
#    for good@, a bounced row for bad@ with the provider's text, both with
#    m2's Message-ID and queue id;
#  - m3 while the provider answers DATA 451: a deferred row with the
#    reply; provider back, Postfix retries: a sent row for the same
#    message, newest first;
#  - m4 with XFORWARD off: the queue id comes from Postfix's own
#    Received: header;
#  - `log ADDRESS` (any case), `log <MESSAGE-ID>`, `log QUEUE-ID` and
#    --json carry time, queue id, Message-ID, From:, envelope sender,
#    account and login, recipients, status and reply; a returned row
#    (as smarthost-return writes) shows under its message;
#  - nothing found: exit 1 and a message; sent-log-days = 0: exit 69;
#    bad usage: 64; sent.db is mode 0640 in WAL mode.
. "$SMARTHOST_TOP/tests/relay/e2e-lib.sh"
t_enter_netns "$@"
e2e_init
t_need sqlite3
ctl=$B/smarthostctl
[ -x "$ctl" ] || t_fail "$ctl not built"

e2e_users 'a1@test.example code-one-1'
peer_opts=(--sender-rule 163 --reject-rcpt bad@dest.test)
e2e_peer p1 4651 implicit "${peer_opts[@]}"
E_RELAY_EXTRA="sent-log-days = 30"
e2e_relay_conf "$(e2e_account acc1 4651 implicit a1@test.example)" \
"alice@office.lan acc1 rewrite" 'acc1 code-one-1'
e2e_relay_start
e2e_postfix
db=$D/state/sent.db
log() { "$ctl" -c "$D/smarthost.conf" log "$@"; }

# send ID RCPT... — from alice, with a Message-ID of its own
send() {
	local id=$1 to
	shift
	to=$(IFS=,; echo "$*")
	pf_send "$D/pf" --from alice@office.lan --to "$to" \
	    --header "From: Alice <alice@office.lan>" \
	    --header "Message-Id: <$id.sentlog@office.lan>" \
	    --header "Subject: sent log $id" --header "X-Test-Id: $id" \
	    >"$D/swaks-$id" 2>&1 ||
	    { cat "$D/swaks-$id" >&2; t_fail "Postfix refused message $id"; }
}

send m1 bob@dest.test
send m2 good@dest.test bad@dest.test
e2e_wait_delivered p1 m1 1 20
e2e_wait_delivered p1 m2 1 20
pf_wait_log "$D/pf" 'to=<bad@dest\.test>.*status=bounced' 15 ||
    t_fail "bad@ not bounced"
q1=$(e2e_qid m1)
q2=$(e2e_qid m2)
[ -n "$q1" ] && [ -n "$q2" ] || t_fail "no queue ids from swaks"
t_assert_eq 640 "$(stat -c %a "$db")" "sent.db mode"
t_assert_eq wal "$(sqlite3 "$db" 'PRAGMA journal_mode')" "journal mode"
t_ok "sent.db made, mode 0640, WAL"

# m3: the provider defers DATA, then takes it on Postfix's retry
e2e_peer_stop p1
e2e_peer p1 4651 implicit "${peer_opts[@]}" \
    --data-reply "451 4.3.0 mailbox busy, try later"
send m3 carol@dest.test
q3=$(e2e_qid m3)
pf_wait_log "$D/pf" "$q3: to=<carol@dest\\.test>.*status=deferred" 20 ||
    t_fail "m3 not deferred"
e2e_peer_stop p1
e2e_peer p1 4651 implicit "${peer_opts[@]}"
pf_flush "$D/pf"
e2e_wait_delivered p1 m3 1 30
pf_wait_log "$D/pf" "$q3: to=<carol@dest\\.test>.*status=sent" 15 ||
    t_fail "m3 not sent on retry"

# the rows, as the relay wrote them (checked before the relay's own log
# view, so a wrong reader cannot hide a wrong writer); the relay writes
# a row just after answering Postfix
t_wait_for "[ \"\$(sqlite3 '$db' \"SELECT count(*) FROM sent WHERE queue_id = '$q3' AND status = 'sent'\")\" = 1 ]" 5 ||
    t_fail "no sent row for m3: $(sqlite3 "$db" 'SELECT queue_id, status FROM sent')"
# Postfix may have retried m3 once more before the deferring stand-in was
# stopped: each try the provider answered is one deferred row.
n3d=$(sqlite3 "$db" "SELECT count(*) FROM sent WHERE queue_id = '$q3' AND status = 'deferred'")
[ "$n3d" -ge 1 ] || t_fail "no deferred row for m3"
nrows=$((4 + n3d))
rows=$(sqlite3 -separator '|' "$db" "SELECT queue_id, message_id, env_from,
    header_from, account, login, rcpts, status, reply FROM sent ORDER BY id")
printf '%s\n' "$rows"
t_assert_eq $nrows "$(printf '%s\n' "$rows" | wc -l)" "rows in sent"
expect_row() {	# REGEX DESCRIPTION
	printf '%s\n' "$rows" | grep -Eq "$1" ||
	    t_fail "no row $2 (want /$1/)"
}
expect_row "^$q1\\|m1\\.sentlog@office\\.lan\\|alice@office\\.lan\\|alice@office\\.lan\\|acc1\\|a1@test\\.example\\|bob@dest\\.test\\|sent\\|250 2\\.0\\.0 smtp\\.test said: 250 Mail OK queued as msg-" "m1 sent"
expect_row "^$q2\\|m2\\.sentlog@office\\.lan\\|alice@office\\.lan\\|alice@office\\.lan\\|acc1\\|a1@test\\.example\\|good@dest\\.test\\|sent\\|250 " "m2 sent to good@"
expect_row "^$q2\\|m2\\.sentlog@office\\.lan\\|.*\\|bad@dest\\.test\\|bounced\\|550 5\\.1\\.1 .*<bad@dest\\.test>: Recipient address rejected: User unknown" "m2 bounced for bad@"
expect_row "^$q3\\|m3\\.sentlog@office\\.lan\\|.*\\|carol@dest\\.test\\|deferred\\|451 4\\.3\\.0 .*mailbox busy, try later" "m3 deferred"
expect_row "^$q3\\|m3\\.sentlog@office\\.lan\\|.*\\|carol@dest\\.test\\|sent\\|250 " "m3 sent on retry"
t_ok "the relay recorded sent, bounced (5xx recipient) and deferred (4xx DATA) with queue id, Message-ID, From:, envelope, account, login, recipients and reply"

# smarthost-return's side: a DSN handed back for m2's bounced row
bid=$(sqlite3 "$db" "SELECT id FROM sent WHERE status = 'bounced'")
now=$(date +%s)
sqlite3 "$db" "INSERT INTO returned VALUES ('acc1', 77, 5, $now, 'dsn',
    $bid, 'alice@office.lan', 'delivered')" || t_fail "insert returned"

# log ADDRESS: every row, newest first, in blocks
log Alice@Office.LAN >"$D/all.out" 2>"$D/all.err"
rc=$?
cat "$D/all.out"
t_assert_eq 0 "$rc" "log ADDRESS exit (stderr: $(cat "$D/all.err"))"
t_assert_eq $nrows "$(grep -c '^time: ' "$D/all.out")" "blocks for alice"
t_assert_eq "$(for i in $(seq 0 $n3d); do printf '%s ' "$q3"; done)$q2 $q2 $q1" "$(awk '/^queue-id: / { printf "%s%s", s, $2; s = " " }' "$D/all.out")" "newest first"
block() {	# the block with queue id $1 and status $2
	awk -v q="$1" -v s="$2" 'BEGIN { RS = ""; FS = "\n" }
	    index($0, "\nqueue-id: " q "\n") && index($0, "\nstatus: " s "\n")' \
	    "$D/all.out"
}
block "$q1" sent >"$D/b1"
t_assert_grep '^time: [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} [+-][0-9]{4}$' "$D/b1"
t_assert_grep '^message-id: <m1\.sentlog@office\.lan>$' "$D/b1"
t_assert_grep '^from: alice@office\.lan$' "$D/b1"
t_assert_grep '^envelope-from: alice@office\.lan$' "$D/b1"
t_assert_grep '^account: acc1 \(login a1@test\.example\)$' "$D/b1"
t_assert_grep '^recipients: bob@dest\.test$' "$D/b1"
t_assert_grep "^reply: 250 2\\.0\\.0 smtp\\.test said: 250 Mail OK queued as msg-" "$D/b1"
block "$q2" bounced >"$D/b2"
t_assert_grep '^recipients: bad@dest\.test$' "$D/b2"
t_assert_grep '^reply: 550 5\.1\.1 .*<bad@dest\.test>: Recipient address rejected: User unknown' "$D/b2"
t_assert_grep '^returned: dsn to alice@office\.lan at [0-9-]+ [0-9:]+ [+-][0-9]{4} \(delivered\)$' "$D/b2"
block "$q2" sent >"$D/b2s"
t_assert_grep '^recipients: good@dest\.test$' "$D/b2s"
t_assert_no_grep '^returned:' "$D/b2s" "the DSN belongs to the bounced row only"
block "$q3" deferred | head -n 20 >"$D/b3"
t_assert_grep '^reply: 451 4\.3\.0 .*mailbox busy, try later$' "$D/b3"
t_ok "log ADDRESS (any case): a block per row, newest first; sent with the 250, bounced with the 550 and the DSN returned to alice, deferred with the 451"

# log <MESSAGE-ID> and log QUEUE-ID
log '<m3.sentlog@office.lan>' >"$D/m3.out" || t_fail "log MESSAGE-ID exit $?"
t_assert_eq "sent$(for i in $(seq 1 $n3d); do printf ' deferred'; done)" "$(awk '/^status: / { printf "%s%s", s, $2; s = " " }' "$D/m3.out")" "m3's history"
log m3.sentlog@office.lan >"$D/m3b.out" || t_fail "log bare MESSAGE-ID exit $?"
cmp -s "$D/m3.out" "$D/m3b.out" || t_fail "brackets or not: same answer"
log "$q2" >"$D/q2.out" || t_fail "log QUEUE-ID exit $?"
t_assert_eq 2 "$(grep -c '^time: ' "$D/q2.out")" "blocks for $q2"
t_assert_eq 2 "$(grep -c '^message-id: <m2\.sentlog@office\.lan>$' "$D/q2.out")" "m2's Message-ID"
t_ok "log <MESSAGE-ID> (with or without brackets) shows m3 deferred then sent; log QUEUE-ID finds m2's two rows"

# --json
log "$q2" --json >"$D/q2.json" || t_fail "log --json exit $?"
/usr/bin/python3 - "$D/q2.json" "$q2" <<'EOF' || t_fail "JSON content"
import json, sys, time
d = json.load(open(sys.argv[1]))
q = sys.argv[2]
assert d["key"] == q, d
m = {x["status"]: x for x in d["messages"]}
assert sorted(m) == ["bounced", "sent"], d
for x in m.values():
    assert x["queue_id"] == q, x
    assert x["message_id"] == "m2.sentlog@office.lan", x
    assert x["from"] == "alice@office.lan", x
    assert x["envelope_from"] == "alice@office.lan", x
    assert x["account"] == "acc1" and x["login"] == "a1@test.example", x
    assert abs(x["time"] - time.time()) < 300, x
assert m["sent"]["recipients"] == ["good@dest.test"], m
assert m["sent"]["reply"].startswith("250 "), m
assert m["sent"]["returned"] == [], m
assert m["bounced"]["recipients"] == ["bad@dest.test"], m
assert m["bounced"]["reply"].startswith("550 5.1.1 "), m
r = m["bounced"]["returned"]
assert len(r) == 1 and r[0]["kind"] == "dsn" and r[0]["to"] == \
    "alice@office.lan" and r[0]["state"] == "delivered", r
EOF
t_ok "--json: the same fields, recipients as a list, the returned DSN"

# m4 without XFORWARD: the queue id from Postfix's Received: header
pf_conf "$D/pf" "smtp_send_xforward_command = no"
pf_reload "$D/pf"
sleep 1
send m4 dave@dest.test
q4=$(e2e_qid m4)
e2e_wait_delivered p1 m4 1 20
t_assert_grep "qid=- sender=<alice@office\\.lan> .*status=sent" "$D/relay.log" "no XFORWARD IDENT reached the relay"
t_assert_grep "^[[:space:]]+by office\\.test \\(Postfix\\) with E?SMTP id $q4" \
    "$(grep -l 'X-Test-Id: m4' "$D"/mail-p1.*/msg-*.eml)" "Postfix's Received:"
t_wait_for "log '$q4' >'$D/q4.out' 2>&1" 5 ||
    t_fail "log $q4 (Received: header): $(cat "$D/q4.out")"
t_assert_grep '^message-id: <m4\.sentlog@office\.lan>$' "$D/q4.out"
t_ok "without XFORWARD the queue id ($q4) comes from Postfix's Received: header"

# nothing found, log off, bad usage
log nobody@office.lan >"$D/none.out" 2>"$D/none.err"
t_assert_eq 1 "$?" "nothing found exit"
t_assert_grep '^smarthostctl: nothing in the sent log for nobody@office\.lan \(it keeps 30 days\)$' "$D/none.err"
t_assert_eq 0 "$(wc -c <"$D/none.out")" "nothing on stdout"
sed 's/^sent-log-days = 30$/sent-log-days = 0/' "$D/smarthost.conf" >"$D/off.conf"
"$ctl" -c "$D/off.conf" log alice@office.lan 2>"$D/off.err"
t_assert_eq 69 "$?" "sent-log-days = 0 exit"
t_assert_grep 'there is no sent log: sent-log-days is 0' "$D/off.err"
log 2>/dev/null
t_assert_eq 64 "$?" "no key: usage"
log a b 2>/dev/null
t_assert_eq 64 "$?" "two keys: usage"
t_ok "nothing found: exit 1 and a message; log off: 69; bad usage: 64"

e2e_assert_no_secrets
t_ok "no log holds a code"
