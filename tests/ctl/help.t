#!/bin/bash
# smarthostctl --help, help COMMAND and COMMAND --help: for every command
# of the command table (as "help" lists it), the command's own usage on
# stdout, exit 0, nothing on stderr, and the command itself not run (no
# configuration is read: -c names a file that does not exist).
. "$(dirname "$0")"/common.sh
missing=$T/no-such.conf

run "$ctl" --help
expect_rc 0 "--help"
[ -z "$err" ] && ok "--help: nothing on stderr" || fail "--help: stderr: $err"
expect_line "$out" "usage: smarthostctl [-c FILE] COMMAND [ARGS]" "--help: usage line"
listing=$out
names=$(sed -n '/^commands:$/,$s/^  \([a-z][a-z]*\) .*/\1/p' <<<"$listing")
n=$(grep -c . <<<"$names")
[ "$n" -ge 10 ] && ok "--help lists $n commands" || fail "--help lists $n commands: $out"
run "$ctl" help
[ "$rc" = 0 ] && [ "$(sed -n '/^commands:$/,$s/^  \([a-z][a-z]*\) .*/\1/p' <<<"$out")" = "$names" ] &&
    ok "help lists the same commands" || fail "help (exit $rc) differs from --help: $out"

for cmd in $names; do
	# The usage "help" shows for this command, after its name.
	line=$(grep -E "^  $cmd " <<<"$listing")
	for form in "$cmd --help" "$cmd -h" "help $cmd"; do
		# shellcheck disable=SC2086
		run "$ctl" -c "$missing" $form
		expect_rc 0 "$form"
		[ -z "$err" ] && ok "$form: nothing on stderr" || fail "$form: stderr: $err"
		first=$(head -n 1 <<<"$out")
		case $first in
		"usage: smarthostctl [-c FILE] $cmd"|"usage: smarthostctl [-c FILE] $cmd "*)
			ok "$form: usage names $cmd" ;;
		*)	fail "$form: first line \"$first\"" ;;
		esac
		usage=${first#"usage: smarthostctl [-c FILE] $cmd"}
		usage=${usage# }
		[ -z "$usage" ] || grep -qF -- "$usage" <<<"$line" ||
		    fail "$form: usage \"$usage\" is not the one help lists: $line"
		help=$(sed -n 2p <<<"$out" | sed 's/^  //')
		[ -n "$help" ] && grep -qF -- "$help" <<<"$line" &&
		    ok "$form: the help line of $cmd" || fail "$form: second line \"$help\" not in \"$line\""
	done
done

# --help after other arguments still only helps; an unknown command stays
# a usage error.
run "$ctl" -c "$missing" route alice@example.com --help
expect_rc 0 "route ADDRESS --help"
run "$ctl" -c "$missing" route alice@example.com
expect_rc 66 "route ADDRESS without --help reads the (missing) configuration"
run "$ctl" nosuchcommand --help
expect_rc 64 "unknown command with --help"
run "$ctl" help nosuchcommand
expect_rc 64 "help for an unknown command"
grep -q 'unknown command "nosuchcommand"' <<<"$err" && ok "names the unknown command" ||
    fail "stderr: $err"
finish
