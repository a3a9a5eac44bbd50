/*
 * mapbench — load time and lookup rate of a large relay map, through the
 * same calls the daemons make: config_load() (smarthost.conf, relay map,
 * accounts) and route_lookup() (parse the SMTP sender, most specific map
 * line, effective account values).
 *
 *	mapbench SMARTHOST.CONF SENDERS-FILE LOOKUPS
 *
 * Prints one line: "load_s=S entries=N lookups=N lookups_per_s=R
 * routed=N vmhwm_kib=K".  SENDERS-FILE holds one "<sender>" per line;
 * they are looked up round robin LOOKUPS times.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "diag.h"
#include "relaymap.h"
#include "route.h"
#include "util.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char **
read_lines(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "r");
	char **v = NULL, *line = NULL;
	size_t cap = 0, lcap = 0;
	ssize_t len;

	*n = 0;
	if (fp == NULL)
		return NULL;
	while ((len = getline(&line, &lcap, fp)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[(*n)++] = xstrdup(line);
	}
	free(line);
	fclose(fp);
	return v;
}

static long
vmhwm_kib(void)
{
	FILE *fp = fopen("/proc/self/status", "r");
	char buf[256];
	long kib = -1;

	if (fp == NULL)
		return -1;
	while (fgets(buf, sizeof(buf), fp) != NULL)
		if (sscanf(buf, "VmHWM: %ld", &kib) == 1)
			break;
	fclose(fp);
	return kib;
}

int
main(int argc, char **argv)
{
	struct diag d;
	struct config *cf;
	struct route r;
	char err[256], **senders;
	size_t n, i, routed = 0;
	unsigned long lookups;
	double t0, t1, t2;

	if (argc != 4) {
		fprintf(stderr, "usage: mapbench CONF SENDERS LOOKUPS\n");
		return 2;
	}
	lookups = strtoul(argv[3], NULL, 10);
	senders = read_lines(argv[2], &n);
	if (senders == NULL || n == 0) {
		fprintf(stderr, "mapbench: no senders in %s\n", argv[2]);
		return 1;
	}
	diag_init(&d);
	t0 = now();
	cf = config_load(argv[1], 0, &d);
	t1 = now();
	if (diag_errors(&d)) {
		diag_print(&d, stderr);
		return 1;
	}
	for (i = 0; i < lookups; i++)
		if (route_lookup(cf, senders[i % n], &r, err, sizeof(err)) ==
		    ROUTE_OK)
			routed++;
	t2 = now();
	printf("load_s=%.4f entries=%zu lookups=%lu lookups_per_s=%.0f "
	    "routed=%zu vmhwm_kib=%ld\n", t1 - t0, relaymap_count(cf->map),
	    lookups, lookups / (t2 - t1), routed, vmhwm_kib());
	config_unref(cf);
	diag_free(&d);
	for (i = 0; i < n; i++)
		free(senders[i]);
	free(senders);
	return 0;
}
