/*
 * conf_doc — the option table written out: as mdoc for smarthost.conf(5)
 * (conf_write_mdoc) and as smarthost.conf text for `smarthostctl config`
 * (conf_write).  See conf.h.
 */
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "conf_norm.h"
#include "util.h"

static const char *const sections[] = { "global", "milter", "relay",
	"account" };

static const char *
type_word(const struct conf_option *o)
{
	switch (o->type) {
	case OPT_STRING:
		return o->norm == conf_norm_path ? "path" : "string";
	case OPT_LIST:
		return "list";
	case OPT_UINT:
		return "number";
	case OPT_SECONDS:
		return "duration";
	case OPT_BOOL:
		return "yes | no";
	case OPT_ENUM:
		return "choice";
	case OPT_SIZE:
		return "size";
	}
	return "?";
}

static void
mdoc_word(FILE *fp, const char *w, size_t len, int line_start)
{
	if (line_start && (*w == '.' || *w == '\''))
		fputs("\\&", fp);
	for (size_t i = 0; i < len; i++) {
		if (w[i] == '\\')
			fputs("\\e", fp);
		else
			fputc(w[i], fp);
	}
}

/* Text as mdoc text lines: a new line for each sentence and before 72
 * columns, backslashes escaped, no line starting with '.' or '\''. */
static void
mdoc_text(FILE *fp, const char *s)
{
	size_t col = 0;

	while (*s) {
		size_t len = strcspn(s, " ");

		if (col && col + 1 + len > 72) {
			fputc('\n', fp);
			col = 0;
		} else if (col) {
			fputc(' ', fp);
			col++;
		}
		mdoc_word(fp, s, len, col == 0);
		col += len;
		if (len && s[len - 1] == '.' && s[len] == ' ') {
			fputc('\n', fp);
			col = 0;
		}
		s += len;
		s += strspn(s, " ");
	}
	if (col)
		fputc('\n', fp);
}

static void
mdoc_option(FILE *fp, const struct conf_option *o)
{
	fprintf(fp, ".It Cm %s Ar %s\n", o->name, type_word(o));
	mdoc_text(fp, o->help);
	if (o->choices) {
		fputs("One of", fp);
		for (size_t i = 0; o->choices[i]; i++)
			fprintf(fp, "\n.Cm %s%s", o->choices[i],
			    o->choices[i + 1] ? " ," : " .");
		fputc('\n', fp);
	}
	if (o->max && o->type == OPT_SECONDS)
		fprintf(fp, "From %lus to %lus.\n", o->min, o->max);
	else if (o->max)
		fprintf(fp, "From %lu to %lu.\n", o->min, o->max);
	else if (o->min)
		fprintf(fp, "At least %lu%s.\n", o->min,
		    o->type == OPT_SECONDS ? "s" : "");
	if (o->def)
		fprintf(fp, "Default:\n.Ql \"%s\" .\n", o->def);
	else
		fputs("Default: unset.\n", fp);
}

void
conf_write_mdoc(FILE *fp)
{
	for (size_t s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
		int account = strcmp(sections[s], "account") == 0;

		fprintf(fp, ".Ss \\&[%s%s]\\&\n", sections[s],
		    account ? " NAME" : "");
		fputs(".Bl -tag -width Ds\n", fp);
		for (size_t i = 0; i < conf_noptions; i++)
			if (strcmp(conf_options[i].section, sections[s]) == 0)
				mdoc_option(fp, &conf_options[i]);
		fputs(".El\n", fp);
	}
}

/* "name = WORD" for the first word of a value, which stays on the name's
 * line (a line starting with ';' is a comment): "=" alone where the line
 * would be too long, no space before a ';'.  Returns the column. */
static size_t
write_first(FILE *fp, const char *name, const char *w, size_t len)
{
	const char *eq = " = ";

	if (strlen(name) + 3 + len > CONF_LINE_MAX)
		eq = "=";
	else if (*w == ';')
		eq = " =";
	return (size_t)fprintf(fp, "%s%s%.*s", name, eq, (int)len, w);
}

/* "name = a b c", going on over indented lines before 72 columns. */
static void
write_list(FILE *fp, const char *name, const char *v)
{
	size_t len = strcspn(v, " "), col;

	if (*v == '\0') {
		fprintf(fp, "%s =\n", name);
		return;
	}
	col = write_first(fp, name, v, len);
	for (v += len; *v; v += len) {
		v += strspn(v, " ");
		len = strcspn(v, " ");
		if (col + 1 + len > 72) {
			fputc('\n', fp);
			col = 0;
		}
		col += (size_t)fprintf(fp, " %.*s", (int)len, v);
	}
	fputc('\n', fp);
}

/* The options of one section whose value at base differs from the value
 * at def (NULL: write them all). */
static void
write_section(FILE *fp, const char *section, const void *base,
    const void *def)
{
	char v[4096], dv[4096];

	for (size_t i = 0; i < conf_noptions; i++) {
		const struct conf_option *o = &conf_options[i];

		if (strcmp(o->section, section) != 0)
			continue;
		conf_format(o, base, v, sizeof(v));
		if (def && strcmp(v, conf_format(o, def, dv, sizeof(dv))) == 0)
			continue;
		if (o->type == OPT_LIST)
			write_list(fp, o->name, v);
		else if (*v) {
			write_first(fp, o->name, v, strlen(v));
			fputc('\n', fp);
		} else
			fprintf(fp, "# %s is unset\n", o->name);
	}
}

void
conf_write(FILE *fp, const struct conf *c, int only_changed)
{
	struct conf *defs = conf_defaults();

	for (size_t s = 0; s < 3; s++) {
		fprintf(fp, "%s[%s]\n", s ? "\n" : "", sections[s]);
		write_section(fp, sections[s], c, only_changed ? defs : NULL);
	}
	for (size_t i = 0; i < c->naccounts; i++) {
		struct account *a = account_new(c->accounts[i]->name);

		fprintf(fp, "\n[account %s]\n", a->name);
		write_section(fp, "account", c->accounts[i], a);
		account_free(a);
	}
	conf_free(defs);
}
