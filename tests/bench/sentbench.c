/*
 * sentbench — the cost of one sent-log record, as the relay writes it
 * (lib/sentlog.h: WAL, synchronous=NORMAL), for `make bench`.
 *
 *   sentbench STATE-DIR COUNT [reader]
 *
 * Records COUNT entries shaped like the relay's (Message-ID, queue id,
 * two recipients, a 250 reply) into STATE-DIR/sent.db, one call each, on
 * a handle that never checkpoints, while a thread checkpoints every
 * second on another, as the relay does;
 * with "reader", while a second process reads the log (sentlog_query) in
 * a loop, as smarthostctl log or smarthost-return would.  Prints:
 *   records=N median_us=.. p99_us=.. max_us=.. failed=.. reads=..
 *   cpu_median_us=.. cpu_p99_us=..
 * (wall-clock time per call, then the calling thread's CPU time: on a
 * busy machine the wall-clock tail is mostly waiting for a core)
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sentlog.h"

static double
now_us(clockid_t clock)
{
	struct timespec t;

	clock_gettime(clock, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
count(const struct sentlog_entry *e, void *arg)
{
	(void)e;
	(*(unsigned long *)arg)++;
	return 0;
}

static int stop;

/* The relay's main thread: a PASSIVE checkpoint every second. */
static void *
checkpointer(void *arg)
{
	struct sentlog *sl = arg;

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		if (sentlog_checkpoint(sl) != 0)
			fprintf(stderr, "sentbench: %s\n", sentlog_error(sl));
		usleep(1000 * 1000);
	}
	return NULL;
}

/* The reader: query alice's mail until killed; prints how many reads. */
static void
reader(const char *dir, int fd)
{
	char err[512];
	struct sentlog *sl = sentlog_open(dir, SENTLOG_RDONLY, err,
	    sizeof(err));
	unsigned long n = 0, rows = 0;

	if (sl == NULL) {
		fprintf(stderr, "sentbench reader: %s\n", err);
		_exit(1);
	}
	for (;;) {
		(void)sentlog_query(sl, "alice@office.lan", count, &rows);
		n++;
		if (write(fd, &n, sizeof(n)) < 0)
			_exit(0);
	}
}

int
main(int argc, char **argv)
{
	struct sentlog_entry e = {
		.env_from = "alice@office.lan", .header_from = "alice@office.lan",
		.account = "office@qq.com", .login = "office@qq.com",
		.rcpts = "bob@example.org carol@example.net", .status = "sent",
		.reply = "250 2.0.0 smtp.qq.com said: 250 OK: queued as",
	};
	char err[512], msgid[64], qid[32];
	int n, failed = 0, p[2];
	unsigned long reads = 0, r;
	struct sentlog *sl, *maint;
	pthread_t ck;
	double *us, *cpu, t, c;
	pid_t pid = -1;

	if (argc < 3 || argc > 4 || (n = atoi(argv[2])) <= 0 ||
	    (argc == 4 && strcmp(argv[3], "reader") != 0)) {
		fprintf(stderr, "usage: sentbench STATE-DIR COUNT [reader]\n");
		return 64;
	}
	if ((sl = sentlog_open(argv[1], SENTLOG_NOCHECKPOINT, err,
	    sizeof(err))) == NULL || (maint = sentlog_open(argv[1], 0, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "sentbench: %s\n", err);
		return 1;
	}
	if (pthread_create(&ck, NULL, checkpointer, maint) != 0)
		return 1;
	if ((us = calloc((size_t)n, sizeof(*us))) == NULL ||
	    (cpu = calloc((size_t)n, sizeof(*cpu))) == NULL || pipe(p) == -1)
		return 1;
	if (argc == 4 && (pid = fork()) == 0) {
		close(p[0]);
		reader(argv[1], p[1]);
	}
	close(p[1]);
	for (int i = 0; i < n; i++) {
		snprintf(msgid, sizeof(msgid), "%d.bench@office.lan", i);
		snprintf(qid, sizeof(qid), "4Q%08X", i);
		e.message_id = msgid;
		e.queue_id = qid;
		t = now_us(CLOCK_MONOTONIC);
		c = now_us(CLOCK_THREAD_CPUTIME_ID);
		if (sentlog_record(sl, &e) != 0)
			failed++;
		cpu[i] = now_us(CLOCK_THREAD_CPUTIME_ID) - c;
		us[i] = now_us(CLOCK_MONOTONIC) - t;
	}
	if (pid > 0) {
		kill(pid, SIGTERM);
		while (read(p[0], &r, sizeof(r)) == sizeof(r))
			reads = r;
		waitpid(pid, NULL, 0);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	pthread_join(ck, NULL);
	sentlog_close(maint);
	sentlog_close(sl);
	qsort(us, (size_t)n, sizeof(*us), cmp_double);
	qsort(cpu, (size_t)n, sizeof(*cpu), cmp_double);
	printf("records=%d median_us=%.1f p99_us=%.1f max_us=%.1f failed=%d "
	    "reads=%lu cpu_median_us=%.1f cpu_p99_us=%.1f\n", n, us[n / 2],
	    us[(size_t)n * 99 / 100], us[n - 1], failed, reads, cpu[n / 2],
	    cpu[(size_t)n * 99 / 100]);
	free(us);
	free(cpu);
	return 0;
}
