#!/usr/bin/env bash
# The most faithful provider on one machine: a second, real Postfix as the
# smarthost, with Cyrus SASL (sasldb), a 465-like implicit TLS listener and
# a 587-like STARTTLS listener, AUTH only over TLS, and
# reject_sender_login_mismatch acting like 163's sender rule.  Through the
# office Postfix and the relay:
#  - each sender leaves over its account (implicit TLS and STARTTLS) and the
#    smarthost logs the right sasl_username;
#  - a sender the map sends through another's account without "rewrite" is
#    refused by the smarthost; its words reach Postfix's bounce prefixed by
#    the host;
#  - a wrong code is deferred, never bounced.
. "$SMARTHOST_TOP/tests/relay/e2e-lib.sh"
t_enter_netns "$@"
e2e_init
t_need saslpasswd2

# --- the smarthost: Postfix + Cyrus SASL --------------------------------
S=$D/sh
pf_create "$S" 2526 || t_fail "pf_create smarthost"
mkdir -p "$S/etc/sasl"
cat >"$S/etc/sasl/smtpd.conf" <<EOC
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $S/sasldb2
EOC
echo 'sasl-code-a1' | saslpasswd2 -p -c -f "$S/sasldb2" -u test.example a1 ||
    t_fail "saslpasswd2 a1"
echo 'sasl-code-a2' | saslpasswd2 -p -c -f "$S/sasldb2" -u test.example a2 ||
    t_fail "saslpasswd2 a2"
chown root:postfix "$S/sasldb2" && chmod 640 "$S/sasldb2"
pf_conf "$S" "myhostname = smtp.test" "mynetworks =" \
    "smtpd_relay_restrictions = permit_sasl_authenticated, reject" \
    "smtpd_sender_login_maps = inline:{a1@test.example=a1@test.example, a2@test.example=a2@test.example, other@test.example=nobody}" \
    "smtpd_sender_restrictions = reject_sender_login_mismatch" \
    "smtpd_sasl_auth_enable = yes" "smtpd_sasl_path = smtpd" \
    "smtpd_tls_auth_only = yes" \
    "smtpd_tls_cert_file = $D/pki/server-chain.crt" \
    "smtpd_tls_key_file = $D/pki/server.key" \
    "default_transport = discard" "relay_transport = discard"
pf_master "$S" \
    "127.0.0.1:4655/inet=127.0.0.1:4655 inet n - n - - smtpd -o smtpd_tls_wrappermode=yes -o smtpd_tls_security_level=encrypt" \
    "127.0.0.1:5875/inet=127.0.0.1:5875 inet n - n - - smtpd -o smtpd_tls_security_level=encrypt"
pf_start "$S"
t_wait_port 127.0.0.1 4655 10 || t_fail "smarthost :4655 not listening"
t_wait_port 127.0.0.1 5875 10 || t_fail "smarthost :5875 not listening"

# --- relay and office Postfix -----------------------------------------------
e2e_relay_conf "$(e2e_account acc1 4655 implicit a1@test.example
    e2e_account acc2 5875 starttls a2@test.example
    e2e_account acc3 4655 implicit a3@test.example)" \
"a1@test.example acc1
a2@test.example acc2
other@test.example acc1
a3@test.example acc3" \
    'acc1 sasl-code-a1' 'acc2 sasl-code-a2' 'acc3 wrong-sasl-code-a3'
e2e_relay_start
e2e_postfix

e2e_send s1 a1@test.example r1@dest.test
e2e_send s2 a2@test.example r2@dest.test
pf_wait_log "$S" 'to=<r1@dest\.test>.*status=sent' 20 || { tail -n 20 "$S/maillog"; t_fail "s1 not at the smarthost"; }
pf_wait_log "$S" 'to=<r2@dest\.test>.*status=sent' 20 || { tail -n 20 "$S/maillog"; t_fail "s2 not at the smarthost"; }
t_assert_grep 'sasl_method=PLAIN, sasl_username=a1@test\.example' "$S/maillog"
t_assert_grep 'sasl_method=PLAIN, sasl_username=a2@test\.example' "$S/maillog"
t_assert_grep 'postfix/qmgr.*from=<a1@test\.example>' "$S/maillog"
t_assert_grep 'postfix/qmgr.*from=<a2@test\.example>' "$S/maillog"
t_assert_grep 'to=<r1@dest\.test>.*status=sent \(250 2\.0\.0 smtp\.test said: 250 2\.0\.0 Ok: queued as ' "$D/pf/maillog"
t_ok "Postfix + Cyrus SASL smarthost: implicit TLS (a1) and STARTTLS (a2), right SASL user each"

e2e_send s3 other@test.example r3@dest.test
pf_wait_log "$D/pf" 'to=<r3@dest\.test>.*status=bounced' 20 || { tail -n 5 "$D/pf/maillog"; t_fail "s3 not bounced"; }
t_assert_grep 'to=<r3@dest\.test>.*status=bounced .*553 5\.7\.1 smtp\.test said: 553 5\.7\.1 <other@test\.example>: Sender address rejected: not owned by user a1@test\.example' "$D/pf/maillog"
t_ok "the smarthost's sender refusal reaches Postfix's bounce, prefixed by the host"

e2e_send s4 a3@test.example r4@dest.test
pf_wait_log "$D/pf" 'to=<r4@dest\.test>.*status=(deferred|bounced)' 20 || t_fail "s4 not tried"
t_assert_grep 'to=<r4@dest\.test>.*status=deferred .*454 4\.7\.0 .*535 5\.7\.8' "$D/pf/maillog" "wrong code"
t_assert_no_grep 'to=<r4@dest\.test>.*status=bounced' "$D/pf/maillog"
t_assert_grep 'SASL (PLAIN|LOGIN) authentication failed' "$S/maillog"
t_ok "a code refused by Cyrus SASL: deferred 454 4.7.0, not bounced"

E_SECRETS+=(sasl-code-a1 sasl-code-a2)
for s in "${E_SECRETS[@]}"; do
	grep -qF -- "$s" "$S/maillog" && t_fail "the smarthost's log holds a code"
done
e2e_assert_no_secrets
t_ok "no log holds an authorization code"
