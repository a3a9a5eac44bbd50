/*
 * tls — smarthost's only view of OpenSSL: verified client connections to
 * a provider over an already connected socket.
 *
 * A struct tls_ctx is the trust configuration of one account (the system
 * store, or a CA file): TLS 1.2 minimum, peer verification always on,
 * client-side session caching.  tls_connect() sends SNI (unless the host
 * is an address literal), checks the name with SSL_set1_host() and the
 * chain with the context's store, and fails with OpenSSL's own words
 * ("certificate verify failed: hostname mismatch").  There is no way to
 * turn verification off.
 *
 * The socket must be non-blocking; every call takes a timeout in
 * milliseconds and fails with "timed out" when it runs out.  The caller
 * owns the socket: tls_close() frees the TLS state only.  Writes to a
 * peer that has gone away raise SIGPIPE: programs using this module
 * ignore SIGPIPE.
 *
 * Sessions: each connection keeps the last few resumable sessions the
 * server gave it (TLS 1.3 tickets arrive after the handshake, so ask after
 * the first reply has been read); tls_session_get() hands them out one at
 * a time, newest first, for later tls_connect() calls to the same host to
 * resume.  A TLS 1.3 ticket is meant to be used once (RFC 8446 C.4):
 * callers use each session for one connection.
 */
#ifndef SMARTHOST_TLS_H
#define SMARTHOST_TLS_H

#include <stddef.h>
#include <sys/types.h>

struct tls_ctx;
struct tls_conn;
struct tls_session;

/* ca_file NULL or "": the system store.  NULL on failure, err says why. */
struct tls_ctx *tls_ctx_new(const char *ca_file, char *err, size_t errsize);
void	tls_ctx_free(struct tls_ctx *);

/* Handshake on fd with host's name checked; resume may be NULL.  NULL on
 * failure with err set ("certificate verify failed: ...", "handshake
 * failed: ...", "timed out"). */
struct tls_conn *tls_connect(struct tls_ctx *, int fd, const char *host,
	    const struct tls_session *resume, int timeout_ms,
	    char *err, size_t errsize);
/* Bytes read, 0 at end of stream, -1 on error or timeout (err set). */
ssize_t	tls_read(struct tls_conn *, void *buf, size_t len, int timeout_ms,
	    char *err, size_t errsize);
/* 0 when all len bytes are written, -1 on error or timeout. */
int	tls_write(struct tls_conn *, const void *buf, size_t len,
	    int timeout_ms, char *err, size_t errsize);
/* Decrypted bytes waiting to be read. */
int	tls_pending(const struct tls_conn *);
int	tls_resumed(const struct tls_conn *);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384" */
const char *tls_describe(const struct tls_conn *, char *buf, size_t size);
/* The verified peer certificate, for people (smarthostctl probe). */
struct tls_cert {
	char	subject[256];	/* "CN=smtp.163.com,O=NetEase..." */
	char	issuer[256];
	char	not_after[32];	/* "2027-03-01 12:00:00 UTC" */
	long	days_left;	/* negative once expired */
};
/* 0, or -1 when there is no peer certificate. */
int	tls_peer_cert(const struct tls_conn *, struct tls_cert *);
/* Sends close_notify (best effort, no wait) and frees the state. */
void	tls_close(struct tls_conn *);

/* The newest resumable session not handed out yet (the caller owns
 * it), or NULL. */
struct tls_session *tls_session_get(struct tls_conn *);
struct tls_session *tls_session_ref(const struct tls_session *);
void	tls_session_free(struct tls_session *);

#endif
