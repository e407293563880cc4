/* job.c: the job request that RUN and EXEC carry. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mig/mig.h"
#include "mig/proto.h"

int
mig_x_job(struct mig_buf *b, uint16_t type, uint32_t stream,
    const struct mig_job *job)
{
	size_t at;
	int r;

	if (job->nrlimit > MIG_JOB_NRLIMIT)
		return MIG_EPROTO;
	if ((r = mig_frame_begin(b, type, 0, stream, &at)) != 0)
		return r;
	if ((r = proto_put_str(b, job->host)) != 0 ||
	    (r = proto_put_u32(b, job->flags)) != 0 ||
	    (r = proto_put_strv(b, job->argv)) != 0 ||
	    (r = proto_put_strv(b, job->envp)) != 0 ||
	    (r = proto_put_str(b, job->cwd)) != 0 ||
	    (r = proto_put_u32(b, job->umask)) != 0 ||
	    (r = proto_put_u32(b, job->nrlimit)) != 0)
		goto fail;
	for (uint32_t i = 0; i < job->nrlimit; i++)
		if ((r = proto_put_u32(b, job->rlimit[i].resource)) != 0 ||
		    (r = proto_put_u64(b, job->rlimit[i].cur)) != 0 ||
		    (r = proto_put_u64(b, job->rlimit[i].max)) != 0)
			goto fail;
	if ((r = proto_put_u32(b, (uint32_t)job->pid)) != 0 ||
	    (r = proto_put_u32(b, (uint32_t)job->ppid)) != 0 ||
	    (r = proto_put_u32(b, (uint32_t)job->pgid)) != 0 ||
	    (r = proto_put_u32(b, (uint32_t)job->sid)) != 0 ||
	    (r = proto_put_str(b, job->nodename)) != 0 ||
	    (r = proto_put_str(b, job->domainname)) != 0 ||
	    (r = proto_put_u32(b, (uint32_t)job->nice)) != 0 ||
	    (r = proto_put_u32(b, job->sched)) != 0 ||
	    (r = proto_put_u16(b, job->ws_row)) != 0 ||
	    (r = proto_put_u16(b, job->ws_col)) != 0)
		goto fail;
	return mig_frame_end(b, at);
 fail:
	b->len = at;
	return r;
}

int
mig_r_job(const uint8_t *p, size_t len, struct mig_job **jobp)
{
	struct mig_job *job = NULL;
	struct mig_rd rd;
	uint32_t v[5];
	int r = MIG_EPROTO;

	*jobp = NULL;
	if ((job = calloc(1, sizeof(*job))) == NULL)
		return MIG__ERR(ENOMEM);
	proto_rd_init(&rd, p, len);
	if ((r = proto_get_str(&rd, &job->host)) != 0 ||
	    (r = proto_get_u32(&rd, &job->flags)) != 0 ||
	    (r = proto_get_strv(&rd, &job->argv)) != 0 ||
	    (r = proto_get_strv(&rd, &job->envp)) != 0 ||
	    (r = proto_get_str(&rd, &job->cwd)) != 0 ||
	    (r = proto_get_u32(&rd, &job->umask)) != 0 ||
	    (r = proto_get_u32(&rd, &job->nrlimit)) != 0)
		goto out;
	r = MIG_EPROTO;
	if (job->argv[0] == NULL || job->nrlimit > MIG_JOB_NRLIMIT)
		goto out;
	for (uint32_t i = 0; i < job->nrlimit; i++)
		if ((r = proto_get_u32(&rd, &job->rlimit[i].resource)) != 0 ||
		    (r = proto_get_u64(&rd, &job->rlimit[i].cur)) != 0 ||
		    (r = proto_get_u64(&rd, &job->rlimit[i].max)) != 0)
			goto out;
	for (int i = 0; i < 4; i++)
		if ((r = proto_get_u32(&rd, &v[i])) != 0)
			goto out;
	if ((r = proto_get_str(&rd, &job->nodename)) != 0 ||
	    (r = proto_get_str(&rd, &job->domainname)) != 0 ||
	    (r = proto_get_u32(&rd, &v[4])) != 0 ||
	    (r = proto_get_u32(&rd, &job->sched)) != 0 ||
	    (r = proto_get_u16(&rd, &job->ws_row)) != 0 ||
	    (r = proto_get_u16(&rd, &job->ws_col)) != 0 ||
	    (r = proto_rd_done(&rd)) != 0)
		goto out;
	job->nice = (int32_t)v[4];
	job->pid = (int32_t)v[0];
	job->ppid = (int32_t)v[1];
	job->pgid = (int32_t)v[2];
	job->sid = (int32_t)v[3];
	*jobp = job;
	job = NULL;
	r = 0;
 out:
	mig_job_free(job);
	return r;
}

void
mig_job_free(struct mig_job *job)
{
	if (job == NULL)
		return;
	free(job->host);
	mig_strv_free(job->argv);
	mig_strv_free(job->envp);
	free(job->cwd);
	free(job->nodename);
	free(job->domainname);
	free(job);
}
