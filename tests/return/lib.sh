# lib.sh — the world of the smarthost-return tests: a real Dovecot holding
# the provider account's mailbox (office@qq.com, reached as imap.qq.com:993
# by the preset, TLS from the test CA), a real Postfix that delivers
# alice@office.lan into a Maildir (virtual(8)), and smarthost.conf /
# relay.map / secrets with the route "* office@qq.com rewrite".
#
#	. "$SMARTHOST_TOP/tests/return/lib.sh"
#	t_enter_netns "$@"
#	rt_setup			# everything above, started
#	rt_seed "<id@office.lan>" alice@office.lan	# a sent-log row
#	rt_save < <(rt_dsn SUBJECT ID)	# into office@qq.com's INBOX (not
#					# in a pipe: its failure must end
#					# the test)
#	rt_uid VAR SUBJECT		# VAR=the UID of that message
#	rt_run [ARGS...]		# smarthost-return, log in $T_TMP/run.log
#	rt_alice_count			# messages in Alice's Maildir
#	rt_flags UID			# the message's flags on the server
#
# RT_CODE is the account's code; RT_SENDMAIL the sendmail command for the
# test Postfix.  rt_setup_world without Dovecot's start lets a test put a
# proxy in front (RT_DV_PORT, default 993).

. "$SMARTHOST_TOP/tests/lib/common.sh"
. "$SMARTHOST_TOP/tests/lib/pki.sh"
. "$SMARTHOST_TOP/tests/lib/postfix.sh"
. "$SMARTHOST_TOP/tests/lib/dovecot.sh"

RT_CODE=qq-code-Zk3p9
RT_ACCOUNT=${RT_ACCOUNT:-office@qq.com}

rt_setup_world() {
	t_need dovecot doveadm sqlite3 postfix openssl
	[ -x "$B/smarthost-return" ] || t_fail "$B/smarthost-return not built"
	t_tmpdir
	t_hosts "127.0.0.1 imap.qq.com imap.163.com"
	pki_make "$T_TMP/pki" || t_fail "pki_make failed"
	pki__leaf "$T_TMP/pki" imap imap.qq.com \
	    "DNS:imap.qq.com,DNS:imap.163.com" ca || t_fail "imap cert"
	dv_create "$T_TMP/dv" "${RT_DV_PORT:-993}" "$T_TMP/pki/imap.crt" \
	    "$T_TMP/pki/imap.key" "$RT_ACCOUNT $RT_CODE" ||
	    t_fail "dv_create failed"
	# Alice's mailbox behind a real Postfix
	pf_create "$T_TMP/pf" 2525 || t_fail "pf_create failed"
	mkdir -p "$T_TMP/vmail" && chown nobody:nogroup "$T_TMP/vmail"
	pf_conf "$T_TMP/pf" "virtual_mailbox_domains = office.lan" \
	    "virtual_mailbox_base = $T_TMP/vmail" \
	    "virtual_mailbox_maps = inline:{alice@office.lan=alice/}" \
	    "virtual_uid_maps = static:65534" \
	    "virtual_gid_maps = static:65534" \
	    "virtual_minimum_uid = 1000" || t_fail "pf_conf failed"
	pf_start "$T_TMP/pf"
	RT_SENDMAIL="/usr/sbin/sendmail -C $T_TMP/pf/etc"
	# smarthost's configuration
	mkdir -m 700 "$T_TMP/state"
	cat >"$T_TMP/smarthost.conf" <<CONF
[global]
user = root
relay-map = $T_TMP/relay.map
secrets = $T_TMP/secrets
state-dir = $T_TMP/state

[account $RT_ACCOUNT]
ca-file = $T_TMP/pki/ca.crt
CONF
	printf '*\t%s\trewrite\n' "$RT_ACCOUNT" >"$T_TMP/relay.map"
	rt_code "$RT_CODE"
}

rt_setup() {
	rt_setup_world
	dv_start "$T_TMP/dv"
	# The first run creates the sent log; the mailbox is empty.
	rt_run || { cat "$T_TMP/run.log" >&2
		t_fail "a run over an empty mailbox failed"; }
	[ -s "$T_TMP/state/sent.db" ] || t_fail "no sent log was created"
}

rt_code() {
	(umask 077; printf '%s %s\n' "$RT_ACCOUNT" "$1" >"$T_TMP/secrets")
}

rt_run() {
	"$B/smarthost-return" -c "$T_TMP/smarthost.conf" -s "$RT_SENDMAIL" \
	    "$@" >"$T_TMP/run.log" 2>&1
	RT_RC=$?
	cat "$T_TMP/run.log" >>"$T_TMP/runs.log"
	return $RT_RC
}

# rt_seed MSGID ENV_FROM [ACCOUNT]: the row the relay writes for a
# rewritten message sent through ACCOUNT (default: the mailbox's).
rt_seed() {
	local acct=${3:-$RT_ACCOUNT}
	sqlite3 "$T_TMP/state/sent.db" "INSERT INTO sent (time, queue_id,
	    message_id, env_from, header_from, account, login, rcpts, status,
	    reply) VALUES (strftime('%s','now'), '4QxYz1', '$1', '$2', '$2',
	    '$acct', '$acct', 'bob@example.net', 'sent',
	    '250 Ok: queued');" || t_fail "cannot seed the sent log"
}

rt_save() {
	dv_save "$T_TMP/dv" "$RT_ACCOUNT" || t_fail "doveadm save failed"
}

# Flags of the INBOX message with this UID ("" if it is not in INBOX),
# without \Recent (a session property, not a change).
rt_flags() {
	dv_fetch "$T_TMP/dv" "$RT_ACCOUNT" flags mailbox INBOX uid "$1" |
	    sed -n 's/^flags: *//p' | sed 's/\\Recent *//; s/ *$//'
}

rt_uid_of() {		# the UID of the INBOX message with this Subject
	dv_fetch "$T_TMP/dv" "$RT_ACCOUNT" uid mailbox INBOX \
	    header subject "$1" | sed -n 's/^uid: *//p'
}

rt_uid() {		# VAR SUBJECT: VAR=the UID, or the test fails
	local rt__u
	rt__u=$(rt_uid_of "$2")
	[[ $rt__u =~ ^[0-9]+$ ]] ||
	    t_fail "no single INBOX message with subject $2"
	printf -v "$1" %s "$rt__u"
}

rt_alice_count() {
	pf_wait_queue_empty "$T_TMP/pf" 20 >/dev/null 2>&1
	find "$T_TMP/vmail/alice/new" -type f 2>/dev/null | wc -l
}

rt_alice_grep() {	# files in Alice's Maildir matching the pattern
	pf_wait_queue_empty "$T_TMP/pf" 20 >/dev/null 2>&1
	grep -lE -- "$1" "$T_TMP"/vmail/alice/new/* 2>/dev/null | wc -l
}

rt_state() {		# the returned row's state of a UID
	sqlite3 "$T_TMP/state/sent.db" "SELECT state FROM returned WHERE
	    account = '$RT_ACCOUNT' AND uid = $1;"
}

# Messages the way providers write them.  MSGID without brackets.
rt_dsn() {		# SUBJECT MSGID: RFC 3464 multipart/report
	printf '%s\r\n' "Return-Path: <>" \
	"From: Mail Delivery System <MAILER-DAEMON@mx.qq.com>" \
	"To: $RT_ACCOUNT" "Subject: $1" \
	"Message-ID: <dsn-$RANDOM@mx.qq.com>" \
	"Date: $(date -R)" "MIME-Version: 1.0" \
	"Content-Type: multipart/report; report-type=delivery-status;" \
	"	boundary=\"b1\"" "" \
	"--b1" "Content-Type: text/plain" "" \
	"Your message to bob@example.net could not be delivered." "" \
	"--b1" "Content-Type: message/delivery-status" "" \
	"Reporting-MTA: dns; mx.qq.com" "" \
	"Final-Recipient: rfc822; bob@example.net" "Action: failed" \
	"Status: 5.1.1" "Diagnostic-Code: smtp; 550 5.1.1 no such user" "" \
	"--b1" "Content-Type: message/rfc822" "" \
	"From: alice@office.lan" "To: bob@example.net" \
	"Subject: the quarterly figures" \
	"Message-ID:" " <$2>" "" "Hello Bob." "" "--b1--"
}

rt_plain_bounce() {	# SUBJECT MSGID: a plain-text notice quoting headers
	printf '%s\r\n' "From: postmaster@163.com" "To: $RT_ACCOUNT" \
	"Subject: $1" "Message-ID: <pb-$RANDOM@163.com>" \
	"Date: $(date -R)" "" \
	"This is the mail system at host mx.163.com." \
	"I'm sorry to have to inform you that your message could not" \
	"be delivered to one or more recipients." "" \
	"----- Original message headers -----" \
	"> From: alice@office.lan" "> To: bob@example.net" \
	"> Message-Id: <$2>" "> Subject: the quarterly figures" ""
}

rt_reply() {		# SUBJECT IN-REPLY-TO
	printf '%s\r\n' "From: Bob <bob@example.net>" "To: $RT_ACCOUNT" \
	"Subject: $1" "Message-ID: <reply-$RANDOM@example.net>" \
	"Date: $(date -R)" "In-Reply-To: <$2>" \
	"References: <older@example.net>" "  <$2>" "" "Thanks, Alice!"
}

rt_plain() {		# SUBJECT: an ordinary message
	printf '%s\r\n' "From: carol@example.org" "To: $RT_ACCOUNT" \
	"Subject: $1" "Message-ID: <plain-$RANDOM@example.org>" \
	"Date: $(date -R)" "" "Lunch on Friday?"
}
