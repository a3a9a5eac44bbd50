/*
 * noop-milter — the floor under smarthost-milter's cost, for `make bench`:
 * a libmilter milter that registers the same callbacks with the same
 * flags, asks in xxfi_negotiate for the same protocol steps, and answers
 * each callback as smarthost-milter answers it for an outbound message
 * (no reply where the step was negotiated without one, SMFIS_SKIP for
 * the body, accept at the end of the message) — without doing any work.
 * What it costs per message is libmilter's: a thread per connection and
 * the protocol I/O.
 *
 *	noop-milter SOCKET
 *
 * SOCKET as in smfi_setconn() (unix:/path, inet:port@host).  Runs in the
 * foreground until SIGTERM or SIGINT (libmilter's signal handling).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <libmilter/mfapi.h>

/* Steps negotiated without a reply, kept per connection in its private
 * pointer (no allocation: the floor must not do more than libmilter). */
enum {
	NR_CONN = 1,
	NR_HDR = 2,
	NR_EOH = 4,
	SKIP = 8,
};

static unsigned
steps(SMFICTX *ctx)
{
	return (unsigned)(uintptr_t)smfi_getpriv(ctx);
}

static sfsistat
noop_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	/* The steps smarthost-milter asks for (milter/callbacks.c). */
	unsigned long want = SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NODATA |
	    SMFIP_HDR_LEADSPC | SMFIP_SKIP | SMFIP_NR_CONN | SMFIP_NR_HDR |
	    SMFIP_NR_EOH;
	unsigned s = 0;

	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS);
	*pf1 = f1 & want;
	*pf2 = *pf3 = 0;
	s |= (*pf1 & SMFIP_NR_CONN) ? NR_CONN : 0;
	s |= (*pf1 & SMFIP_NR_HDR) ? NR_HDR : 0;
	s |= (*pf1 & SMFIP_NR_EOH) ? NR_EOH : 0;
	s |= (*pf1 & SMFIP_SKIP) ? SKIP : 0;
	smfi_setpriv(ctx, (void *)(uintptr_t)s);
	return SMFIS_CONTINUE;
}

static sfsistat
noop_connect(SMFICTX *ctx, char *host, struct sockaddr *sa)
{
	return (steps(ctx) & NR_CONN) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
noop_envfrom(SMFICTX *ctx, char **argv)
{
	return SMFIS_CONTINUE;
}

static sfsistat
noop_envrcpt(SMFICTX *ctx, char **argv)
{
	return SMFIS_CONTINUE;
}

static sfsistat
noop_header(SMFICTX *ctx, char *name, char *value)
{
	return (steps(ctx) & NR_HDR) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
noop_eoh(SMFICTX *ctx)
{
	return (steps(ctx) & NR_EOH) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
noop_body(SMFICTX *ctx, unsigned char *buf, size_t len)
{
	return (steps(ctx) & SKIP) ? SMFIS_SKIP : SMFIS_CONTINUE;
}

static sfsistat
noop_eom(SMFICTX *ctx)
{
	return SMFIS_ACCEPT;
}

static sfsistat
noop_abort(SMFICTX *ctx)
{
	return SMFIS_CONTINUE;
}

static sfsistat
noop_close(SMFICTX *ctx)
{
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

static struct smfiDesc noop_desc = {
	.xxfi_name = "noop-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS,
	.xxfi_connect = noop_connect,
	.xxfi_envfrom = noop_envfrom,
	.xxfi_envrcpt = noop_envrcpt,
	.xxfi_header = noop_header,
	.xxfi_eoh = noop_eoh,
	.xxfi_body = noop_body,
	.xxfi_eom = noop_eom,
	.xxfi_abort = noop_abort,
	.xxfi_close = noop_close,
	.xxfi_negotiate = noop_negotiate,
};

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: noop-milter SOCKET\n");
		return 2;
	}
	if (smfi_setconn(argv[1]) != MI_SUCCESS ||
	    smfi_register(noop_desc) != MI_SUCCESS ||
	    smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "noop-milter: cannot listen on %s\n", argv[1]);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
