/*
 * log — the one logging interface of every smarthost program.
 *
 * log_init() chooses syslog (mail facility, the program's name) or stderr
 * (foreground runs and tests).  Lines are key=value where they describe an
 * event ("qid=4Xyz sender=a@b account=boss@163.com result=sent"); values
 * that come from outside are passed through log_quote() first.  Nothing
 * logged may contain a secret.
 */
#ifndef SMARTHOST_LOG_H
#define SMARTHOST_LOG_H

#include <stddef.h>

#include "util.h"

void	log_init(const char *ident, int to_stderr, int debug);
void	log_debug(const char *, ...) SH_PRINTF(1, 2);
void	log_info(const char *, ...) SH_PRINTF(1, 2);
void	log_warnx(const char *, ...) SH_PRINTF(1, 2);
void	log_errx(const char *, ...) SH_PRINTF(1, 2);
/* log_warnx() with ": strerror(errno)" appended. */
void	log_warn(const char *, ...) SH_PRINTF(1, 2);

struct diag;
/* Log every diagnostic ("file:line: message"), errors as errors and
 * warnings as warnings; returns the number of errors. */
size_t	log_diag(const struct diag *);

/* A log-safe copy of s: printable ASCII only, double-quoted when it holds
 * a space, '"' or '=', cut at size-1.  Returns buf. */
const char *log_quote(char *buf, size_t size, const char *s);

#endif
