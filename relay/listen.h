/*
 * listen — the relay's listening socket from conf relay listen:
 * "127.0.0.1:10025", "[::1]:10025" (an address, never a host name:
 * conf_norm_listen() refuses "localhost:10025" at its file:line) or
 * "unix:/path" (an existing socket file is replaced, anything else there
 * is refused; mode 0666: put it in a directory whose permissions decide
 * who may connect; that directory must not be a symbolic link, must
 * belong to root or the relay and may not be writable by group or
 * others).
 */
#ifndef SMARTHOST_RELAY_LISTEN_H
#define SMARTHOST_RELAY_LISTEN_H

#include <stddef.h>

/* A listening, non-blocking socket, or -1 with err. */
int	listen_open(const char *spec, char *err, size_t errsize);
/* Remove a unix socket's file (nothing for TCP). */
void	listen_close(int fd, const char *spec);

#endif
