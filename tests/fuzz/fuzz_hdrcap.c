/*
 * fuzz_hdrcap — the header capture of the sent log (lib/hdrcap.c) on
 * arbitrary bytes: fed whole and fed in pieces whose size comes from the
 * first input byte, the results must be the same; every value ends
 * within its buffer and holds no control character, the Message-ID is
 * printable ASCII without a blank, the queue id only letters and digits,
 * the From: address may hold bytes from 0x80 up (UTF-8 atom text, as
 * lib/addr.h reads it).  A violation aborts.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hdrcap.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_value(const char *v, size_t size, const char *forbidden, int alnum,
    int high)
{
	size_t n = strnlen(v, size);

	if (n == size)
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c < 0x20 || c == 0x7f || (c > 0x7f && !high) ||
		    strchr(forbidden, c) != NULL ||
		    (alnum && !isalnum(c)))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hdrcap whole, pieces;
	size_t piece;
	const char *in = (const char *)data + 1;

	if (size < 1)
		return 0;
	piece = data[0] % 64 + 1;
	size--;
	hdrcap_init(&whole);
	hdrcap_feed(&whole, in, size);
	hdrcap_end(&whole);
	hdrcap_init(&pieces);
	for (size_t off = 0; off < size; off += piece)
		hdrcap_feed(&pieces, in + off, size - off < piece ?
		    size - off : piece);
	hdrcap_end(&pieces);
	if (strcmp(whole.message_id, pieces.message_id) != 0 ||
	    strcmp(whole.from, pieces.from) != 0 ||
	    strcmp(whole.queue_id, pieces.queue_id) != 0)
		abort();
	check_value(whole.message_id, sizeof(whole.message_id), " \t", 0, 0);
	check_value(whole.from, sizeof(whole.from), "", 0, 1);
	check_value(whole.queue_id, sizeof(whole.queue_id), "", 1, 0);
	return 0;
}
