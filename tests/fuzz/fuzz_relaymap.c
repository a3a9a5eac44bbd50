/*
 * fuzz_relaymap — relaymap_parse() on arbitrary bytes.  Besides memory
 * errors, checks that every entry the parser kept is found again by its
 * own key and that a lookup of each key lands on an entry.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "relaymap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag d;
	struct relaymap *m;
	const struct map_entry *e;

	diag_init(&d);
	m = relaymap_parse((const char *)data, size, "fuzz.map", &d);
	for (size_t i = 0; i < relaymap_count(m); i++) {
		e = relaymap_entry(m, i);
		if (relaymap_get(m, e->key) != e)
			abort();
		if (e->kind == MAP_EXACT && relaymap_lookup(m, e->key) != e)
			abort();
	}
	e = relaymap_lookup(m, "");
	if (e != NULL && e->kind != MAP_NULL)
		abort();
	relaymap_free(m);
	diag_free(&d);
	return 0;
}
