/*
 * smarthost-milter — the modules of the milter and what they share.
 *
 *   main.c       command line, configuration check, socket, privileges,
 *                the signal thread (SIGHUP reload, SIGTERM/SIGINT stop)
 *   snapshot.c   the current configuration snapshot and its reload
 *   control.c    the control socket: "reload" for smarthostctl reload
 *   callbacks.c  the libmilter callbacks: per-connection and per-message
 *                context, collecting what the judgement needs
 *   judge.c      the envelope steps of the outbound decision (verdict.h
 *                holds the decision itself); SMTP replies and log line
 *   netmatch.c   client address against internal-networks
 *
 * A connection holds the snapshot current when it connected until it
 * closes; a reload never changes a running connection's view.
 */
#ifndef SMARTHOST_MILTER_H
#define SMARTHOST_MILTER_H

#include <sys/socket.h>
#include <stddef.h>

#include <libmilter/mfapi.h>

#include "addr.h"
#include "align.h"
#include "config.h"
#include "dkimcheck.h"
#include "route.h"
#include "verdict.h"

#define MILTER_NAME	"smarthost-milter"

/* Header kept per outbound message until the end of headers (for the
 * DKIM check); past either bound the message is refused with a 452. */
#define MILTER_MAX_HEADERS	1000
#define MILTER_MAX_HEADER_BYTES	(1024 * 1024)	/* names and values */

struct mheader {
	char	*name, *value;
};

struct mmsg {
	char		 qid[32];
	char		*sender;	/* MAIL FROM argument as received */
	char		 auth[128];	/* {auth_authen}, "" if none */
	int		 smtputf8;	/* MAIL FROM had SMTPUTF8 */
	int		 outbound;	/* a recipient outside local-domains */
	int		 envelope_done;	/* route, authorization, sender rule */
	enum judgement	 verdict;	/* of the envelope steps */
	struct verdict	 v;		/* reply and reason (verdict.h) */
	struct verdict	 rv;		/* of a refused recipient */
	struct route	 route;
	int		 have_route;
	const char	*replyto;	/* replyto_token() or "kept"; NULL:
					 * From: not rewritten */
	/* headers */
	size_t		 nfrom, nreplyto, ntrace;
	char		*from;		/* value of the first From: */
	struct mheader	*hdrs;		/* kept for DKIM until end of headers */
	size_t		 nhdrs;
	size_t		 hdrbytes;	/* of all headers so far */
	int		 hdr_overflow;	/* past a MILTER_MAX_HEADER* bound */
	int		 dkimsig;	/* a DKIM-Signature was seen */
	struct dkimcheck *dkim;
};

struct mconn {
	struct config	*cfg;		/* snapshot held for the connection */
	char		 addr[64];	/* client address, "" if local */
	int		 internal;	/* client in internal-networks */
	int		 leadspc;	/* header values keep their leading space */
	int		 can_skip;	/* the MTA understands SMFIS_SKIP */
	int		 nr_conn, nr_hdr, nr_eoh;	/* steps without reply */
	struct mmsg	 msg;
};

/* snapshot.c: 0 or -1 (errors logged; every diagnostic also added to
 * out unless it is NULL) */
int	snapshot_load(const char *path, struct diag *out);
struct config *snapshot_get(void);		/* a reference */
void	snapshot_free(void);

/* control.c: the control socket ([milter] control-socket), opened as
 * root before privileges are dropped (0, or -1 logged: the milter runs
 * without it), served from a thread once the milter runs; "reload"
 * calls reload(), the function SIGHUP runs. */
int	control_open(const struct conf *, const char *user);
void	control_start(int (*reload)(struct diag *));
void	control_close(void);

/* callbacks.c */
extern struct smfiDesc milter_desc;
extern struct align *milter_align;

/* judge.c */
enum judgement judge_envelope(struct mconn *);
/* A recipient outside local-domains: J_REJECT (reply in msg.rv, logged)
 * when this client may not send it through an account. */
enum judgement judge_recipient(struct mconn *, const char *rcpt);
/* Account for one header; non-zero (reply in msg.v, logged once) when
 * the message is past MILTER_MAX_HEADERS or MILTER_MAX_HEADER_BYTES. */
int	judge_header_limit(struct mconn *, const char *name, const char *value);

/* message.c: From:, rewrite, alignment, trace header at end of message */
enum judgement message_judge(SMFICTX *, struct mconn *);
void	judge_log(const struct mconn *, const char *decision);
void	judge_log_verdict(const struct mconn *, const char *decision,
	    const struct verdict *);
void	judge_setreply(SMFICTX *, const struct verdict *);
int	rcpt_is_local(const struct config *, const char *rcpt);

/* netmatch.c: non-zero if sa is in one of the networks ("a.b.c.d/n",
 * "x::/n", bare addresses).  A NULL sa (local submission) matches. */
int	netmatch(const struct strlist *nets, const struct sockaddr *sa);
void	netmatch_format(const struct sockaddr *sa, char *buf, size_t size);

#endif
