/*
 * conf_value — typed option values: conf_set() parses what a file says
 * into a struct conf or struct account field, conf_format() writes a field
 * back as a file would say it (see conf.h).  Durations accept a suffix
 * s, m, h or d; sizes K, M or G (powers of 1024).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "util.h"

struct unit {
	char		 suffix;
	unsigned long	 factor;
};

static const struct unit seconds_units[] = {
	{ 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 }, { 0, 0 }
};
static const struct unit size_units[] = {
	{ 'G', 1UL << 30 }, { 'M', 1UL << 20 }, { 'K', 1UL << 10 }, { 0, 0 }
};

/* Digits and at most one suffix from units (case-insensitive).  0 and
 * *out, or -1 when s is not of that form or exceeds max. */
static int
parse_scaled(const char *s, const struct unit *units, unsigned long max,
    unsigned long *out)
{
	unsigned long long n = 0, f = 1;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (n > (max - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	if (*p && units) {
		const struct unit *u;

		for (u = units; u->suffix; u++)
			if ((*p | 0x20) == (u->suffix | 0x20))
				break;
		if (u->suffix == 0 || p[1] != '\0')
			return -1;
		f = u->factor;
		p++;
	}
	if (*p || n > max / f)
		return -1;
	*out = (unsigned long)(n * f);
	return 0;
}

static int
parse_bool(const char *s)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

static int
choice_index(const char *const *choices, const char *s)
{
	for (int i = 0; choices[i]; i++)
		if (strcasecmp(choices[i], s) == 0)
			return i;
	return -1;
}

static void
choices_error(const struct conf_option *o, const char *v, char *err,
    size_t errsize)
{
	int n = snprintf(err, errsize, "%s: \"%s\" is not one of ", o->name, v);

	for (size_t i = 0; o->choices[i] && n >= 0 && (size_t)n < errsize; i++)
		n += snprintf(err + n, errsize - (size_t)n, "%s%s",
		    i ? ", " : "", o->choices[i]);
}

/* One string value (an OPT_STRING, or one element of a list) through the
 * option's choices and norm.  A new string, or NULL with err set. */
static char *
string_value(const struct conf_option *o, const char *v, char *err,
    size_t errsize)
{
	char msg[512];
	char *s;

	if (o->choices) {
		int i = choice_index(o->choices, v);

		if (i < 0) {
			choices_error(o, v, err, errsize);
			return NULL;
		}
		return xstrdup(o->choices[i]);
	}
	if (o->norm == NULL)
		return xstrdup(v);
	if ((s = o->norm(v, msg, sizeof(msg))) == NULL)
		snprintf(err, errsize, "%s: %s", o->name, msg);
	return s;
}

static int
set_list(const struct conf_option *o, struct strlist *l, const char *value,
    char *err, size_t errsize)
{
	char *copy = xstrdup(value), *word, *save = NULL, *s;
	int rc = 0;

	for (word = strtok_r(copy, " \t,", &save); word;
	    word = strtok_r(NULL, " \t,", &save)) {
		if ((s = string_value(o, word, err, errsize)) == NULL) {
			rc = -1;
			break;
		}
		if (!strlist_contains(l, s))
			strlist_add(l, s);
		free(s);
	}
	free(copy);
	return rc;
}

static int
set_number(const struct conf_option *o, void *p, const char *v, char *err,
    size_t errsize)
{
	unsigned long n, max = o->type == OPT_SIZE ? ULONG_MAX : UINT_MAX;
	const struct unit *units = o->type == OPT_SECONDS ? seconds_units :
	    o->type == OPT_SIZE ? size_units : NULL;
	static const char *const what[] = {
		[OPT_UINT] = "is not a number",
		[OPT_SECONDS] = "is not a duration (30, 30s, 10m, 2h, 1d)",
		[OPT_SIZE] = "is not a size (512, 64K, 10M, 1G)",
	};

	if (o->max && o->max < max)
		max = o->max;
	if (parse_scaled(v, units, ULONG_MAX, &n) == -1) {
		snprintf(err, errsize, "%s: \"%s\" %s", o->name, v,
		    what[o->type]);
		return -1;
	}
	if (n < o->min || n > max) {
		snprintf(err, errsize, "%s: \"%s\" is out of range "
		    "(%lu to %lu)", o->name, v, o->min, max);
		return -1;
	}
	if (o->type == OPT_SIZE)
		*(unsigned long *)p = n;
	else
		*(unsigned *)p = (unsigned)n;
	return 0;
}

int
conf_set(const struct conf_option *o, void *base, const char *value,
    char *err, size_t errsize)
{
	void *p = (char *)base + o->offset;
	char *s;
	int i;

	if (o->type == OPT_LIST)
		return set_list(o, p, value, err, errsize);
	if (*value == '\0') {
		snprintf(err, errsize, "%s: empty value", o->name);
		return -1;
	}
	switch (o->type) {
	case OPT_STRING:
		if ((s = string_value(o, value, err, errsize)) == NULL)
			return -1;
		free(*(char **)p);
		*(char **)p = s;
		return 0;
	case OPT_BOOL:
		if ((i = parse_bool(value)) == -1) {
			snprintf(err, errsize, "%s: \"%s\" is not yes or no",
			    o->name, value);
			return -1;
		}
		*(int *)p = i;
		return 0;
	case OPT_ENUM:
		if ((i = choice_index(o->choices, value)) == -1) {
			choices_error(o, value, err, errsize);
			return -1;
		}
		*(int *)p = i;
		return 0;
	default:
		return set_number(o, p, value, err, errsize);
	}
}

/* n with the largest unit that divides it ("600" -> "10m"). */
static void
format_scaled(unsigned long n, const struct unit *units, char *buf,
    size_t size)
{
	for (const struct unit *u = units; u->suffix; u++)
		if (n && n % u->factor == 0) {
			snprintf(buf, size, "%lu%c", n / u->factor, u->suffix);
			return;
		}
	snprintf(buf, size, "%lu", n);
}

static void
format_list(const struct strlist *l, char *buf, size_t size)
{
	buf[0] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			xstrlcat(buf, " ", size);
		xstrlcat(buf, l->v[i], size);
	}
}

char *
conf_format(const struct conf_option *o, const void *base, char *buf,
    size_t size)
{
	const void *p = (const char *)base + o->offset;
	int i;

	buf[0] = '\0';
	switch (o->type) {
	case OPT_STRING:
		if (*(char *const *)p)
			xstrlcpy(buf, *(char *const *)p, size);
		break;
	case OPT_LIST:
		format_list(p, buf, size);
		break;
	case OPT_UINT:
		/* 0 is "unset", except where a default exists and 0 is in
		 * range (sent-log-days = 0: no sent log) */
		if (*(const unsigned *)p || (o->def != NULL && o->min == 0))
			snprintf(buf, size, "%u", *(const unsigned *)p);
		break;
	case OPT_SECONDS:
		if (*(const unsigned *)p)
			format_scaled(*(const unsigned *)p, seconds_units, buf,
			    size);
		break;
	case OPT_SIZE:
		if (*(const unsigned long *)p)
			format_scaled(*(const unsigned long *)p, size_units,
			    buf, size);
		break;
	case OPT_BOOL:
		if ((i = *(const int *)p) >= 0)
			xstrlcpy(buf, i ? "yes" : "no", size);
		break;
	case OPT_ENUM:
		if ((i = *(const int *)p) >= 0)
			xstrlcpy(buf, o->choices[i], size);
		break;
	}
	return buf;
}
