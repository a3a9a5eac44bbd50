#!/usr/bin/env bash
# dkim-keys.t — the milter's DKIM check (lib/dkimcheck.c) looks signing
# keys up in DNS (a dnsmasq in the test's namespace) and tells a key
# record that does not exist from a lookup that fails for now
# (RFC 6376 6.1.2).  A real Postfix with smarthost-milter in
# smtpd_milters, smtp-sink as relayhost; swaks submits the same message
# signed for signed.test (DMARC p=reject, SPF without the provider) under
# three selectors:
#  - sel:  its key is published: DKIM aligns, the message is delivered;
#  - gone: no such record (NXDOMAIN): a permanent "no key", DKIM does not
#          align and DMARC decides: 550 5.7.1 naming the missing record;
#  - down: the lookup fails (SERVFAIL from a dead forwarder): 451 4.4.3.
. "$SMARTHOST_TOP/tests/lib/common.sh"
t_enter_netns "$@"
. "$SMARTHOST_TOP/tests/milter/e2e-lib.sh"
t_need postfix swaks smtp-sink dnsmasq opendkim-genkey cc
[ -x "$B/smarthost-milter" ] || t_fail "$B/smarthost-milter not built"
t_tmpdir
T=$T_TMP

cc -o "$T/dkimsign" "$SMARTHOST_TOP/tests/milter/dkimsign.c" \
    $(pkg-config --cflags --libs opendkim) || t_fail "cannot build dkimsign"
# 2048 bits: the key record is more than one TXT string (as published
# by opendkim-genkey: each string at most 255 bytes), joined by the reader.
opendkim-genkey -b 2048 -d signed.test -s sel -D "$T" || t_fail "opendkim-genkey"
dkimtxt=$(grep -o '"[^"]*"' "$T/sel.txt" | tr -d '"' | paste -sd, -)
case $dkimtxt in *,*,*) ;; *) t_fail "the key record is not split in strings: $dkimtxt" ;; esac
for s in sel gone down; do
	printf '%s\n' "From: Sales <sales@signed.test>" "To: friend@example.net" \
	    "Subject: signed with $s" "Date: Sun, 22 Nov 2026 02:00:00 +0000" \
	    "Message-ID: <$s@signed.test>" "" "Hello," "signed body." >"$T/$s.eml"
	"$T/dkimsign" signed.test "$s" "$T/sel.private" <"$T/$s.eml" \
	    >"$T/$s.signed" || t_fail "dkimsign could not sign with $s"
	grep -q "^DKIM-Signature:.* s=$s;" "$T/$s.signed" ||
	    grep -q "s=$s;" "$T/$s.signed" || t_fail "no s=$s in the signature"
done

mt_signed "$dkimtxt"
dns_start --log-queries --log-facility=- --local=/test/ --local=/net/ \
    "${MT_SIGNED_DNS[@]}" --server=/down._domainkey.signed.test/127.0.0.9
mt_sink

mt_conf nobody 127.0.0.0/8
printf '%s\n' "dns-timeout = 2s" "$MT_SIGNED_ACCOUNT" >>"$T/smarthost.conf"
echo "@signed.test          signed-relay" >"$T/relay.map"
chmod 644 "$T/smarthost.conf" "$T/relay.map"
mt_milter
mt_postfix

send() {	# SELECTOR
	pf_send "$T/pf" --from sales@signed.test --to friend@example.net \
	    --data "$T/$1.signed" >"$T/s-$1" 2>&1
}

send sel || { cat "$T/s-sel"; t_fail "message signed with a published key refused"; }
pf_wait_queue_empty "$T/pf" 15 || { pf_queue "$T/pf"; t_fail "mail still queued"; }
t_wait_for "grep -qs '^Subject: signed with sel' '$T'/sink/*.*" 5 || t_fail "signed message not at the sink"
msg=$(grep -l '^Subject: signed with sel' "$T"/sink/*.*)
t_assert_grep '^X-Smarthost: account=signed-relay; host=smtp\.example\.net; spf=fail; dkim=pass \(d=signed\.test\); dmarc=pass \(p=reject\)$' "$msg" "trace header"
t_ok "published key: DKIM aligns, delivered"

send gone
t_assert_grep '<\*\* +550 5\.7\.1 From domain signed\.test publishes DMARC p=reject but neither SPF \(fail for signed\.test\) nor DKIM \(none: key record gone\._domainkey\.signed\.test does not exist\) aligns with it' "$T/s-gone" "NXDOMAIN: permanent refusal naming the record"
t_assert_no_grep '<\*\* +4[0-9][0-9] ' "$T/s-gone" "NXDOMAIN: no temporary reply"
grep -q 'gone\._domainkey\.signed\.test' "$T/dnsmasq.log" ||
    t_fail "the milter never asked DNS for the gone key"
t_ok "key record missing (NXDOMAIN): 550 5.7.1 saying the key record does not exist"

send down
t_assert_grep '<\*\* +451 4\.4\.3 DNS lookup failed while checking DMARC for signed\.test' "$T/s-down" "SERVFAIL: temporary"
t_ok "key lookup failing (SERVFAIL): 451 4.4.3"

n=$(ls "$T"/sink/ | wc -l)
t_assert_eq 1 "$n" "messages at the sink"
t_assert_no_grep 'AddressSanitizer|LeakSanitizer|runtime error' "$T/milter.log" "sanitizer reports"
