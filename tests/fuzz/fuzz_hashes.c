/*
 * fuzz_hashes.c: a host's saved table of its own files' hashes, as the
 * next daemon reads it back from beside its objects (mig__hashdb_load,
 * homed/fs/hashdb.c; fs/seed.c keeps it). Whatever the bytes, the load
 * is accepted or refused (MIG_EPROTO) without a read past them, the table
 * stays within its cap, and what it holds saves to bytes that load again
 * into the same table (saved once more, the same bytes).
 */
#include <string.h>

#include "fs.h"
#include "fuzz.h"
#include "mig/proto.h"

#define CAP 64

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mig_buf a = { NULL, 0, 0 }, b = { NULL, 0, 0 };
	struct mig_hashdb *db, *again;
	struct mig_hashdb_stats st;
	uint8_t *p;
	int r;

	/* The bytes alone, so a read past them is caught. */
	p = malloc(size ? size : 1);
	CHECK(p != NULL);
	if (size > 0)
		memcpy(p, data, size);
	CHECK(mig__hashdb_new(CAP, NULL, &db) == 0);
	r = mig__hashdb_load(db, p, size);
	CHECK(r == 0 || r == MIG_EPROTO);
	mig__hashdb_stats(db, &st);
	CHECK(st.entries <= CAP);
	CHECK(mig__hashdb_save(db, &a) == 0);
	CHECK(mig__hashdb_new(CAP, NULL, &again) == 0);
	CHECK(mig__hashdb_load(again, a.data, a.len) == 0);
	CHECK(mig__hashdb_save(again, &b) == 0);
	CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
	mig__hashdb_free(again);
	mig__hashdb_free(db);
	mig_buf_free(&a);
	mig_buf_free(&b);
	free(p);
	return 0;
}
