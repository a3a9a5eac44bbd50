/*
 * redislimit_int.h — what the files of the redislimit module share
 * (redislimit.c: the calls and the renewal thread; redislimit_conn.c:
 * the connection).  Not for other modules: they use redislimit.h.
 */
#ifndef SMARTHOST_REDISLIMIT_INT_H
#define SMARTHOST_REDISLIMIT_INT_H

#include <pthread.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "redislimit.h"
#include "tls.h"

#define BACKOFF_MIN_MS	1000
#define BACKOFF_MAX_MS	(REDISLIMIT_BACKOFF_MAX * 1000)
#define KEY_MAX		600

struct lease {
	struct lease	*next;
	char		 key[KEY_MAX];
	char		 id[128];
};

struct redislimit {
	pthread_mutex_t	 mu;
	int		 fd;		/* -1: not connected */
	struct tls_conn	*tls;		/* rediss:// */
	redisReader	*rd;
	struct tls_ctx	*tls_ctx;	/* rediss:// */
	char		*url, *relay, *password, *share;
	char		 host[256];
	unsigned	 port, db;
	unsigned	 lease_ms, timeout_ms;
	int		 up;
	time_t		 down_since;
	char		 err[256];
	long long	 next_try, backoff;	/* ms */
	unsigned long	 epoch, nleases, nleases_made;
	/* the settling window (atomic): the reconnection after an outage,
	 * the window's end (0: none), its end not logged yet */
	time_t		 back_since, settle_until;
	int		 settle_open;
	struct lease	*leases;	/* held by this process */
	pthread_t	 renewer;
	pthread_cond_t	 wake;
	int		 stop;
};

/* redislimit_conn.c, all with mu held.  rl_conn_open(): a TCP connection,
 * with TLS for rediss://, and a reply reader: 0, or -1 with err.
 * rl_conn_close(): drops it, if any.  rl_went_down(): Redis is
 * unreachable: drops the connection, sets the backoff, says so once.
 * rl_command(): one command, bounded by the timeout: its reply, or NULL
 * with Redis marked unreachable (an error reply too). */
int	rl_conn_open(struct redislimit *, char *err, size_t errsize);
void	rl_conn_close(struct redislimit *);
void	rl_went_down(struct redislimit *, const char *reason);
redisReply *rl_command(struct redislimit *, int argc, const char **argv);

#endif
