/*
 * fuzz_fsprime.c: what home sends a host before a job's EXEC
 * (MIG_M_FS_PRIME), as the host's view takes it in: mig__known_prime
 * (homed/fs/known.c) on the payload, into the known table of a view that
 * has nothing else (no link, no FUSE session: the table is all it
 * touches). Whatever the payload, the table stays whole: every entry is
 * found again under its path, once, with an absolute path, an errno or
 * attributes, and a hash or a target only for a path that exists. The
 * table is emptied after each input (mig__known_clear).
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "view.h"

static void
check_table(struct view *v, size_t most)
{
	struct known *k;
	size_t n = 0;

	for (size_t b = 0; b < NODE_BUCKETS; b++)
		for (k = v->known[b]; k != NULL; k = k->next) {
			CHECK(k->path != NULL && k->path[0] == '/');
			CHECK(mig__known_get(v, k->path) == k);
			CHECK(k->err >= 0 && k->err < 4096);
			if (k->err != 0)
				CHECK(!k->has_key && k->target == NULL);
			if (k->target != NULL)
				CHECK(strlen(k->target) < PATH_MAX);
			n++;
		}
	CHECK(n == v->nknown && n <= most);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct view v;
	size_t most = size < 4 ? 0 : (size - 4) / 9;
	uint32_t count = 0;
	uint8_t *p;
	int r;

	/* The payload alone, so a read past it is caught. */
	p = calloc(size ? size : 1, 1);
	CHECK(p != NULL);
	if (size > 0)
		memcpy(p, data, size);
	r = mig__known_prime(&v, p, size);
	CHECK(r == 0 || r == MIG_EPROTO || r == MIG__ERR(ENOMEM));
	for (int i = 0; i < 4 && (size_t)i < size; i++)
		count |= (uint32_t)p[i] << (8 * i);
	/* Each entry takes at least a path of one byte and an errno. */
	check_table(&v, count < most ? count : most);
	mig__known_clear(&v);
	CHECK(v.nknown == 0);
	free(p);
	return 0;
}
