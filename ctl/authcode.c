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
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "authcode.h"
#include "util.h"

#define REQ_MAX		8192

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

/* Reads one request head within the deadline; NULL if none came. */
static char *
read_request(int fd, time_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char *buf = xmalloc(REQ_MAX);
	size_t len = 0;
	ssize_t n;

	while (len < REQ_MAX - 1 && time(NULL) < deadline &&
	    poll(&pfd, 1, 1000) >= 0) {
		if (!(pfd.revents & POLLIN))
			continue;
		if ((n = read(fd, buf + len, REQ_MAX - 1 - len)) <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
			return buf;
	}
	buf[len] = '\0';
	free_secret(buf);
	return NULL;
}

/* 1: the redirect with code (in *code), 0: another request, -1: the
 * redirect with an error or a wrong state. */
static int
handle(int fd, const struct pkce *p, time_t deadline, char **code,
    char *err, size_t errsize)
{
	char *req = read_request(fd, deadline), *state, *e;
	int rc = 0;

	if (req == NULL)
		return 0;
	if (strncmp(req, "GET /?", 6) != 0) {
		answer(fd, 404, "not here");
		free_secret(req);
		return 0;
	}
	state = query_get(req, "state");
	*code = query_get(req, "code");
	if ((e = query_get(req, "error")) != NULL || *code == NULL) {
		snprintf(err, errsize, "the provider refused: %s", e ? e :
		    "no code in the redirect");
		answer(fd, 400, "smarthost: authorization refused.");
		rc = -1;
	} else if (state == NULL || strcmp(state, p->state) != 0) {
		snprintf(err, errsize, "the redirect's state does not match "
		    "(a stale or forged request)");
		answer(fd, 400, "smarthost: state mismatch.");
		rc = -1;
	} else {
		answer(fd, 200, "smarthost: authorized. You may close this "
		    "window.");
		rc = 1;
	}
	if (rc != 1) {
		free_secret(*code);
		*code = NULL;
	}
	free(state);
	free(e);
	free_secret(req);
	return rc;
}

static int
wait_code(int lfd, const struct pkce *p, unsigned timeout, char **code,
    char *err, size_t errsize)
{
	time_t deadline = time(NULL) + timeout;
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	int fd, rc = 0;

	while (rc == 0 && time(NULL) < deadline) {
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
			continue;
		rc = handle(fd, p, deadline, code, err, errsize);
		close(fd);
	}
	if (rc == 0)
		snprintf(err, errsize, "no redirect from the browser within "
		    "%u s", timeout);
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
