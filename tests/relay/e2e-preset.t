#!/usr/bin/env bash
# Accounts that need no [account] block: the relay map names addresses at
# domains with a built-in preset (boss@163.com -> smtp.163.com:465 implicit
# TLS; me@qq.com -> smtp.qq.com:465), here served by provider-like
# smarthosts under those names (a private /etc/hosts and a test certificate
# for them).  Through Postfix and the relay:
#  - boss@163.com leaves over smtp.163.com:465 logged in as boss@163.com;
#    a local sender under "rewrite" leaves as boss@163.com too;
#  - EHLO announces the presets' SIZE (73400320);
#  - a refused code at smtp.qq.com defers and the log tells how QQ codes
#    are regenerated (the preset's hint).
. "$SMARTHOST_TOP/tests/relay/e2e-lib.sh"
t_enter_netns "$@"
e2e_init "127.0.0.2 smtp.163.com" "127.0.0.3 smtp.qq.com"
pki__leaf "$D/pki" providers smtp.163.com "DNS:smtp.163.com,DNS:smtp.qq.com" ca ||
    t_fail "cannot make the providers' certificate"

e2e_users 'boss@163.com code-163-boss' 'me@qq.com code-qq-right'
mkdir -p "$D/mail-163.0" "$D/mail-qq.0"
t_spawn peer_163 "$D/peer-163.log" /usr/bin/python3 "$E_PEER" \
    --listen 127.0.0.2:465 --tls implicit --hostname smtp.163.com \
    --cert "$D/pki/providers.crt" --key "$D/pki/providers.key" \
    --users "$D/users" --sender-rule 163 --maildir "$D/mail-163.0" \
    --events "$D/events-163"
t_spawn peer_qq "$D/peer-qq.log" /usr/bin/python3 "$E_PEER" \
    --listen 127.0.0.3:465 --tls implicit --hostname smtp.qq.com \
    --cert "$D/pki/providers.crt" --key "$D/pki/providers.key" \
    --users "$D/users" --sender-rule qq --maildir "$D/mail-qq.0" \
    --events "$D/events-qq"
t_wait_for "grep -q READY '$D/peer-163.log' && grep -q READY '$D/peer-qq.log'" 10 ||
    { cat "$D"/peer-*.log >&2; t_fail "peers did not start"; }

e2e_relay_conf "" \
"boss@163.com boss@163.com
@office.test boss@163.com rewrite
me@qq.com me@qq.com" \
    'boss@163.com code-163-boss' 'me@qq.com code-qq-wrong'
e2e_relay_start
e2e_postfix

/usr/bin/python3 "$SMARTHOST_TOP/tests/relay/smtpchat.py" 127.0.0.1:10025 "EHLO x" QUIT >"$D/ehlo" 2>&1
t_assert_grep '^250-SIZE 73400320' "$D/ehlo" "SIZE"
t_ok "EHLO announces SIZE 73400320 (the presets' limit)"

e2e_send b1 boss@163.com r1@dest.test
e2e_send b2 printer@office.test r2@dest.test
e2e_wait_delivered 163 b1 1 20
e2e_wait_delivered 163 b2 1 20
t_assert_eq "boss@163.com boss@163.com true r1@dest.test" "$(e2e_envelope 163 b1)" "b1 at smtp.163.com"
t_assert_eq "boss@163.com boss@163.com true r2@dest.test" "$(e2e_envelope 163 b2)" "b2 at smtp.163.com"
t_assert_grep '"event": "tls".*"sni": "smtp.163.com"' "$D/events-163" "SNI"
t_assert_grep 'sender=<printer@office\.test> account=boss@163\.com host=smtp\.163\.com .*status=sent .*rewrite=yes' "$D/relay.log"
t_ok "preset account boss@163.com: smtp.163.com:465, verified TLS with SNI, login and envelope boss@163.com"

e2e_send q1 me@qq.com r3@dest.test
pf_wait_log "$D/pf" 'to=<r3@dest\.test>.*status=(deferred|bounced)' 20 || t_fail "q1 not tried"
t_assert_grep 'to=<r3@dest\.test>.*status=deferred .*454 4\.7\.0 smtp\.qq\.com' "$D/pf/maillog" "q1 deferral"
t_assert_grep 'account=me@qq\.com host=smtp\.qq\.com authorization code refused: .*smtp\.qq\.com wants the .*generate a new one' "$D/relay.log" "the preset's hint in the log"
t_ok "refused QQ code: deferred 454 4.7.0, the log says how QQ codes are regenerated"

e2e_assert_no_secrets
t_ok "no log holds an authorization code"
