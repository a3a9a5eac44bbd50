/*
 * util — allocators that never return NULL, checked string copies and
 * secret wiping.  Every module uses these instead of the bare libc calls.
 *
 * x*alloc() and xstrdup() abort with a message on exhaustion: a mail daemon
 * that cannot allocate a few hundred bytes cannot do anything useful, and the
 * callers stay simple.  xstrlcpy() returns the length it tried to create, so
 * "xstrlcpy(...) >= size" is the truncation test, as with BSD strlcpy().
 */
#ifndef SMARTHOST_UTIL_H
#define SMARTHOST_UTIL_H

#include <stdarg.h>
#include <stddef.h>

#define SH_PRINTF(f, a) __attribute__((format(printf, f, a)))

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
char	*xasprintf(const char *, ...) SH_PRINTF(1, 2);
size_t	 xstrlcpy(char *, const char *, size_t);
size_t	 xstrlcat(char *, const char *, size_t);

/* Overwrite len bytes so the compiler cannot elide it. */
void	 wipe(void *, size_t);
/* Wipe a NUL-terminated string in place, then free it.  NULL is fine. */
void	 free_secret(char *);

/* Lower-case ASCII letters in place; returns s. */
char	*str_lower(char *s);
/* Trim ASCII white space at both ends in place; returns the new start. */
char	*str_trim(char *s);
/* Milliseconds on the monotonic clock, for deadlines and intervals. */
long long mono_ms(void);

/* 1 if s holds only 7-bit bytes (no UTF-8), else 0. */
int	 str_is_ascii(const char *s);

/* Fill buf (size > 0) with a printable copy of untrusted text: bytes
 * outside 0x20..0x7e become '?', the copy is cut at size-1.  For logging
 * remote replies and header values. */
char	*str_printable(char *buf, size_t size, const char *s, size_t len);

#endif
