#!/usr/bin/env bash
# Durable daily counters (the journal in state-dir), against a running
# relay and a provider-like smarthost (SMTP to the relay directly, several
# clients at once):
#  - N messages, the relay killed with SIGKILL right after the last 250
#    (and a torn record after them, as if it had died writing one more),
#    restarted: smarthostctl status counts exactly N messages and their
#    recipients, and the torn record is logged and ignored;
#  - an account with a daily limit of L, the relay killed with SIGKILL
#    midway while clients are still sending, restarted, clients send until
#    refused: the provider never got more than L messages of the account;
#  - state-dir on a small tmpfs (this test's mount namespace) that is full:
#    the message whose count cannot be written is still answered 250, the
#    relay logs the failure, defers the next message of the account with a
#    daily limit (451 4.7.1) while the one without a limit still flows;
#    once there is space again the account is accepted again, and after
#    another SIGKILL no count is lost.
. "$SMARTHOST_TOP/tests/relay/e2e-lib.sh"
t_enter_netns "$@"
e2e_init
ctl=$B/smarthostctl
[ -x "$ctl" ] || t_fail "$ctl not built"
t_need dd mount umount

N=24		# messages of the crash run
L=10		# daily limit of acc2
e2e_users 'a1@test.example code-c1' 'a2@test.example code-c2' \
    'a3@test.example code-c3'
e2e_peer p1 4661 implicit --sender-rule 163
e2e_relay_conf "$(e2e_account acc1 4661 implicit a1@test.example
    e2e_account acc2 4661 implicit a2@test.example "daily-messages = $L"
    e2e_account acc3 4661 implicit a3@test.example)" "a1@test.example acc1
a2@test.example acc2
a3@test.example acc3" 'acc1 code-c1' 'acc2 code-c2' 'acc3 code-c3'

# send.py FROM COUNT CLIENTS TAG [KILL_AFTER PID]: COUNT messages over
# CLIENTS connections at once (0: each client sends until refused); with
# KILL_AFTER, SIGKILL PID as soon as that many got their 250.  Prints
# "sent=S refused=R" and the first refusal.
cat >"$D/send.py" <<'EOF'
import os, signal, smtplib, sys, threading
frm, count, clients, tag = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
kill_after = int(sys.argv[5]) if len(sys.argv) > 5 else 0
pid = int(sys.argv[6]) if len(sys.argv) > 6 else 0
lock = threading.Lock()
st = {"sent": 0, "refused": 0, "next": 0, "why": ""}
def take():
    with lock:
        if count and st["next"] >= count:
            return None
        st["next"] += 1
        return st["next"]
def client():
    try:
        s = smtplib.SMTP("127.0.0.1", 10025, timeout=20)
        s.ehlo("client.test")
    except (OSError, smtplib.SMTPException):
        return
    for _ in range(200):	# bounded
        i = take()
        if i is None:
            break
        msg = "Subject: %s %d\r\nX-Test-Id: %s\r\n\r\nbody\r\n" % (tag, i, tag)
        try:
            s.sendmail(frm, ["r%d@dest.test" % i, "s%d@dest.test" % i], msg)
        except smtplib.SMTPException as e:
            with lock:
                st["refused"] += 1
                st["why"] = st["why"] or str(e)
            if count == 0:
                break
            continue
        except OSError:
            break
        with lock:
            st["sent"] += 1
            if kill_after and st["sent"] == kill_after:
                os.kill(pid, signal.SIGKILL)
    try:
        s.quit()
    except (OSError, smtplib.SMTPException):
        pass
ts = [threading.Thread(target=client) for _ in range(clients)]
for t in ts:
    t.start()
for t in ts:
    t.join(120)
print("sent=%d refused=%d" % (st["sent"], st["refused"]))
print("why=%s" % st["why"])
EOF
send() {	# OUT FROM COUNT CLIENTS TAG [KILL_AFTER]
	local out=$1
	shift
	/usr/bin/python3 "$D/send.py" "$@" ${5:+"$T_PID_relay"} >"$D/$out" 2>&1 ||
	    { cat "$D/$out" >&2; t_fail "send.py $*"; }
}
sent() { sed -n 's/^sent=\([0-9]*\) .*/\1/p' "$D/$1"; }
# status ACCOUNT FIELD: today's messages or recipients of ACCOUNT
status() {
	"$ctl" -c "$D/smarthost.conf" status --json >"$D/st.json" ||
	    t_fail "smarthostctl status: exit $?"
	/usr/bin/python3 -c 'import json, sys
a = {x["name"]: x for x in json.load(open(sys.argv[1]))["accounts"]}
print(a[sys.argv[2]][sys.argv[3]])' "$D/st.json" "$1" "$2"
}
reap() {	# the relay got SIGKILL: reap it
	t_wait_for "t_pid_gone $T_PID_relay" 5 || t_fail "relay not killed"
	wait "$T_PID_relay" 2>/dev/null
	t_assert_no_grep 'stopping' "$D/relay.log" "relay stopped cleanly (not killed)"
	cp "$D/relay.log" "$D/relay-killed-$1.log"
}
killed() {	# the relay got SIGKILL: reap it, start it again
	[ -n "${2:-}" ] || reap "$1"
	e2e_relay_start
	t_wait_for "grep -q 'listening on' '$D/relay.log'" 10 ||
	    { cat "$D/relay.log" >&2; t_fail "relay did not start"; }
}

# 1. N messages, SIGKILL right after the last 250
e2e_relay_start
send crash a1@test.example "$N" 4 crash "$N"
t_assert_eq "$N" "$(sent crash)" "messages answered 250 before the kill"
reap 1
# and as if it had died in the middle of writing one more record
printf '0badc0de 999 %s 1 1 acc' "$(date +%Y%m%d)" >>"$D/state/relay-limits.journal"
killed 1 reaped
t_assert_grep "limits: $D/state/relay-limits\.journal:[0-9]+: torn \(incomplete\) last record ignored" \
    "$D/relay.log" "torn record logged"
t_assert_eq "$N" "$(e2e_count p1 crash)" "messages at the provider"
t_assert_eq "$N" "$(status acc1 messages)" "acc1 messages counted after SIGKILL and restart"
t_assert_eq "$((2 * N))" "$(status acc1 recipients)" "acc1 recipients counted after SIGKILL and restart"
t_assert_eq "600 $(id -un)" "$(stat -c '%a %U' "$D/state/relay-limits.journal")" "journal mode and owner"
t_ok "$N messages, SIGKILL right after the last 250, a torn record: status counts exactly $N messages, $((2 * N)) recipients"

# 2. daily limit L, SIGKILL midway while 3 clients send
send limit1 a2@test.example 0 3 limit $((L / 2))
killed 2
send limit2 a2@test.example 0 3 limit
delivered=$(e2e_count p1 limit)
t_note "acc2: $(sent limit1) + $(sent limit2) answered 250, $delivered at the provider, status $(status acc2 messages)"
[ "$delivered" -le "$L" ] ||
    t_fail "acc2 went past its daily limit: $delivered messages at the provider, limit $L"
[ "$delivered" -ge $((L - 3)) ] ||
    t_fail "acc2: only $delivered of $L messages delivered"
t_assert_eq "$L" "$(status acc2 messages)" "acc2 messages counted"
t_assert_grep "^why=.*451.*daily limit of $L messages for account acc2 reached" "$D/limit2" "the refusal"
t_ok "daily limit $L, SIGKILL midway: $delivered messages reached the provider (never more than $L), then 451 4.7.1"

# 3. state-dir on a small tmpfs that fills up
t_stop relay
mount -t tmpfs -o size=256k,mode=0750 tmpfs "$D/state" ||
    t_fail "cannot mount a tmpfs over $D/state"
t_cleanup_add "umount '$D/state' 2>/dev/null"
e2e_relay_start
# the limits are opened before the relay logs "listening on"
t_wait_for "grep -q 'listening on' '$D/relay.log'" 10 ||
    { cat "$D/relay.log" >&2; t_fail "relay did not start"; }
[ -e "$D/state/relay-limits.journal" ] ||
    { cat "$D/relay.log" >&2; ls -la "$D/state" >&2; t_fail "no journal"; }
dd if=/dev/zero of="$D/state/fill" bs=4k >"$D/dd.out" 2>&1
t_assert_grep 'No space left on device' "$D/dd.out" "tmpfs filled"
send full1 a2@test.example 1 1 full
t_assert_eq 1 "$(sent full1)" "acc2's message while the count cannot be written: 250"
t_wait_for "grep -q 'relay-limits.journal: No space left on device: daily counts are kept in memory only' '$D/relay.log'" 5 ||
    { cat "$D/relay.log" >&2; t_fail "journal failure not logged"; }
send full2 a2@test.example 1 1 full
t_assert_eq 0 "$(sent full2)" "acc2's next message deferred"
t_assert_grep "^why=.*451.*daily counters cannot be recorded \\($D/state/relay-limits.journal: No space left on device\\): mail of account acc2 is deferred until they can, so that its daily limit of $L messages is not overshot" \
    "$D/full2" "the deferral"
send full3 a3@test.example 1 1 full
t_assert_eq 1 "$(sent full3)" "acc3 (no daily limit) still relays"
t_ok "state disk full: the message in hand keeps its 250, the failure is logged, acc2 (limit $L) gets 451 4.7.1, acc3 (no limit) flows"

rm -f "$D/state/fill"
t_wait_for "grep -q 'relay-limits.journal works again' '$D/relay.log'" 10 ||
    { tail "$D/relay.log" >&2; t_fail "journal did not recover"; }
send full4 a2@test.example 1 1 full 1
t_assert_eq 1 "$(sent full4)" "acc2 accepted again once there is space"
killed 3
t_assert_eq 2 "$(status acc2 messages)" "acc2 messages after space came back and SIGKILL"
t_assert_eq 1 "$(status acc3 messages)" "acc3 messages after space came back and SIGKILL"
t_ok "space again: acc2 accepted, and after SIGKILL no count is lost (the one counted while the disk was full included)"

t_stop relay
t_assert_no_grep 'AddressSanitizer|LeakSanitizer|runtime error' "$D/relay.log" "sanitizer reports"
e2e_assert_no_secrets
