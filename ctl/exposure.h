/*
 * exposure — whether smarthost-relay can be reached from other hosts
 * (`smarthostctl check`).
 *
 * The relay sends whatever it is handed through the account the sender
 * routes to, with whatever From: the message has: the milter's checks
 * (allowed-users, sender rule, DMARC) happen in Postfix before it.  On
 * this host allow-users keeps every user but the MTA's out; a client on
 * another host has no user the relay can see, so only allow-clients
 * stands between it and the accounts.  exposure_check() warns (never an
 * error) when listen is neither a loopback address nor a unix socket, and
 * when allow-clients admits anything beyond loopback (127.0.0.0/8, ::1,
 * ::ffff:127.0.0.0/104), naming the entries and why it matters.  The
 * warnings name the file, not a line.
 */
#ifndef SMARTHOST_CTL_EXPOSURE_H
#define SMARTHOST_CTL_EXPOSURE_H

#include "conf.h"
#include "diag.h"

void	exposure_check(const struct conf *, struct diag *);

#endif
