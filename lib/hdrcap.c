/*
 * hdrcap — see hdrcap.h.  A small state machine over the bytes collects
 * one unfolded field at a time; a complete field is looked at when the
 * next one starts or the header section ends.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "hdrcap.h"
#include "util.h"

enum {
	HC_BOL,		/* at the start of a line */
	HC_FIELD,	/* inside a field's line */
	HC_CR,		/* <CR> at the start of a line: the empty line? */
	HC_DONE		/* the header section is over */
};

void
hdrcap_init(struct hdrcap *h)
{
	memset(h, 0, sizeof(*h));
	h->state = HC_BOL;
}

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* "<id>" (or a bare id): the id, printable, without blanks. */
static void
take_msgid(struct hdrcap *h, const char *v)
{
	const char *end;

	while (is_wsp(*v))
		v++;
	if (*v == '<') {
		v++;
		end = strchr(v, '>');
	} else
		end = v + strcspn(v, " \t");
	if (end == NULL || end == v ||
	    (size_t)(end - v) >= sizeof(h->message_id) ||
	    memchr(v, ' ', (size_t)(end - v)) != NULL ||
	    memchr(v, '\t', (size_t)(end - v)) != NULL)
		return;
	str_printable(h->message_id, sizeof(h->message_id), v,
	    (size_t)(end - v));
}

static void
take_from(struct hdrcap *h, const char *v)
{
	struct mailbox mb[1];
	char err[256];
	size_t n;

	if (addr_parse_mailboxes(v, mb, 1, &n, err, sizeof(err)) != 0 ||
	    n < 1)
		return;
	addr_key(&mb[0].addr, h->from, sizeof(h->from));
	/* a quoted local part may hold a TAB: no control characters */
	for (const char *p = h->from; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			h->from[0] = '\0';
			return;
		}
}

/* Postfix's "by HOST (Postfix...) ... id QUEUEID": the word after "id"
 * once "(Postfix" was seen. */
static void
take_queue_id(struct hdrcap *h, const char *v)
{
	const char *p = strstr(v, "(Postfix");
	size_t n;

	if (p == NULL)
		return;
	for (p += 8; *p != '\0'; p++) {
		if (!is_wsp(p[-1]) || strncmp(p, "id", 2) != 0 ||
		    !is_wsp(p[2]))
			continue;
		for (p += 2; is_wsp(*p); p++)
			;
		for (n = 0; isalnum((unsigned char)p[n]); n++)
			;
		if (n > 0 && n < sizeof(h->queue_id) &&
		    (p[n] == '\0' || p[n] == ';' || is_wsp(p[n]))) {
			memcpy(h->queue_id, p, n);
			h->queue_id[n] = '\0';
		}
		return;
	}
}

/* One complete field. */
static void
field_done(struct hdrcap *h)
{
	char *colon, *name = h->field;
	size_t nlen;

	int skip = h->overflow;

	if (h->len == 0)
		return;
	h->field[h->len] = '\0';
	h->len = 0;
	h->overflow = 0;
	if ((colon = strchr(name, ':')) == NULL)
		return;
	for (nlen = (size_t)(colon - name); nlen > 0 && is_wsp(name[nlen - 1]);
	    nlen--)
		;
	/* an over-long field is skipped, but a Received: was topmost */
	if (skip) {
		if (nlen == 8 && strncasecmp(name, "Received", 8) == 0)
			h->received = 1;
	} else if (nlen == 10 && strncasecmp(name, "Message-ID", 10) == 0 &&
	    !h->have_msgid) {
		h->have_msgid = 1;
		take_msgid(h, colon + 1);
	} else if (nlen == 4 && strncasecmp(name, "From", 4) == 0 &&
	    !h->have_from) {
		h->have_from = 1;
		take_from(h, colon + 1);
	} else if (nlen == 8 && strncasecmp(name, "Received", 8) == 0 &&
	    !h->received) {
		h->received = 1;
		take_queue_id(h, colon + 1);
	}
}

static void
append(struct hdrcap *h, char c)
{
	if (h->len + 1 < sizeof(h->field))
		h->field[h->len++] = c;
	else
		h->overflow = 1;
}

static int
step(struct hdrcap *h, int st, char c)
{
	switch (st) {
	case HC_BOL:
		if (is_wsp(c)) {	/* folded: the field goes on */
			append(h, c);
			return HC_FIELD;
		}
		if (c == '\r')
			return HC_CR;
		field_done(h);
		if (c == '\n')		/* a bare empty line */
			return HC_DONE;
		append(h, c);
		return HC_FIELD;
	case HC_FIELD:
		if (c == '\n')
			return HC_BOL;
		if (c != '\r')
			append(h, c);
		return HC_FIELD;
	case HC_CR:
		field_done(h);
		return HC_DONE;
	default:
		return HC_DONE;
	}
}

void
hdrcap_feed(struct hdrcap *h, const char *buf, size_t len)
{
	for (size_t i = 0; i < len && h->state != HC_DONE; i++)
		h->state = step(h, h->state, buf[i]);
}

void
hdrcap_end(struct hdrcap *h)
{
	if (h->state != HC_DONE)
		field_done(h);
	h->state = HC_DONE;
}
