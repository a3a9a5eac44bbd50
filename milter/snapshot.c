/*
 * snapshot — the configuration every new connection starts with.
 *
 * snapshot_load() reads all files (never the secrets) into a new snapshot
 * and swaps it in only when it has no error; otherwise the old snapshot
 * stays.  Every diagnostic is logged with file:line (and handed to the
 * caller: the control socket's "reload" answers them).  Loads run one at
 * a time.  Connections keep the reference they took at connect.
 */
#include <pthread.h>
#include <stdio.h>

#include "log.h"
#include "milter.h"

static pthread_mutex_t snapshot_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static struct config *current;

static int
load(const char *path, struct diag *d)
{
	struct config *c, *old;

	c = config_load(path, 0, d);
	log_diag(d);
	if (c == NULL || diag_errors(d) > 0) {
		log_errx("configuration %s has %zu error(s): %s", path,
		    diag_errors(d), current ? "keeping the previous one" :
		    "not starting");
		if (c)
			config_unref(c);
		return -1;
	}
	pthread_mutex_lock(&snapshot_lock);
	old = current;
	current = c;
	pthread_mutex_unlock(&snapshot_lock);
	if (old)
		config_unref(old);
	return 0;
}

int
snapshot_load(const char *path, struct diag *out)
{
	struct diag d;
	int rc;

	diag_init(&d);
	pthread_mutex_lock(&load_lock);
	rc = load(path, out ? out : &d);
	pthread_mutex_unlock(&load_lock);
	diag_free(&d);
	return rc;
}

struct config *
snapshot_get(void)
{
	struct config *c;

	pthread_mutex_lock(&snapshot_lock);
	c = current ? config_ref(current) : NULL;
	pthread_mutex_unlock(&snapshot_lock);
	return c;
}

void
snapshot_free(void)
{
	pthread_mutex_lock(&snapshot_lock);
	if (current)
		config_unref(current);
	current = NULL;
	pthread_mutex_unlock(&snapshot_lock);
}
