# common.sh — helpers for bash script tests (tests/*/*.t).  Source it:
#
#	#!/usr/bin/env bash
#	. "$SMARTHOST_TOP/tests/lib/common.sh"
#	t_enter_netns "$@"		# re-exec inside a private net+mount ns
#	t_need swaks postfix		# fail clearly if a command is missing
#	t_tmpdir			# sets $T_TMP (removed on exit)
#	t_spawn peer "$T_TMP/peer.log" /usr/bin/python3 ... # background daemon
#	t_wait_port 127.0.0.1 4650 5 || t_fail "peer did not listen"
#	t_assert_grep '^250 ' "$T_TMP/out"
#	t_ok "message accepted"
#
# Environment: B (absolute build dir) and SMARTHOST_TOP (repo root) are set
# by tests/harness/run-tests; when unset they default to ./build and the
# repo this file lives in.  T_KEEP=1 keeps $T_TMP after the test (its path is
# printed).  Every helper is bounded in time; nothing waits forever.
#
# t_enter_netns "$@"	   Re-exec the calling script once inside `unshare -mn
#			   --propagation private` (guard: T_IN_NETNS=1), then
#			   bring lo up.  Must be called before anything else.
# t_hosts "IP NAME..."...  Bind-mount a private /etc/hosts holding localhost
#			   plus the given lines (netns only), e.g.
#			   t_hosts "127.0.0.1 smtp.test smtp.163.com".
# t_resolv NAMESERVER	   Bind-mount a private /etc/resolv.conf naming only
#			   NAMESERVER (netns only; default 127.0.0.1).
# t_tmpdir		   Create $T_TMP (mode 0755 so Postfix's unprivileged
#			   processes can traverse it) once; removed on exit
#			   unless T_KEEP=1.  Call it directly, not in $(...).
# t_cleanup_add CMD	   Register a shell command run on EXIT, in reverse
#			   order of registration (last added runs first).
# t_spawn NAME LOG CMD...  Start CMD in the background (own process group),
#			   output to LOG; its pid is in T_PID_<NAME>; on exit it
#			   gets SIGTERM, and SIGKILL after 5 s; it also gets
#			   SIGTERM if the test's shell is killed outright.
# t_watch_pid PID	   SIGTERM PID should the test's shell die without
#			   running its cleanups (SIGKILL by the harness).
# t_stop NAME		   Stop a t_spawn'ed process now (TERM, bounded wait,
#			   KILL).  Returns the process's exit status.
# t_pid_gone PID	   Succeed if PID has exited (zombies count as gone:
#			   daemons are reaped by PID 1, which may be slow).
# t_wait_port HOST PORT SECONDS	   Poll until a TCP connect succeeds.
# t_wait_file FILE SECONDS	   Poll until FILE exists and is non-empty.
# t_wait_for 'COND' SECONDS	   Poll until the shell condition is true.
#	All three return 1 on timeout (callers add `|| t_fail ...`).
# t_fail MSG		   Print "FAIL: MSG" to stderr and exit 1.
# t_ok MSG		   Print "ok N - MSG".
# t_assert_eq EXPECTED ACTUAL [WHAT]
# t_assert_grep PATTERN FILE [WHAT]     (grep -E; shows FILE's tail on failure)
# t_assert_no_grep PATTERN FILE [WHAT]
# t_need CMD...		   Fail naming each missing command (and its package).
# t_need_python_module M... Fail unless /usr/bin/python3 imports each.
# t_port_free PORT	   Succeed if nothing listens on 127.0.0.1:PORT.
# t_note MSG		   Print "# MSG" (a comment line in the output).
# t_fail inside $(...) only ends that subshell: assert in the main shell.
# Never call a bare `wait`: it would wait for every t_spawn'ed daemon and
# watchdog; wait for the pids you started (`cmd & p=$!; wait $p`).
#
# Companions (source after this file; each documents itself at its top):
#   pki.sh		test CA, server/wrong-name/untrusted/expired certs
#   postfix.sh		throwaway real Postfix instances (pf_*)
#   smarthost.sh	tests/peers/smarthost.py, the provider-like peer (sh_*)
#   sasl-smarthost.sh	a real Postfix + Cyrus SASL as the provider (sasl_*)

: "${SMARTHOST_TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${B:=$SMARTHOST_TOP/build}"
export SMARTHOST_TOP B
T_LIB=$SMARTHOST_TOP/tests/lib
T_NCHECK=0
T_CLEANUPS=()

t_fail() {
	echo "FAIL: $*" >&2
	exit 1
}

t_ok() {
	T_NCHECK=$((T_NCHECK + 1))
	echo "ok $T_NCHECK - $*"
}

t_note() {
	echo "# $*"
}

# --- cleanup stack ---------------------------------------------------------

t_cleanup_add() {
	T_CLEANUPS+=("$1")
}

t__run_cleanups() {
	local rc=$? i
	trap - EXIT INT TERM HUP
	set +e
	for ((i = ${#T_CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${T_CLEANUPS[i]}" </dev/null
	done
	T_CLEANUPS=()
	exit $rc
}
trap t__run_cleanups EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- namespaces --------------------------------------------------------------

t_enter_netns() {
	if [ "${T_IN_NETNS:-}" != 1 ]; then
		command -v unshare >/dev/null ||
		    t_fail "unshare not found (package util-linux)"
		[ "$(id -u)" = 0 ] || t_fail "network namespaces need root"
		export T_IN_NETNS=1
		trap - EXIT
		exec unshare -mn --propagation private -- "$BASH" "$0" "$@"
	fi
	ip link set lo up || t_fail "cannot bring lo up in the namespace"
}

t__need_netns() {
	[ "${T_IN_NETNS:-}" = 1 ] ||
	    t_fail "$1 needs t_enter_netns first (would touch the host's $2)"
}

t_hosts() {
	t__need_netns t_hosts /etc/hosts
	t_tmpdir
	local f=$T_TMP/.hosts
	printf '127.0.0.1 localhost\n::1 localhost\n' >"$f"
	printf '%s\n' "$@" >>"$f"
	chmod 644 "$f"
	mount --bind "$f" /etc/hosts || t_fail "cannot bind-mount /etc/hosts"
}

t_resolv() {
	t__need_netns t_resolv /etc/resolv.conf
	t_tmpdir
	local f=$T_TMP/.resolv.conf
	printf 'nameserver %s\noptions timeout:1 attempts:1\n' \
	    "${1:-127.0.0.1}" >"$f"
	chmod 644 "$f"
	mount --bind "$f" /etc/resolv.conf ||
	    t_fail "cannot bind-mount /etc/resolv.conf"
}

# --- temp dir ----------------------------------------------------------------

t_tmpdir() {
	[ -n "${T_TMP:-}" ] && [ -d "$T_TMP" ] && return 0
	T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/smarthost-test.XXXXXX") ||
	    t_fail "mktemp failed"
	chmod 755 "$T_TMP"
	export T_TMP
	if [ "${T_KEEP:-0}" = 1 ]; then
		t_cleanup_add "echo \"# kept $T_TMP\" >&2"
	else
		t_cleanup_add "rm -rf '$T_TMP'"
	fi
}

# --- background processes ----------------------------------------------------

# Daemons get SIGTERM when the test's shell dies, even by SIGKILL (the
# harness's timeout): setpriv --pdeathsig.
T_PDEATH=()
setpriv --help 2>/dev/null | grep -q -- --pdeathsig &&
    T_PDEATH=(setpriv --pdeathsig TERM --)

t_spawn() {
	local name=$1 log=$2 pid
	shift 2
	setsid "${T_PDEATH[@]}" "$@" >"$log" 2>&1 </dev/null &
	pid=$!
	printf -v "T_PID_$name" %s "$pid"
	t_cleanup_add "t__kill $pid"
}

# TERM the process group, wait up to 5 s, then KILL it.  Returns the exit
# status when the process was our child, else 0.
t__kill() {
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return; }
	kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 200; i++)); do
		t_pid_gone "$pid" && break
		sleep 0.025
	done
	if ! t_pid_gone "$pid"; then
		echo "# pid $pid ignored SIGTERM for 5 s: SIGKILL" >&2
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
}

# t_pid_gone PID: the process has exited.  A zombie counts as gone: a
# daemon that double-forked is reaped by PID 1, which may take its time.
t_pid_gone() {
	local st
	kill -0 "$1" 2>/dev/null || return 0
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	st=${st##*) }		# the state follows "(comm) "
	case ${st:0:1} in Z|X|"") return 0 ;; esac
	return 1
}

# t_watch_pid PID: SIGTERM PID (a daemon that is not our child, such as
# Postfix's master) if the test's shell dies without running its cleanups.
t_watch_pid() {
	local pid=$1
	setsid "${T_PDEATH[@]}" bash -c \
	    "trap 'kill -TERM $pid 2>/dev/null; exit 0' TERM; while kill -0 $pid 2>/dev/null; do sleep 1; done" \
	    >/dev/null 2>&1 </dev/null &
	t_cleanup_add "kill $! 2>/dev/null"
}

t_stop() {
	local v="T_PID_$1"
	[ -n "${!v:-}" ] || t_fail "t_stop: no process named $1"
	t__kill "${!v}"
}

# --- bounded waits -----------------------------------------------------------

t__now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}

t_wait_for() {
	local cond=$1 secs=${2:?t_wait_for COND SECONDS} end ms
	ms=$(awk -v s="$secs" 'BEGIN { printf "%d", s * 1000 }')
	end=$(($(t__now_ms) + ms))
	while :; do
		eval "$cond" && return 0
		[ "$(t__now_ms)" -ge "$end" ] && return 1
		sleep 0.05
	done
}

t__port_open() {
	(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

t_wait_port() {
	t_wait_for "t__port_open '$1' '$2'" "${3:?t_wait_port HOST PORT SECONDS}"
}

t_wait_file() {
	t_wait_for "[ -s '$1' ]" "${2:?t_wait_file FILE SECONDS}"
}

t_port_free() {
	! t__port_open 127.0.0.1 "$1"
}

# --- assertions --------------------------------------------------------------

t_assert_eq() {
	[ "$1" = "$2" ] ||
	    t_fail "${3:-value}: expected '$1', got '$2'"
}

t__show() {
	echo "--- last lines of $1:" >&2
	tail -n 20 "$1" >&2 2>/dev/null || echo "(unreadable)" >&2
	echo "---" >&2
}

t_assert_grep() {
	[ -e "$2" ] || t_fail "${3:-$2}: file $2 does not exist"
	grep -Eq -- "$1" "$2" && return 0
	t__show "$2"
	t_fail "${3:-$2}: no line matches /$1/"
}

t_assert_no_grep() {
	[ -e "$2" ] || t_fail "${3:-$2}: file $2 does not exist"
	grep -Eq -- "$1" "$2" || return 0
	grep -En -- "$1" "$2" | head -n 5 >&2
	t_fail "${3:-$2}: unexpected line matching /$1/"
}

# --- dependencies ------------------------------------------------------------

t__pkg_of() {
	case $1 in
	swaks) echo swaks ;;
	postfix|postconf|postqueue|postsuper|smtp-sink|smtp-source) echo postfix ;;
	saslpasswd2|sasldblistusers2) echo sasl2-bin ;;
	miltertest) echo miltertest ;;
	openssl) echo openssl ;;
	unshare|setsid|mount|setpriv|nsenter|prlimit) echo util-linux ;;
	ip) echo iproute2 ;;
	dnsmasq) echo dnsmasq-base ;;
	python3|/usr/bin/python3) echo python3-aiosmtpd ;;
	systemd-analyze|systemd-sysusers|systemd-tmpfiles) echo systemd ;;
	curl) echo curl ;;
	m4) echo m4 ;;
	cc|make) echo build-essential ;;
	pkg-config) echo pkg-config ;;
	base64) echo coreutils ;;
	opendkim-genkey) echo opendkim-tools ;;
	mandoc) echo mandoc ;;
	*) echo "?" ;;
	esac
}

t_need() {
	local c missing=
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
		    missing="$missing $c (package $(t__pkg_of "$c"))"
	done
	[ -z "$missing" ] ||
	    t_fail "missing command(s):$missing; run contrib/install-deps"
}

# t_need_python_module MOD...: fail unless /usr/bin/python3 imports each.
t_need_python_module() {
	local m
	for m in "$@"; do
		/usr/bin/python3 -c "import $m" 2>/dev/null ||
		    t_fail "/usr/bin/python3 cannot import $m (Debian package python3-$m)"
	done
}
