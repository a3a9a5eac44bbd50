#!/usr/bin/env bash
# Through a real Postfix and the relay, the TLS failures that must never
# become a downgrade: a certificate for the wrong name, a certificate from
# an untrusted CA, and a server that does not offer STARTTLS.  Each time:
# no AUTH reaches the smarthost, nothing is delivered, the mail stays
# deferred in Postfix's queue with a 4.7.x reply naming the reason.
. "$SMARTHOST_TOP/tests/relay/e2e-lib.sh"
t_enter_netns "$@"
e2e_init

e2e_users 'a1@test.example code-t1' 'a2@test.example code-t2' \
    'a3@test.example code-t3'
e2e_peer wrong 4661 implicit --cert "$D/pki/wrong.crt" --key "$D/pki/wrong.key"
e2e_peer untrusted 4662 implicit --cert "$D/pki/untrusted.crt" \
    --key "$D/pki/untrusted.key"
e2e_peer plain 5881 none
e2e_relay_conf "$(e2e_account acc1 4661 implicit a1@test.example
    e2e_account acc2 4662 implicit a2@test.example
    e2e_account acc3 5881 starttls a3@test.example)" \
"a1@test.example acc1
a2@test.example acc2
a3@test.example acc3" \
    'acc1 code-t1' 'acc2 code-t2' 'acc3 code-t3'
e2e_relay_start
e2e_postfix

e2e_send n1 a1@test.example r1@dest.test
e2e_send n2 a2@test.example r2@dest.test
e2e_send n3 a3@test.example r3@dest.test
for r in r1 r2 r3; do
	pf_wait_log "$D/pf" "to=<$r@dest\\.test>.*status=deferred" 15 ||
	    { tail "$D/relay.log"; t_fail "$r not deferred"; }
done
t_assert_grep 'to=<r1@dest\.test>.*status=deferred .*said: 4[0-9][0-9] 4\.7\.[0-9] .*(hostname|name) ' "$D/pf/maillog" "wrong name"
t_assert_grep 'to=<r2@dest\.test>.*status=deferred .*said: 4[0-9][0-9] 4\.7\.[0-9] .*certificate verify failed' "$D/pf/maillog" "untrusted CA"
t_assert_grep 'to=<r3@dest\.test>.*status=deferred .*said: 4[0-9][0-9] 4\.7\.[0-9] .*STARTTLS' "$D/pf/maillog" "no STARTTLS"
for p in wrong untrusted plain; do
	t_assert_no_grep '"event": "(auth|mail)"' "$D/events-$p" "AUTH or MAIL at $p"
	t_assert_eq 0 "$(ls "$D"/mail-$p.*/ | wc -l)" "messages stored at $p"
done
t_assert_no_grep 'status=(sent|bounced)' "$D/pf/maillog"
t_assert_eq 3 "$(pf_queue_count "$D/pf")" "messages queued"
t_ok "wrong name, untrusted CA, no STARTTLS: no AUTH, nothing sent, all three deferred 4.7.x"
sed -n 's/.*status=deferred (host [^)]* said: \(.*\) (in reply.*/# \1/p' "$D/pf/maillog" | sort -u

e2e_assert_no_secrets
t_ok "no log, event file or transcript holds an authorization code"
