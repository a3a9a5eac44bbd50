/*
 * diag — a list of configuration diagnostics, each "file:line: message".
 *
 * Loaders (conf, relaymap, secrets, config) never print: they append to a
 * struct diag and return.  The edges decide what to do with it:
 * smarthostctl check prints every entry, the daemons log them and, on a
 * reload, keep the old configuration when diag_errors() is non-zero.
 *
 * file may be NULL (no file), line 0 means "the whole file".  The strings
 * are copied.  Messages never contain secrets: callers name the account,
 * never the code.
 */
#ifndef SMARTHOST_DIAG_H
#define SMARTHOST_DIAG_H

#include <stddef.h>
#include <stdio.h>

#include "util.h"

enum diag_level { DIAG_WARNING, DIAG_ERROR };

struct diag_entry {
	enum diag_level	 level;
	char		*file;
	unsigned	 line;
	char		*msg;
};

struct diag {
	struct diag_entry *v;
	size_t		 n, cap;
	size_t		 nerrors;
};

void	diag_init(struct diag *);
void	diag_free(struct diag *);
void	diag_add(struct diag *, enum diag_level, const char *file,
	    unsigned line, const char *fmt, ...) SH_PRINTF(5, 6);
#define diag_error(d, f, l, ...)   diag_add(d, DIAG_ERROR, f, l, __VA_ARGS__)
#define diag_warning(d, f, l, ...) diag_add(d, DIAG_WARNING, f, l, __VA_ARGS__)
size_t	diag_errors(const struct diag *);
/* "file:line: message" or "file: message" or "message", with
 * "warning: " before the message for warnings.  Returns buf. */
char	*diag_format(const struct diag_entry *, char *buf, size_t size);
/* Print every entry, one per line, to fp. */
void	diag_print(const struct diag *, FILE *fp);

#endif
