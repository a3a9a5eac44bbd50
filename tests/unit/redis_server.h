/*
 * Shared by the unit tests that talk to a real redis-server (one
 * translation unit each, hence static): redis_free_port() a loopback
 * port nobody listens on, redis_start() a redis-server there (working
 * directory wd, no persistence, its log discarded) and waits until it
 * listens, redis_stop() ends it.  The test includes the system headers
 * this needs (arpa/inet.h, fcntl.h, signal.h, spawn.h, sys/socket.h,
 * sys/wait.h, time.h, unistd.h) and declares environ.
 */
static unsigned
redis_free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned port;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
		fprintf(stderr, "no free port\n");
		exit(1);
	}
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static int
redis_listens(unsigned port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	ok = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	return ok;
}

/* 0, or -1 said on stderr. */
static int
redis_start(const char *wd, unsigned port, pid_t *pid)
{
	char ps[16];
	char *argv[] = { "redis-server", "--port", ps, "--bind", "127.0.0.1",
	    "--save", "", "--appendonly", "no", "--dir", (char *)wd, NULL };
	struct timespec ts = { 0, 50000000 };
	posix_spawn_file_actions_t fa;
	int rc;

	snprintf(ps, sizeof(ps), "%u", port);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	rc = posix_spawnp(pid, "redis-server", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		fprintf(stderr, "cannot run redis-server (package "
		    "redis-server; run contrib/install-deps)\n");
		return -1;
	}
	for (int i = 0; i < 100 && !redis_listens(port); i++)
		nanosleep(&ts, NULL);
	if (!redis_listens(port)) {
		fprintf(stderr, "redis-server does not listen on %u\n", port);
		return -1;
	}
	return 0;
}

static void
redis_stop(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGTERM);
		waitpid(*pid, NULL, 0);
		*pid = 0;
	}
}
