/*
 * libFuzzer target: the input as smarthost.conf (conf_parse from memory).
 * Besides memory errors it checks two properties: the parser never loses
 * track of inih's section or continued option ("internal error"), and a
 * file that parses without an error is written back by conf_write() as
 * text that parses without an error to the same text (unless normalising
 * made a value longer than a line may be).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

static char *
written(const struct conf *c)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *fp = open_memstream(&buf, &size);

	conf_write(fp, c, 0);
	fclose(fp);
	return buf;
}

static size_t
longest_line(const char *s)
{
	size_t max = 0;

	while (*s) {
		size_t n = strcspn(s, "\n");

		if (n > max)
			max = n;
		s += n + (s[n] == '\n');
	}
	return max;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag d, d2;
	struct conf *c, *c2;
	char *out, *out2;

	diag_init(&d);
	c = conf_parse((const char *)data, size, "fuzz.conf", &d);
	for (size_t i = 0; i < d.n; i++)
		if (strncmp(d.v[i].msg, "internal error:", 15) == 0) {
			diag_print(&d, stderr);
			abort();
		}
	if (diag_errors(&d) == 0) {
		out = written(c);
		if (longest_line(out) > CONF_LINE_MAX) {
			/* normalising made a value too long to write back
			 * (an IDN domain grows as an A-label) */
			free(out);
			goto done;
		}
		diag_init(&d2);
		c2 = conf_parse(out, strlen(out), "written.conf", &d2);
		if (diag_errors(&d2) != 0) {
			diag_print(&d2, stderr);
			fprintf(stderr, "%s", out);
			abort();
		}
		out2 = written(c2);
		if (strcmp(out, out2) != 0) {
			fprintf(stderr, "%s\n---\n%s", out, out2);
			abort();
		}
		free(out2);
		free(out);
		conf_free(c2);
		diag_free(&d2);
	}
done:
	conf_free(c);
	diag_free(&d);
	return 0;
}
