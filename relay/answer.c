/*
 * answer — see answer.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "answer.h"
#include "util.h"

/* Provider replies that mean "too much, try later", anchored to the
 * provider's reply format: code (0: any), enhanced code (NULL: any) and
 * the diagnostic that opens the text (NULL: any).  The rest of the text is
 * never searched: providers echo the client's addresses there.
 *   START: the text begins with the diagnostic (NetEase "451 MI:SFQ ...",
 *          Gmail "550 5.4.5 Daily user sending quota exceeded.");
 *   WORD:  the diagnostic is part of the text's first word, as in
 *          Microsoft's "554 5.2.0 STOREDRV.Submission.Exception:
 *          SubmissionQuotaExceededException; ..." (a word holding '<',
 *          '>' or '@' is an address and never matches).
 * Sources: shared/providers.md rows 163.com (NetEase rate codes) and
 * gmail.com (550 5.4.5), as cited in lib/preset.c. */
enum quota_at { START, WORD };

static const struct {
	int		 code;
	const char	*enhanced;
	const char	*diag;
	enum quota_at	 at;
} quota_replies[] = {
	{ 550, "5.4.5", NULL, START },		/* Gmail daily sending quota */
	{ 0, NULL, "Daily sending quota exceeded", START },
	{ 0, NULL, "Daily user sending quota exceeded", START },
	{ 451, NULL, "MI:SFQ", START },		/* NetEase: sending frequency */
	{ 451, NULL, "RP:QRC", START },		/* NetEase: recipients quota */
	{ 550, NULL, "RP:RCL", START },		/* NetEase: recipient count */
	{ 554, NULL, "MI:STC", START },		/* NetEase: messages per day */
	{ 421, NULL, "HL:ICC", START },		/* NetEase: IP connections */
	{ 0, NULL, "SubmissionQuotaExceeded", WORD },	/* Microsoft 365 */
};

/* Where a diagnostic may end: the end, a space or punctuation that is
 * not part of an address or a longer token. */
static int
diag_end(char c)
{
	return c == '\0' || c == ' ' || c == ';' || c == ',' || c == '.' ||
	    c == ':';
}

static int
diag_matches(const char *text, const char *diag, enum quota_at at)
{
	size_t n = strlen(diag), wl = strcspn(text, " ");

	if (at == START)
		return strncasecmp(text, diag, n) == 0 && diag_end(text[n]);
	if (memchr(text, '<', wl) || memchr(text, '>', wl) ||
	    memchr(text, '@', wl))
		return 0;
	for (size_t i = 0; i + n <= wl; i++)
		if (strncasecmp(text + i, diag, n) == 0)
			return 1;
	return 0;
}

/* An addressing status (RFC 3463 X.1.Y: bad mailbox, bad sender ...)
 * speaks of one address, never of the account. */
static int
about_an_address(const struct smtp_reply *r)
{
	return r->enhanced[0] && r->enhanced[1] == '.' &&
	    r->enhanced[2] == '1' && r->enhanced[3] == '.';
}

int
answer_is_quota(const struct smtp_reply *r)
{
	if (r->local || r->code < 400 || about_an_address(r))
		return 0;
	for (size_t i = 0; i < sizeof(quota_replies) / sizeof(quota_replies[0]);
	    i++) {
		if (quota_replies[i].code && quota_replies[i].code != r->code)
			continue;
		if (quota_replies[i].enhanced &&
		    strcmp(quota_replies[i].enhanced, r->enhanced) != 0)
			continue;
		if (quota_replies[i].diag && !diag_matches(r->text,
		    quota_replies[i].diag, quota_replies[i].at))
			continue;
		return 1;
	}
	return 0;
}

/* "C.SSS.DDD" with C the reply's class digit (RFC 3463). */
static int
enhanced_ok(const char *e, int code)
{
	int cls, subj, det, n = 0;

	for (const char *p = e; *p; p++)
		if (!isdigit((unsigned char)*p) && *p != '.')
			return 0;
	if (sscanf(e, "%1d.%3d.%3d%n", &cls, &subj, &det, &n) != 3 ||
	    e[n] != '\0' || cls != code / 100)
		return 0;
	return 1;
}

const char *
answer_enhanced(const struct smtp_reply *r, char *buf, size_t size)
{
	if (enhanced_ok(r->enhanced, r->code))
		xstrlcpy(buf, r->enhanced, size);
	else if (r->code >= 400 && r->code < 600)
		snprintf(buf, size, "%d.0.0", r->code / 100);
	else if (r->code >= 200 && r->code < 300)
		xstrlcpy(buf, "2.0.0", size);
	else
		xstrlcpy(buf, "", size);
	return buf;
}

/* The words: "HOST said: 553 5.7.1 TEXT", or a synthetic reply's text. */
static void
words(const struct smtp_reply *r, char *buf, size_t size)
{
	char text[SMTP_REPLY_TEXT_MAX], head[300];

	str_printable(text, sizeof(text), r->text, strlen(r->text));
	buf[0] = '\0';
	if (!r->local) {
		snprintf(head, sizeof(head), "%.255s said: %d%s%.15s ",
		    r->host[0] ? r->host : "provider", r->code,
		    r->enhanced[0] ? " " : "", r->enhanced);
		xstrlcat(buf, head, size);
	}
	xstrlcat(buf, text, size);
}

void
answer_relayed(const struct smtp_reply *r, char *buf, size_t size)
{
	char enh[16];

	answer_enhanced(r, enh, sizeof(enh));
	answer_recoded(r, r->code, enh, NULL, buf, size);
}

void
answer_recoded(const struct smtp_reply *r, int code, const char *enhanced,
    const char *suffix, char *buf, size_t size)
{
	char head[32];

	if (size > ANSWER_MAX + 1)
		size = ANSWER_MAX + 1;
	snprintf(head, sizeof(head), "%d%s%.15s ", code, enhanced[0] ? " " : "",
	    enhanced);
	xstrlcpy(buf, head, size);
	words(r, buf + strlen(buf), size - strlen(buf));
	if (suffix != NULL) {
		xstrlcat(buf, "; ", size);
		xstrlcat(buf, suffix, size);
	}
}
