/*
 * snapshot — the configuration every new connection starts with.
 *
 * snapshot_load() reads all files (never the secrets) into a new snapshot
 * and swaps it in only when it has no error; otherwise every diagnostic
 * is logged with file:line and the old snapshot stays.  Connections keep
 * the reference they took at connect.
 */
#include <pthread.h>
#include <stdio.h>

#include "log.h"
#include "milter.h"

static pthread_mutex_t snapshot_lock = PTHREAD_MUTEX_INITIALIZER;
static struct config *current;

int
snapshot_load(const char *path)
{
	struct config *c, *old;
	struct diag d;

	diag_init(&d);
	c = config_load(path, 0, &d);
	log_diag(&d);
	if (c == NULL || diag_errors(&d) > 0) {
		log_errx("configuration %s has %zu error(s): %s", path,
		    diag_errors(&d), current ? "keeping the previous one" :
		    "not starting");
		if (c)
			config_unref(c);
		diag_free(&d);
		return -1;
	}
	diag_free(&d);
	pthread_mutex_lock(&snapshot_lock);
	old = current;
	current = c;
	pthread_mutex_unlock(&snapshot_lock);
	if (old)
		config_unref(old);
	return 0;
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
