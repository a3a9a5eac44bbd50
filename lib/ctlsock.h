/*
 * ctlsock — the control socket of a daemon: a unix socket served by a
 * thread of its own, one request line per connection, for smarthostctl.
 *
 * ctlsock_open() runs before the daemon drops privileges: it creates the
 * socket's directory if missing (mode 0755, root's), refuses a directory
 * that is a symbolic link, belongs to someone other than root, the
 * daemon or its user, or that group or others may write to, refuses to
 * take over a socket another running daemon still answers on, binds the
 * socket with mode 0600 (umask) and gives it to the daemon's user
 * without following a link (fchownat relative to the directory).
 * ctlsock_start() serves from a thread with every signal blocked (they
 * stay with the daemon's main thread); ctlsock_close() stops the thread
 * and removes the socket if it is still the one made here.
 *
 * The caller's uid is checked with SO_PEERCRED: only root and the
 * daemon's own (effective) user are answered; anyone else gets one
 * "error permission denied: uid N is neither root nor the relay's user
 * (uid N)" line and is logged ("control: refused uid=N pid=N").  Reads
 * and writes are bounded (CTLSOCK_TIMEOUT seconds each, one request
 * line of at most CTLSOCK_LINE_MAX bytes).  The handler gets the
 * request line (without its end of line) and writes the whole reply to
 * a memory stream, sent once it returns.
 *
 * ctlsock_put_reload() writes the reply to "reload", the same for every
 * daemon (smarthost-relay(8), smarthost-milter(8)):
 *
 *	DAEMON reload 1
 *	result applied | result refused
 *	diag FILE:LINE: MESSAGE		(each diagnostic of the load)
 *	end
 *
 * Diagnostic text is sent as printable ASCII ('?' for other bytes).
 */
#ifndef SMARTHOST_CTLSOCK_H
#define SMARTHOST_CTLSOCK_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#define CTLSOCK_TIMEOUT		2	/* seconds per read or write */
#define CTLSOCK_LINE_MAX	128	/* request line */
#define CTLSOCK_RELOAD_VERSION	1

struct ctlsock;
struct diag;

/* A request: reply on out (never NULL). */
typedef void ctlsock_fn(void *arg, const char *request, FILE *out);

/* Bind path for daemon ("relay", "milter": for messages); the socket
 * is given to uid/gid ((uid_t)-1: leave it).  NULL with err on failure. */
struct ctlsock *ctlsock_open(const char *path, const char *daemon,
	    uid_t uid, gid_t gid, char *err, size_t errsize);
/* Serve requests with fn(arg, ...) from a thread; 0, or -1 with err. */
int	ctlsock_start(struct ctlsock *, ctlsock_fn *fn, void *arg,
	    char *err, size_t errsize);
/* Stop serving, remove the socket, free.  NULL is fine. */
void	ctlsock_close(struct ctlsock *);

/* The reply to "reload": applied or refused, with every diagnostic. */
void	ctlsock_put_reload(FILE *out, const char *daemon, int applied,
	    const struct diag *);

#endif
