/*
 * log — "smarthostctl log ADDRESS|MESSAGE-ID|QUEUE-ID [--json]": what
 * became of someone's recent mail, from the relay's sent log
 * (STATE-DIR/sent.db, lib/sentlog.h), opened read only.
 *
 * The key is matched against the envelope sender and the From: address
 * (ignoring case), the Message-ID (with or without its angle brackets)
 * and the Postfix queue id.  One block per row, newest first: time, queue
 * id, Message-ID, From: and envelope sender, account and login,
 * recipients, status with the provider's (or the relay's) reply, and
 * each bounce or reply smarthost-return handed back for it.  --json
 * prints one object {"key": ..., "messages": [...]}.
 *
 * Exit codes (smarthostctl(8)), like grep: EX_OK when something was
 * found, 1 when nothing was; EX_UNAVAILABLE when sent-log-days is 0;
 * EX_NOINPUT without smarthost.conf or without a sent log yet; EX_IOERR
 * when the log cannot be read; EX_CONFIG for a configuration with errors.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "conf.h"
#include "ctl.h"
#include "json.h"
#include "sentlog.h"

#define LOG_NOTHING	1	/* nothing found, as grep */

struct log_out {
	struct sentlog	*sl;
	struct json	 j;
	int		 json;
	int		 n;
	int		 failed;
};

static const char *
when(long long t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M:%S %z", &tm);
	return buf;
}

static int
print_returned_text(const char *kind, const char *rcpt, const char *state,
    long long t, void *arg)
{
	char tb[64];

	printf("returned: %s to %s at %s (%s)\n", kind, rcpt,
	    when(t, tb, sizeof(tb)), state);
	return 0;
}

static void
print_text(struct log_out *o, const struct sentlog_entry *e)
{
	char tb[64];

	if (o->n > 1)
		printf("\n");
	printf("time: %s\n", when(e->time, tb, sizeof(tb)));
	printf("queue-id: %s\n", e->queue_id ? e->queue_id : "unknown");
	if (e->message_id)
		printf("message-id: <%s>\n", e->message_id);
	else
		printf("message-id: none\n");
	printf("from: %s\n", e->header_from ? e->header_from : "unknown");
	printf("envelope-from: %s\n", *e->env_from ? e->env_from : "<>");
	printf("account: %s (login %s)\n", e->account, e->login);
	printf("recipients: %s\n", *e->rcpts ? e->rcpts : "none");
	printf("status: %s\n", e->status);
	if (e->reply)
		printf("reply: %s\n", e->reply);
	if (sentlog_returned_for(o->sl, e->id, print_returned_text, NULL) ==
	    -1)
		o->failed = 1;
}

static int
print_returned_json(const char *kind, const char *rcpt, const char *state,
    long long t, void *arg)
{
	struct json *j = arg;

	json_open(j, NULL, '{');
	json_str(j, "kind", kind);
	json_str(j, "to", rcpt);
	json_str(j, "state", state);
	json_uint(j, "time", t > 0 ? (unsigned long)t : 0);
	json_close(j, '}');
	return 0;
}

static void
print_json(struct log_out *o, const struct sentlog_entry *e)
{
	struct json *j = &o->j;
	char rc[2048], *tok, *save = NULL, tb[64];

	json_open(j, NULL, '{');
	json_uint(j, "time", e->time > 0 ? (unsigned long)e->time : 0);
	json_str(j, "date", when(e->time, tb, sizeof(tb)));
	json_str(j, "queue_id", e->queue_id);
	json_str(j, "message_id", e->message_id);
	json_str(j, "from", e->header_from);
	json_str(j, "envelope_from", e->env_from);
	json_str(j, "account", e->account);
	json_str(j, "login", e->login);
	json_open(j, "recipients", '[');
	snprintf(rc, sizeof(rc), "%s", e->rcpts);
	for (tok = strtok_r(rc, " ", &save); tok; tok = strtok_r(NULL, " ",
	    &save))
		json_str(j, NULL, tok);
	json_close(j, ']');
	json_str(j, "status", e->status);
	json_str(j, "reply", e->reply);
	json_open(j, "returned", '[');
	if (sentlog_returned_for(o->sl, e->id, print_returned_json, j) == -1)
		o->failed = 1;
	json_close(j, ']');
	json_close(j, '}');
}

static int
print_entry(const struct sentlog_entry *e, void *arg)
{
	struct log_out *o = arg;

	o->n++;
	if (o->json)
		print_json(o, e);
	else
		print_text(o, e);
	return 0;
}

/* The sent log, read only; NULL with *ex set after a message. */
static struct sentlog *
open_log(const struct ctl *c, const struct conf *conf, int *ex)
{
	struct sentlog *sl;
	char err[1024];

	if (conf->sent_log_days == 0) {
		fprintf(stderr, "%s: there is no sent log: sent-log-days is 0 "
		    "in %s\n", c->progname, c->conf_path);
		*ex = EX_UNAVAILABLE;
		return NULL;
	}
	if ((sl = sentlog_open(conf->state_dir, SENTLOG_RDONLY, err,
	    sizeof(err))) == NULL) {
		if (errno == ENOENT)
			fprintf(stderr, "%s: %s (the relay has recorded no "
			    "message yet)\n", c->progname, err);
		else
			fprintf(stderr, "%s: %s\n", c->progname, err);
		*ex = errno == ENOENT ? EX_NOINPUT : EX_IOERR;
	}
	return sl;
}

static int
log_args(int argc, char **argv, const char **key, int *json)
{
	*key = NULL;
	*json = 0;
	for (int i = 1; i < argc; i++) {
		if (ctl_flag(argv[i], "--json"))
			*json = 1;
		else if (argv[i][0] == '-' || *key != NULL || !*argv[i])
			return -1;
		else
			*key = argv[i];
	}
	return *key != NULL ? 0 : -1;
}

int
cmd_log(const struct ctl *c, int argc, char **argv)
{
	struct log_out o;
	struct conf *conf;
	const char *key;
	int ex, rc;

	memset(&o, 0, sizeof(o));
	if (log_args(argc, argv, &key, &o.json) == -1)
		return ctl_usage(c, argv[0]);
	if ((conf = ctl_load_conf(c, &ex)) == NULL)
		return ex;
	if ((o.sl = open_log(c, conf, &ex)) == NULL) {
		conf_free(conf);
		return ex;
	}
	if (o.json) {
		json_init(&o.j, stdout);
		json_open(&o.j, NULL, '{');
		json_str(&o.j, "key", key);
		json_open(&o.j, "messages", '[');
	}
	rc = sentlog_query(o.sl, key, print_entry, &o);
	if (o.json) {
		json_close(&o.j, ']');
		json_close(&o.j, '}');
	}
	if (rc == -1 || o.failed) {
		fprintf(stderr, "%s: %s\n", c->progname, sentlog_error(o.sl));
		ex = EX_IOERR;
	} else if (o.n == 0) {
		fprintf(stderr, "%s: nothing in the sent log for %s (it keeps "
		    "%u days)\n", c->progname, key, conf->sent_log_days);
		ex = LOG_NOTHING;
	} else
		ex = EX_OK;
	sentlog_close(o.sl);
	conf_free(conf);
	return ex;
}
