/*
 * oauth_http — form POSTs to an authorization server with libcurl and
 * their JSON answers with jansson (see oauth.h).  HTTPS only, the peer
 * and its name always verified; redirects are not followed.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "oauth.h"
#include "util.h"

#define ANSWER_MAX	(256 * 1024)

/* The answer as it arrives: it holds tokens, so every block it leaves
 * behind is wiped (answer_grow, answer_free). */
struct answer {
	char	*buf;
	size_t	 len;		/* bytes of answer, NUL after them */
	size_t	 cap;		/* bytes allocated */
	int	 too_long;
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void
init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void
oauth_init(void)
{
	oauth_json_init();
	pthread_once(&init_once, init);
}

/* Room for need bytes: a new block (doubling, at most ANSWER_MAX + 1),
 * the content copied, the old block wiped and freed.  realloc() would
 * free (or leave in place) a copy of the tokens without wiping it. */
static void
answer_grow(struct answer *a, size_t need)
{
	size_t cap = a->cap ? a->cap : 1024;
	char *nb;

	if (need <= a->cap)
		return;
	while (cap < need)
		cap = cap > (ANSWER_MAX + 1) / 2 ? ANSWER_MAX + 1 : cap * 2;
	nb = xmalloc(cap);
	if (a->buf) {
		memcpy(nb, a->buf, a->len + 1);
		wipe(a->buf, a->cap);
		free(a->buf);
	}
	a->buf = nb;
	a->cap = cap;
}

static void
answer_free(struct answer *a)
{
	if (a->buf) {
		wipe(a->buf, a->cap);
		free(a->buf);
	}
	memset(a, 0, sizeof(*a));
}

static size_t
collect(char *data, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;
	size_t len = size * n;

	if (len > ANSWER_MAX - a->len) {
		a->too_long = 1;
		return 0;
	}
	answer_grow(a, a->len + len + 1);
	memcpy(a->buf + a->len, data, len);
	a->len += len;
	a->buf[a->len] = '\0';
	return len;
}

static CURL *
easy_new(const char *url, const char *ca_file, const char *form,
    struct answer *a, char *ebuf)
{
	CURL *h = curl_easy_init();

	if (h == NULL)
		return NULL;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, form);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)OAUTH_HTTP_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "smarthost");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	return h;
}

long
oauth_http_post(const char *url, const char *ca_file, char *form,
    json_t **out, char *err, size_t errsize)
{
	char ebuf[CURL_ERROR_SIZE] = "";
	struct answer a = { 0 };
	json_error_t je;
	char where[128];
	long status = -1;
	CURLcode rc;
	CURL *h;

	oauth_init();
	*out = NULL;
	if ((h = easy_new(url, ca_file, form, &a, ebuf)) == NULL) {
		snprintf(err, errsize, "cannot start an HTTPS request");
		return -1;
	}
	rc = curl_easy_perform(h);
	wipe(form, strlen(form));
	if (rc != CURLE_OK)
		snprintf(err, errsize, "%s: %s", url, a.too_long ?
		    "answer too long" : ebuf[0] ? ebuf : curl_easy_strerror(rc));
	else {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		*out = a.buf ? json_loadb(a.buf, a.len, 0, &je) : NULL;
		if (!json_is_object(*out)) {
			snprintf(err, errsize, "%s: HTTP %ld without a JSON "
			    "object in the answer%s%s", url, status,
			    a.buf && *out == NULL ? ": " : "", a.buf &&
			    *out == NULL ? oauth_json_error(&je, where,
			    sizeof(where)) : "");
			json_decref(*out);
			*out = NULL;
			status = -1;
		}
		wipe(&je, sizeof(je));	/* its text quotes the answer */
	}
	curl_easy_cleanup(h);
	answer_free(&a);
	return status;
}

void
oauth_http_error(json_t *o, long status, char *err, size_t errsize)
{
	const char *e = json_string_value(json_object_get(o, "error"));
	const char *d = json_string_value(json_object_get(o,
	    "error_description"));
	char pe[128], pd[400];

	if (e == NULL) {
		snprintf(err, errsize, "HTTP status %ld", status);
		return;
	}
	str_printable(pe, sizeof(pe), e, strlen(e));
	if (d)
		str_printable(pd, sizeof(pd), d, strlen(d));
	snprintf(err, errsize, "%s%s%s", pe, d ? ": " : "", d ? pd : "");
}

char *
oauth_form_add(char *form, const char *name, const char *value)
{
	char *enc = curl_easy_escape(NULL, value, 0), *s;

	if (enc == NULL)
		abort();
	s = xasprintf("%s%s%s=%s", form ? form : "", form && *form ? "&" : "",
	    name, enc);
	wipe(enc, strlen(enc));
	curl_free(enc);
	free_secret(form);
	return s;
}
