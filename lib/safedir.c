/*
 * safedir — see safedir.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safedir.h"
#include "util.h"

static int
open_dir(int atfd, const char *name, mode_t mode, int flags)
{
	int fd = openat(atfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);

	if (fd == -1 && errno == ENOENT && (flags & SAFEDIR_CREATE)) {
		if (mkdirat(atfd, name, mode) == -1 && errno != EEXIST)
			return -1;
		fd = openat(atfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	}
	return fd;
}

/* 0 if st may be written into, else -1 with a message. */
static int
check(const struct stat *st, uid_t uid, int flags, const char *shown,
    char *err, size_t errsize)
{
	if (!(flags & SAFEDIR_ANYONE) && !((flags & SAFEDIR_GIVE) &&
	    uid != (uid_t)-1 && geteuid() == 0) && st->st_uid != 0 &&
	    st->st_uid != geteuid() && (uid == (uid_t)-1 || st->st_uid != uid)) {
		snprintf(err, errsize, "%s: owned by uid %u: refused (it must "
		    "belong to root%s)", shown, (unsigned)st->st_uid,
		    uid != (uid_t)-1 ? " or to the service user" : "");
		return -1;
	}
	if (st->st_mode & 022) {
		snprintf(err, errsize, "%s: mode %04o: refused (group or "
		    "others may write to it; chmod go-w)", shown,
		    (unsigned)(st->st_mode & 07777));
		return -1;
	}
	return 0;
}

int
safedir_open(int atfd, const char *name, const char *shown, mode_t mode,
    uid_t uid, gid_t gid, int flags, char *err, size_t errsize)
{
	struct stat st;
	int fd;

	if (shown == NULL)
		shown = name;
	if ((fd = open_dir(atfd, name, mode, flags)) == -1) {
		if (errno == ELOOP || errno == ENOTDIR)
			snprintf(err, errsize, "%s: %s: refused (it must be a "
			    "directory)", shown, fstatat(atfd, name, &st,
			    AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode) ?
			    "is a symbolic link" : "not a directory");
		else
			snprintf(err, errsize, "%s: %s", shown,
			    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errsize, "%s: %s", shown, strerror(errno));
		close(fd);
		return -1;
	}
	if (check(&st, uid, flags, shown, err, errsize) == -1) {
		close(fd);
		return -1;
	}
	if ((flags & SAFEDIR_GIVE) && uid != (uid_t)-1 && geteuid() == 0 &&
	    (st.st_uid != uid || st.st_gid != gid) &&
	    fchown(fd, uid, gid) == -1) {
		snprintf(err, errsize, "chown %s: %s", shown, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

char *
safedir_split(const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL) {
		*base = path;
		return xstrdup(".");
	}
	*base = slash + 1;
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}
