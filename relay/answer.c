/*
 * answer — see answer.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "answer.h"
#include "util.h"

/* Provider replies that mean "too much, try later" (shared/providers.md).
 * code 0 matches any code; enhanced NULL any enhanced code; text is
 * searched case-insensitively in the reply text. */
static const struct {
	int		 code;
	const char	*enhanced;
	const char	*text;
} quota_replies[] = {
	{ 550, "5.4.5", NULL },			/* Gmail daily sending quota */
	{ 0, NULL, "Daily sending quota exceeded" },
	{ 0, NULL, "Daily user sending quota exceeded" },
	{ 0, NULL, "MI:SFQ" },			/* NetEase: sending frequency */
	{ 0, NULL, "RP:QRC" },			/* NetEase: recipients quota */
	{ 0, NULL, "RP:RCL" },			/* NetEase: recipient count */
	{ 0, NULL, "MI:STC" },			/* NetEase: session count */
	{ 0, NULL, "HL:ICC" },			/* NetEase: IP connections */
	{ 0, NULL, "SubmissionQuotaExceeded" },	/* Microsoft 365 */
};

int
answer_is_quota(const struct smtp_reply *r)
{
	if (r->local || r->code < 400)
		return 0;
	for (size_t i = 0; i < sizeof(quota_replies) / sizeof(quota_replies[0]);
	    i++) {
		if (quota_replies[i].code && quota_replies[i].code != r->code)
			continue;
		if (quota_replies[i].enhanced &&
		    strcmp(quota_replies[i].enhanced, r->enhanced) != 0)
			continue;
		if (quota_replies[i].text &&
		    strcasestr(r->text, quota_replies[i].text) == NULL)
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
