/*
 * authcode — see authcode.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "authcode.h"
#include "util.h"

#define REQ_MAX		8192
#define CONN_MAX	8	/* connections read at once */
#define CONN_READ_S	5	/* seconds a connection has for its request */

struct pkce {
	char	verifier[64], challenge[64], state[32];
};

/* base64url without padding (RFC 7636 appendix A). */
static void
b64url(const unsigned char *in, int len, char *out)
{
	int n = EVP_EncodeBlock((unsigned char *)out, in, len);

	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (char *p = out; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
}

static int
pkce_make(struct pkce *p)
{
	unsigned char raw[32], hash[SHA256_DIGEST_LENGTH];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	b64url(raw, sizeof(raw), p->verifier);
	SHA256((const unsigned char *)p->verifier, strlen(p->verifier), hash);
	b64url(hash, sizeof(hash), p->challenge);
	if (RAND_bytes(raw, 16) != 1)
		return -1;
	b64url(raw, 16, p->state);
	wipe(raw, sizeof(raw));
	return 0;
}

static int
listen_loopback(unsigned port, unsigned *bound, char *err, size_t errsize)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sin);
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == -1 || bind(fd, (struct sockaddr *)&sin,
	    sizeof(sin)) == -1 || listen(fd, 8) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) == -1) {
		snprintf(err, errsize, "listen on 127.0.0.1:%u: %s", port,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	*bound = ntohs(sin.sin_port);
	return fd;
}

static void
print_url(const struct account *a, const struct oauth_endpoints *e,
    const struct pkce *p, const char *redirect, unsigned port)
{
	char *q = NULL;

	q = oauth_form_add(q, "client_id", e->client_id);
	q = oauth_form_add(q, "response_type", "code");
	q = oauth_form_add(q, "redirect_uri", redirect);
	q = oauth_form_add(q, "scope", e->scope);
	q = oauth_form_add(q, "code_challenge", p->challenge);
	q = oauth_form_add(q, "code_challenge_method", "S256");
	q = oauth_form_add(q, "state", p->state);
	q = oauth_form_add(q, "access_type", "offline");
	q = oauth_form_add(q, "prompt", "consent");
	printf("To authorize account %s, open this URL in a browser and sign "
	    "in as the account:\n\n    %s%s%s\n\n", a->name, e->auth_url,
	    strchr(e->auth_url, '?') ? "&" : "?", q);
	printf("The browser is then sent to %s, where this command listens.  "
	    "On a host without a browser, first forward the port from the "
	    "machine with the browser:\n\n    ssh -L %u:127.0.0.1:%u "
	    "THIS-HOST\n\nWaiting...\n", redirect, port, port);
	fflush(stdout);
	free(q);
}

/* The value of name in the query of "GET /?a=b&c=d HTTP/1.1", decoded,
 * or NULL. */
static char *
query_get(const char *req, const char *name)
{
	const char *t = strchr(req, ' '), *q, *end;
	size_t n = strlen(name), vlen;
	char *v, *copy;

	if (t == NULL || (end = strchr(t + 1, ' ')) == NULL ||
	    (q = memchr(t, '?', (size_t)(end - t))) == NULL)
		return NULL;
	for (q++; q < end; q += strcspn(q, "& ") + 1) {
		if (strncmp(q, name, n) != 0 || q[n] != '=')
			continue;
		q += n + 1;
		vlen = strcspn(q, "& ");
		if ((v = curl_easy_unescape(NULL, q, (int)vlen, NULL)) == NULL)
			return NULL;
		copy = xstrdup(v);
		wipe(v, strlen(v));
		curl_free(v);
		return copy;
	}
	return NULL;
}

static void
answer(int fd, int status, const char *text)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "HTTP/1.0 %d %s\r\nContent-Type: "
	    "text/plain; charset=utf-8\r\nConnection: close\r\n\r\n%s\n",
	    status, status == 200 ? "OK" : status == 404 ? "Not Found" :
	    "Bad Request", text);

	if (write(fd, buf, (size_t)n) == -1)
		return;
}

/* A provider's text for the terminal: printable ASCII only (control
 * bytes and escape sequences become '?'), at most max bytes, "..." when
 * cut. */
static void
printable_cut(char *buf, size_t size, const char *s, size_t max)
{
	size_t len = strlen(s);

	str_printable(buf, size, s, len < max ? len : max);
	if (len > max)
		xstrlcat(buf, "...", size);
}

/* The redirect carries the state sent (compared in constant time). */
static int
state_ok(const char *state, const struct pkce *p)
{
	size_t n = strlen(p->state);

	return state != NULL && strlen(state) == n &&
	    CRYPTO_memcmp(state, p->state, n) == 0;
}

/* One request head.  1: the redirect with code (in *code); 0: not the
 * redirect (another path, a missing or wrong state: answered, the wait
 * goes on; *ignored counts the wrong states); -1: the redirect with the
 * provider's error, or without a code. */
static int
handle(int fd, const char *req, const struct pkce *p, char **code,
    unsigned *ignored, char *err, size_t errsize)
{
	char *state, *e, *d, pe[128], pd[320];
	int rc;

	if (strncmp(req, "GET /?", 6) != 0) {
		answer(fd, 404, "not here");
		return 0;
	}
	state = query_get(req, "state");
	if (!state_ok(state, p)) {
		answer(fd, 400, "smarthost: state mismatch.");
		(*ignored)++;
		free(state);
		return 0;
	}
	free(state);
	*code = query_get(req, "code");
	e = query_get(req, "error");
	d = query_get(req, "error_description");
	if (e != NULL || *code == NULL) {
		printable_cut(pe, sizeof(pe), e ? e : "no code in the redirect",
		    100);
		if (e && d)
			printable_cut(pd, sizeof(pd), d, 300);
		snprintf(err, errsize, "the provider refused: %s%s%s", pe,
		    e && d ? ": " : "", e && d ? pd : "");
		answer(fd, 400, "smarthost: authorization refused.");
		free_secret(*code);
		*code = NULL;
		rc = -1;
	} else {
		answer(fd, 200, "smarthost: authorized. You may close this "
		    "window.");
		rc = 1;
	}
	free(e);
	free(d);
	return rc;
}

/* Connections being read: each has CONN_READ_S seconds to send its
 * request head, so a silent one cannot hold up the redirect; when all
 * slots are taken, the oldest is dropped for the newcomer. */
struct conn {
	int	 fd;		/* -1: free slot */
	time_t	 until;
	size_t	 len;
	char	 buf[REQ_MAX];
};

static void
conn_close(struct conn *c)
{
	if (c->fd != -1)
		close(c->fd);
	wipe(c->buf, c->len);
	c->fd = -1;
	c->len = 0;
}

static void
conn_accept(int lfd, struct conn *conns)
{
	struct conn *slot = &conns[0];
	int fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) ==
	    -1)
		return;
	for (int i = 0; i < CONN_MAX; i++) {
		if (conns[i].fd == -1) {
			slot = &conns[i];
			break;
		}
		if (conns[i].until < slot->until)
			slot = &conns[i];
	}
	conn_close(slot);
	slot->fd = fd;
	slot->until = time(NULL) + CONN_READ_S;
}

/* Reads what c has sent; a whole head is handled and c closed.  Returns
 * handle()'s value, 0 while the head is incomplete. */
static int
conn_read(struct conn *c, const struct pkce *p, char **code,
    unsigned *ignored, char *err, size_t errsize)
{
	ssize_t n = read(c->fd, c->buf + c->len, REQ_MAX - 1 - c->len);
	int rc = 0;

	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		conn_close(c);
		return 0;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	if (strstr(c->buf, "\r\n\r\n") || strstr(c->buf, "\n\n"))
		rc = handle(c->fd, c->buf, p, code, ignored, err, errsize);
	else if (c->len < REQ_MAX - 1)
		return 0;
	else
		answer(c->fd, 400, "request too long");
	conn_close(c);
	return rc;
}

/* Serves connections until the redirect with the right state comes or
 * the deadline passes. */
static int
wait_code(int lfd, const struct pkce *p, unsigned timeout, char **code,
    char *err, size_t errsize)
{
	time_t deadline = time(NULL) + timeout;
	struct conn *conns = xcalloc(CONN_MAX, sizeof(*conns));
	struct pollfd pfd[CONN_MAX + 1];
	unsigned ignored = 0;
	int rc = 0;

	for (int i = 0; i < CONN_MAX; i++)
		conns[i].fd = -1;
	while (rc == 0 && time(NULL) < deadline) {
		pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (int i = 0; i < CONN_MAX; i++)
			pfd[i + 1] = (struct pollfd){ .fd = conns[i].fd,
			    .events = POLLIN };
		if (poll(pfd, CONN_MAX + 1, 500) == -1 && errno != EINTR)
			break;
		for (int i = 0; i < CONN_MAX && rc == 0; i++) {
			if (conns[i].fd == -1)
				continue;
			if (pfd[i + 1].revents)
				rc = conn_read(&conns[i], p, code, &ignored,
				    err, errsize);
			else if (time(NULL) >= conns[i].until)
				conn_close(&conns[i]);
		}
		if (rc == 0 && (pfd[0].revents & POLLIN))
			conn_accept(lfd, conns);
	}
	for (int i = 0; i < CONN_MAX; i++)
		conn_close(&conns[i]);
	free(conns);
	if (rc == 0)
		snprintf(err, errsize, "no redirect from the browser within "
		    "%u s%s", timeout, ignored ? " (requests with a wrong or "
		    "missing state were ignored)" : "");
	return rc == 1 ? 0 : -1;
}

static int
exchange(const struct oauth_endpoints *e, const struct pkce *p,
    const char *code, const char *redirect, struct oauth_token *tok,
    char *err, size_t errsize)
{
	char *form = NULL;
	json_t *o;
	long status;
	int rc = -1;

	form = oauth_form_add(form, "grant_type", "authorization_code");
	form = oauth_form_add(form, "code", code);
	form = oauth_form_add(form, "redirect_uri", redirect);
	form = oauth_form_add(form, "code_verifier", p->verifier);
	form = oauth_form_add(form, "client_id", e->client_id);
	if (e->client_secret)
		form = oauth_form_add(form, "client_secret", e->client_secret);
	status = oauth_http_post(e->token_url, e->ca_file, form, &o, err,
	    errsize);
	free_secret(form);
	if (status == 200)
		rc = oauth_token_from_json(o, time(NULL), tok, err, errsize);
	else if (status != -1)
		oauth_http_error(o, status, err, errsize);
	json_decref(o);
	return rc;
}

int
authcode_run(const struct account *a, const struct oauth_endpoints *e,
    unsigned port, unsigned timeout, struct oauth_token *tok, char *err,
    size_t errsize)
{
	struct pkce p;
	char redirect[64], *code = NULL;
	unsigned bound;
	int lfd, rc;

	if (e->auth_url[0] == '\0') {
		snprintf(err, errsize, "no authorization endpoint "
		    "(oauth-auth-url)");
		return -1;
	}
	if (pkce_make(&p) == -1) {
		snprintf(err, errsize, "no random bytes for PKCE");
		return -1;
	}
	if ((lfd = listen_loopback(port, &bound, err, errsize)) == -1)
		return -1;
	snprintf(redirect, sizeof(redirect), "http://127.0.0.1:%u/", bound);
	print_url(a, e, &p, redirect, bound);
	rc = wait_code(lfd, &p, timeout, &code, err, errsize);
	close(lfd);
	if (rc == 0)
		rc = exchange(e, &p, code, redirect, tok, err, errsize);
	free_secret(code);
	wipe(&p, sizeof(p));
	return rc;
}
