#!/bin/bash
# smarthostctl providers: the table lists every preset --json knows, fits
# in 100 columns, and "providers NAME" shows the whole row.
. "$(dirname "$0")"/common.sh
py=/usr/bin/python3
[ -x $py ] || { echo "FAIL: $py missing (Debian package python3)"; exit 1; }

run "$ctl" providers --json
expect_rc 0 "providers --json"
names=$(echo "$out" | $py -c 'import json,sys; print("\n".join(p["name"] for p in json.load(sys.stdin)))')
count=$(echo "$names" | grep -c .)
[ "$count" -ge 27 ] && ok "$count presets in --json" || fail "only $count presets"

run "$ctl" providers
expect_rc 0 "providers"
rows=$(echo "$out" | sed -n '2,/^$/p' | grep -c .)
[ "$rows" = "$count" ] && ok "table has $rows rows" || fail "table has $rows rows, json $count"
for n in $names; do
	echo "$out" | grep -q "^$n " || fail "$n missing from the table"
done
ok "every preset name in the table"
wide=$(echo "$out" | awk 'length($0) > 100' | wc -l)
[ "$wide" = 0 ] && ok "table fits in 100 columns" || fail "$wide lines wider than 100"
expect_line "$out" "163.com          smtp.163.com          465 implicit 994?,25? =login 163.com      LOGIN PLAIN XOAUTH2" \
    "163.com row"

run "$ctl" providers QQ.com
expect_rc 0 "providers QQ.com"
expect_line "$out" "  refusal            501 mail from address must be same as authorization user" "qq refusal"
echo "$out" | sed -n "/^  code /,/^  535/p" | grep -q "生成授权码" && ok "qq code_howto" || fail "qq code_howto: $out"
echo "$out" | grep -q "^  source .*providers.md row 'qq.com'" && ok "qq source" || fail "qq source"

# The IMAP server smarthost-return reads, as the preset has it.
run "$ctl" providers 163.com
expect_rc 0 "providers 163.com"
expect_line "$out" "  imap               imap.163.com 993 implicit, sends ID before SELECT (smarthost-return)" "163.com imap"
run "$ctl" providers exmail.qq.com
expect_line "$out" "  imap               imap.exmail.qq.com 993 implicit (smarthost-return)" "exmail imap"
run "$ctl" providers 163.com --json
echo "$out" | $py -c '
import json, sys
p = json.load(sys.stdin)[0]
assert (p["imap_host"], p["imap_port"], p["imap_id"]) == ("imap.163.com", 993, True), p
' && ok "163.com imap in json" || fail "163.com imap in json: $out"

run "$ctl" providers office365 --json
expect_rc 0 "providers office365 --json"
echo "$out" | $py -c '
import json, sys
d = json.load(sys.stdin)
assert len(d) == 1 and d[0]["name"] == "office365", d
p = d[0]
assert p["domains"] == [] and p["default_auth"] == "XOAUTH2" and p["oauth"] == "microsoft", p
assert p["ports"][0] == {"port": 587, "tls": "starttls", "default": True, "note": None}, p
' && ok "office365 json" || fail "office365 json: $out"

run "$ctl" providers nosuch.example
expect_rc 65 "unknown preset"
run "$ctl" providers a b
expect_rc 64 "two names"
run "$ctl" providers --wide
expect_rc 64 "unknown option"
finish
