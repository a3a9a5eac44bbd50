/*
 * Shared by unit tests that work in a temporary directory (one
 * translation unit each, hence static): the test defines
 * "static char top[]", its mkdtemp template, before including this.
 * at(name) is the path top/name, in one of four static buffers (so that
 * up to four may be used at once).
 */
static char *
at(const char *name)
{
	static char buf[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", top, name);
	return buf[i];
}
