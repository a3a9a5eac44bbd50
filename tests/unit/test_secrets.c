/*
 * Unit tests for lib/secrets.c: the file checks (mode, owner, symbolic
 * link, type) with their exact messages, line errors, the credentials
 * directory, that no code reaches a message, and the wipe helper.
 * Runs as root (the owner tests chown to nobody).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "secrets.h"

#define NOBODY	65534

static char dir[64];

static int
setup(void **state)
{
	xstrlcpy(dir, "/tmp/test_secrets.XXXXXX", sizeof(dir));
	if (mkdtemp(dir) == NULL)
		return -1;
	unsetenv("CREDENTIALS_DIRECTORY");
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	unsetenv("CREDENTIALS_DIRECTORY");
	return system(cmd) == 0 ? 0 : -1;
}

/* Write dir/name with len bytes of text and mode; its path (static). */
static const char *
put(const char *name, const char *text, size_t len, mode_t mode)
{
	static char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	fclose(fp);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

#define PUT(name, text, mode)	put(name, text, strlen(text), mode)

#include "diag_text.h"

/* Load path; the diagnostics in *msgs (caller frees). */
static struct secrets *
load(const char *path, int missing_ok, char **msgs)
{
	struct secrets *s;
	struct diag d;

	diag_init(&d);
	s = secrets_load(path, missing_ok, &d);
	*msgs = diag_text(&d);
	diag_free(&d);
	return s;
}

static void
test_ok(void **state)
{
	const char *path = PUT("secrets", "# codes\n"
	    "boss@163.com   abcdEFGHijkl  \n"
	    "\n"
	    "   # indented comment\n"
	    "me@gmail.com\tabcd efgh ijkl mnop\r\n"
	    "hash@qq.com x#y\n"
	    "last@163.com final", 0600);
	struct secrets *s;
	char *msgs, err[256];

	s = load(path, 0, &msgs);
	assert_non_null(s);
	assert_string_equal(msgs, "");
	assert_string_equal(secrets_get(s, "boss@163.com"), "abcdEFGHijkl");
	assert_string_equal(secrets_get(s, "BOSS@163.COM"), "abcdEFGHijkl");
	assert_string_equal(secrets_get(s, "me@gmail.com"),
	    "abcd efgh ijkl mnop");
	assert_string_equal(secrets_get(s, "hash@qq.com"), "x#y");
	assert_string_equal(secrets_get(s, "last@163.com"), "final");
	assert_null(secrets_get(s, "nobody@163.com"));
	assert_null(secrets_get(NULL, "boss@163.com"));
	assert_int_equal(secrets_check_file(path, err, sizeof(err)), 0);
	free(msgs);
	secrets_free(s);
	chmod(path, 0400);
	s = load(path, 0, &msgs);
	assert_string_equal(msgs, "");
	assert_non_null(secrets_get(s, "boss@163.com"));
	free(msgs);
	secrets_free(s);
}

static void
test_modes(void **state)
{
	static const mode_t bad[] = { 0644, 0640, 0606, 0660, 0604, 0610 };
	char want[512], err[512], *msgs;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *path = PUT("secrets", "a@b.example code\n", bad[i]);

		snprintf(want, sizeof(want), "%s: bad permissions %04o: must "
		    "not be readable or writable by group or other (chmod "
		    "600)", path, (unsigned)bad[i]);
		assert_null(load(path, 0, &msgs));
		assert_int_equal(strlen(msgs), strlen(want) + 1);
		assert_memory_equal(msgs, want, strlen(want));
		assert_int_equal(secrets_check_file(path, err, sizeof(err)),
		    -1);
		assert_string_equal(err, want);
		free(msgs);
	}
}

static void
test_symlink_and_type(void **state)
{
	const char *target = PUT("real", "a@b.example code\n", 0600);
	char link[256], want[512], *msgs;

	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(symlink(target, link), 0);
	assert_null(load(link, 0, &msgs));
	snprintf(want, sizeof(want), "%s: is a symbolic link: secrets must "
	    "be a regular file\n", link);
	assert_string_equal(msgs, want);
	free(msgs);

	assert_null(load(dir, 0, &msgs));
	snprintf(want, sizeof(want), "%s: not a regular file\n", dir);
	assert_string_equal(msgs, want);
	free(msgs);
}

static void
test_owner(void **state)
{
	const char *path = PUT("secrets", "a@b.example code\n", 0600);
	char want[512], err[512], *msgs;

	if (geteuid() != 0)
		fail_msg("test_owner needs root (to chown a file to nobody)");
	assert_int_equal(chown(path, NOBODY, NOBODY), 0);
	assert_null(load(path, 0, &msgs));
	snprintf(want, sizeof(want), "%s: bad owner uid %d: must be owned by "
	    "root (chown root)\n", path, NOBODY);
	assert_string_equal(msgs, want);
	free(msgs);
	/* the reading user may own it; root may always */
	assert_int_equal(secrets_check_file_as(path, NOBODY, err,
	    sizeof(err)), 0);
	assert_int_equal(secrets_check_file_as(path, 1000, err, sizeof(err)),
	    -1);
	snprintf(want, sizeof(want), "%s: bad owner uid %d: must be owned by "
	    "uid 1000 or root (chown)", path, NOBODY);
	assert_string_equal(err, want);
	assert_int_equal(chown(path, 0, 0), 0);
	assert_int_equal(secrets_check_file_as(path, 1000, err, sizeof(err)),
	    0);
}

/* A daemon reading as root accepts its service user's file, no other. */
static void
test_owner_service(void **state)
{
	const char *path = PUT("secrets", "a@b.example code\n", 0600);
	struct secrets *s;
	char want[512];
	struct diag d;

	if (geteuid() != 0)
		fail_msg("test_owner_service needs root (to chown a file)");
	assert_int_equal(chown(path, NOBODY, NOBODY), 0);
	diag_init(&d);
	s = secrets_load_svc(path, 0, NOBODY, &d);
	assert_non_null(s);
	assert_int_equal(d.n, 0);
	assert_string_equal(secrets_get(s, "a@b.example"), "code");
	secrets_free(s);
	assert_null(secrets_load_svc(path, 0, 1000, &d));
	assert_int_equal(d.n, 1);
	snprintf(want, sizeof(want), "bad owner uid %d: must be owned by "
	    "root or by the service user (uid 1000)", NOBODY);
	assert_string_equal(d.v[0].msg, want);
	diag_free(&d);
}

static void
test_lines(void **state)
{
	char text[2200], want[1024], *msgs;
	const char *path;
	struct secrets *s;
	int n;

	n = snprintf(text, sizeof(text), "ok@163.com good\n"
	    "LONELYCODE4711\n"
	    "ok@163.com SECONDCODE\n"
	    "long@163.com %01100d\n"
	    "nul@163.com a", 0);
	text[n++] = '\0';
	n += snprintf(text + n, sizeof(text) - (size_t)n, "b\nafter@163.com "
	    "fine\n");
	path = put("secrets", text, (size_t)n, 0600);
	s = load(path, 0, &msgs);
	assert_non_null(s);
	snprintf(want, sizeof(want),
	    "%s:2: no code after the account name (expected \"ACCOUNT "
	    "CODE\")\n"
	    "%s:3: duplicate account \"ok@163.com\" (first on line 1)\n"
	    "%s:4: line longer than 1024 characters\n"
	    "%s:5: NUL byte in line\n", path, path, path, path);
	assert_string_equal(msgs, want);
	assert_null(strstr(msgs, "LONELYCODE"));
	assert_null(strstr(msgs, "SECONDCODE"));
	assert_string_equal(secrets_get(s, "ok@163.com"), "good");
	assert_string_equal(secrets_get(s, "after@163.com"), "fine");
	assert_null(secrets_get(s, "long@163.com"));
	assert_null(secrets_get(s, "nul@163.com"));
	free(msgs);
	secrets_free(s);
}

static void
test_missing(void **state)
{
	char path[256], want[512], *msgs;
	struct secrets *s;

	snprintf(path, sizeof(path), "%s/absent", dir);
	s = load(path, 1, &msgs);
	assert_non_null(s);
	assert_string_equal(msgs, "");
	assert_null(secrets_get(s, "a@b.example"));
	free(msgs);
	secrets_free(s);
	s = load(path, 0, &msgs);
	assert_non_null(s);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or "
	    "directory\n", path);
	assert_string_equal(msgs, want);
	free(msgs);
	secrets_free(s);
}

static void
test_credentials(void **state)
{
	char creds[256], file[256], want1[512], want2[512], *msgs;
	struct secrets *s;

	snprintf(creds, sizeof(creds), "%s/creds", dir);
	assert_int_equal(mkdir(creds, 0700), 0);
	PUT("creds/boss@163.com", "  fromcreds\n", 0400);
	PUT("creds/new@qq.com", "qqcode", 0600);
	PUT("creds/.hidden", "x y\n", 0600);
	PUT("creds/two@163.com", "CODEONE\nCODETWO\n", 0600);
	PUT("creds/open@163.com", "code\n", 0644);
	/* systemd's LoadCredential=secrets:/etc/smarthost/secrets */
	xstrlcpy(file, PUT("creds/secrets", "boss@163.com fromfile\n"
	    "other@163.com othercode\n", 0600), sizeof(file));
	setenv("CREDENTIALS_DIRECTORY", creds, 1);

	s = load(file, 0, &msgs);
	assert_non_null(s);
	/* readdir order is the file system's: each line, and nothing else */
	snprintf(want1, sizeof(want1), "%s/open@163.com: bad permissions "
	    "0644: must not be readable or writable by group or other (chmod "
	    "600)\n", creds);
	snprintf(want2, sizeof(want2), "%s/two@163.com: credential holds more "
	    "than one line (expected one code)\n", creds);
	assert_non_null(strstr(msgs, want1));
	assert_non_null(strstr(msgs, want2));
	assert_int_equal(strlen(msgs), strlen(want1) + strlen(want2));
	assert_string_equal(secrets_get(s, "boss@163.com"), "fromcreds");
	assert_string_equal(secrets_get(s, "new@qq.com"), "qqcode");
	assert_string_equal(secrets_get(s, "other@163.com"), "othercode");
	assert_null(secrets_get(s, "secrets"));	/* the file itself */
	assert_null(secrets_get(s, ".hidden"));
	assert_null(secrets_get(s, "two@163.com"));
	assert_null(strstr(msgs, "CODE"));
	free(msgs);
	secrets_free(s);

	s = load(NULL, 0, &msgs);	/* credentials only */
	assert_string_equal(secrets_get(s, "new@qq.com"), "qqcode");
	assert_string_equal(secrets_get(s, "boss@163.com"), "fromcreds");
	assert_null(secrets_get(s, "other@163.com"));
	snprintf(want1, sizeof(want1), "%s: credential holds more than one "
	    "line (expected one code)\n", file);
	assert_non_null(strstr(msgs, want1));	/* not named as the file */
	free(msgs);
	secrets_free(s);
	unsetenv("CREDENTIALS_DIRECTORY");
}

/* The VmFlags of the mapping holding addr, from /proc/self/smaps. */
static char *
vmflags(const void *addr)
{
	FILE *fp = fopen("/proc/self/smaps", "r");
	char line[512], *flags = NULL;
	int inside = 0;

	assert_non_null(fp);
	while (flags == NULL && fgets(line, sizeof(line), fp)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			inside = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
		else if (inside && strncmp(line, "VmFlags:", 8) == 0)
			flags = strdup(line + 8);
	}
	fclose(fp);
	if (flags == NULL)
		fail_msg("no mapping for %p in /proc/self/smaps", addr);
	return flags;
}

/* The codes sit in a mapping that is read-only, left out of core dumps
 * and, where this process may lock memory, locked. */
static void
test_memory(void **state)
{
	const char *path = PUT("secrets", "a@b.example code\n", 0600);
	struct secrets *s;
	char *msgs, *flags;
	int can_lock;
	void *probe;

	probe = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(probe != MAP_FAILED);
	/* under ASan mlock() is a no-op that returns 0: ask the kernel */
	can_lock = mlock(probe, 4096) == 0;
	if (can_lock) {
		flags = vmflags(probe);
		can_lock = strstr(flags, " lo") != NULL;
		free(flags);
	}
	munmap(probe, 4096);
	s = load(path, 0, &msgs);
	assert_string_equal(msgs, "");
	flags = vmflags(secrets_get(s, "a@b.example"));
	assert_non_null(strstr(flags, " dd"));		/* MADV_DONTDUMP */
	assert_non_null(strstr(flags, " rd"));
	assert_null(strstr(flags, " wr"));		/* read-only */
	if (can_lock)
		assert_non_null(strstr(flags, " lo"));	/* mlock */
	else
		print_message("mlock has no effect here (no permission, or "
		    "a sanitizer): locking not checked\n");
	free(flags);
	free(msgs);
	secrets_free(s);
}

static void
test_wipe(void **state)
{
	char buf[64];

	memset(buf, 'x', sizeof(buf));
	secrets_wipe(buf, 32);
	for (size_t i = 0; i < 32; i++)
		assert_int_equal(buf[i], 0);
	for (size_t i = 32; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 'x');
	secrets_wipe(NULL, 10);		/* harmless */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_and_type, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owner_service, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credentials, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_memory, setup, teardown),
		cmocka_unit_test(test_wipe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
