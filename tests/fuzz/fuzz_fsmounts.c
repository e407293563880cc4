/*
 * fuzz_fsmounts: what a peer sends of its mount points and what a host
 * proved of them (MIG_M_FS_MOUNTS, MIG_M_FS_PROVEN: homed/fs/proof.c),
 * and a mountinfo text. The first byte says which: 0 MOUNTS as protocol
 * 5 sends it, 3 as protocol 4 does (no network fields), 1 PROVEN, else
 * mountinfo. Whatever the input: a list taken is sorted, each path
 * once, absolute, and sends back as the same bytes; PROVEN's paths come
 * out printable; a mountinfo's paths are absolute, sorted, each once.
 */
#include <errno.h>
#include <string.h>

#include "fs.h"
#include "fuzz.h"
#include "mig/proto.h"

static void
check_list(const struct mig_mounts *ms)
{
	for (size_t i = 0; i < ms->n; i++) {
		CHECK(ms->m[i].path[0] == '/');
		CHECK(i == 0 || strcmp(ms->m[i - 1].path, ms->m[i].path) < 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mig_buf b = { NULL, 0, 0 };
	struct mig_mounts ms, again;
	char *proven = NULL, *unproven = NULL;
	uint8_t *p;
	int all, r;

	if (size == 0)
		return 0;
	/* The payload alone, so a read past it is caught. */
	p = malloc(size - 1 ? size - 1 : 1);
	CHECK(p != NULL);
	memcpy(p, data + 1, size - 1);
	if (data[0] == 0 || data[0] == 3) {
		uint32_t proto = data[0] == 3 ? 4 : MIG_PROTO_NETPROOF;

		r = mig__mounts_get(p, size - 1, proto, &ms);
		CHECK(r == 0 || r == MIG_EPROTO || r == MIG__ERR(ENOMEM));
		if (r == 0) {
			check_list(&ms);
			CHECK(mig__mounts_put(&b, &ms, proto) == 0);
			CHECK(mig__mounts_get(b.data, b.len, proto, &again) ==
			    0);
			CHECK(again.n == ms.n);
			for (size_t i = 0; i < ms.n; i++)
				CHECK(strcmp(again.m[i].path, ms.m[i].path) ==
				    0 && again.m[i].dev == ms.m[i].dev &&
				    again.m[i].ino == ms.m[i].ino);
			mig__mounts_free(&again);
		} else {
			CHECK(ms.m == NULL && ms.n == 0);
		}
		mig__mounts_free(&ms);
	} else if (data[0] == 1) {
		r = mig__proven_get(p, size - 1, &all, &proven, &unproven);
		CHECK(r == 0 || r == MIG_EPROTO || r == MIG__ERR(ENOMEM));
		if (r == 0) {
			CHECK(all == 0 || all == 1);
			for (const char *c = proven; *c != '\0'; c++)
				CHECK(*c == '\n' || (*c >= ' ' && *c <= '~'));
			for (const char *c = unproven; *c != '\0'; c++)
				CHECK(*c == '\n' || (*c >= ' ' && *c <= '~'));
		} else {
			CHECK(proven == NULL && unproven == NULL);
		}
		free(proven);
		free(unproven);
	} else {
		r = mig__mountinfo_parse((const char *)p, size - 1, &ms);
		CHECK(r == 0 || r == MIG_ETOOBIG || r == MIG__ERR(ENOMEM));
		if (r == 0)
			check_list(&ms);
		mig__mounts_free(&ms);
	}
	mig_buf_free(&b);
	free(p);
	return 0;
}
