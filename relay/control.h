/*
 * control — the relay's control socket: what `smarthostctl status` and
 * `smarthostctl reload` ask.
 *
 * A unix socket (conf control-socket, default /run/smarthost/control.sock)
 * answering one request per connection, made and served by ctlsock.h
 * (safe creation before the relay drops privileges, mode 0600, the
 * relay's user; callers checked with SO_PEERCRED: root and the relay's
 * own user).  control_open() runs before the relay drops privileges,
 * control_start() once the relay is set up; status only ever takes the
 * relay's locks for a moment to copy counters, so it never holds up
 * mail.  control_close() stops the thread and removes the socket (if it
 * is still the one this relay made).
 *
 * The protocol (version 1), text lines ending in "\n":
 *
 *	request:  status
 *	reply:    smarthost-relay status 1
 *	          relay KEY=VALUE...
 *	          account KEY=VALUE...		(one per configured account)
 *	          end
 *	request:  reload
 *	reply:    smarthost-relay reload 1	(ctlsock_put_reload())
 *	          result applied | result refused
 *	          diag FILE:LINE: MESSAGE	(each error and warning)
 *	          end
 *	or:       error TEXT
 *
 * "reload" runs the reload function given to control_start(), the same
 * one SIGHUP runs, in the control thread; the relay serialises them.
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

#define CONTROL_VERSION		1

struct relay;
struct control;
struct diag;

/* Reload every file; 0 if the new configuration is in force, -1 if it
 * was refused.  Diagnostics are added to d. */
typedef int control_reload_fn(struct relay *, struct diag *d);

/* Bind path; the socket is given to uid/gid ((uid_t)-1: leave it).
 * NULL with err on failure. */
struct control *control_open(const char *path, uid_t uid, gid_t gid,
	    char *err, size_t errsize);
/* Serve rl from a thread of its own, reloading with reload; 0, or -1
 * with err. */
int	control_start(struct control *, struct relay *rl,
	    control_reload_fn *reload, char *err, size_t errsize);
/* The configuration was (re)loaded now. */
void	control_reloaded(struct control *);
/* Stop serving, remove the socket, free.  NULL is fine. */
void	control_close(struct control *);

#endif
