/*
 * fuzz_retmsg — lib/retmsg.c on arbitrary messages (what anyone can mail
 * to a provider mailbox smarthost-return reads).  Besides memory errors,
 * checks every candidate ID handed to the callback: non-empty, at most
 * RETMSG_ID_MAX bytes, without '<', '>' or white space, and a part of
 * the input.  A violation aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "retmsg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct in {
	const char	*msg;
	size_t		 len;
	int		 n;
};

static int
check(enum retmsg_kind k, const char *id, void *arg)
{
	struct in *in = arg;
	size_t n = strlen(id);

	if (n == 0 || n > RETMSG_ID_MAX || strpbrk(id, "<> \t\r\n") != NULL)
		abort();
	if (k != RETMSG_DSN && k != RETMSG_REPLY)
		abort();
	if (memmem(in->msg, in->len, id, n) == NULL)
		abort();
	return ++in->n == 1000;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *msg = malloc(size + 1);
	struct in in = { .msg = msg, .len = size };

	memcpy(msg, data, size);
	msg[size] = '\0';
	(void)retmsg_is_notice(msg, size);
	(void)retmsg_scan(msg, size, check, &in);
	free(msg);
	return 0;
}
