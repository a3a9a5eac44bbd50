#!/bin/bash
# smarthostctl route: exact, @domain and "*" routes, the implicit login
# route, --json, and the distinct exits for a bad address (65), no route
# (67), the null sender (69; with a route: sent as the login), usage (64) and a broken configuration (78).
. "$(dirname "$0")"/common.sh
setup_samples
map=$T/relay.map
line_of() { grep -n "^$1 " "$map" | cut -d: -f1; }
py=/usr/bin/python3
[ -x $py ] || { echo "FAIL: $py missing (Debian package python3)"; exit 1; }

run "$ctl" -c "$conf" route boss@163.com
expect_rc 0 "route boss@163.com"
expect_line "$out" "matched:      $map:$(line_of boss@163.com) boss@163.com (exact)" "exact match line"
expect_line "$out" "account:      boss@163.com (preset 163.com)" "exact: account"
expect_line "$out" "server:       smtp.163.com:465" "exact: host:port"
expect_line "$out" "tls:          implicit" "exact: tls"
expect_line "$out" "auth:         LOGIN PLAIN XOAUTH2 (smarthost uses PLAIN)" "exact: auth"
expect_line "$out" "rewrite:      no" "exact: no rewrite"
expect_line "$out" "sender rule:  must equal the login; refusal: 553 Mail from must equal authorized user" "exact: 163 sender rule"
expect_line "$out" "envelope:     boss@163.com (as sent)" "exact: envelope"

run "$ctl" -c "$conf" route '<Alice@Company.CN>'
expect_rc 0 "route <Alice@Company.CN>"
expect_line "$out" "sender:       alice@company.cn" "domain: normalised sender"
expect_line "$out" "matched:      $map:$(line_of @company.cn) @company.cn (domain)" "domain match line"
expect_line "$out" "account:      exmail-shared (preset exmail.qq.com)" "domain: account"
expect_line "$out" "login:        ops@company.cn" "domain: login"
expect_line "$out" "server:       smtp.exmail.qq.com:465" "domain: host:port"
expect_line "$out" "envelope:     alice@company.cn: REFUSED by the provider, which wants ops@company.cn; add \"rewrite\" to the map line or give alice@company.cn its own account" \
    "domain: exmail refuses a sender other than the login"

run "$ctl" -c "$conf" route someone@example.org
expect_rc 0 "route someone@example.org"
expect_line "$out" "matched:      $map:$(line_of '\*') * (any)" "any match line"
expect_line "$out" "account:      office@qq.com (preset qq.com)" "any: account"
expect_line "$out" "server:       smtp.qq.com:465" "any: host:port"
expect_line "$out" "tls:          implicit" "any: tls"
expect_line "$out" "rewrite:      yes" "any: rewrite"
expect_line "$out" "envelope:     office@qq.com (rewritten from someone@example.org by the relay; Postfix's notices go to someone@example.org)" "any: envelope rewritten by the relay"
expect_line "$out" "reply-to:     someone@example.org (auto: if example.org has an MX or address record; --from looks it up)" "any: reply-to auto, not looked up"
expect_line "$(cd / && "$ctl" -c "$conf" route boss@163.com)" "reply-to:     none (no rewrite: From: and Reply-To: stay as written)" "no rewrite: no Reply-To"

# The login of an account the map uses routes to that account, not "*".
for a in alerts@163.com office@qq.com; do
	run "$ctl" -c "$conf" route $a
	expect_rc 0 "route $a"
	expect_line "$out" "matched:      implicit: login of account $a" "$a: implicit login route"
	expect_line "$out" "rewrite:      no" "$a: no rewrite"
done

# --json
run "$ctl" -c "$conf" route scanner@office.lan --json
expect_rc 0 "route --json"
if echo "$out" | $py -c '
import json, sys
d = json.load(sys.stdin)
want = {"status": "ok", "sender": "scanner@office.lan", "account": "alerts@163.com",
    "provider": "163.com", "login": "alerts@163.com", "host": "smtp.163.com",
    "port": 465, "tls": "implicit", "rewrite": True, "sender_must_match": True,
    "sender_refusal": "553 Mail from must equal authorized user",
    "envelope_sender": "alerts@163.com", "refused": False, "auth": "PLAIN"}
bad = {k: (d.get(k), v) for k, v in want.items() if d.get(k) != v}
m = d["match"]
if m["kind"] != "exact" or m["pattern"] != "scanner@office.lan" or m["implicit"]:
    bad["match"] = m
sys.exit(print(bad) or 1) if bad else sys.exit(0)'; then ok "json values"
else fail "json values: $out"; fi

run "$ctl" -c "$conf" route --json '<"john \"q\" doe"@example.org>'
expect_rc 0 "route --json with a quoted local part"
echo "$out" | $py -c 'import json,sys; d=json.load(sys.stdin); assert d["envelope_sender"] == "office@qq.com", d' &&
    ok "quoted local part: valid JSON" || fail "quoted local part: $out"

# Reply-To: what the milter adds to a rewritten message without one.
sed -i 's/^#local-domains = .*/local-domains = office.lan/' "$conf"
printf '%s\n' "orig@office.lan alerts@163.com rewrite,reply-to=original" \
    "norep@example.org office@qq.com rewrite,reply-to=none" >>"$map"
run "$ctl" -c "$conf" route scanner@office.lan
expect_line "$out" "reply-to:     none (office.lan is in local-domains)" "reply-to: none for local-domains"
run "$ctl" -c "$conf" route orig@office.lan
expect_line "$out" "reply-to:     orig@office.lan (the relay.map line's reply-to is original)" "reply-to=original on the line"
run "$ctl" -c "$conf" route norep@example.org
expect_line "$out" "reply-to:     none (the relay.map line's reply-to is none)" "reply-to=none on the line"
run "$ctl" -c "$conf" route alerts@163.com
expect_line "$out" "reply-to:     none (no rewrite: From: and Reply-To: stay as written)" "login: no rewrite"
run "$ctl" -c "$conf" route orig@office.lan --json
echo "$out" | $py -c 'import json,sys; d=json.load(sys.stdin); assert (d["reply_to"], d["reply_to_known"]) == ("orig@office.lan", True), d' &&
    ok "reply-to json" || fail "reply-to json: $out"
sed -i 's/^\[milter\]$/&\nreply-to = none/' "$conf"
run "$ctl" -c "$conf" route someone@example.org
expect_line "$out" "reply-to:     none ([milter] reply-to is none)" "[milter] reply-to = none"
run "$ctl" -c "$conf" route orig@office.lan
expect_line "$out" "reply-to:     orig@office.lan (the relay.map line's reply-to is original)" "the line overrides [milter] reply-to"
sed -i '/^reply-to = none$/d' "$conf"
sed -i '/^orig@office.lan \|^norep@example.org /d' "$map"

# Errors, each with its own exit.
run "$ctl" -c "$conf" route 'bad@@x'
expect_rc 65 "bad address"
expect_line "$err" "smarthostctl: bad address \"bad@@x\": invalid character '@' in domain \"@x\"" "bad address message"
run "$ctl" -c "$conf" route $'a@b.org\r'
expect_rc 65 "address with CR"
run "$ctl" -c "$conf" route '<>'
expect_rc 69 "null sender without a route"
expect_line "$err" "smarthostctl: the null sender has no route: $map has no \"<>\" line and [relay] null-sender-account is unset, so the relay rejects it (null-sender = reject)" \
    "null sender message"
run "$ctl" -c "$conf" route '<>' --json
expect_rc 69 "null sender --json"
echo "$out" | $py -c 'import json,sys; d=json.load(sys.stdin); assert d["status"] == "null-sender", d' &&
    ok "null sender json status" || fail "null sender json: $out"

sed -i 's/^#null-sender-account = .*/null-sender-account = office@qq.com/' "$conf"
run "$ctl" -c "$conf" route '<>'
expect_rc 0 "null sender with null-sender-account"
expect_line "$out" "matched:      implicit: [relay] null-sender-account office@qq.com" "null-sender-account route"
expect_line "$out" "envelope:     office@qq.com (the relay sends bounces as the login)" \
    "null-sender-account: bounces leave as the login"
run "$ctl" -c "$conf" route '<>' --json
echo "$out" | $py -c 'import json,sys; d=json.load(sys.stdin); assert (d["envelope_sender"], d["refused"]) == ("office@qq.com", False), d' &&
    ok "null sender json envelope" || fail "null sender json envelope: $out"

# a "<>" map line: the relay sends bounces as that account's login
echo "<>  sales@qq.com" >>"$map"
run "$ctl" -c "$conf" route '<>'
expect_rc 0 "null sender with a <> line"
expect_line "$out" "matched:      $map:$(line_of '<>') <> (null)" "<> line matched"
expect_line "$out" "envelope:     sales@qq.com (the relay sends bounces as the login)" \
    "<> line: bounces leave as the login, not refused"
sed -i '/^<>  /d' "$map"

sed -i '/^\*  /d' "$map"
run "$ctl" -c "$conf" route someone@example.org
expect_rc 67 "no route"
expect_line "$err" "smarthostctl: no relay map line matches someone@example.org (add a line for it, its domain or \"*\" to $map)" \
    "no route message"

echo "x@y.org nosuch-account" >>"$map"
run "$ctl" -c "$conf" route boss@163.com
expect_rc 78 "route with a broken configuration"

run "$ctl" -c "$conf" route
expect_rc 64 "route without an address"
run "$ctl" -c "$conf" route a@b.org c@d.org
expect_rc 64 "route with two addresses"
run "$ctl" -c "$conf" route --bogus a@b.org
expect_rc 64 "route with an unknown option"
finish
