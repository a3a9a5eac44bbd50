/*
 * json — see json.h.
 */
#include <stdio.h>
#include <string.h>

#include "json.h"

void
json_init(struct json *j, FILE *fp)
{
	memset(j, 0, sizeof(*j));
	j->fp = fp;
}

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one. */
static size_t
utf8_len(const unsigned char *s)
{
	size_t n;
	unsigned min, cp;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	n = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
	cp = s[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void
json_escape(FILE *fp, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	putc('"', fp);
	while (*s) {
		size_t n;

		if (*s == '"' || *s == '\\') {
			fprintf(fp, "\\%c", *s++);
		} else if (*s == '\n') {
			fputs("\\n", fp), s++;
		} else if (*s == '\t') {
			fputs("\\t", fp), s++;
		} else if (*s < 0x20 || *s == 0x7f) {
			fprintf(fp, "\\u%04x", *s++);
		} else if (*s < 0x80) {
			putc(*s++, fp);
		} else if ((n = utf8_len(s)) > 0) {
			fwrite(s, 1, n, fp);
			s += n;
		} else {
			fputs("\\ufffd", fp), s++;
		}
	}
	putc('"', fp);
}

static void
item(struct json *j, const char *key)
{
	if (j->depth > 0 && j->count[j->depth - 1]++ > 0)
		putc(',', j->fp);
	if (j->depth > 0)
		fprintf(j->fp, "\n%*s", 2 * j->depth, "");
	if (key) {
		json_escape(j->fp, key);
		fputs(": ", j->fp);
	}
}

void
json_open(struct json *j, const char *key, char bracket)
{
	if (j->depth >= JSON_DEPTH)
		return;
	item(j, key);
	putc(bracket, j->fp);
	j->count[j->depth++] = 0;
}

void
json_close(struct json *j, char bracket)
{
	if (j->depth == 0)
		return;
	if (j->count[--j->depth] > 0)
		fprintf(j->fp, "\n%*s", 2 * j->depth, "");
	putc(bracket, j->fp);
	if (j->depth == 0)
		putc('\n', j->fp);
}

void
json_str(struct json *j, const char *key, const char *v)
{
	item(j, key);
	if (v)
		json_escape(j->fp, v);
	else
		fputs("null", j->fp);
}

void
json_uint(struct json *j, const char *key, unsigned long v)
{
	item(j, key);
	fprintf(j->fp, "%lu", v);
}

void
json_bool(struct json *j, const char *key, int v)
{
	item(j, key);
	fputs(v ? "true" : "false", j->fp);
}

void
json_tri(struct json *j, const char *key, int v)
{
	item(j, key);
	fputs(v < 0 ? "null" : v ? "true" : "false", j->fp);
}
