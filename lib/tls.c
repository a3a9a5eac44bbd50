/*
 * tls — see tls.h.  OpenSSL 3 over a non-blocking socket, each operation
 * retried on WANT_READ/WANT_WRITE under poll() until its deadline.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls.h"
#include "util.h"

struct tls_ctx {
	SSL_CTX		*ctx;
};

struct tls_session {
	SSL_SESSION	*s;
};

#define TLS_KEEP_SESSIONS 4

struct tls_conn {
	SSL		*ssl;
	SSL_SESSION	*sessions[TLS_KEEP_SESSIONS];	/* oldest first */
	int		 nsessions;
	int		 received;	/* new-session callbacks */
	int		 handed_current;	/* SSL_get1_session() given */
};

/* Called for every session the server hands out (TLS 1.3: each ticket,
 * often two per connection).  The newest TLS_KEEP_SESSIONS are kept. */
static int
new_session(SSL *ssl, SSL_SESSION *sess)
{
	struct tls_conn *c = SSL_get_app_data(ssl);

	if (c == NULL || !SSL_SESSION_is_resumable(sess))
		return 0;
	c->received++;
	if (c->nsessions == TLS_KEEP_SESSIONS) {
		SSL_SESSION_free(c->sessions[0]);
		memmove(c->sessions, c->sessions + 1,
		    sizeof(c->sessions[0]) * (TLS_KEEP_SESSIONS - 1));
		c->nsessions--;
	}
	c->sessions[c->nsessions++] = sess;
	return 1;		/* we keep the reference */
}

static void
free_sessions(struct tls_conn *c)
{
	while (c->nsessions > 0)
		SSL_SESSION_free(c->sessions[--c->nsessions]);
}

struct tls_ctx *
tls_ctx_new(const char *ca_file, char *err, size_t errsize)
{
	struct tls_ctx *t;
	SSL_CTX *ctx;
	int ok;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		snprintf(err, errsize, "cannot create TLS context: %s",
		    ERR_reason_error_string(ERR_get_error()));
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (ca_file && *ca_file)
		ok = SSL_CTX_load_verify_locations(ctx, ca_file, NULL);
	else
		ok = SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1) {
		snprintf(err, errsize, "cannot load trusted certificates "
		    "from %s: %s", ca_file && *ca_file ? ca_file :
		    "the system store",
		    ERR_reason_error_string(ERR_get_error()));
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* a peer that closes without close_notify ends the stream; SMTP
	 * replies are line-delimited, so a cut reply is still detected */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_session_cache_mode(ctx,
	    SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, new_session);
	t = xcalloc(1, sizeof(*t));
	t->ctx = ctx;
	return t;
}

void
tls_ctx_free(struct tls_ctx *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

static int
is_address(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 ||
	    inet_pton(AF_INET6, host, buf) == 1;
}

/* Words for a failed operation: the verification result first, then
 * the OpenSSL error queue, then errno. */
static void
tls_error(SSL *ssl, int rc, const char *what, char *err, size_t errsize)
{
	long v = SSL_get_verify_result(ssl);
	int e = SSL_get_error(ssl, rc);
	unsigned long q = ERR_peek_last_error();
	const char *reason;

	if (v != X509_V_OK) {
		snprintf(err, errsize, "certificate verify failed: %s",
		    X509_verify_cert_error_string(v));
	} else if (q != 0) {
		reason = ERR_reason_error_string(q);
		snprintf(err, errsize, "%s failed: %s", what,
		    reason ? reason : "unknown TLS error");
	} else if (e == SSL_ERROR_SYSCALL && errno != 0) {
		snprintf(err, errsize, "%s failed: %s", what, strerror(errno));
	} else {
		snprintf(err, errsize, "%s failed: connection closed by peer",
		    what);
	}
	ERR_clear_error();
}

/* After rc <= 0 from an SSL call: wait for what it wants.  0 to retry,
 * -1 with err set. */
static int
tls_wait(SSL *ssl, int rc, long long deadline, const char *what,
    char *err, size_t errsize)
{
	struct pollfd pfd;
	long long left;
	int e = SSL_get_error(ssl, rc);

	if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
		tls_error(ssl, rc, what, err, errsize);
		return -1;
	}
	pfd.fd = SSL_get_fd(ssl);
	pfd.events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
	for (;;) {
		left = deadline - mono_ms();
		if (left <= 0) {
			snprintf(err, errsize, "%s timed out", what);
			return -1;
		}
		rc = poll(&pfd, 1, (int)left);
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR) {
			snprintf(err, errsize, "%s failed: %s", what,
			    strerror(errno));
			return -1;
		}
	}
}

static int
tls_setup(SSL *ssl, const char *host, const struct tls_session *resume,
    char *err, size_t errsize)
{
	int ok;

	if (is_address(host)) {
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
	} else {
		ok = SSL_set_tlsext_host_name(ssl, host) == 1 &&
		    SSL_set1_host(ssl, host) == 1;
	}
	if (!ok) {
		snprintf(err, errsize, "cannot set the name to verify");
		return -1;
	}
	if (resume && resume->s)
		SSL_set_session(ssl, resume->s);
	return 0;
}

struct tls_conn *
tls_connect(struct tls_ctx *t, int fd, const char *host,
    const struct tls_session *resume, int timeout_ms,
    char *err, size_t errsize)
{
	long long deadline = mono_ms() + timeout_ms;
	struct tls_conn *c = xcalloc(1, sizeof(*c));
	int rc;

	ERR_clear_error();
	errno = 0;
	if ((c->ssl = SSL_new(t->ctx)) == NULL || !SSL_set_fd(c->ssl, fd)) {
		snprintf(err, errsize, "cannot create TLS connection");
		goto fail;
	}
	SSL_set_app_data(c->ssl, c);
	if (tls_setup(c->ssl, host, resume, err, errsize) == -1)
		goto fail;
	while ((rc = SSL_connect(c->ssl)) != 1)
		if (tls_wait(c->ssl, rc, deadline, "TLS handshake", err,
		    errsize) == -1)
			goto fail;
	if (SSL_get_verify_result(c->ssl) != X509_V_OK ||
	    SSL_get0_peer_certificate(c->ssl) == NULL) {
		snprintf(err, errsize, "certificate verify failed: %s",
		    X509_verify_cert_error_string(
		    SSL_get_verify_result(c->ssl)));
		goto fail;
	}
	return c;
fail:
	if (c->ssl)
		SSL_free(c->ssl);
	free_sessions(c);
	free(c);
	return NULL;
}

ssize_t
tls_read(struct tls_conn *c, void *buf, size_t len, int timeout_ms,
    char *err, size_t errsize)
{
	long long deadline = mono_ms() + timeout_ms;
	size_t got = 0;
	int rc;

	ERR_clear_error();
	errno = 0;
	for (;;) {
		rc = SSL_read_ex(c->ssl, buf, len, &got);
		if (rc == 1)
			return (ssize_t)got;
		if (SSL_get_error(c->ssl, rc) == SSL_ERROR_ZERO_RETURN)
			return 0;
		if (tls_wait(c->ssl, rc, deadline, "read", err, errsize) == -1)
			return -1;
	}
}

int
tls_write(struct tls_conn *c, const void *buf, size_t len, int timeout_ms,
    char *err, size_t errsize)
{
	long long deadline = mono_ms() + timeout_ms;
	size_t done;
	int rc;

	if (len == 0)
		return 0;
	ERR_clear_error();
	errno = 0;
	while ((rc = SSL_write_ex(c->ssl, buf, len, &done)) != 1)
		if (tls_wait(c->ssl, rc, deadline, "write", err, errsize) == -1)
			return -1;
	return 0;
}

int
tls_pending(const struct tls_conn *c)
{
	return SSL_pending(c->ssl);
}

int
tls_resumed(const struct tls_conn *c)
{
	return SSL_session_reused(c->ssl);
}

const char *
tls_describe(const struct tls_conn *c, char *buf, size_t size)
{
	snprintf(buf, size, "%s %s", SSL_get_version(c->ssl),
	    SSL_get_cipher_name(c->ssl));
	return buf;
}

/* RFC 2253 form, without the BIO dance for each caller. */
static void
name_line(const X509_NAME *n, char *buf, size_t size)
{
	BIO *b = BIO_new(BIO_s_mem());
	int len;

	buf[0] = '\0';
	if (b == NULL)
		return;
	if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB)
	    >= 0 && (len = BIO_read(b, buf, (int)size - 1)) > 0)
		buf[len] = '\0';
	BIO_free(b);
}

int
tls_peer_cert(const struct tls_conn *c, struct tls_cert *out)
{
	X509 *x = SSL_get0_peer_certificate(c->ssl);
	const ASN1_TIME *na;
	struct tm tm;
	int days = 0, secs = 0;

	memset(out, 0, sizeof(*out));
	if (x == NULL)
		return -1;
	name_line(X509_get_subject_name(x), out->subject,
	    sizeof(out->subject));
	name_line(X509_get_issuer_name(x), out->issuer, sizeof(out->issuer));
	na = X509_get0_notAfter(x);
	if (ASN1_TIME_to_tm(na, &tm) == 1)
		strftime(out->not_after, sizeof(out->not_after),
		    "%Y-%m-%d %H:%M:%S UTC", &tm);
	if (ASN1_TIME_diff(&days, &secs, NULL, na) == 1)
		out->days_left = days;
	return 0;
}

void
tls_close(struct tls_conn *c)
{
	if (c == NULL)
		return;
	ERR_clear_error();
	SSL_shutdown(c->ssl);
	ERR_clear_error();
	SSL_free(c->ssl);
	free_sessions(c);
	free(c);
}

struct tls_session *
tls_session_get(struct tls_conn *c)
{
	struct tls_session *s;
	SSL_SESSION *sess = NULL;

	if (c->nsessions > 0) {
		sess = c->sessions[--c->nsessions];
	} else if (!c->received && !c->handed_current) {
		/* TLS 1.2 resumed without a new ticket: the same session
		 * stays good */
		c->handed_current = 1;
		sess = SSL_get1_session(c->ssl);
		if (sess && !SSL_SESSION_is_resumable(sess)) {
			SSL_SESSION_free(sess);
			sess = NULL;
		}
	}
	if (sess == NULL)
		return NULL;
	s = xmalloc(sizeof(*s));
	s->s = sess;
	return s;
}

struct tls_session *
tls_session_ref(const struct tls_session *from)
{
	struct tls_session *s;

	if (from == NULL)
		return NULL;
	s = xmalloc(sizeof(*s));
	s->s = from->s;
	SSL_SESSION_up_ref(s->s);
	return s;
}

void
tls_session_free(struct tls_session *s)
{
	if (s == NULL)
		return;
	SSL_SESSION_free(s->s);
	free(s);
}
