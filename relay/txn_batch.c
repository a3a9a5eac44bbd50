/*
 * txn_batch — MAIL with what Postfix already pipelined behind it (see
 * txn.c): when the provider offers PIPELINING, MAIL, the RCPTs that pass
 * the local checks and DATA go upstream in one write (upstream_pipeline)
 * and each provider reply answers its own command, in order.  What is
 * left in the input buffer takes the ordinary path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "session.h"
#include "txn_int.h"

#define BATCH_MAX	16	/* commands in one pipelined write; more
				   recipients take the ordinary path */

struct batch {
	struct upstream_cmd cmd[BATCH_MAX];
	char		 path[BATCH_MAX][ADDR_PATH_MAX + 3];
	size_t		 n;
};

/* What Postfix already sent behind MAIL and may go upstream with it:
 * the RCPTs that pass the local checks, then DATA if there is one. */
static void
batch_plan(struct session *s, struct batch *b)
{
	char line[CMD_MAX + 1], why[ANSWER_MAX + 1], *arg;
	const char *p;
	size_t off = 0, len;

	while (b->n < BATCH_MAX && cio_peek(&s->io, &off, &p, &len)) {
		if (len > CMD_MAX || memchr(p, '\0', len) != NULL)
			return;
		memcpy(line, p, len);
		line[len] = '\0';
		line[strcspn(line, "\r\n")] = '\0';
		if (strcasecmp(line, "DATA") == 0) {
			if (b->n > 1)
				b->cmd[b->n++].verb = UPV_DATA;
			return;
		}
		if (strncasecmp(line, "RCPT ", 5) != 0)
			return;
		for (arg = line + 5; *arg == ' '; arg++)
			;
		if (txn_rcpt_refusal(s, arg, s->t.rcpts + (unsigned)b->n - 1,
		    b->path[b->n], sizeof(b->path[0]), why, sizeof(why)) != 0)
			return;
		b->cmd[b->n].verb = UPV_RCPT;
		b->cmd[b->n].path = b->path[b->n];
		b->n++;
	}
}

/* Takes the command line answered next out of the input buffer. */
static void
batch_consume(struct session *s)
{
	char line[CMD_MAX + 2];
	size_t len;
	int complete;

	(void)cio_read(&s->io, line, sizeof(line), &len, &complete);
}

/* Answers the batch's RCPTs and DATA while the transaction lives; what
 * is left in the input buffer takes the ordinary path. */
static int
batch_answer(struct session *s, struct batch *b)
{
	struct txn *t = &s->t;
	size_t i;

	for (i = 1; i < b->n && t->active && t->up != NULL; i++) {
		if (b->cmd[i].verb == UPV_DATA)
			break;
		batch_consume(s);
		txn_rcpt_answer(s, b->path[i], b->cmd[i].code,
		    &b->cmd[i].reply);
	}
	if (i == b->n || b->cmd[i].verb != UPV_DATA || !t->active ||
	    t->up == NULL)
		return 0;
	if (t->rcpts == 0) {
		/* txn_data answers "no valid recipients"; a provider that
		 * opened the body anyway keeps no session of ours */
		if (b->cmd[i].code == 354) {
			snprintf(t->broken, sizeof(t->broken), "451 4.4.2 "
			    "%.255s: session closed: the provider opened the "
			    "message body with no recipient", t->route.host);
			pool_put(s->relay->pool, t->up, 0);
			t->up = NULL;
		}
		return 0;
	}
	batch_consume(s);
	return txn_data_started(s, b->cmd[i].code, &b->cmd[i].reply);
}

int
txn_mail_pipelined(struct session *s, const char *env, const char *params,
    int may_retry)
{
	struct txn *t = &s->t;
	struct batch *b = xcalloc(1, sizeof(*b));
	int rc = 0;

	b->cmd[0].verb = UPV_MAIL;
	b->cmd[0].path = env;
	b->cmd[0].params = params;
	b->n = 1;
	batch_plan(s, b);
	upstream_pipeline(t->up, b->cmd, b->n);
	if (txn_mail_retry(s, b->cmd[0].code, &b->cmd[0].reply, may_retry))
		rc = 1;
	else {
		txn_mail_answer(s, b->cmd[0].code, &b->cmd[0].reply);
		rc = batch_answer(s, b);
	}
	free(b);
	return rc;
}

