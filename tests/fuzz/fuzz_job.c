/*
 * fuzz_job.c: mig_r_job on arbitrary payloads. A payload that decodes
 * must encode back to the same bytes: the format has one spelling for
 * each job, so any difference is a field read or written wrongly.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "mig/mig.h"
#include "mig/proto.h"

static void
check_job(const uint8_t *p, size_t len)
{
	struct mig_job *job = (struct mig_job *)1;
	struct mig_buf b = { 0 };
	struct mig_frame f;
	int r;

	r = mig_r_job(p, len, &job);
	if (r != 0) {
		CHECK(r == MIG_EPROTO || r == MIG__ERR(ENOMEM));
		CHECK(job == NULL);
		return;
	}
	CHECK(job != NULL);
	CHECK(job->host != NULL && job->cwd != NULL);
	CHECK(job->argv != NULL && job->argv[0] != NULL);
	CHECK(job->envp != NULL);
	CHECK(job->nrlimit <= MIG_JOB_NRLIMIT);
	CHECK(mig_x_job(&b, MIG_M_EXEC, 5, job) == 0);
	CHECK(mig_frame_decode(b.data, b.len, &f) == 0);
	CHECK(f.type == MIG_M_EXEC && f.stream == 5);
	CHECK(f.len == len && b.len == MIG_FRAME_HDR + len);
	CHECK(memcmp(f.payload, p, len) == 0);
	mig_buf_free(&b);
	mig_job_free(job);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly the input's size, so a read past the payload
	 * is caught even where the driver's buffer is larger. */
	uint8_t *p = malloc(size ? size : 1);

	CHECK(p != NULL);
	if (size > 0)
		memcpy(p, data, size);
	check_job(p, size);
	free(p);
	return 0;
}
