/*
 * json — a tiny JSON writer for smarthostctl's --json output.
 *
 * Values are written as they come, with commas and indentation handled
 * here; strings are escaped ('"', '\\', control characters) and any byte
 * sequence that is not valid UTF-8 becomes U+FFFD, so the output always
 * parses.  A NULL string is written as null.  Nesting is bounded by
 * JSON_DEPTH; deeper calls are ignored (a programming error, not input).
 */
#ifndef SMARTHOST_CTL_JSON_H
#define SMARTHOST_CTL_JSON_H

#include <stdio.h>

#define JSON_DEPTH 8

struct json {
	FILE	*fp;
	int	 depth;
	int	 count[JSON_DEPTH];
};

void	json_init(struct json *, FILE *);
/* Open '{' or '[' under key (NULL inside arrays and at the top). */
void	json_open(struct json *, const char *key, char bracket);
void	json_close(struct json *, char bracket);
void	json_str(struct json *, const char *key, const char *v);
void	json_uint(struct json *, const char *key, unsigned long v);
void	json_bool(struct json *, const char *key, int v);
/* enum tri: true, false, or null for unknown. */
void	json_tri(struct json *, const char *key, int v);
/* Write s as a JSON string literal. */
void	json_escape(FILE *, const char *s);

#endif
