/*
 * dkimcheck — verify the DKIM signatures a message already carries
 * (e.g. from a local OpenDKIM ahead in the milter chain), with
 * libopendkim, so align_check() can count them.
 *
 * Feed headers as the milter sees them (name and value, the value with or
 * without its leading space, folded lines with LF or CRLF), then the body
 * in chunks.  At most DKIMCHECK_BODY_MAX body bytes are hashed: a longer
 * body yields no verified signature ("body too large to verify"), so a
 * cap never passes a signature by accident.  dkimcheck_finish() returns
 * the d= of every signature that verifies.
 */
#ifndef SMARTHOST_DKIMCHECK_H
#define SMARTHOST_DKIMCHECK_H

#include <stddef.h>

#include "align.h"
#include "domain.h"

#define DKIMCHECK_BODY_MAX	(16UL * 1024 * 1024)

struct dkimcheck;

struct dkimcheck_result {
	char	 domains[ALIGN_MAX_SIGS][DOMAIN_MAX + 1];	/* verified d= */
	size_t	 n;
	int	 temperror;	/* a key lookup failed for now */
	char	 nokey[DOMAIN_MAX + 64];	/* a key record that does not
					 * exist ("s._domainkey.d"), or "" */
	size_t	 nsigs;		/* signatures seen */
	char	 note[128];	/* why none verified, "" otherwise */
};

/* NULL with a message in err.  id names the message in libopendkim. */
struct dkimcheck *dkimcheck_new(struct align *, const char *id, char *err,
	    size_t errsize);
int	dkimcheck_header(struct dkimcheck *, const char *name,
	    const char *value);
int	dkimcheck_eoh(struct dkimcheck *);
int	dkimcheck_body(struct dkimcheck *, const unsigned char *, size_t);
/* Finish and fill res; 0, or -1 on an internal error. */
int	dkimcheck_finish(struct dkimcheck *, struct dkimcheck_result *res);
void	dkimcheck_free(struct dkimcheck *);

#endif
