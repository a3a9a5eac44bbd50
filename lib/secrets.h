/*
 * secrets — account -> authorization code (secrets(5) in relay.map(5)).
 *
 * File format: "ACCOUNT CODE" per line, '#' comments, blank lines; the code
 * is the rest of the line with surrounding white space removed (Gmail's
 * app passwords may be pasted with their spaces).  The file must be a
 * regular file owned by the reading user or root (or, for a daemon read
 * as root, by the user it drops to) and not readable or writable by group
 * or other; otherwise it is refused whole with a message
 * naming the file and its mode, as ssh does.
 *
 * With systemd's LoadCredential, $CREDENTIALS_DIRECTORY/<account> holds one
 * code and takes precedence over the file.  Every regular file there is
 * read at load (secrets_get() is a pure lookup) and checked like the file;
 * the secrets file itself, when passed as a credential, is not taken for
 * an account.  Account names compare case-insensitively.
 *
 * Errors: the file refused whole ("PATH: bad permissions 0644: must not be
 * readable or writable by group or other (chmod 600)", "PATH: bad owner
 * uid 65534: ...", "PATH: is a symbolic link: ...", "PATH: not a regular
 * file"); per line "PATH:N: no code after the account name ...",
 * "duplicate account \"x\" (first on line M)", "line longer than
 * SECRETS_LINE_MAX characters".  '#' starts a comment only at the start of
 * a line: a code may contain '#'.
 *
 * Codes are kept in memory locked against swapping and excluded from core
 * dumps where the kernel allows (madvise MADV_DONTDUMP), and wiped on free.
 * No function here ever prints a code; diagnostics name the account.
 */
#ifndef SMARTHOST_SECRETS_H
#define SMARTHOST_SECRETS_H

#include <sys/types.h>

#include "diag.h"

#define SECRETS_LINE_MAX 1024

struct secrets;

/* Load path (NULL: credentials directory only).  Returns NULL only when
 * the file exists and is refused; a missing file is an error too unless
 * missing_ok.  Diagnostics go to d. */
struct secrets *secrets_load(const char *path, int missing_ok, struct diag *d);
/* The same, read as root by a daemon that drops to uid svc: a file owned
 * by svc is accepted too, so that the daemon can re-read it on SIGHUP. */
struct secrets *secrets_load_svc(const char *path, int missing_ok, uid_t svc,
	    struct diag *d);
/* The code for account, or NULL.  Valid until secrets_free(). */
const char *secrets_get(const struct secrets *, const char *account);
/* The generation of account's code (0: none): a number that changes, and
 * only grows, when a load brings the account a different code.  Every
 * load hands out new ones; secrets_follow() keeps those of unchanged
 * codes, so that a reload tells which accounts got a new code. */
unsigned secrets_generation(const struct secrets *, const char *account);
/* After a reload: every account whose code in s is the one it had in
 * old keeps old's generation. */
void	secrets_follow(struct secrets *s, const struct secrets *old);
/* One more holder (a reload that keeps the codes); each holder calls
 * secrets_free(), the last one frees. */
struct secrets *secrets_ref(struct secrets *);
void	secrets_free(struct secrets *);
/* 1 if path exists but this process may not open it (EACCES): a daemon
 * that gave up root cannot re-read a root-only file. */
int	secrets_denied(const char *path);
/* Lock the codes in memory again: a lock is not inherited over fork(),
 * so a daemon calls this in its final process (after daemon(), before it
 * gives up root).  0, or -1 with errno (mlock). */
int	secrets_lock(const struct secrets *);

/* Check that path is safe to hold secrets: 0, or -1 with a message in err
 * ("/etc/smarthost/secrets: bad permissions 0644: must not be readable or
 * writable by group or other (chmod 600)"). */
int	secrets_check_file(const char *path, char *err, size_t errsize);
/* The same for a reader with effective uid uid (the file must be owned by
 * uid or root). */
int	secrets_check_file_as(const char *path, uid_t uid, char *err,
	    size_t errsize);
/* explicit_bzero(): what secrets_free() does to the codes. */
void	secrets_wipe(void *, size_t);

#endif
