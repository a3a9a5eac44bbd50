#!/usr/bin/env bash
# Crashes and failures never deliver twice.  sendmail stand-ins (scripts in
# front of the test Postfix's sendmail) let the run be killed with SIGKILL
# at chosen points:
#  - after sendmail took the message, before the run recorded it: the rerun
#    finds the row "claimed", does not hand it again, marks it: Alice has
#    it exactly once;
#  - while a run hangs, a second run refuses to start (the lock);
#  - after the claim, before sendmail had it: the rerun does not hand it
#    (documented: "maybe delivered" is never repeated) and marks it;
#  - sendmail exits 75: the run exits 75, the row says failed, nothing is
#    marked, and the next run delivers it;
#  - the sent log refuses the claim: nothing handed over, exit 74.
. "$SMARTHOST_TOP/tests/return/lib.sh"
t_enter_netns "$@"
rt_setup

stub() {		# NAME BODY: a sendmail stand-in script
	printf '#!/bin/sh\necho $$ >%s/%s.pid\n%s\n' "$T_TMP" "$1" "$2" \
	    >"$T_TMP/$1"
	chmod 755 "$T_TMP/$1"
}
# run smarthost-return with stub NAME in the background; kill it -9 once
# the stub wrote its mark file
run_killed() {		# NAME MARKFILE
	"$B/smarthost-return" -c "$T_TMP/smarthost.conf" -s "$T_TMP/$1" \
	    >"$T_TMP/$1.log" 2>&1 &
	local pid=$!
	t_cleanup_add "kill -9 $pid 2>/dev/null"
	t_wait_file "$T_TMP/$2" 20 || { kill -9 $pid; t_fail "$1 never ran"; }
	if [ -n "${RT_ALSO:-}" ]; then eval "$RT_ALSO"; fi
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	kill -9 "$(cat "$T_TMP/$1.pid")" 2>/dev/null
}

# 1. killed after sendmail took it
rt_seed "k1@office.lan" alice@office.lan
rt_save < <(rt_dsn "Undelivered Mail Returned to Sender (k1)" "k1@office.lan")
rt_uid u1 "(k1)"
stub after "$RT_SENDMAIL \"\$@\" || exit \$?
echo x >$T_TMP/handed
exec sleep 60"
RT_ALSO='rt_run; echo $RT_RC >"$T_TMP/second.rc"' run_killed after handed
t_assert_eq claimed "$(rt_state "$u1")" "state after the kill"
t_assert_eq "" "$(rt_flags "$u1")" "flags after the kill"
t_assert_eq 1 "$(rt_alice_count)" "messages at Alice after the kill"
t_assert_eq 75 "$(cat "$T_TMP/second.rc")" "a concurrent run's exit status"
t_assert_grep 'another smarthost-return is running' "$T_TMP/run.log" \
    "the concurrent run's message"
t_ok "a second run does not start while one is running"
rt_run || { cat "$T_TMP/run.log"; t_fail "the rerun failed"; }
t_assert_eq 1 "$(rt_alice_count)" "messages at Alice after the rerun"
t_assert_grep "uid=$u1 .*state=claimed result=not-handed-again" \
    "$T_TMP/run.log" "the rerun's warning"
[[ $(rt_flags "$u1") == *'$SmarthostReturned'* ]] || t_fail "not flagged"
t_assert_eq marked "$(rt_state "$u1")" "state after the rerun"
rt_run || t_fail "a third run failed"
t_assert_eq 1 "$(rt_alice_count)" "messages at Alice after a third run"
t_ok "killed after sendmail took it: the rerun marks it and delivers nothing twice"

# 2. killed after the claim, before sendmail had the message
rt_seed "k2@office.lan" alice@office.lan
rt_save < <(rt_dsn "Undelivered Mail Returned to Sender (k2)" "k2@office.lan")
rt_uid u2 "(k2)"
stub before "echo x >$T_TMP/started
exec sleep 60"
run_killed before started
t_assert_eq claimed "$(rt_state "$u2")" "state after the kill"
rt_run || { cat "$T_TMP/run.log"; t_fail "the rerun failed"; }
t_assert_grep "uid=$u2 .*state=claimed result=not-handed-again" \
    "$T_TMP/run.log" "the rerun's warning"
t_assert_eq 1 "$(rt_alice_count)" "messages at Alice"
t_assert_eq marked "$(rt_state "$u2")" "state after the rerun"
t_ok "killed after the claim: not handed again, marked, with a warning"

# 3. sendmail refuses: retried next run
rt_seed "k3@office.lan" alice@office.lan
rt_save < <(rt_dsn "Undelivered Mail Returned to Sender (k3)" "k3@office.lan")
rt_uid u3 "(k3)"
stub refuse "cat >/dev/null; exit 75"
RT_SENDMAIL_SAVED=$RT_SENDMAIL RT_SENDMAIL=$T_TMP/refuse
rt_run
t_assert_eq 75 "$RT_RC" "exit status when sendmail fails"
RT_SENDMAIL=$RT_SENDMAIL_SAVED
t_assert_grep "uid=$u3 .*result=failed" "$T_TMP/run.log" "the failure"
t_assert_eq failed "$(rt_state "$u3")" "state after the failure"
t_assert_eq "" "$(rt_flags "$u3")" "flags after the failure"
rt_run || { cat "$T_TMP/run.log"; t_fail "the retry failed"; }
t_assert_eq 2 "$(rt_alice_count)" "messages at Alice after the retry"
t_assert_eq 1 "$(rt_alice_grep '\(k3\)')" "k3 at Alice"
t_assert_eq marked "$(rt_state "$u3")" "state after the retry"
t_ok "a sendmail failure is retried by the next run"

# 4. the sent log refuses the claim: nothing is handed over or marked, the
# run stops with 74, and once the log takes writes again it is delivered
rt_seed "k4@office.lan" alice@office.lan
rt_save < <(rt_dsn "Undelivered Mail Returned to Sender (k4)" "k4@office.lan")
rt_uid u4 "(k4)"
sqlite3 "$T_TMP/state/sent.db" "CREATE TRIGGER no_claims BEFORE INSERT ON
    returned BEGIN SELECT RAISE(ABORT, 'no claims today'); END;" ||
    t_fail "cannot add the trigger"
rt_run
t_assert_eq 74 "$RT_RC" "exit status when the claim cannot be written"
t_assert_grep "uid=$u4 state=claimed sentlog=.*no claims today" \
    "$T_TMP/run.log" "the sent log's error"
t_assert_eq 2 "$(rt_alice_count)" "messages at Alice (k4 not handed over)"
t_assert_eq "" "$(rt_flags "$u4")" "flags of k4"
sqlite3 "$T_TMP/state/sent.db" "DROP TRIGGER no_claims;"
rt_run || { cat "$T_TMP/run.log"; t_fail "the run after the fix failed"; }
t_assert_eq 3 "$(rt_alice_count)" "messages at Alice after the fix"
t_assert_eq marked "$(rt_state "$u4")" "state of k4"
t_ok "a claim the sent log refuses stops the run before sendmail (74)"
