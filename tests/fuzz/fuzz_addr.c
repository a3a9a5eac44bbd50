/*
 * fuzz_addr — both address parsers on arbitrary bytes.  What parses must
 * survive the round trip: the key re-parses as a path to the same key,
 * and a formatted mailbox re-parses as a header value to the same key and
 * display name; so does the input itself taken as a display name.  Every
 * refusal is printable ASCII.  A mismatch aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define MAXMB	8

static void
mismatch(const char *what, const char *a, const char *b)
{
	fprintf(stderr, "round trip mismatch (%s): \"%s\" != \"%s\"\n", what,
	    a, b);
	abort();
}

/* A key that fits a path and holds no TAB (which only a header's quoted
 * local part may carry) must parse as a path to itself. */
static void
check_key(const char *key)
{
	char key2[ADDR_KEY_MAX], err[256];

	if (key[0] == '\0' || strlen(key) + 2 > ADDR_PATH_MAX ||
	    strchr(key, '\t') != NULL)
		return;
	if (addr_key_from_string(key, key2, sizeof(key2), err,
	    sizeof(err)) < 0)
		mismatch(err, key, "");
	if (strcmp(key, key2) != 0)
		mismatch("path key", key, key2);
}

static void
check_mailbox(const struct mailbox *m)
{
	char key[ADDR_KEY_MAX], key2[ADDR_KEY_MAX], buf[2048], err[256];
	struct mailbox back[2];
	size_t n;

	addr_key(&m->addr, key, sizeof(key));
	check_key(key);
	if (addr_format_mailbox(m->display, key, buf, sizeof(buf)) < 0)
		mismatch("format failed", m->display, key);
	if (strlen(buf) > ADDR_HEADER_MAX)
		return;
	if (addr_parse_mailboxes(buf, back, 2, &n, err, sizeof(err)) < 0)
		mismatch(err, buf, "");
	if (n != 1)
		mismatch("count", buf, "");
	addr_key(&back[0].addr, key2, sizeof(key2));
	if (strcmp(key, key2) != 0)
		mismatch("header key", key, key2);
	if (strcmp(m->display, back[0].display) != 0)
		mismatch("display", m->display, back[0].display);
}

/* A refusal is one non-empty line of printable ASCII: it goes into an
 * SMTP reply. */
static void
check_message(const char *err)
{
	if (err[0] == '\0')
		mismatch("empty message", err, "");
	for (const char *p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			mismatch("unprintable message", err, "");
}

/* Any display name without control characters formats and parses back
 * to itself. */
static void
check_display(const char *s, size_t size)
{
	struct mailbox m;

	if (size >= ADDR_DISPLAY_MAX || memchr(s, '\0', size) != NULL)
		return;
	memcpy(m.display, s, size);
	m.display[size] = '\0';
	for (size_t i = 0; i < size; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') ||
		    s[i] == 0x7f)
			return;
	memset(&m.addr, 0, sizeof(m.addr));
	strcpy(m.addr.local, "k");
	strcpy(m.addr.domain, "example.com");
	check_mailbox(&m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct mailbox mb[MAXMB];
	struct addr a;
	char key[ADDR_KEY_MAX], err[256];
	size_t n;

	if (addr_parse_path_len(s, size, &a, err, sizeof(err)) == 0)
		check_key(addr_key(&a, key, sizeof(key)));
	else
		check_message(err);
	if (addr_parse_mailboxes_len(s, size, mb, MAXMB, &n, err,
	    sizeof(err)) == 0)
		for (size_t i = 0; i < n && i < MAXMB; i++)
			check_mailbox(&mb[i]);
	else
		check_message(err);
	check_display(s, size);
	return 0;
}
