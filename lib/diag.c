/*
 * diag — see diag.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "diag.h"
#include "util.h"

void
diag_init(struct diag *d)
{
	d->v = NULL;
	d->n = d->cap = d->nerrors = 0;
}

void
diag_free(struct diag *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	diag_init(d);
}

void
diag_add(struct diag *d, enum diag_level level, const char *file,
    unsigned line, const char *fmt, ...)
{
	struct diag_entry *e;
	va_list ap;

	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 8;
		d->v = xreallocarray(d->v, d->cap, sizeof(*d->v));
	}
	e = &d->v[d->n++];
	e->level = level;
	e->file = file ? xstrdup(file) : NULL;
	e->line = line;
	va_start(ap, fmt);
	if (vasprintf(&e->msg, fmt, ap) < 0)
		e->msg = xstrdup(fmt);
	va_end(ap);
	if (level == DIAG_ERROR)
		d->nerrors++;
}

size_t
diag_errors(const struct diag *d)
{
	return d->nerrors;
}

char *
diag_format(const struct diag_entry *e, char *buf, size_t size)
{
	const char *w = e->level == DIAG_WARNING ? "warning: " : "";

	if (e->file && e->line)
		snprintf(buf, size, "%s:%u: %s%s", e->file, e->line, w, e->msg);
	else if (e->file)
		snprintf(buf, size, "%s: %s%s", e->file, w, e->msg);
	else
		snprintf(buf, size, "%s%s", w, e->msg);
	return buf;
}

void
diag_print(const struct diag *d, FILE *fp)
{
	char buf[2048];

	for (size_t i = 0; i < d->n; i++)
		fprintf(fp, "%s\n", diag_format(&d->v[i], buf, sizeof(buf)));
}
