# pki.sh — a throwaway test PKI.  Source it, then:
#
#	pki_make DIR
#
# creates in DIR (EC prime256v1 keys, valid 30 days, all PEM):
#   ca.crt ca.key		the test CA ("smarthost test CA"); give ca.crt to
#				the program under test as its CA file
#   server.crt server.key	CN smtp.test, SAN DNS:smtp.test, DNS:localhost,
#				IP:127.0.0.1, signed by ca
#   wrong.crt wrong.key		CN other.test, SAN DNS:other.test only, signed by
#				ca: a valid chain but the wrong name
#   untrusted-ca.crt .key	a second CA nobody trusts
#   untrusted.crt untrusted.key	CN/SAN smtp.test (+localhost, 127.0.0.1) signed
#				by untrusted-ca: right name, wrong issuer
#   expired.crt expired.key	smtp.test (same SANs) signed by ca, validity in
#				the past (2020-01-01 .. 2020-01-02)
#   ca-bundle.crt		ca.crt only (for tools that want a bundle)
#
# Server certificate files contain only the leaf; chain files with the leaf
# followed by its CA are server-chain.crt and untrusted-chain.crt.
# pki_make returns non-zero (with openssl's message on stderr) on failure.
# Takes about half a second.

pki__key() {		# out
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 \
	    -out "$1" 2>/dev/null && chmod 644 "$1"
}

pki__ca() {		# dir name cn
	pki__key "$1/$2.key" &&
	openssl req -new -x509 -key "$1/$2.key" -out "$1/$2.crt" -days 30 \
	    -subj "/O=smarthost tests/CN=$3" \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign \
	    -addext subjectKeyIdentifier=hash
}

pki__ext() {		# sans
	printf '%s\n' "basicConstraints=critical,CA:FALSE" \
	    "keyUsage=critical,digitalSignature" \
	    "extendedKeyUsage=serverAuth" \
	    "subjectKeyIdentifier=hash" \
	    "authorityKeyIdentifier=keyid" \
	    "subjectAltName=$1"
}

pki__leaf() {		# dir name cn sans ca
	local d=$1
	pki__key "$d/$2.key" &&
	openssl req -new -key "$d/$2.key" -subj "/O=smarthost tests/CN=$3" \
	    -out "$d/$2.csr" &&
	openssl x509 -req -in "$d/$2.csr" -CA "$d/$5.crt" -CAkey "$d/$5.key" \
	    -CAcreateserial -days 30 -out "$d/$2.crt" \
	    -extfile <(pki__ext "$4") 2>/dev/null &&
	rm -f "$d/$2.csr"
}

# A certificate whose validity lies in the past: `openssl ca` is the only
# OpenSSL 3.0 command that takes explicit start and end dates.
pki__expired() {	# dir sans
	local d=$1 w=$1/.ca
	mkdir -p "$w" && : >"$w/index" && echo 01 >"$w/serial" &&
	pki__ext "$2" >"$w/ext" &&
	pki__key "$d/expired.key" &&
	openssl req -new -key "$d/expired.key" \
	    -subj "/O=smarthost tests/CN=smtp.test" -out "$w/req" &&
	printf '%s\n' "[ca]" "default_ca=c" "[c]" "database=$w/index" \
	    "serial=$w/serial" "new_certs_dir=$w" "default_md=sha256" \
	    "policy=p" "[p]" "commonName=supplied" "organizationName=optional" \
	    >"$w/conf" &&
	openssl ca -batch -config "$w/conf" -cert "$d/ca.crt" \
	    -keyfile "$d/ca.key" -in "$w/req" -out "$d/expired.crt" \
	    -startdate 20200101000000Z -enddate 20200102000000Z \
	    -extfile "$w/ext" -notext 2>/dev/null &&
	rm -rf "$w"
}

pki_make() {
	local d=${1:?pki_make DIR}
	local sans="DNS:smtp.test,DNS:localhost,IP:127.0.0.1"
	mkdir -p "$d" || return 1
	pki__ca "$d" ca "smarthost test CA" &&
	pki__ca "$d" untrusted-ca "untrusted test CA" &&
	pki__leaf "$d" server smtp.test "$sans" ca &&
	pki__leaf "$d" wrong other.test "DNS:other.test" ca &&
	pki__leaf "$d" untrusted smtp.test "$sans" untrusted-ca &&
	pki__expired "$d" "$sans" &&
	cp "$d/ca.crt" "$d/ca-bundle.crt" &&
	cat "$d/server.crt" "$d/ca.crt" >"$d/server-chain.crt" &&
	cat "$d/untrusted.crt" "$d/untrusted-ca.crt" >"$d/untrusted-chain.crt" ||
	    { echo "pki_make: failed to create the test PKI in $d" >&2; return 1; }
}
