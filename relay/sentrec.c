/*
 * sentrec — see sentrec.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sentlog.h"
#include "sentrec.h"
#include "session.h"

#define SENTREC_RETRY	3600	/* seconds between opens after a failure */
#define SENTREC_PRUNE	3600	/* seconds between prunes */

struct sentrec {
	struct sentlog	*log;		/* atomic: set once by the main thread */
	struct sentlog	*maint;		/* the main thread's: checkpoints, prunes */
	time_t		 next_open, next_prune;
};

struct sentrec *
sentrec_new(void)
{
	return xcalloc(1, sizeof(struct sentrec));
}

void
sentrec_free(struct sentrec *rec)
{
	if (rec == NULL)
		return;
	sentlog_close(rec->log);
	sentlog_close(rec->maint);
	free(rec);
}

static struct sentlog *
open_log(struct sentrec *rec, const struct conf *c, time_t now)
{
	char err[1024];
	struct sentlog *sl;

	if (now < rec->next_open)
		return NULL;
	if ((sl = sentlog_open(c->state_dir, SENTLOG_NOCHECKPOINT, err,
	    sizeof(err))) == NULL || (rec->maint = sentlog_open(c->state_dir,
	    0, err, sizeof(err))) == NULL) {
		log_warnx("sent log: %s (mail goes on unrecorded; next try in "
		    "%d s)", err, SENTREC_RETRY);
		sentlog_close(sl);
		rec->next_open = now + SENTREC_RETRY;
		return NULL;
	}
	log_info("sent log %s/%s: keeping %u days", c->state_dir,
	    SENTLOG_FILE, c->sent_log_days);
	__atomic_store_n(&rec->log, sl, __ATOMIC_RELEASE);
	return sl;
}

void
sentrec_maintain(struct sentrec *rec, const struct conf *c, time_t now)
{
	struct sentlog *sl = __atomic_load_n(&rec->log, __ATOMIC_ACQUIRE);
	int n;

	if (c->sent_log_days == 0 || c->state_dir == NULL ||
	    *c->state_dir == '\0')
		return;
	if (sl == NULL && open_log(rec, c, now) == NULL)
		return;
	/* the writes never checkpoint (a disk flush): it is done here */
	if (sentlog_checkpoint(rec->maint) == -1)
		log_warnx("sent log: %s", sentlog_error(rec->maint));
	if (now < rec->next_prune)
		return;
	rec->next_prune = now + SENTREC_PRUNE;
	if ((n = sentlog_prune(rec->maint, c->sent_log_days)) == -1)
		log_warnx("sent log: %s", sentlog_error(rec->maint));
	else if (n > 0)
		log_info("sent log: %d rows older than %u days removed", n,
		    c->sent_log_days);
}

/* Append the address of a bracketed path to a space-separated list. */
static void
add_rcpt(char **list, const char *path)
{
	size_t len = strlen(path);
	char *n;

	if (len >= 2 && path[0] == '<' && path[len - 1] == '>') {
		path++;
		len -= 2;
	}
	n = xasprintf("%s%s%.*s", *list ? *list : "", *list ? " " : "",
	    (int)len, path);
	free(*list);
	*list = n;
}

void
sentrec_rcpt(struct sentrec_txn *r, const char *path, int code,
    const char *line)
{
	if (code / 100 == 2)
		add_rcpt(&r->accepted, path);
	else if (code / 100 == 5) {
		add_rcpt(&r->bounced, path);
		xstrlcpy(r->bounce_reply, line, sizeof(r->bounce_reply));
	} else {
		add_rcpt(&r->deferred, path);
		xstrlcpy(r->defer_reply, line, sizeof(r->defer_reply));
	}
}

void
sentrec_data_refused(struct sentrec_txn *r, int code, const char *line)
{
	r->data_refused = code;
	xstrlcpy(r->reply, line, sizeof(r->reply));
}

void
sentrec_data_reply(struct sentrec_txn *r, const struct smtp_reply *sr)
{
	answer_relayed(sr, r->reply, sizeof(r->reply));
}

static void
put(struct sentlog *sl, struct sentlog_entry *e, const char *rcpts,
    const char *status, const char *reply, const char *qid)
{
	char q[128], why[1200];

	e->rcpts = rcpts != NULL ? rcpts : "";
	e->status = status;
	e->reply = reply != NULL && *reply ? reply : NULL;
	if (sentlog_record(sl, e) != 0)
		log_warnx("qid=%s sent log: not recorded: %s",
		    log_quote(q, sizeof(q), qid),
		    log_quote(why, sizeof(why), sentlog_error(sl)));
}

/* The rows of a transaction (see sentrec.h). */
static void
write_rows(struct sentlog *sl, struct session *s, const char *status)
{
	struct txn *t = &s->t;
	struct sentrec_txn *r = &t->rec;
	struct sentlog_entry e;
	char env[ADDR_PATH_MAX + 1];
	size_t len = strlen(t->sender);

	memset(&e, 0, sizeof(e));
	hdrcap_end(&r->hdr);
	xstrlcpy(env, t->sender, sizeof(env));
	if (len >= 2 && env[0] == '<' && env[len - 1] == '>') {
		memmove(env, env + 1, len - 2);
		env[len - 2] = '\0';
	}
	e.env_from = env;
	e.queue_id = s->qid[0] ? s->qid : r->hdr.queue_id[0] ?
	    r->hdr.queue_id : NULL;
	e.message_id = r->hdr.message_id[0] ? r->hdr.message_id : NULL;
	e.header_from = r->hdr.from[0] ? r->hdr.from : NULL;
	e.account = t->acct->name;
	e.login = t->route.login;
	if (r->accepted && r->data_refused)
		put(sl, &e, r->accepted, r->data_refused / 100 == 5 ?
		    "bounced" : "deferred", r->reply, s->qid);
	else if (r->data && r->accepted && strcmp(status, "aborted") != 0)
		put(sl, &e, r->accepted, status, strcmp(status, "sent") == 0 ?
		    r->reply : t->reply, s->qid);
	if (r->bounced)
		put(sl, &e, r->bounced, "bounced", r->bounce_reply, s->qid);
	if (r->deferred)
		put(sl, &e, r->deferred, "deferred", r->defer_reply, s->qid);
	if (!r->data && !r->data_refused && !r->accepted && !r->bounced &&
	    !r->deferred &&
	    t->code >= 400 && strcmp(status, "aborted") != 0)
		put(sl, &e, "", t->code / 100 == 5 ? "bounced" : "deferred",
		    t->reply, s->qid);
}

void
sentrec_txn_end(struct sentrec *rec, struct session *s, const char *status)
{
	struct txn *t = &s->t;
	struct sentrec_txn *r = &t->rec;
	struct sentlog *sl = rec != NULL ?
	    __atomic_load_n(&rec->log, __ATOMIC_ACQUIRE) : NULL;

	if (sl != NULL && r->handed && t->acct != NULL && t->cfg != NULL &&
	    t->cfg->conf->sent_log_days > 0)
		write_rows(sl, s, status);
	free(r->accepted);
	free(r->bounced);
	free(r->deferred);
	r->accepted = r->bounced = r->deferred = NULL;
}
