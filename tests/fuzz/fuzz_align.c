/*
 * fuzz_align — align_check() on DNS answers from arbitrary bytes.  The
 * input is split at newlines into the From domain's DMARC record, its
 * organizational domain's record and the provider's SPF record (what
 * dmarc_parse() and provider_ip() read); they are served by a libspf2
 * zone.  The verdicts must stay in range and the policy one of the four
 * known strings.
 */
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spf2/spf.h>
#include <spf2/spf_dns_zone.h>

#include "align.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
add(SPF_dns_server_t *z, const char *name, const char *txt)
{
	if (*txt)
		SPF_dns_zone_add_str(z, name, ns_t_txt, NETDB_SUCCESS, txt);
}

static void
check(const struct align_result *r)
{
	char buf[512];
	const char *p = r->policy;

	if (r->dmarc != AV_PASS && r->dmarc != AV_FAIL &&
	    r->dmarc != AV_NONE && r->dmarc != AV_TEMPERROR)
		abort();
	if (r->spf < AV_NONE || r->spf > AV_UNKNOWN)
		abort();
	if (*p && strcmp(p, "none") && strcmp(p, "quarantine") &&
	    strcmp(p, "reject"))
		abort();
	align_format(r, buf, sizeof(buf));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size), *part[3] = { "", "", "" };
	struct align_input in = { .env_addr = "a@mail.x.test",
	    .env_domain = "mail.x.test", .from_domain = "mail.x.test",
	    .spf_include = "spf.p.test", .dkim_domain = "p.test" };
	struct align_opts o = { 0 };
	struct align_result r;
	struct align *a;
	SPF_dns_server_t *z = SPF_dns_zone_new(NULL, "fuzz", 0);
	char err[256], *save = NULL, *tok;
	int n = 0;

	for (tok = strtok_r(s, "\n", &save); tok && n < 3;
	    tok = strtok_r(NULL, "\n", &save))
		part[n++] = tok;
	add(z, "_dmarc.mail.x.test", part[0]);
	add(z, "_dmarc.x.test", part[1]);
	add(z, "spf.p.test", part[2]);
	SPF_dns_zone_add_str(z, "mail.x.test", ns_t_txt, NETDB_SUCCESS,
	    "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all");
	SPF_dns_zone_add_str(z, "*", ns_t_any, HOST_NOT_FOUND, NULL);
	o.dns = z;
	if ((a = align_new(&o, err, sizeof(err))) == NULL) {
		fprintf(stderr, "align_new: %s\n", err);
		abort();
	}
	align_check(a, &in, &r);
	check(&r);
	align_free(a);
	SPF_dns_free(z);
	free(s);
	return 0;
}
