/*
 * smarthost-return — reads the mailbox of every account a "rewrite" route
 * uses and hands the delivery notices and replies about mail the relay
 * sent to the original sender through the local MTA (smarthost-return(8)).
 *
 * main.c reads the configuration and the command line, takes the run's
 * lock and walks the accounts; mailbox.c does one account's mailbox over
 * IMAP (lib/imap) against the sent log (lib/sentlog); handoff.c runs
 * sendmail.  A message is handled at most once, keyed by account,
 * UIDVALIDITY and UID in the sent log's table returned.
 */
#ifndef SMARTHOST_RETURN_H
#define SMARTHOST_RETURN_H

#include <stddef.h>

#include "config.h"
#include "sentlog.h"

#define RETURN_VERSION		"1"
#define RETURN_KEYWORD		"$SmarthostReturned"
#define RETURN_FOLDER		"Smarthost-Returned"
#define RETURN_SENDMAIL		"/usr/sbin/sendmail"
#define RETURN_TIMEOUT		60	/* seconds per IMAP read or write */
#define RETURN_DAYS		30	/* how far back INBOX is searched */
#define RETURN_SIZE_MAX		(40UL * 1024 * 1024)	/* bytes */

enum return_mark { MARK_FLAG, MARK_MOVE };

struct return_opts {
	char		**sendmail;	/* argv prefix, NULL-terminated */
	enum return_mark mark;
	const char	*keyword;
	const char	*folder;
	unsigned	 days;
	int		 timeout_ms;
};

/* One account's mailbox: 0 or a sysexits code (the account is named in
 * what is logged). */
int	mailbox_run(const struct config *, const struct account *,
	    struct sentlog *, const struct return_opts *);

/* Hand msg to the MTA for rcpt with the null sender: "SENDMAIL -i -f <>
 * -- rcpt".  0 when sendmail took it; 1 when it exited non-zero (it did
 * not take it); -1 when it is unknown (killed, or the pipe failed after
 * it started).  err says why. */
int	handoff(char *const *sendmail, const char *rcpt, const char *msg,
	    size_t len, char *err, size_t errsize);

#endif
