# smuggling-lib.sh — what tests/relay/smuggling.t (straight into the relay)
# and tests/relay/e2e-smuggling.t (through Postfix) share: the relay with
# two accounts on one provider stand-in, and the message ends to smuggle a
# second transaction behind.  Source it after e2e-lib.sh and e2e_init:
#
#	smug_relay TAG		# users a1@ and boss@test.example, codes
#				# code-TAG-a1 and code-TAG-boss; peer p1 (port
#				# 4651, implicit TLS); the relay started
#	smug_variants		# array: "NAME END BARE", END as rawclient.py's
#				# --end takes it, BARE the lone character (LF, CR)
#	ev_count KEY=VALUE...	# how many events of p1 match
#	msgs			# how many messages p1 stored

smug_variants=(
	'lf-dot-lf \n.\n LF'
	'lf-dot-crlf \n.\r\n LF'
	'crlf-dot-lf \r\n.\n LF'
	'cr-dot-cr \r.\r CR'
	'crlf-dot-cr \r\n.\r CR'
	'crlf-dot-cr-crlf \r\n.\r\r\n CR'
)

smug_relay() {
	local tag=$1
	e2e_users "a1@test.example code-$tag-a1" "boss@test.example code-$tag-boss"
	e2e_peer p1 4651 implicit --sender-rule 163 --pipelining
	e2e_relay_conf "$(e2e_account acc1 4651 implicit a1@test.example
	    e2e_account boss 4651 implicit boss@test.example)" \
"a1@test.example acc1
boss@test.example boss" \
	    "acc1 code-$tag-a1" "boss code-$tag-boss"
	e2e_relay_start
}

# provider events matching KEY=VALUE...
ev_count() {
	/usr/bin/python3 - "$D/events-p1" "$@" <<'EOF2'
import json, sys
conds = [a.split("=", 1) for a in sys.argv[2:]]
n = 0
try:
    for line in open(sys.argv[1]):
        ev = json.loads(line)
        if all(str(ev.get(k)) == v for k, v in conds):
            n += 1
except FileNotFoundError:
    pass
print(n)
EOF2
}

msgs() { ls "$D"/mail-p1.*/msg-*.json 2>/dev/null | wc -l; }
