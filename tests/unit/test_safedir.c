/*
 * Unit tests for lib/safedir.c: a directory is opened without following
 * a symbolic link, made when asked, refused when group or others may
 * write to it or when it belongs to someone else, given to the owner
 * named (as root); safedir_split() on the usual path shapes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "safedir.h"

#define NOBODY	65534

static char top[] = "/tmp/test_safedir.XXXXXX";
#include "tmp_at.h"

static void
expect_refused(const char *name, mode_t mode, uid_t uid, int flags,
    const char *want)
{
	char err[512], msg[512];

	assert_int_equal(safedir_open(AT_FDCWD, at(name), NULL, mode, uid,
	    uid, flags, err, sizeof(err)), -1);
	snprintf(msg, sizeof(msg), "%s: %s", at(name), want);
	if (strncmp(err, msg, strlen(msg)) != 0)
		fail_msg("got \"%s\", want \"%s...\"", err, msg);
}

static void
test_links_and_modes(void **state)
{
	struct stat st;
	char err[512];
	int fd, sub;

	assert_non_null(mkdtemp(top));
	assert_int_equal(mkdir(at("real"), 0750), 0);
	assert_int_equal(symlink(at("real"), at("link")), 0);
	close(open(at("file"), O_CREAT | O_WRONLY, 0600));
	expect_refused("link", 0, (uid_t)-1, 0,
	    "is a symbolic link: refused (it must be a directory)");
	expect_refused("link", 0700, (uid_t)-1, SAFEDIR_CREATE,
	    "is a symbolic link: refused");
	expect_refused("file", 0, (uid_t)-1, 0, "not a directory: refused");
	expect_refused("missing", 0, (uid_t)-1, 0,
	    "No such file or directory");
	assert_int_equal(mkdir(at("open"), 0700), 0);
	assert_int_equal(chmod(at("open"), 0777), 0);
	expect_refused("open", 0, (uid_t)-1, 0,
	    "mode 0777: refused (group or others may write to it; chmod "
	    "go-w)");

	/* made when asked, with the mode given; relative to a descriptor */
	fd = safedir_open(AT_FDCWD, at("real"), NULL, 0, (uid_t)-1,
	    (gid_t)-1, 0, err, sizeof(err));
	assert_true(fd >= 0);
	sub = safedir_open(fd, "made", "shown/made", 0700, (uid_t)-1,
	    (gid_t)-1, SAFEDIR_CREATE, err, sizeof(err));
	assert_true(sub >= 0);
	assert_int_equal(fstat(sub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	close(sub);
	assert_int_equal(symlinkat(top, fd, "sublink"), 0);
	assert_int_equal(safedir_open(fd, "sublink", "shown/sublink", 0700,
	    (uid_t)-1, (gid_t)-1, SAFEDIR_CREATE, err, sizeof(err)), -1);
	assert_string_equal(err, "shown/sublink: is a symbolic link: refused "
	    "(it must be a directory)");
	close(fd);
}

static void
test_owner(void **state)
{
	struct stat st;
	char err[512];
	int fd;

	if (geteuid() != 0) {
		print_message("not root: owners cannot be changed here\n");
		return;
	}
	assert_int_equal(mkdir(at("other"), 0755), 0);
	assert_int_equal(chown(at("other"), NOBODY, NOBODY), 0);
	/* someone else's: refused unless it is the owner named */
	expect_refused("other", 0, (uid_t)-1, 0, "owned by uid 65534: "
	    "refused (it must belong to root)");
	expect_refused("other", 0, 1000, 0, "owned by uid 65534: refused "
	    "(it must belong to root or to the service user)");
	fd = safedir_open(AT_FDCWD, at("other"), NULL, 0, NOBODY, NOBODY, 0,
	    err, sizeof(err));
	assert_true(fd >= 0);
	close(fd);
	/* given to the owner named, through the descriptor */
	assert_int_equal(mkdir(at("give"), 0750), 0);
	fd = safedir_open(AT_FDCWD, at("give"), NULL, 0, NOBODY, NOBODY,
	    SAFEDIR_GIVE, err, sizeof(err));
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(stat(at("give"), &st), 0);
	assert_int_equal(st.st_uid, NOBODY);
	assert_int_equal(st.st_gid, NOBODY);
	/* a link is never given away: its target keeps its owner */
	assert_int_equal(mkdir(at("target"), 0755), 0);
	assert_int_equal(symlink(at("target"), at("glink")), 0);
	expect_refused("glink", 0750, NOBODY, SAFEDIR_CREATE | SAFEDIR_GIVE,
	    "is a symbolic link: refused");
	assert_int_equal(stat(at("target"), &st), 0);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(st.st_mode & 07777, 0755);
}

static void
test_split(void **state)
{
	const char *base;
	char *dir;

	dir = safedir_split("/run/smarthost/control.sock", &base);
	assert_string_equal(dir, "/run/smarthost");
	assert_string_equal(base, "control.sock");
	free(dir);
	dir = safedir_split("/sock", &base);
	assert_string_equal(dir, "/");
	assert_string_equal(base, "sock");
	free(dir);
	dir = safedir_split("sock", &base);
	assert_string_equal(dir, ".");
	assert_string_equal(base, "sock");
	free(dir);
}

static int
cleanup(void **state)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_links_and_modes),
		cmocka_unit_test(test_owner),
		cmocka_unit_test(test_split),
	};

	return cmocka_run_group_tests(tests, NULL, cleanup);
}
