#!/usr/bin/env bash
# smarthostctl probe against provider-like loopback smarthosts in a private
# network namespace (smtp.test and smtp.163.com -> 127.0.0.1 through a
# private /etc/hosts, test CA as [relay] ca-file):
#  - success: addresses, certificate subject/issuer/expiry, capabilities
#    after TLS, "AUTH ok", exit 0; --json parses and says the same;
#  - a wrong code at the 163 preset: 535 and the preset's hint, exit 77;
#    --all-ports also tries 994 and 25 (nothing listens: refused);
#  - connection refused (69), certificate for another name (76),
#    untrusted CA (76), STARTTLS not offered (76), "550 User has no
#    permission" (77), a name that does not resolve (68), an unknown
#    account (67);
#  - no authorization code appears in any output.
. "$SMARTHOST_TOP/tests/lib/common.sh"
t_enter_netns "$@"
. "$SMARTHOST_TOP/tests/lib/pki.sh"
. "$SMARTHOST_TOP/tests/lib/smarthost.sh"
t_tmpdir
D=$T_TMP
ctl=$B/smarthostctl
[ -x "$ctl" ] || t_fail "$ctl not built (run make)"
t_hosts "127.0.0.1 smtp.test smtp.163.com"
t_resolv 127.0.0.1	# nothing answers: nowhere.invalid fails at once
pki_make "$D/pki" || t_fail "pki_make"
pki__leaf "$D/pki" p163 smtp.163.com "DNS:smtp.163.com" ca ||
    t_fail "cannot make the smtp.163.com certificate"

sh_users "$D/users" 'good@test.example code-right-1234' \
    'noperm@test.example code-right-1234' 'boss@163.com code-163-right'
P=$D/pki
sh_spawn good "$D/good" 4650 --tls implicit --cert "$P/server.crt" \
    --key "$P/server.key" --users "$D/users"
sh_spawn wrong "$D/wrong" 4651 --tls implicit --cert "$P/wrong.crt" \
    --key "$P/wrong.key" --users "$D/users"
sh_spawn untrusted "$D/untrusted" 4652 --tls implicit \
    --cert "$P/untrusted.crt" --key "$P/untrusted.key" --users "$D/users"
sh_spawn plain "$D/plain" 5870 --tls none --users "$D/users"
sh_spawn noperm "$D/noperm" 4653 --tls implicit --cert "$P/server.crt" \
    --key "$P/server.key" --users "$D/users" \
    --auth-reply "550 User has no permission"
sh_spawn p163 "$D/p163" 465 --tls implicit --hostname smtp.163.com \
    --cert "$P/p163.crt" --key "$P/p163.key" --users "$D/users"
for p in good wrong untrusted plain noperm p163; do sh_wait_ready "$D/$p"; done

acct() {	# name port tls [host]
	printf '[account %s]\nhost = %s\nport = %s\ntls = %s\nlogin = %s@test.example\n' \
	    "$1" "${4:-smtp.test}" "$2" "$3" "$1"
}
{
	printf '[global]\nrelay-map = %s\nsecrets = %s\nstate-dir = %s\n' \
	    "$D/relay.map" "$D/secrets" "$D/state"
	printf '[relay]\nca-file = %s\nconnect-timeout = 5\ncommand-timeout = 5\n' \
	    "$P/ca.crt"
	acct good 4650 implicit
	acct refused 4659 implicit
	acct wrongname 4651 implicit
	acct untrusted 4652 implicit
	acct plain 5870 starttls
	acct noperm 4653 implicit
	acct nodns 4650 implicit nowhere.invalid
} >"$D/smarthost.conf"
printf '%s\n' '@test.example good' 'x@other.example refused' \
    'boss@163.com boss@163.com' >"$D/relay.map"
(umask 077; printf '%s\n' 'good code-right-1234' 'refused code-right-1234' \
    'wrongname code-right-1234' 'untrusted code-right-1234' \
    'plain code-right-1234' 'noperm code-right-1234' \
    'nodns code-right-1234' 'boss@163.com code-163-WRONG' >"$D/secrets")
mkdir -p "$D/state"
codes='code-right-1234|code-163-WRONG|code-163-right'
# base64 of the PLAIN and LOGIN credentials too
b64=$(printf '\0good@test.example\0code-right-1234' | base64 -w0)
b64b=$(printf 'code-right-1234' | base64 -w0)

# probe NAME WANT_RC [ARGS...]: stdout in $D/out.NAME, stderr (the
# session's log lines, complaints) in $D/err.NAME
probe() {
	local name=$1 want=$2 rc
	shift 2
	timeout 30 "$ctl" -c "$D/smarthost.conf" probe "$name" "$@" \
	    >"$D/out.$name" 2>"$D/err.$name"
	rc=$?
	if [ "$rc" != "$want" ]; then
		sed 's/^/    /' "$D/out.$name" "$D/err.$name" >&2
		t_fail "probe $name: exit $rc, want $want"
	fi
	if grep -Eq -- "$codes|$b64|$b64b" "$D/out.$name" "$D/err.$name"; then
		t_fail "probe $name: output shows an authorization code"
	fi
}

probe good 0
o=$D/out.good
t_assert_grep '^addresses: 127\.0\.0\.1$' "$o"
t_assert_grep '^  connect: smtp\.test\[127\.0\.0\.1\]:4650$' "$o"
t_assert_grep '^  tls: TLSv1\.[23] .*, certificate verified for smtp\.test$' "$o"
t_assert_grep '^  certificate subject: CN=smtp\.test,O=smarthost tests$' "$o"
t_assert_grep '^  certificate issuer: CN=smarthost test CA,O=smarthost tests$' "$o"
t_assert_grep "^  certificate expires: $(date -u -d '+30 days' +%Y-%m-%d) [0-9:]{8} UTC \(in (29|30) days\)$" "$o"
t_assert_grep '^    AUTH( [A-Z0-9-]+)* PLAIN' "$o" "AUTH capability"
t_assert_grep '^  AUTH ok \(PLAIN as good@test\.example\): 235 ' "$o"
t_assert_grep '^result: ok' "$o"
t_assert_eq 1 "$(sh_count "$D/good" event=auth ok=true)" "AUTH at the peer"
t_assert_eq 0 "$(sh_count "$D/good" event=mail)" "MAIL at the peer"
t_ok "success: certificate subject, issuer, expiry, capabilities, AUTH ok, exit 0, no MAIL"

probe good@test.example 0 --json
/usr/bin/python3 - "$D/out.good@test.example" <<'EOF' || t_fail "--json"
import json, sys
j = json.load(open(sys.argv[1]))
p = j["ports"][0]
assert j["ok"] is True and j["exit"] == 0 and j["account"] == "good", j
assert j["addresses"] == ["127.0.0.1"], j
assert p["status"] == "ok" and p["port"] == 4650 and p["configured"], p
assert p["certificate"]["subject"] == "CN=smtp.test,O=smarthost tests", p
assert p["auth_mechanism"] == "PLAIN" and p["problem"] is None, p
assert any(c.startswith("AUTH ") for c in p["capabilities"]), p
EOF
t_ok "--json parses; the account found by its login address"

probe boss@163.com 77 --all-ports
o=$D/out.boss@163.com
t_assert_grep '^host: smtp\.163\.com$' "$o" "the preset's host"
t_assert_grep '^  FAILED: .*535' "$o"
t_assert_grep '^  next: smtp\.163\.com wants the client authorization code \(授权码\), not the web password' "$o"
t_assert_grep '^port 994 \(implicit TLS\) \[--all-ports\]:$' "$o"
t_assert_grep '^  problem: smtp\.163\.com refused the connection to port 994$' "$o"
t_assert_grep '^port 25 \(STARTTLS\) \[--all-ports\]:$' "$o"
t_ok "wrong code at the 163 preset: 535 with 163's hint, exit 77; --all-ports tries 994 and 25"

probe refused 69
t_assert_grep '^  problem: smtp\.test refused the connection to port 4659$' "$D/out.refused"
t_assert_grep '^  next: the network may block port 4659 — try 465 \(implicit TLS\) \(port = and tls = in the account\)' "$D/out.refused"
probe wrongname 76
t_assert_grep '^  problem: the certificate presented on port 4651 is not for smtp\.test$' "$D/out.wrongname"
probe untrusted 76
t_assert_grep '^  problem: the certificate of smtp\.test is not trusted \(' "$D/out.untrusted"
t_assert_grep '^  next: if the provider uses a private CA, set ca-file' "$D/out.untrusted"
probe plain 76
t_assert_grep '^  problem: smtp\.test port 5870 does not offer STARTTLS' "$D/out.plain"
probe noperm 77
t_assert_grep '^  problem: SMTP is not enabled for noperm@test\.example at the provider' "$D/out.noperm"
probe nodns 68
t_assert_grep '^addresses: none \(' "$D/out.nodns"
t_assert_grep '^  problem: the name nowhere\.invalid does not resolve$' "$D/out.nodns"
probe nosuch 67
t_assert_grep 'no account "nosuch"' "$D/err.nosuch"
for p in wrong untrusted plain; do
	t_assert_eq 0 "$(sh_count "$D/$p" event=auth)" "AUTH at $p"
done
t_ok "refused 69, wrong name 76, untrusted CA 76, no STARTTLS 76 (no AUTH sent), 550 no permission 77, DNS 68, unknown account 67"
t_ok "no output holds an authorization code"
