/*
 * safedir — directories that a process running as root writes into,
 * opened so that nothing planted in them is followed.
 *
 * safedir_open() opens one directory without following a symbolic link
 * in its last component (O_DIRECTORY | O_NOFOLLOW), creating it first
 * when asked, and checks it: a directory, owned by root, by the caller's
 * effective user or by the owner given (any owner when root is to give it
 * to that owner), and not writable by group or others.  Callers then work relative to the descriptor it returns
 * (openat, renameat, fstatat, fchown), never by path again.  Messages
 * name the path: "/var/lib/smarthost/oauth: is a symbolic link: refused
 * (it must be a directory)".
 */
#ifndef SMARTHOST_SAFEDIR_H
#define SMARTHOST_SAFEDIR_H

#include <stddef.h>
#include <sys/types.h>

#define SAFEDIR_CREATE	0x01	/* mkdir (mode) when missing */
#define SAFEDIR_GIVE	0x02	/* as root: make it uid:gid's (fchown) */
#define SAFEDIR_ANYONE	0x04	/* any owner will do */

/* name is relative to atfd (AT_FDCWD or a safedir_open() descriptor);
 * shown is the path for messages (NULL: name).  uid (uid_t)-1 allows
 * only root and the caller.  The descriptor (O_CLOEXEC), or -1 with a
 * message in err. */
int	safedir_open(int atfd, const char *name, const char *shown,
	    mode_t mode, uid_t uid, gid_t gid, int flags, char *err,
	    size_t errsize);

/* The directory part of path (allocated; "." when there is none) and
 * its last component (pointing into path). */
char	*safedir_split(const char *path, const char **base);

#endif
