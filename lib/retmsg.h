/*
 * retmsg — what a message found in a provider mailbox says about mail
 * the relay sent: which Message-IDs it refers to, and whether it is a
 * delivery notice or a reply.  Pure text work for smarthost-return(8);
 * the caller looks the IDs up in the sent log.
 *
 * A message is a notice when its top-level Content-Type is
 * multipart/report (RFC 3464, RFC 6522), its Return-Path is <>, it has
 * X-Failed-Recipients, or its From is MAILER-DAEMON or postmaster at any
 * domain.  For a notice, every Message-ID header line found in its body
 * (the message/rfc822 or text/rfc822-headers part, or headers a
 * plain-text notice quotes, indented or after "> ") names a candidate,
 * in order.  For any message, the IDs of In-Reply-To, then those of
 * References from the last to the first, are candidates too (of a notice
 * they count as a notice).  Header lines are unfolded; IDs are returned
 * without angle brackets and at most RETMSG_ID_MAX bytes long; content
 * in base64 or quoted-printable is not decoded.
 */
#ifndef SMARTHOST_RETMSG_H
#define SMARTHOST_RETMSG_H

#include <stddef.h>

#define RETMSG_ID_MAX	998

enum retmsg_kind { RETMSG_DSN, RETMSG_REPLY };

/* Calls fn for each candidate in order until fn returns non-zero, and
 * returns that value (0 when no candidate made fn stop). */
int	retmsg_scan(const char *msg, size_t len,
	    int (*fn)(enum retmsg_kind, const char *msgid, void *), void *arg);
/* 1 if the message is a notice as described above. */
int	retmsg_is_notice(const char *msg, size_t len);
const char *retmsg_kind_name(enum retmsg_kind);

#endif
