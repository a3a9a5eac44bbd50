/*
 * server — the relay's SMTP server side: the dialogue with Postfix.
 *
 * struct relay is what every client thread shares: the current
 * configuration snapshot (swapped on SIGHUP; a transaction holds its own
 * reference from MAIL to its end), the upstream pool and the daily
 * limits.  main.c owns the listener and the threads; server_run() speaks
 * SMTP on one accepted connection until QUIT, EOF or a timeout and closes
 * it.  Every MAIL, RCPT and DATA is forwarded to the provider through
 * upstream.h and answered with the provider's reply (see reply.h); the
 * relay keeps no queue.  One key=value log line per transaction.
 */
#ifndef SMARTHOST_RELAY_SERVER_H
#define SMARTHOST_RELAY_SERVER_H

#include <pthread.h>

#include "config.h"
#include "limit.h"
#include "pool.h"

struct store;

struct relay {
	pthread_mutex_t	 mu;
	pthread_cond_t	 idle;		/* signalled when nclients drops */
	struct config	*config;	/* current snapshot (mu) */
	struct pool	*pool;
	struct limits	*limits;
	struct sentrec	*sent;		/* the sent log (sentrec.h) */
	struct store	*store;		/* limits-store = redis, or NULL */
	unsigned	 nclients;	/* (mu) */
	int		 stopping;	/* atomic: idle clients get 421 */
	char		 hostname[256];	/* in the greeting and EHLO */
};

/* A new reference to the current snapshot. */
struct config *relay_config(struct relay *);
/* Install cfg (the relay takes its reference) and drop the old one. */
void	relay_swap_config(struct relay *, struct config *cfg);

/* The SMTP dialogue on fd with client ("127.0.0.1:43210", "unix");
 * closes fd. */
void	server_run(struct relay *, int fd, const char *client);
/* Write one reply line ("421 4.3.2 ...") and close fd. */
void	server_refuse(int fd, const char *reply);

#endif
