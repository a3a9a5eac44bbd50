/*
 * log — see log.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "diag.h"
#include "log.h"

static int log_stderr = 1;
static int log_verbose;
static const char *log_ident = "smarthost";

void
log_init(const char *ident, int to_stderr, int debug)
{
	log_ident = ident;
	log_stderr = to_stderr;
	log_verbose = debug;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

static void
vlog(int pri, const char *fmt, va_list ap, const char *suffix)
{
	char buf[4096];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (log_stderr)
		fprintf(stderr, "%s: %s%s%s\n", log_ident,
		    pri == LOG_ERR ? "error: " :
		    pri == LOG_WARNING ? "warning: " : "",
		    buf, suffix ? suffix : "");
	else
		syslog(pri, "%s%s", buf, suffix ? suffix : "");
}

#define LOGFN(name, pri, cond)				\
void							\
name(const char *fmt, ...)				\
{							\
	va_list ap;					\
	if (!(cond))					\
		return;					\
	va_start(ap, fmt);				\
	vlog(pri, fmt, ap, NULL);			\
	va_end(ap);					\
}

LOGFN(log_debug, LOG_DEBUG, log_verbose)
LOGFN(log_info, LOG_INFO, 1)
LOGFN(log_warnx, LOG_WARNING, 1)
LOGFN(log_errx, LOG_ERR, 1)

void
log_warn(const char *fmt, ...)
{
	char suffix[256];
	va_list ap;

	snprintf(suffix, sizeof(suffix), ": %s", strerror(errno));
	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, suffix);
	va_end(ap);
}

const char *
log_quote(char *buf, size_t size, const char *s)
{
	size_t i = 0, need_quote = 0;

	if (s == NULL)
		s = "";
	for (const char *p = s; *p; p++)
		if (*p == ' ' || *p == '"' || *p == '=' || *p == '\t')
			need_quote = 1;
	if (*s == '\0')
		need_quote = 1;
	if (size < 3) {
		if (size)
			buf[0] = '\0';
		return buf;
	}
	if (need_quote)
		buf[i++] = '"';
	for (const char *p = s; *p && i + 1 + need_quote < size; p++) {
		unsigned char c = (unsigned char)*p;
		buf[i++] = (c >= 0x20 && c < 0x7f && c != '"') ? (char)c : '?';
	}
	if (need_quote)
		buf[i++] = '"';
	buf[i] = '\0';
	return buf;
}

size_t
log_diag(const struct diag *d)
{
	char buf[1024];

	for (size_t i = 0; i < d->n; i++) {
		diag_format(&d->v[i], buf, sizeof(buf));
		if (d->v[i].level == DIAG_ERROR)
			log_errx("%s", buf);
		else
			log_warnx("%s", buf);
	}
	return diag_errors(d);
}
