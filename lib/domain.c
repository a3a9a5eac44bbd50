/*
 * domain — see domain.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "domain.h"
#include "util.h"

static int
check_ldh(const char *d, char *err, size_t errsize)
{
	size_t label = 0;

	for (const char *p = d; ; p++) {
		if (*p == '.' || *p == '\0') {
			if (label == 0) {
				snprintf(err, errsize, "empty label in domain "
				    "\"%s\"", d);
				return -1;
			}
			if (label > 63) {
				snprintf(err, errsize, "label longer than 63 "
				    "characters in domain \"%s\"", d);
				return -1;
			}
			if (p[-1] == '-' || p[-(long)label] == '-') {
				snprintf(err, errsize, "label starts or ends "
				    "with '-' in domain \"%s\"", d);
				return -1;
			}
			if (*p == '\0')
				return 0;
			label = 0;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-')) {
			snprintf(err, errsize, "invalid character '%c' in "
			    "domain \"%s\"", *p, d);
			return -1;
		}
		label++;
	}
}

static int
literal(const char *in, char *out, size_t outsize, char *err, size_t errsize)
{
	size_t len = strlen(in);

	if (len < 3 || in[len - 1] != ']' || len >= outsize) {
		snprintf(err, errsize, "malformed address literal \"%.64s\"",
		    in);
		return -1;
	}
	for (const char *p = in + 1; p < in + len - 1; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
		    (*p >= 'A' && *p <= 'F') || *p == '.' || *p == ':' ||
		    (p == in + 1 && strncasecmp(p, "IPv6:", 5) == 0 &&
		    (p += 4)))) {
			snprintf(err, errsize, "malformed address literal "
			    "\"%.64s\"", in);
			return -1;
		}
	memcpy(out, in, len + 1);
	return 0;
}

int
domain_normalize(const char *in, char *out, size_t outsize,
    char *err, size_t errsize)
{
	char buf[DOMAIN_MAX * 4 + 2];
	char *ascii = NULL;
	size_t len = strlen(in);
	int rc;

	if (len == 0) {
		snprintf(err, errsize, "empty domain");
		return -1;
	}
	if (in[0] == '[')
		return literal(in, out, outsize, err, errsize);
	if (len >= sizeof(buf)) {
		snprintf(err, errsize, "domain longer than %d characters",
		    DOMAIN_MAX);
		return -1;
	}
	memcpy(buf, in, len + 1);
	if (len > 1 && buf[len - 1] == '.')
		buf[--len] = '\0';
	if (str_is_ascii(buf))
		str_lower(buf);
	else {
		rc = idn2_lookup_u8((const uint8_t *)buf, (uint8_t **)&ascii,
		    IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
		if (rc != IDN2_OK) {
			snprintf(err, errsize, "invalid internationalized "
			    "domain \"%.64s\": %s", in, idn2_strerror(rc));
			return -1;
		}
		len = strlen(ascii);
		if (len >= sizeof(buf)) {
			idn2_free(ascii);
			snprintf(err, errsize, "domain longer than %d "
			    "characters", DOMAIN_MAX);
			return -1;
		}
		memcpy(buf, ascii, len + 1);
		idn2_free(ascii);
		str_lower(buf);
	}
	if (len > DOMAIN_MAX) {
		snprintf(err, errsize, "domain longer than %d characters",
		    DOMAIN_MAX);
		return -1;
	}
	if (check_ldh(buf, err, errsize) < 0)
		return -1;
	if (len >= outsize) {
		snprintf(err, errsize, "domain too long for buffer");
		return -1;
	}
	memcpy(out, buf, len + 1);
	return 0;
}

int
domain_within(const char *sub, const char *dom)
{
	size_t ls = strlen(sub), ld = strlen(dom);

	if (ls == ld)
		return strcmp(sub, dom) == 0;
	return ls > ld && sub[ls - ld - 1] == '.' &&
	    strcmp(sub + ls - ld, dom) == 0;
}

const char *
domain_parent(const char *dom)
{
	const char *dot = strchr(dom, '.');

	return dot && dot[1] ? dot + 1 : NULL;
}
