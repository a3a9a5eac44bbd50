/*
 * domain — the one place a domain name is validated and normalised.
 *
 * domain_normalize() turns what a user or a peer wrote ("Example.COM.",
 * "例子.测试", "xn--fsqu00a.xn--0zwm56d") into the form every table key and
 * comparison uses: lower-case ASCII, IDN labels as A-labels (libidn2,
 * IDNA2008 with TR46 non-transitional mapping), no trailing dot.  It
 * refuses empty labels, labels over 63 octets, names over 253 octets and
 * characters that are not letters, digits or '-' after conversion.
 * An address literal ("[192.0.2.1]", "[IPv6:...]") is accepted as is.
 */
#ifndef SMARTHOST_DOMAIN_H
#define SMARTHOST_DOMAIN_H

#include <stddef.h>

#define DOMAIN_MAX 253

/* 0 and the normalised name in out (size >= DOMAIN_MAX + 1), or -1 and a
 * message in err. */
int	domain_normalize(const char *in, char *out, size_t outsize,
	    char *err, size_t errsize);

/* Non-zero if sub equals dom or is a subdomain of it (both normalised). */
int	domain_within(const char *sub, const char *dom);

/* The parent of a normalised domain ("a.b.c" -> "b.c"), NULL at the top. */
const char *domain_parent(const char *dom);

#endif
