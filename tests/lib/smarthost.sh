# smarthost.sh — start and inspect tests/peers/smarthost.py (the provider-
# like loopback smarthost) from bash tests.  Source common.sh first.
#
#	pki_make "$T_TMP/pki"
#	sh_users "$T_TMP/users" "alice@163.com code-163" "bob@qq.com code-qq"
#	sh_start p163 "$T_TMP/p163" 4650 --tls implicit \
#	    --cert "$T_TMP/pki/server.crt" --key "$T_TMP/pki/server.key" \
#	    --users "$T_TMP/users" --sender-rule 163
#	... run the relay against 127.0.0.1:4650 ...
#	sh_wait_msgs "$T_TMP/p163" 1 10 || t_fail "nothing arrived"
#	t_assert_eq 1 "$(sh_count "$T_TMP/p163" event=auth ok=true)"
#	sh_msg_field "$T_TMP/p163" 1 mail_from	# -> alice@163.com
#
# sh_users FILE "login password"...	write a users file (mode 600).
# sh_start NAME DIR PORT ARGS...	start smarthost.py on 127.0.0.1:PORT
#	with --events DIR/events.jsonl --maildir DIR/maildir plus ARGS; its
#	stdout/stderr go to DIR/log; pid in T_PID_<NAME>; stopped on exit.
#	Waits (15 s) for READY, fails the test with the log otherwise.
# sh_spawn NAME DIR PORT ARGS... / sh_wait_ready DIR
#	the two halves of sh_start: spawn several peers first, then wait for
#	each (Python takes about a second to start).
# sh_events DIR			path of the events file.
# sh_count DIR KEY=VALUE...	number of events matching every KEY=VALUE
#	(VALUE compared with the JSON value: strings as is, true/false/null,
#	numbers as written), e.g. sh_count D event=tls resumed=true
# sh_wait_count DIR N SECONDS KEY=VALUE...	poll until sh_count >= N.
# sh_msgs DIR			number of stored messages.
# sh_wait_msgs DIR N SECONDS	poll until at least N messages are stored.
# sh_msg_field DIR N FIELD	field of the N-th message's envelope JSON
#	(mail_from, login, tls, size, rcpt_tos (space separated), session).
# sh_msg_eml DIR N		path of the N-th message's raw .eml file.
#
# A plain SMTP sink (no TLS, no AUTH; for milter tests behind Postfix) is
# smarthost.py itself: sh_start sink DIR PORT --tls none --no-auth-required

SH_PY=$SMARTHOST_TOP/tests/peers/smarthost.py

sh_users() {
	local f=${1:?sh_users FILE LINE...}
	shift
	(umask 077; printf '%s\n' "$@" >"$f")
}

sh_spawn() {
	local name=${1:?sh_spawn NAME DIR PORT ARGS...} d=${2:?} port=${3:?}
	shift 3
	t_need_python_module aiosmtpd
	mkdir -p "$d/maildir"
	rm -f "$d/ready"
	t_spawn "$name" "$d/log" /usr/bin/python3 "$SH_PY" \
	    --listen "127.0.0.1:$port" --events "$d/events.jsonl" \
	    --maildir "$d/maildir" --ready-file "$d/ready" "$@"
	echo "$name" >"$d/name"
}

sh_wait_ready() {
	local d=${1:?sh_wait_ready DIR} name v
	name=$(cat "$d/name")
	v="T_PID_$name"
	t_wait_for "[ -s '$d/ready' ] || ! kill -0 ${!v} 2>/dev/null" 15
	[ -s "$d/ready" ] ||
	    { cat "$d/log" >&2; t_fail "smarthost $name did not start"; }
}

sh_start() {
	sh_spawn "$@"
	sh_wait_ready "$2"
}

sh_events() {
	echo "$1/events.jsonl"
}

sh_count() {
	local d=${1:?sh_count DIR KEY=VALUE...}
	shift
	[ -f "$d/events.jsonl" ] || { echo 0; return; }
	/usr/bin/python3 - "$d/events.jsonl" "$@" <<'EOF'
import json, sys
conds = [a.split("=", 1) for a in sys.argv[2:]]
def show(v):
    return v if isinstance(v, str) else json.dumps(v)
n = 0
for line in open(sys.argv[1]):
    ev = json.loads(line)
    if all(k in ev and show(ev[k]) == v for k, v in conds):
        n += 1
print(n)
EOF
}

sh_wait_count() {
	local d=$1 n=$2 s=$3 q
	shift 3
	q=$(printf "'%s' " "$@")
	t_wait_for "[ \"\$(sh_count '$d' $q)\" -ge $n ]" "$s"
}

sh_msgs() {
	local f n=0
	for f in "$1"/maildir/msg-*.json; do
		[ -e "$f" ] && n=$((n + 1))
	done
	echo $n
}

sh_wait_msgs() {
	t_wait_for "[ \"\$(sh_msgs '$1')\" -ge $2 ]" "${3:?sh_wait_msgs DIR N SECONDS}"
}

sh_msg_field() {
	local f
	f=$(printf '%s/maildir/msg-%06d.json' "$1" "$2")
	/usr/bin/python3 - "$f" "$3" <<'EOF'
import json, sys
v = json.load(open(sys.argv[1]))[sys.argv[2]]
print(" ".join(v) if isinstance(v, list) else
      v if isinstance(v, str) else json.dumps(v))
EOF
}

sh_msg_eml() {
	printf '%s/maildir/msg-%06d.eml\n' "$1" "$2"
}
