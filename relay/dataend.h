/*
 * dataend — where an SMTP message body ends (RFC 5321 4.1.1.4, 2.3.8).
 *
 * Only <CR><LF>.<CR><LF> ends a message, its first <CR><LF> being the
 * end of the DATA command or of the message's last line; a dot after a
 * bare <LF> or a bare <CR>, or followed by one, is message content.
 * dataend_scan() is fed the bytes after DATA's 354 as they arrive, in
 * pieces of any size (the terminator may be split across them), and
 * copies out the message content: everything before the final dot, with
 * the <CR><LF> that precedes it.  Bytes that may still turn out to be
 * the terminator or a bare <CR> (at most two) are held back and copied
 * out with the next piece, so nothing of the terminator, and no bare
 * <CR> the caller has not been told of, is ever copied out.  Bytes after
 * the terminator are not consumed.
 *
 * bare records whether the content held a bare <LF> (one not preceded by
 * <CR>) or a bare <CR> (one not followed by <LF>): the relay refuses such
 * a message (see smarthost-relay(8)).
 */
#ifndef SMARTHOST_RELAY_DATAEND_H
#define SMARTHOST_RELAY_DATAEND_H

#include <stddef.h>

#define DATAEND_BARE_LF	0x1
#define DATAEND_BARE_CR	0x2
#define DATAEND_HOLD	2	/* most bytes held back between pieces */

struct dataend {
	int		 state;		/* internal */
	int		 done;		/* the terminator was seen */
	unsigned	 bare;		/* DATAEND_BARE_* seen in the content */
};

void	dataend_init(struct dataend *);
/* Scan len bytes of buf: returns how many were consumed (all of them,
 * or those through the terminator, which sets done).  The content they
 * complete (with bytes held back from earlier pieces) is copied to out,
 * which has room for len + DATAEND_HOLD bytes; its length goes to
 * *outlen.  Nothing is consumed once done. */
size_t	dataend_scan(struct dataend *, const char *buf, size_t len,
	    char *out, size_t *outlen);

#endif
