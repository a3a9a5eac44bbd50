/*
 * dataend — see dataend.h.  A state machine over the bytes; the state
 * also says which bytes are held back.
 */
#include <string.h>

#include "dataend.h"

enum {
	DE_BOL,		/* after <CR><LF>: a line starts */
	DE_TEXT,	/* inside a line (or after a bare <LF> or <CR>) */
	DE_CR,		/* <CR> inside a line, held */
	DE_DOT,		/* "." at the start of a line, held */
	DE_DOTCR,	/* ".<CR>" at the start of a line, held */
	DE_END		/* <CR><LF>.<CR><LF> seen */
};

void
dataend_init(struct dataend *d)
{
	memset(d, 0, sizeof(*d));
	d->state = DE_BOL;	/* DATA's own <CR><LF> came before */
}

/* The held bytes of state st, released into out at *o. */
static void
release(int st, char *out, size_t *o)
{
	if (st == DE_DOT || st == DE_DOTCR)
		out[(*o)++] = '.';
	if (st == DE_CR || st == DE_DOTCR)
		out[(*o)++] = '\r';
}

/* One byte c in state st: the next state; what st held and c are
 * copied out unless they may still be the terminator or a bare <CR>. */
static int
step(struct dataend *d, int st, char c, char *out, size_t *o)
{
	if (st == DE_DOT && c == '\r')
		return DE_DOTCR;
	if (st == DE_DOTCR && c == '\n')
		return DE_END;
	if ((st == DE_CR || st == DE_DOTCR) && c != '\n')
		d->bare |= DATAEND_BARE_CR;
	release(st, out, o);
	if (st == DE_BOL && c == '.')
		return DE_DOT;
	if (c == '\r')
		return DE_CR;
	if (c == '\n') {
		if (st != DE_CR)
			d->bare |= DATAEND_BARE_LF;
		out[(*o)++] = c;
		return st == DE_CR ? DE_BOL : DE_TEXT;
	}
	out[(*o)++] = c;
	return DE_TEXT;
}

size_t
dataend_scan(struct dataend *d, const char *buf, size_t len, char *out,
    size_t *outlen)
{
	size_t i, o = 0;

	for (i = 0; i < len && !d->done; i++) {
		d->state = step(d, d->state, buf[i], out, &o);
		d->done = d->state == DE_END;
	}
	*outlen = o;
	return i;
}
