/*
 * addr_int — helpers shared by the two halves of the address parser
 * (addr.c: paths and keys; addr_header.c: header values).  Not for use
 * outside them.
 */
#ifndef SMARTHOST_ADDR_INT_H
#define SMARTHOST_ADDR_INT_H

#include <stddef.h>

#define ECHO_MAX	64
#define ECHO_SIZE	(ECHO_MAX * 2 + 1)

int	addr_is_atext(unsigned char c);
int	addr_is_wsp(char c);
int	addr_is_ctl(unsigned char c);
/* Printable copy of untrusted input for a message, '"' and '\' escaped,
 * at most ECHO_MAX input characters; buf has ECHO_SIZE bytes. */
const char *addr_echo(char *buf, const char *s, size_t len);
/* Write "WHAT in \"INPUT\"" (or WHAT alone) to err; return -1. */
int	addr_fail_in(char *err, size_t errsize, const char *what,
	    const char *s, size_t len);
int	addr_fail(char *err, size_t errsize, const char *what);
/* Normalise [s, s + len) as a domain into out (DOMAIN_MAX + 1), messages
 * printable; all/alllen is the whole input, for messages. */
int	addr_norm_domain(const char *s, size_t len, char *out,
	    const char *all, size_t alllen, char *err, size_t errsize);

#endif
