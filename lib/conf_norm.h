/*
 * conf_norm — checks and normalisations of option values, used through the
 * `norm` column of conf_options[] (conf.c).  Each takes the value as
 * written and returns a new string in its canonical form, or NULL with a
 * message in err that quotes the value (conf_set() prefixes the option's
 * name: "listen: \"10025\" is not ADDRESS:PORT, ...").
 */
#ifndef SMARTHOST_CONF_NORM_H
#define SMARTHOST_CONF_NORM_H

#include <stddef.h>

char	*conf_norm_path(const char *, char *err, size_t errsize);
char	*conf_norm_domain(const char *, char *err, size_t errsize);
char	*conf_norm_dns_name(const char *, char *err, size_t errsize);
char	*conf_norm_dkim_domain(const char *, char *err, size_t errsize);
char	*conf_norm_host(const char *, char *err, size_t errsize);
char	*conf_norm_network(const char *, char *err, size_t errsize);
char	*conf_norm_milter_socket(const char *, char *err, size_t errsize);
char	*conf_norm_listen(const char *, char *err, size_t errsize);
char	*conf_norm_header_name(const char *, char *err, size_t errsize);
char	*conf_norm_provider(const char *, char *err, size_t errsize);
char	*conf_norm_login(const char *, char *err, size_t errsize);
char	*conf_norm_mechanism(const char *, char *err, size_t errsize);
char	*conf_norm_url(const char *, char *err, size_t errsize);
char	*conf_norm_user(const char *, char *err, size_t errsize);
char	*conf_norm_limits_store(const char *, char *err, size_t errsize);
char	*conf_norm_share(const char *, char *err, size_t errsize);

/* redis://HOST:PORT[/DB] or rediss://... (TLS: *tls = 1) into its parts
 * (host of hostsize); 0, or -1 with a message quoting v in err that says
 * which part is wrong. */
int	conf_redis_url(const char *v, char *host, size_t hostsize,
	    unsigned *port, unsigned *db, int *tls, char *err,
	    size_t errsize);
/* "M/N" (1 <= M <= N <= 1000) into m and n; 0 or -1. */
int	conf_share(const char *v, unsigned *m, unsigned *n);

#endif
