/*
 * hdrcap — pick the Message-ID, the From: address and Postfix's queue id
 * out of a message's header section as it streams past, in a bounded
 * buffer (the relay never holds a message whole).
 *
 * hdrcap_feed() takes the message content in pieces of any size (as
 * dataend_scan() copies it out); it looks at header fields only, up to
 * the empty line that ends the header section, and ignores everything
 * after.  Folded fields are unfolded; a field longer than HDRCAP_FIELD_MAX
 * is skipped (RFC 5322 allows 998 bytes per line; no Message-ID, From:
 * or Received: of Postfix's comes near).  The first Message-ID: and the
 * first From: count; From: keeps the address of its first mailbox
 * (addr_key(): lower-cased local part, normalised domain), "" when it
 * does not parse.
 *
 * The queue id comes from the topmost Received: field only, and only
 * when Postfix wrote it: Postfix puts its own Received: on top when it
 * takes a message in, "Received: from HELO (NAME [ADDR])\r\n\tby HOST
 * (Postfix) with ESMTP id QUEUEID\r\n\tfor <RCPT>; DATE", or for local
 * submission "Received: by HOST (Postfix, from userid 1000)\r\n\tid
 * QUEUEID; DATE".  The word after "id", following "(Postfix" in that
 * field, is the queue id when it is letters and digits (short and long
 * queue ids alike).  Any other topmost Received: gives none.
 *
 * Values hold no control character: the Message-ID is printable ASCII,
 * the queue id letters and digits, the From: address as addr_key()
 * writes it (bytes from 0x80 up are UTF-8 atom text, RFC 6532); ""
 * means not found.
 */
#ifndef SMARTHOST_HDRCAP_H
#define SMARTHOST_HDRCAP_H

#include <stddef.h>

#define HDRCAP_FIELD_MAX	2048
#define HDRCAP_VALUE_MAX	256

struct hdrcap {
	int	 state;			/* internal */
	size_t	 len;			/* bytes of field */
	int	 overflow;		/* field too long: skipped */
	int	 received;		/* a Received: was seen */
	char	 field[HDRCAP_FIELD_MAX];
	char	 message_id[HDRCAP_VALUE_MAX];	/* without < > */
	char	 from[HDRCAP_VALUE_MAX];
	char	 queue_id[64];
	int	 have_msgid, have_from;
};

void	hdrcap_init(struct hdrcap *);
void	hdrcap_feed(struct hdrcap *, const char *buf, size_t len);
/* The message ended (a header section with no body ends there). */
void	hdrcap_end(struct hdrcap *);

#endif
