/*
 * control — the relay's control socket: what `smarthostctl status` asks.
 *
 * A unix socket (conf control-socket, default /run/smarthost/control.sock)
 * answering one request per connection.  control_open() runs before the
 * relay drops privileges: it creates the socket's directory if missing
 * (mode 0755, root's), refuses a directory that is a symbolic link,
 * belongs to someone other than root, the relay or the relay's user, or
 * that group or others may write to, refuses to take over a socket
 * another running relay still answers on, binds the socket with mode
 * 0600 (umask) and gives it to the relay's user without following a
 * link (fchownat relative to the directory).  control_start() runs the
 * server in its own thread once the relay is set up; it only ever takes
 * the relay's locks for a moment to copy counters, so it never holds up
 * mail.  control_close() stops the thread and removes the socket (if it
 * is still the one this relay made).
 *
 * The caller's uid is checked with SO_PEERCRED: only root and the relay's
 * own user are answered; anyone else gets one "error ..." line and is
 * logged.  Reads and writes are bounded (CONTROL_TIMEOUT seconds, one
 * request line of at most CONTROL_LINE_MAX bytes).
 *
 * The protocol (version 1), text lines ending in "\n":
 *
 *	request:  status
 *	reply:    smarthost-relay status 1
 *	          relay KEY=VALUE...
 *	          account KEY=VALUE...		(one per configured account)
 *	          end
 *	or:       error TEXT
 *
 * A VALUE is a token without spaces, quotes or backslashes, or a
 * double-quoted string in which '"' and '\' are escaped with '\'; bytes
 * outside printable ASCII are sent as '?'.  Times are seconds since the
 * epoch, 0 for never.  Keys are listed in smarthost-relay(8); a reader
 * ignores keys it does not know.
 */
#ifndef SMARTHOST_RELAY_CONTROL_H
#define SMARTHOST_RELAY_CONTROL_H

#include <stddef.h>
#include <sys/types.h>

#define CONTROL_TIMEOUT		2	/* seconds per read or write */
#define CONTROL_LINE_MAX	128	/* request line */
#define CONTROL_VERSION		1

struct relay;
struct control;

/* Bind path; the socket is given to uid/gid ((uid_t)-1: leave it).
 * NULL with err on failure. */
struct control *control_open(const char *path, uid_t uid, gid_t gid,
	    char *err, size_t errsize);
/* Serve rl from a thread of its own; 0, or -1 with err. */
int	control_start(struct control *, struct relay *rl,
	    char *err, size_t errsize);
/* The configuration was (re)loaded now. */
void	control_reloaded(struct control *);
/* Stop serving, remove the socket, free.  NULL is fine. */
void	control_close(struct control *);

#endif
