/*
 * mta — where an MTA on this host reaches smarthost, as "smarthostctl
 * postfix" and "smarthostctl sendmail" print it.
 *
 * mta_relay() turns [relay] listen into the address the MTA's SMTP client
 * connects to: a wildcard address (0.0.0.0, [::]) becomes the loopback
 * address of its family, since the MTA runs on the same host.  Neither
 * Postfix's nor Sendmail's SMTP client can deliver to a unix socket, so
 * "listen = unix:PATH" is an error with a message saying what to use.
 *
 * mta_milter() splits [milter] socket (libmilter syntax: unix:PATH,
 * local:PATH, inet:PORT[@HOST], inet6:PORT[@HOST]) into its parts; a
 * missing or wildcard HOST becomes the loopback address.  A path or host
 * holding characters that neither MTA's syntax can carry (white space,
 * quotes, ',', ';', '$', braces) is an error.
 *
 * mta_load() is the start of both commands: smarthost.conf and the two
 * addresses, with the complaint printed on stderr.
 *
 * mta_comment() prints text as comment lines starting with prefix ("#",
 * "dnl #"), its words wrapped at MTA_WIDTH columns; a '\n' in text ends a
 * line where it is, and a line starting with a space is printed as is.
 */
#ifndef SMARTHOST_CTL_MTA_H
#define SMARTHOST_CTL_MTA_H

#include <stddef.h>

#include "conf.h"

struct mta_relay {
	char		 addr[64];	/* IP address, without brackets */
	unsigned	 port;
	int		 ipv6;
};

enum mta_sock { MTA_UNIX, MTA_INET, MTA_INET6 };

struct mta_milter {
	int		 kind;		/* enum mta_sock */
	char		 path[CONF_LINE_MAX + 1];	/* MTA_UNIX */
	char		 host[CONF_LINE_MAX + 1];	/* MTA_INET, MTA_INET6 */
	unsigned	 port;
};

#define MTA_WIDTH	76

/* 0, or -1 with a message in err. */
int	mta_relay(const struct conf *, struct mta_relay *, char *err,
	    size_t errsize);
int	mta_milter(const struct conf *, struct mta_milter *, char *err,
	    size_t errsize);
void	mta_comment(const char *prefix, const char *text);

/* smarthost.conf (ctl_load_conf()) and both of the above; on an error
 * prints it and returns NULL with *ex set (EX_NOINPUT, EX_CONFIG). */
struct ctl;
struct conf *mta_load(const struct ctl *, struct mta_milter *,
	    struct mta_relay *, int *ex);

#endif
