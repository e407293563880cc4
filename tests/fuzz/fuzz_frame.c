/*
 * fuzz_frame.c: a byte stream as a daemon reads it off a socket. Frames
 * are decoded one after the other with mig_frame_decode until one is
 * incomplete or malformed; RUN and EXEC payloads go through mig_r_job.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "mig/mig.h"
#include "mig/proto.h"

static void
check_job(const struct mig_frame *f)
{
	struct mig_job *job = (struct mig_job *)1;
	struct mig_buf b = { 0 };
	struct mig_frame g;
	uint8_t *p = malloc(f->len ? f->len : 1);
	int r;

	/* The payload alone, so reading past it is caught. */
	CHECK(p != NULL);
	if (f->len > 0)
		memcpy(p, f->payload, f->len);
	r = mig_r_job(p, f->len, &job);
	if (r != 0) {
		CHECK(r == MIG_EPROTO || r == MIG__ERR(ENOMEM));
		CHECK(job == NULL);
		free(p);
		return;
	}
	CHECK(job->argv[0] != NULL && job->nrlimit <= MIG_JOB_NRLIMIT);
	/* Re-encoded, it is the same frame but for the flags. */
	CHECK(mig_x_job(&b, f->type, f->stream, job) == 0);
	CHECK(mig_frame_decode(b.data, b.len, &g) == 0);
	CHECK(g.len == f->len && g.type == f->type && g.stream == f->stream);
	CHECK(memcmp(g.payload, p, f->len) == 0);
	mig_buf_free(&b);
	mig_job_free(job);
	free(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mig_frame f;
	size_t off = 0;
	int r;

	while ((r = mig_frame_decode(data + off, size - off, &f)) == 0) {
		CHECK(f.type > 0 && f.type < MIG_M__COUNT);
		CHECK(f.len <= MIG_FRAME_MAX);
		CHECK(f.len <= size - off - MIG_FRAME_HDR);
		CHECK(f.payload == data + off + MIG_FRAME_HDR);
		if (f.type == MIG_M_RUN || f.type == MIG_M_EXEC)
			check_job(&f);
		off += MIG_FRAME_HDR + f.len;
	}
	CHECK(r == MIG_EAGAIN || r == MIG_EPROTO || r == MIG_ETOOBIG);
	if (r == MIG_EAGAIN && size - off >= MIG_FRAME_HDR)
		CHECK(f.len > size - off - MIG_FRAME_HDR);
	return 0;
}
