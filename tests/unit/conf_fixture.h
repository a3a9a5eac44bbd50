/*
 * Shared by unit tests that load a configuration from a temporary
 * directory (one translation unit each, hence static): fixture_setup()
 * makes the directory from a mkdtemp template and names smarthost.conf
 * and relay.map in it; fixture_load() writes "[global] relay-map = ..."
 * plus the given lines, the map, and loads it, asserting no errors (and
 * with strict, no warnings either); fixture_teardown() removes it all.
 */
static char dir[64], conf_path[128], map_path[128];

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
}

static struct config *
fixture_load(const char *conf_extra, const char *map, int strict)
{
	struct diag d;
	struct config *c;
	char *text;

	text = xasprintf("[global]\nrelay-map = %s\n%s", map_path, conf_extra);
	write_file(conf_path, text);
	free(text);
	write_file(map_path, map);
	diag_init(&d);
	c = config_load(conf_path, 0, &d);
	diag_print(&d, stderr);
	if (strict)
		assert_int_equal(d.n, 0);
	else
		assert_int_equal(diag_errors(&d), 0);
	diag_free(&d);
	return c;
}

static int
fixture_setup(const char *template)
{
	xstrlcpy(dir, template, sizeof(dir));
	assert_non_null(mkdtemp(dir));
	snprintf(conf_path, sizeof(conf_path), "%s/smarthost.conf", dir);
	snprintf(map_path, sizeof(map_path), "%s/relay.map", dir);
	return 0;
}

static int
fixture_teardown(void **state)
{
	unlink(conf_path);
	unlink(map_path);
	return rmdir(dir);
}
