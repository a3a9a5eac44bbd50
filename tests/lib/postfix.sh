# postfix.sh — a throwaway real Postfix instance for tests (root only, best
# inside t_enter_netns).  Source common.sh first, then this file:
#
#	pf_create "$T_TMP/pf" 2525		# config, queue, listener
#	pf_conf "$T_TMP/pf" relayhost=[127.0.0.1]:10025 \
#	    smtpd_milters=inet:127.0.0.1:8891 milter_default_action=tempfail
#	pf_start "$T_TMP/pf"			# registers pf_stop on exit
#	pf_send "$T_TMP/pf" -f a@office.test -t b@example.test >"$T_TMP/out"
#	pf_wait_queue_empty "$T_TMP/pf" 10 || t_fail "mail still queued"
#	grep status=sent "$(pf_log "$T_TMP/pf")"
#
# pf_create DIR PORT	Build an instance in DIR: DIR/etc (main.cf, master.cf
#			from /etc/postfix without the :25 listener, no
#			chroot), DIR/queue, DIR/data, DIR/maillog; an smtpd on
#			127.0.0.1:PORT; mynetworks 127.0.0.0/8 may relay;
#			no local delivery, no DNS (relayhost must be [IP]:port);
#			myhostname office.test.  DIR's parents must be
#			traversable by the postfix user (t_tmpdir is).
# pf_conf DIR key=value...	postconf -e each setting.
# pf_master DIR 'SERVICE/TYPE=ENTRY'...	postconf -M each master.cf entry.
# pf_start DIR		Start it (`postfix start`), wait (bounded, 10 s) for
#			the listener, register pf_stop DIR as a cleanup.
#			On failure prints the maillog and fails the test.
# pf_stop DIR		SIGTERM the master (as `postfix stop` does), wait up
#			to 10 s for it to exit (SIGKILL after that).
#			Idempotent.
# pf_reload DIR		`postfix reload`.
# pf_backdate FILE...	Set mtimes a minute into the past: Postfix stalls
#			reading main.cf/master.cf (and lookup tables) modified
#			within the last second or two.  pf_conf/pf_master do
#			it; call it for files you write into DIR/etc yourself.
# pf_queue DIR		Print `postqueue -p`.
# pf_queue_count DIR	Print the number of queued messages.
# pf_flush DIR		`postqueue -f` (retry deferred mail now).
# pf_wait_queue_empty DIR SECONDS	Poll until the queue is empty.
# pf_log DIR		Print the path of the maillog.
# pf_wait_log DIR PATTERN SECONDS	Poll until the maillog matches (grep -E).
# pf_port DIR		Print the smtpd port given to pf_create.
# pf_send DIR SWAKS-ARGS...	swaks to 127.0.0.1:PORT of the instance
#			(defaults: --from sender@office.test --to
#			rcpt@example.test --helo client.test, overridable);
#			returns swaks's status, prints its transcript.

declare -A PF_PIDS	# DIR -> master pid, as seen by pf_start

# Postfix waits (in 0.3 s steps) while a config file's mtime is less than
# a second or two old; every postconf edit is therefore backdated.
pf__cf() {
	local rc
	postconf -c "$1/etc" "${@:2}"
	rc=$?
	pf_backdate "$1/etc/main.cf" "$1/etc/master.cf"
	return $rc
}

pf_backdate() {
	touch -c -d '-1 minute' "$@"
}

pf_create() {
	local d=${1:?pf_create DIR PORT} port=${2:?pf_create DIR PORT}
	mkdir -p "$d/etc" "$d/queue" "$d/data" || return 1
	cp /etc/postfix/master.cf "$d/etc/master.cf"
	: >"$d/etc/main.cf"
	echo "$port" >"$d/port"
	pf__cf "$d" -X -M smtp/inet
	pf__cf "$d" -F '*/*/chroot = n'
	pf__cf "$d" -e \
	    "compatibility_level = 3.6" \
	    "queue_directory = $d/queue" \
	    "data_directory = $d/data" \
	    "maillog_file = $d/maillog" \
	    "maillog_file_prefixes = $d" \
	    "inet_interfaces = 127.0.0.1" \
	    "inet_protocols = ipv4" \
	    "myhostname = office.test" \
	    "mydomain = office.test" \
	    "myorigin = office.test" \
	    "mydestination =" \
	    "local_recipient_maps =" \
	    "alias_maps =" "alias_database =" \
	    "mynetworks = 127.0.0.0/8" \
	    "smtpd_relay_restrictions = permit_mynetworks, reject" \
	    "smtp_dns_support_level = disabled" \
	    "smtpd_peername_lookup = no" \
	    "smtp_host_lookup = native" \
	    "biff = no" \
	    "delay_warning_time = 0" \
	    "queue_run_delay = 1s" "minimal_backoff_time = 1s" \
	    "maximal_backoff_time = 2s" \
	    "smtp_connect_timeout = 5s" \
	    || return 1
	pf__cf "$d" -M "127.0.0.1:$port/inet=127.0.0.1:$port inet n - n - - smtpd" ||
	    return 1
	chown postfix "$d/data"
}

pf_conf() {
	local d=${1:?pf_conf DIR key=value...}
	shift
	[ $# -eq 0 ] || pf__cf "$d" -e "$@"
}

pf_master() {
	local d=${1:?pf_master DIR ENTRY...} e
	shift
	for e in "$@"; do
		pf__cf "$d" -M "$e" || return 1
	done
}

pf_port() {
	cat "$1/port"
}

pf_log() {
	echo "$1/maillog"
}

pf__master_pid() {
	local p
	p=$(tr -d " \n" 2>/dev/null <"$1/queue/pid/master.pid") || return 1
	[ -n "$p" ] && kill -0 "$p" 2>/dev/null && echo "$p"
}

# The queue directories `postfix start` would create (post-install
# create-missing), made directly: with them in place and a quick-start
# flag, `postfix start` skips its checks and takes 0.1 s instead of 0.8 s.
pf__queue_dirs() {
	local q=$1/queue n
	for n in active bounce corrupt defer deferred flush hold incoming \
	    private saved trace; do
		install -d -m 700 -o postfix -g root "$q/$n" || return 1
	done
	install -d -m 730 -o postfix -g postdrop "$q/maildrop" &&
	install -d -m 710 -o postfix -g postdrop "$q/public" &&
	install -d -m 755 -o root -g root "$q/pid" &&
	touch "$q/quick-start"
}

pf_start() {
	local d=${1:?pf_start DIR} pid
	pf__queue_dirs "$d" || t_fail "cannot create the queue directories in $d"
	postfix -c "$d/etc" start >"$d/start.out" 2>&1 || {
		cat "$d/start.out" >&2
		[ -f "$d/maillog" ] && tail -n 30 "$d/maillog" >&2
		t_fail "postfix in $d did not start"
	}
	t_cleanup_add "pf_stop '$d'"
	pid=$(pf__master_pid "$d") && { PF_PIDS[$d]=$pid; t_watch_pid "$pid"; }
	t_wait_port 127.0.0.1 "$(pf_port "$d")" 10 || {
		tail -n 30 "$d/maillog" >&2
		t_fail "postfix in $d does not listen on port $(pf_port "$d")"
	}
}

pf_stop() {
	local d=${1:?pf_stop DIR} pid i
	# the pid file may be gone with DIR: fall back to what pf_start saw
	pid=$(pf__master_pid "$d") || pid=${PF_PIDS[$d]:-}
	[ -n "$pid" ] && ! t_pid_gone "$pid" || return 0
	# What `postfix stop` does, minus its one-second polling sleeps.
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 400; i++)); do
		t_pid_gone "$pid" && return 0
		sleep 0.025
	done
	echo "# postfix master $pid in $d did not exit in 10 s: SIGKILL" >&2
	kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
	return 0
}

pf_reload() {
	postfix -c "${1:?pf_reload DIR}/etc" reload >/dev/null 2>&1
}

pf_queue() {
	postqueue -c "${1:?pf_queue DIR}/etc" -p
}

pf_queue_count() {
	postqueue -c "${1:?pf_queue_count DIR}/etc" -j 2>/dev/null | grep -c .
}

pf_flush() {
	postqueue -c "${1:?pf_flush DIR}/etc" -f
}

pf_wait_queue_empty() {
	t_wait_for "[ \"\$(pf_queue_count '$1')\" = 0 ]" "${2:?pf_wait_queue_empty DIR SECONDS}"
}

pf_wait_log() {
	t_wait_for "grep -Eq -- '$2' '$1/maillog' 2>/dev/null" \
	    "${3:?pf_wait_log DIR PATTERN SECONDS}"
}

pf_send() {
	local d=${1:?pf_send DIR SWAKS-ARGS...}
	shift
	timeout 30 swaks -s 127.0.0.1 -p "$(pf_port "$d")" --helo client.test \
	    --from sender@office.test --to rcpt@example.test "$@"
}
