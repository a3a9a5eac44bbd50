# dovecot.sh — a throwaway real Dovecot IMAP server for tests (root only,
# inside t_enter_netns).  Source common.sh first, then this file:
#
#	pki_make "$T_TMP/pki"
#	dv_create "$T_TMP/dv" 993 "$T_TMP/pki/imap.crt" "$T_TMP/pki/imap.key" \
#	    "office@qq.com code-qq"
#	dv_start "$T_TMP/dv"			# registers its stop on exit
#	dv_save "$T_TMP/dv" office@qq.com <msg.eml
#	dv_fetch "$T_TMP/dv" office@qq.com 'uid flags' 'mailbox INBOX'
#
# dv_create DIR PORT CERT KEY "USER PASSWORD"...
#			DIR/dovecot.conf: IMAP only, implicit TLS on
#			127.0.0.1:PORT (no plain-text listener), passdb a
#			passwd-file (DIR/passwd, PLAIN scheme) holding the
#			users, mail in DIR/mail/USER (Maildir, owned by
#			nobody), logs in DIR/log.
# dv_start DIR		Start `dovecot -F` in the background, wait (10 s) for
#			the port; fails the test with the log otherwise.
# dv_stop DIR		Stop it (`doveadm stop`, then the process).
# dv_oauth2 DIR URL CA	Also take AUTHENTICATE XOAUTH2: tokens checked by
#			RFC 7662 introspection at URL (HTTPS, verified
#			against CA); call before dv_start.
# dv_save DIR USER [MAILBOX]	Store standard input as a new message.
# dv_fetch DIR USER FIELDS QUERY...	`doveadm fetch` (e.g. 'uid flags').
# dv_count DIR USER QUERY...	Number of messages matching the search query.
# dv_log DIR		Path of the log.

dv_create() {
	local d=${1:?dv_create DIR PORT CERT KEY USERS...} port=${2:?}
	local cert=${3:?} key=${4:?} u
	shift 4
	mkdir -p "$d/run" "$d/state" "$d/mail" || return 1
	chown nobody:nogroup "$d/mail"
	echo "$port" >"$d/port"
	: >"$d/passwd"
	for u in "$@"; do
		printf '%s:{PLAIN}%s::::::\n' "${u%% *}" "${u#* }" >>"$d/passwd"
	done
	chmod 640 "$d/passwd"
	chgrp dovecot "$d/passwd" 2>/dev/null
	cat >"$d/dovecot.conf" <<EOF
base_dir = $d/run
state_dir = $d/state
log_path = $d/log
info_log_path = $d/log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <$cert
ssl_key = <$key
ssl_min_protocol = TLSv1.2
auth_mechanisms = plain login
auth_verbose = yes
first_valid_uid = 1
last_valid_uid = 0
mail_location = maildir:$d/mail/%u
mail_uid = nobody
mail_gid = nogroup
passdb {
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u $d/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$d/mail/%u allow_all_users=yes
}
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $port
    ssl = yes
  }
}
service anvil {
  chroot =
}
service imap-login {
  chroot =
}
EOF
}

dv_oauth2() {
	local d=${1:?dv_oauth2 DIR URL CA} url=${2:?} ca=${3:?}
	cat >"$d/oauth2.conf.ext" <<EOF
introspection_mode = post
introspection_url = $url
username_attribute = username
active_attribute = active
active_value = true
tls_ca_cert_file = $ca
EOF
	cat >>"$d/dovecot.conf" <<EOF
auth_mechanisms = plain login xoauth2
passdb {
  driver = oauth2
  mechanisms = xoauth2
  args = $d/oauth2.conf.ext
}
EOF
}

dv_log() {
	echo "$1/log"
}

dv_start() {
	local d=${1:?dv_start DIR} port
	port=$(cat "$d/port")
	t_need dovecot doveadm
	t_spawn "dovecot_$$_${RANDOM}" "$d/stdout" dovecot -F -c "$d/dovecot.conf"
	t_cleanup_add "dv_stop '$d'"
	t_wait_port 127.0.0.1 "$port" 10 || {
		cat "$d/stdout" "$d/log" >&2 2>/dev/null
		t_fail "dovecot did not listen on 127.0.0.1:$port"
	}
}

dv_stop() {
	doveadm -c "$1/dovecot.conf" stop 2>/dev/null
	t_wait_for "[ ! -e '$1/run/master.pid' ]" 10
}

dv_save() {
	local d=${1:?dv_save DIR USER [MAILBOX]} u=${2:?}
	doveadm -c "$d/dovecot.conf" save -u "$u" ${3:+-m "$3"}
}

dv_fetch() {
	local d=${1:?dv_fetch DIR USER FIELDS QUERY...} u=${2:?} f=${3:?}
	shift 3
	doveadm -c "$d/dovecot.conf" fetch -u "$u" "$f" "$@"
}

dv_count() {
	local d=${1:?dv_count DIR USER QUERY...} u=${2:?}
	shift 2
	doveadm -c "$d/dovecot.conf" search -u "$u" "$@" | wc -l
}
