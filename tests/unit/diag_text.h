/*
 * Shared by unit tests that compare diagnostics as text (one translation
 * unit each, hence static; include after diag.h or conf.h):
 * diag_text(d) formats all diagnostics of d, one per line, in a string
 * the caller frees.
 */
static char *
diag_text(const struct diag *d)
{
	char *buf = NULL, line[2048];
	size_t size = 0;
	FILE *fp = open_memstream(&buf, &size);

	for (size_t i = 0; i < d->n; i++)
		fprintf(fp, "%s\n", diag_format(&d->v[i], line, sizeof(line)));
	fclose(fp);
	return buf;
}
