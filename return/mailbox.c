/*
 * mailbox — one account's INBOX (see return.h and smarthost-return(8)).
 *
 * Log in (the code, or the XOAUTH2 token), ID, SELECT INBOX, search the
 * messages of the last days not yet marked, and for each: its header
 * (BODY.PEEK, nothing is set \Seen), the sent row it names (retmsg.h
 * says how), and then by the state of (account, UIDVALIDITY, UID) in the
 * sent log's table returned:
 *
 *   none, failed  fetch the whole message, claim, hand it to sendmail,
 *                 then delivered (sendmail took it) or failed (it exited
 *                 non-zero: handed again next run), then mark;
 *   claimed       an earlier run stopped between claim and delivered: the
 *                 message may or may not have reached sendmail; it is not
 *                 handed again (no duplicate), only marked, with a warning;
 *   delivered     mark;
 *   marked        nothing (the mark was taken away by someone).
 *
 * A message that names no sent row is left as it is; so is one whose
 * sent row is of another account (logged): it did not come back to the
 * mailbox of the account that sent it.
 */
#include <sys/types.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>

#include "imap.h"
#include "log.h"
#include "oauth.h"
#include "retmsg.h"
#include "return.h"
#include "util.h"

#define CHUNK	100	/* UIDs per header FETCH */

struct msg {
	unsigned long long uid;
	unsigned long long size;
	char		*text;		/* header, or the whole message */
	size_t		 len;
	int		 whole;
};

struct box {
	const struct config	*cfg;
	const struct account	*a;
	struct sentlog		*sl;
	const struct return_opts *o;
	struct imap		*im;
	const char		*host;
	unsigned long long	 uidvalidity;
	unsigned long long	*uids;
	size_t			 nuids;
	struct msg		*msgs;	/* of the current FETCH */
	size_t			 nmsgs;
	int			 rc;
	int			 db_failed;	/* stop: once-only unsure */
};

/* The sent row a message names. */
struct match {
	struct box		*b;
	unsigned long long	 uid;	/* of the message */
	enum retmsg_kind	 kind;
	long long		 sent_id;
	char			 msgid[RETMSG_ID_MAX + 1];
	char			*rcpt;
	int			 error;
};

static void
set_rc(struct box *b, int rc)
{
	if (b->rc == 0)
		b->rc = rc;
}

static void
search_cb(const struct imap_resp *r, void *arg)
{
	struct box *b = arg;
	const char *p;
	char *end;

	if (strncasecmp(r->line, "SEARCH", 6) != 0)
		return;
	for (p = r->line + 6; *p; p = end) {
		unsigned long long u;

		while (*p == ' ')
			p++;
		if (!isdigit((unsigned char)*p))
			break;
		u = strtoull(p, &end, 10);
		b->uids = xreallocarray(b->uids, b->nuids + 1,
		    sizeof(*b->uids));
		b->uids[b->nuids++] = u;
	}
}

/* "NAME value" inside a FETCH response: the number, or 0. */
static unsigned long long
fetch_num(const char *line, const char *name)
{
	const char *p = strcasestr(line, name);

	return p ? strtoull(p + strlen(name), NULL, 10) : 0;
}

static void
fetch_cb(const struct imap_resp *r, void *arg)
{
	struct box *b = arg;
	const char *p = strchr(r->line, ' ');
	struct msg *m;

	if (p == NULL || strncasecmp(p, " FETCH (", 8) != 0 || r->nlit != 1)
		return;
	b->msgs = xreallocarray(b->msgs, b->nmsgs + 1, sizeof(*b->msgs));
	m = &b->msgs[b->nmsgs++];
	memset(m, 0, sizeof(*m));
	m->uid = fetch_num(p, " UID ");
	if (m->uid == 0)
		m->uid = fetch_num(p, "(UID ");
	m->size = fetch_num(p, "RFC822.SIZE ");
	m->text = xstrndup(r->lit[0], r->litlen[0]);
	m->len = r->litlen[0];
}

static void
msgs_free(struct box *b)
{
	for (size_t i = 0; i < b->nmsgs; i++)
		free(b->msgs[i].text);
	free(b->msgs);
	b->msgs = NULL;
	b->nmsgs = 0;
}

static void
log_fail(const struct box *b, const char *what, const char *text)
{
	char q[600];

	log_errx("account=%s imap=%s error=%s", b->a->name, b->host,
	    log_quote(q, sizeof(q), what));
	if (text != NULL && *text)
		log_errx("account=%s imap=%s answer=%s", b->a->name, b->host,
		    log_quote(q, sizeof(q), text));
}

static int
match_cb(enum retmsg_kind kind, const char *msgid, void *arg)
{
	struct match *m = arg;
	struct sentlog_entry e;
	int rc;

	if ((rc = sentlog_find_msgid(m->b->sl, msgid, &e)) == -1) {
		m->error = 1;
		return -1;
	}
	if (rc == 0)
		return 0;
	if (e.account == NULL || strcmp(e.account, m->b->a->name) != 0) {
		char q[RETMSG_ID_MAX + 8], a[300];

		log_warnx("account=%s uid=%llu msgid=%s sent_by=%s "
		    "result=untouched reason=\"the sent log has it from "
		    "another account\"", m->b->a->name, m->uid,
		    log_quote(q, sizeof(q), msgid),
		    log_quote(a, sizeof(a), e.account));
		return 0;
	}
	m->kind = kind;
	m->sent_id = e.id;
	xstrlcpy(m->msgid, msgid, sizeof(m->msgid));
	free(m->rcpt);
	m->rcpt = xstrdup(e.env_from ? e.env_from : "");
	return 1;
}

/* The whole message of uid into m (replacing its header). */
static int
fetch_whole(struct box *b, struct msg *m)
{
	struct msg *got = NULL;
	char text[IMAP_TEXT_MAX];
	struct msg *saved = b->msgs;
	size_t nsaved = b->nmsgs;
	enum imap_status st;

	if (m->size > RETURN_SIZE_MAX) {
		log_warnx("account=%s uid=%llu size=%llu result=skipped "
		    "reason=\"larger than %lu bytes\"", b->a->name, m->uid,
		    m->size, RETURN_SIZE_MAX);
		return -1;
	}
	b->msgs = NULL;
	b->nmsgs = 0;
	st = imap_cmd(b->im, fetch_cb, b, text, sizeof(text),
	    "UID FETCH %llu (UID BODY.PEEK[])", m->uid);
	for (size_t i = 0; i < b->nmsgs; i++)
		if (b->msgs[i].uid == m->uid)
			got = &b->msgs[i];
	if (st == IMAP_OK && got != NULL) {
		free(m->text);
		m->text = got->text;
		m->len = got->len;
		m->whole = 1;
		got->text = NULL;
	} else {
		log_fail(b, "fetching a message failed", text);
		set_rc(b, EX_TEMPFAIL);
	}
	msgs_free(b);
	b->msgs = saved;
	b->nmsgs = nsaved;
	return m->whole ? 0 : -1;
}

/* Which sent row m names (1), none (0), or -1. */
static int
find_match(struct box *b, struct msg *m, struct match *mt)
{
	int rc;

	rc = retmsg_scan(m->text, m->len, match_cb, mt);
	if (rc == 0 && !mt->error && retmsg_is_notice(m->text, m->len)) {
		if (fetch_whole(b, m) == -1)
			return -1;
		rc = retmsg_scan(m->text, m->len, match_cb, mt);
	}
	if (mt->error) {
		log_errx("account=%s sentlog=%s", b->a->name,
		    sentlog_error(b->sl));
		set_rc(b, EX_IOERR);
		b->db_failed = 1;
		return -1;
	}
	return rc > 0;
}

static int
mark(struct box *b, unsigned long long uid)
{
	char text[IMAP_TEXT_MAX];
	enum imap_status st;

	if (b->o->mark == MARK_MOVE && imap_has(b->im, "MOVE"))
		st = imap_cmd(b->im, NULL, NULL, text, sizeof(text),
		    "UID MOVE %llu \"%s\"", uid, b->o->folder);
	else {
		st = IMAP_OK;
		if (b->o->mark == MARK_MOVE)
			st = imap_cmd(b->im, NULL, NULL, text, sizeof(text),
			    "UID COPY %llu \"%s\"", uid, b->o->folder);
		if (st == IMAP_OK)
			st = imap_cmd(b->im, NULL, NULL, text, sizeof(text),
			    "UID STORE %llu +FLAGS.SILENT (%s)", uid,
			    b->o->keyword);
	}
	if (st != IMAP_OK) {
		log_fail(b, "marking a message failed", text);
		set_rc(b, EX_TEMPFAIL);
		return -1;
	}
	return 0;
}

/* 0, or -1 (logged) when the sent log could not be written: the run
 * stops, since it can no longer tell what it handed over. */
static int
set_state(struct box *b, const struct match *mt, unsigned long long uid,
    const char *state)
{
	if (sentlog_return_set(b->sl, b->a->name, (long long)b->uidvalidity,
	    (long long)uid, retmsg_kind_name(mt->kind), mt->sent_id, mt->rcpt,
	    state) == -1) {
		log_errx("account=%s uid=%llu state=%s sentlog=%s", b->a->name,
		    uid, state, sentlog_error(b->sl));
		set_rc(b, EX_IOERR);
		b->db_failed = 1;
		return -1;
	}
	return 0;
}

/* Claim, hand over, record: 0 when it may be marked. */
static int
deliver(struct box *b, struct msg *m, struct match *mt, char *q, size_t qs)
{
	char err[512], e[600], r[300];
	int rc;

	if (!m->whole && fetch_whole(b, m) == -1)
		return -1;
	if (set_state(b, mt, m->uid, "claimed") == -1)
		return -1;
	rc = handoff(b->o->sendmail, mt->rcpt, m->text, m->len, err,
	    sizeof(err));
	log_quote(r, sizeof(r), mt->rcpt);
	if (rc == 0) {
		log_info("account=%s uid=%llu kind=%s msgid=%s rcpt=%s "
		    "result=delivered", b->a->name, m->uid,
		    retmsg_kind_name(mt->kind), q, r);
		return set_state(b, mt, m->uid, "delivered");
	}
	log_errx("account=%s uid=%llu kind=%s msgid=%s rcpt=%s result=%s "
	    "reason=%s", b->a->name, m->uid, retmsg_kind_name(mt->kind), q,
	    r, rc == 1 ? "failed" : "unknown", log_quote(e, sizeof(e), err));
	if (rc == 1)
		(void)set_state(b, mt, m->uid, "failed");
	set_rc(b, EX_TEMPFAIL);
	return -1;
}

static void
one_message(struct box *b, struct msg *m)
{
	struct match mt = { .b = b, .uid = m->uid };
	char state[32] = "", q[RETMSG_ID_MAX + 8], r[300];
	int rc;

	if ((rc = find_match(b, m, &mt)) <= 0) {
		if (rc == 0)
			log_debug("account=%s uid=%llu result=untouched "
			    "reason=\"names no message in the sent log\"",
			    b->a->name, m->uid);
		goto out;
	}
	log_quote(q, sizeof(q), mt.msgid);
	if (*mt.rcpt == '\0') {
		log_info("account=%s uid=%llu msgid=%s result=skipped "
		    "reason=\"sent with the null sender\"", b->a->name,
		    m->uid, q);
		goto out;
	}
	if (sentlog_return_state(b->sl, b->a->name,
	    (long long)b->uidvalidity, (long long)m->uid, state,
	    sizeof(state)) == -1) {
		log_errx("account=%s sentlog=%s", b->a->name,
		    sentlog_error(b->sl));
		set_rc(b, EX_IOERR);
		b->db_failed = 1;
		goto out;
	}
	if (strcmp(state, "marked") == 0)
		goto out;
	if (strcmp(state, "claimed") == 0)
		log_warnx("account=%s uid=%llu kind=%s msgid=%s rcpt=%s "
		    "state=claimed result=not-handed-again reason=\"an earlier "
		    "run stopped while handing it to sendmail; it may not have "
		    "arrived\"", b->a->name, m->uid,
		    retmsg_kind_name(mt.kind), q,
		    log_quote(r, sizeof(r), mt.rcpt));
	else if (strcmp(state, "delivered") != 0 &&
	    deliver(b, m, &mt, q, sizeof(q)) == -1)
		goto out;
	if (mark(b, m->uid) == 0)
		(void)set_state(b, &mt, m->uid, "marked");
out:
	free(mt.rcpt);
}

/* "1,2,3" of uids[i .. i+n). */
static char *
uid_set(const unsigned long long *uids, size_t n)
{
	char *s = xmalloc(n * 21 + 1), *p = s;

	*s = '\0';
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s%llu", i ? "," : "", uids[i]);
	return s;
}

static void
walk(struct box *b)
{
	char text[IMAP_TEXT_MAX];

	for (size_t i = 0; i < b->nuids && !b->db_failed; i += CHUNK) {
		size_t n = b->nuids - i < CHUNK ? b->nuids - i : CHUNK;
		char *set = uid_set(b->uids + i, n);
		enum imap_status st;

		st = imap_cmd(b->im, fetch_cb, b, text, sizeof(text),
		    "UID FETCH %s (UID RFC822.SIZE BODY.PEEK[HEADER])", set);
		free(set);
		if (st != IMAP_OK) {
			log_fail(b, "fetching headers failed", text);
			set_rc(b, EX_TEMPFAIL);
			msgs_free(b);
			return;
		}
		for (size_t j = 0; j < b->nmsgs && !b->db_failed; j++)
			one_message(b, &b->msgs[j]);
		msgs_free(b);
	}
}

/* The code or token into secret (wiped by the caller). */
static int
get_secret(struct box *b, char *secret, size_t size)
{
	char err[1024], q[1100];
	const char *code;

	if (b->a->auth_kind == AUTHK_XOAUTH2) {
		if (oauth_access_token(b->cfg->conf, b->a, secret, size, err,
		    sizeof(err)) == 0)
			return 0;
		log_errx("account=%s oauth=failed reason=%s", b->a->name,
		    log_quote(q, sizeof(q), err));
		return EX_NOPERM;
	}
	code = b->cfg->secrets ? secrets_get(b->cfg->secrets, b->a->name) :
	    NULL;
	if (code == NULL) {
		log_errx("account=%s error=\"no code in the secrets file\"",
		    b->a->name);
		return EX_CONFIG;
	}
	if (xstrlcpy(secret, code, size) >= size)
		return EX_CONFIG;
	return 0;
}

static int
login(struct box *b)
{
	const char *user = b->a->login ? b->a->login : b->a->name;
	char text[IMAP_TEXT_MAX], *secret = xmalloc(OAUTH_TOKEN_MAX);
	enum imap_status st;
	int rc;

	if ((rc = get_secret(b, secret, OAUTH_TOKEN_MAX)) != 0) {
		free_secret(secret);
		return rc;
	}
	if (b->a->auth_kind == AUTHK_XOAUTH2)
		st = imap_xoauth2(b->im, user, secret, text, sizeof(text));
	else
		st = imap_login(b->im, user, secret, text, sizeof(text));
	wipe(secret, OAUTH_TOKEN_MAX);
	free(secret);
	if (st == IMAP_OK)
		return 0;
	log_fail(b, st == IMAP_FAIL ? "connection lost at login" :
	    "login refused: check the account's code (secrets) and that "
	    "IMAP is enabled for the mailbox", text);
	if (st == IMAP_NO && b->a->auth_kind == AUTHK_XOAUTH2)
		oauth_forget(b->a->name);
	return st == IMAP_FAIL ? EX_TEMPFAIL : EX_NOPERM;
}

static int
open_box(struct box *b)
{
	char text[IMAP_TEXT_MAX], since[32];
	time_t t = time(NULL) - (time_t)b->o->days * 86400;
	struct tm tm;
	int rc;

	if ((rc = login(b)) != 0)
		return rc;
	if (imap_id(b->im, RETURN_VERSION, text, sizeof(text)) == IMAP_FAIL) {
		log_fail(b, "connection lost after ID", text);
		return EX_TEMPFAIL;
	}
	if (b->o->mark == MARK_MOVE) {
		(void)imap_capability(b->im, text, sizeof(text));
		(void)imap_cmd(b->im, NULL, NULL, text, sizeof(text),
		    "CREATE \"%s\"", b->o->folder);
	}
	if (imap_select(b->im, "INBOX", &b->uidvalidity, text,
	    sizeof(text)) != IMAP_OK || b->uidvalidity == 0) {
		log_fail(b, "SELECT INBOX failed", text);
		return EX_UNAVAILABLE;
	}
	gmtime_r(&t, &tm);
	strftime(since, sizeof(since), "%d-%b-%Y", &tm);
	if (imap_cmd(b->im, search_cb, b, text, sizeof(text), "UID SEARCH "
	    "UNDELETED UNKEYWORD %s SINCE %s", b->o->keyword, since) !=
	    IMAP_OK) {
		log_fail(b, "SEARCH failed", text);
		return EX_UNAVAILABLE;
	}
	return 0;
}

int
mailbox_run(const struct config *cfg, const struct account *a,
    struct sentlog *sl, const struct return_opts *o)
{
	const struct preset *p = a->preset;
	struct box b = { .cfg = cfg, .a = a, .sl = sl, .o = o };
	unsigned port = a->imap_port ? a->imap_port :
	    p && p->imap_port ? p->imap_port : 993;
	const char *ca = a->ca_file ? a->ca_file : cfg->conf->ca_file;
	char err[1024];

	b.host = a->imap_host ? a->imap_host : p ? p->imap_host : NULL;
	if (b.host == NULL) {
		log_errx("account=%s error=\"no IMAP server known: set "
		    "imap-host in its [account] block\"", a->name);
		return EX_CONFIG;
	}
	if ((b.im = imap_connect(b.host, port, ca, o->timeout_ms, err,
	    sizeof(err))) == NULL) {
		log_fail(&b, err, NULL);
		return EX_UNAVAILABLE;
	}
	if ((b.rc = open_box(&b)) == 0) {
		log_info("account=%s imap=%s uidvalidity=%llu candidates=%zu",
		    a->name, imap_peer(b.im), b.uidvalidity, b.nuids);
		walk(&b);
	}
	imap_close(b.im);
	free(b.uids);
	return b.rc;
}
