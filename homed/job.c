/*
 * job.c: the home role. A stub's RUN becomes a job. A job for a named
 * host (mig -h) goes there; a placed one (mig make, mig gcc) waits its
 * turn for a free slot (place.c). LOCAL tells the stub to run it itself;
 * otherwise EXEC carries it over the link, and from then on the daemon
 * relays frames between the stub and the link: stdin, signals and
 * acknowledgements one way; output, start, exit and errors the other.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "homed.h"

struct job *
mig__job_find(struct homed *d, uint32_t id)
{
	struct job *j;

	TAILQ_FOREACH(j, &d->jobs, entry)
		if (j->id == id)
			return j;
	return NULL;
}

/* The job is over: its slot frees, its run time goes into history. */
static void
job_end(struct job *j, int place)
{
	struct homed *d = j->d;
	uint64_t ms = (uv_hrtime() - j->start_ns) / 1000000;

	if (j->flags & MIG_JOB_PLACE) {
		if (j->state == JOB_LOCAL)
			mig__history_add(d, j->prog, ms, 0);
		else if (j->state == JOB_RUNNING)
			mig__history_add(d, j->prog, ms, 1);
	}
	if (j->state == JOB_LOCAL) {
		d->local_running--;
		d->done++;
	} else if (j->state == JOB_RUNNING && j->peer != NULL) {
		j->peer->mine--;
		j->peer->done++;
	}
	TAILQ_REMOVE(&d->jobs, j, entry);
	mig__holds_job_end(d, j->id);
	if (j->client != NULL)
		j->client->job = NULL;
	free(j->req);
	free(j);
	if (place && !d->stopping) {
		mig__push_load(d);
		mig__place_queued(d);
	}
}

static void
send_exec(struct job *j)
{
	j->link = j->peer->link;
	j->state = JOB_RUNNING;
	j->start_ns = uv_hrtime();
	j->peer->mine++;
	/* EXEC carries the stub's RUN payload unchanged. */
	mig__link_send(j->link, MIG_M_EXEC, 0, j->id, j->req, j->reqlen);
}

static void
run_local(struct job *j)
{
	j->state = JOB_LOCAL;
	j->queued = 0;
	j->start_ns = uv_hrtime();
	j->d->local_running++;
	mig__client_send(j->client, MIG_M_LOCAL, 0, NULL, 0);
	mig__push_load(j->d);
}

void
mig__place_queued(struct homed *d)
{
	struct job *j, *next;

	TAILQ_FOREACH_SAFE(j, &d->jobs, entry, next) {
		struct peer *p;
		int full;
		if (!j->queued)
			continue;
		p = mig__place_pick(d, j, &full);
		if (full)
			return; /* first come, first served */
		j->queued = 0;
		if (p == NULL) {
			run_local(j);
			continue;
		}
		j->peer = p;
		mig__log(MIG_LOG_INFO, "job %u: %s (pid %d) placed on %s",
		    j->id, j->prog, (int)j->home_pid, p->name);
		send_exec(j);
	}
}

static void
describe(struct job *j, const struct mig_job *req)
{
	const char *base = strrchr(req->argv[0], '/');
	size_t n = 0;

	strlcpy(j->prog, base != NULL ? base + 1 : req->argv[0],
	    sizeof(j->prog));
	for (char **a = req->argv; *a != NULL && n + 1 < sizeof(j->cmd); a++) {
		if (a != req->argv)
			j->cmd[n++] = ' ';
		n += strlcpy(j->cmd + n, *a, sizeof(j->cmd) - n);
		if (n >= sizeof(j->cmd))
			n = sizeof(j->cmd) - 1;
	}
	j->cmd[n] = '\0';
}

void
mig__job_run(struct client *c, const struct mig_frame *f)
{
	struct homed *d = c->d;
	struct mig_job *req = NULL;
	struct peer *p = NULL;
	struct job *j;
	int r;

	if ((r = mig_r_job(f->payload, f->len, &req)) != 0) {
		mig__log(MIG_LOG_WARN, "local client: bad RUN: %s",
		    mig_strerror(r));
		mig__client_close(c);
		return;
	}
	if (req->host[0] != '\0' && strcmp(req->host, d->name) != 0 &&
	    ((p = mig__peer_find(d, req->host)) == NULL || p->port == 0)) {
		mig__client_error(c, MIG_ENOHOST,
		    "unknown host '%s' (not in %s/hosts)", req->host,
		    d->confdir);
		goto out;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->req = malloc(f->len)) == NULL) {
		free(j);
		mig__client_error(c, MIG__ERR(ENOMEM), "out of memory");
		goto out;
	}
	memcpy(j->req, f->payload, f->len);
	j->reqlen = f->len;
	j->d = d;
	/* Job ids start at 1: 0 means "no job" in acknowledgements. */
	if (++d->next_job == 0)
		d->next_job = 1;
	j->id = d->next_job;
	j->client = c;
	j->flags = req->flags;
	j->home_pid = req->pid;
	j->start_ns = uv_hrtime();
	j->state = JOB_WAITING;
	describe(j, req);
	c->job = j;
	TAILQ_INSERT_TAIL(&d->jobs, j, entry);
	if (req->host[0] == '\0') {
		if (mig__history_short(d, j->prog)) {
			run_local(j);
			goto out;
		}
		j->queued = 1;
		mig__place_queued(d);
	} else if (p == NULL) {
		run_local(j); /* mig -h <this host> */
	} else {
		j->peer = p;
		if (p->link != NULL)
			send_exec(j);
		else
			mig__peer_dial(p);
	}
 out:
	mig_job_free(req);
}

void
mig__jobs_link_up(struct peer *p)
{
	struct job *j, *next;

	TAILQ_FOREACH_SAFE(j, &p->d->jobs, entry, next)
		if (j->peer == p && j->state == JOB_WAITING && !j->queued)
			send_exec(j);
	mig__place_queued(p->d);
}

void
mig__jobs_link_down(struct peer *p, struct link *l, int code,
    const char *why)
{
	struct job *j, *next;

	TAILQ_FOREACH_SAFE(j, &p->d->jobs, entry, next) {
		if (j->peer != p || j->queued || j->state == JOB_LOCAL)
			continue;
		/* A waiting job fails once no link can serve it. */
		if (j->state == JOB_RUNNING ? j->link != l :
					      p->link != NULL || p->dialing != NULL)
			continue;
		if (j->state == JOB_RUNNING && (j->flags & MIG_JOB_RESTART)) {
			mig__log(MIG_LOG_WARN, "job %u: %s lost (%s); running "
			    "%s again elsewhere", j->id, p->name, why, j->prog);
			p->mine--;
			mig__holds_job_end(p->d, j->id);
			j->state = JOB_WAITING;
			j->peer = NULL;
			j->link = NULL;
			j->remote_pid = 0;
			j->queued = 1;
			continue;
		}
		if (j->client != NULL)
			mig__client_error(j->client, code, "%s: %s", p->name,
			    why);
		j->state = JOB_WAITING;
		job_end(j, 0);
	}
	if (!p->d->stopping) {
		mig__push_load(p->d);
		mig__place_queued(p->d);
	}
}

void
mig__job_from_client(struct job *j, const struct mig_frame *f)
{
	/* The stub sends nothing but signals before STARTED; anything for
	 * a job still waiting for its link has nowhere to go yet. */
	if (j->state != JOB_RUNNING)
		return;
	mig__link_send(j->link, f->type, f->flags, j->id, f->payload, f->len);
}

void
mig__job_client_gone(struct job *j)
{
	if (j->state == JOB_RUNNING && j->link != NULL)
		mig__link_send(j->link, MIG_M_KILL, 0, j->id, NULL, 0);
	job_end(j, 1);
}

static int
refused_full(struct job *j, const struct mig_frame *f)
{
	struct mig_rd rd;
	uint32_t code;

	proto_rd_init(&rd, f->payload, f->len);
	if (f->type != MIG_M_ERROR || !(j->flags & MIG_JOB_PLACE) ||
	    proto_get_u32(&rd, &code) != 0 || (int32_t)code != MIG_EFULL)
		return 0;
	/* Another home filled it first: it counts as full until it says
	 * otherwise, and the job goes back to the head of the queue. */
	mig__log(MIG_LOG_DEBUG, "job %u: %s is full, placing again", j->id,
	    j->peer->name);
	j->peer->mine--;
	j->peer->running = j->peer->host_slots;
	j->state = JOB_WAITING;
	j->peer = NULL;
	j->link = NULL;
	j->queued = 1;
	mig__place_queued(j->d);
	return 1;
}

void
mig__job_from_link(struct link *l, const struct mig_frame *f)
{
	struct job *j = mig__job_find(l->d, f->stream);
	struct mig_rd rd;
	uint32_t pid;

	/* Frames for a job that ended here (the stub went away) are late,
	 * not wrong: the host learns of the end through KILL. */
	if (j == NULL || j->link != l || j->state != JOB_RUNNING)
		return;
	if (refused_full(j, f))
		return;
	if (f->type == MIG_M_STARTED) {
		proto_rd_init(&rd, f->payload, f->len);
		if (proto_get_u32(&rd, &pid) == 0)
			j->remote_pid = (int32_t)pid;
	}
	/* Output goes on as it is; the stub acknowledges it once written
	 * to its own fds, so the window spans the whole way. */
	if (j->client != NULL)
		mig__client_send(j->client, f->type, f->flags, f->payload,
		    f->len);
	if (f->type == MIG_M_EXIT || f->type == MIG_M_ERROR)
		job_end(j, 1);
}

void
mig__job_call(struct link *l, const struct mig_frame *f)
{
	struct job *j = mig__job_find(l->d, f->stream);
	struct mig_buf b = { NULL, 0, 0 };
	uint32_t seq = 0;
	int64_t ret = -1;
	int err = ESRCH;

	struct mig_rd rd;

	proto_rd_init(&rd, f->payload, f->len);
	if (proto_get_u32(&rd, &seq) != 0) {
		mig__log(MIG_LOG_WARN, "link %s: malformed CALL", l->desc);
		return;
	}
	/* Only a job placed over this very link may act at home. */
	if (j != NULL && j->link == l && j->state == JOB_RUNNING &&
	    mig__call_run(f->payload, f->len, &seq, &ret, &err) != 0) {
		mig__log(MIG_LOG_WARN, "link %s: malformed CALL", l->desc);
		return;
	}
	if (proto_put_u32(&b, seq) == 0 && proto_put_u64(&b, (uint64_t)ret) == 0 &&
	    proto_put_u32(&b, (uint32_t)err) == 0)
		mig__link_send(l, MIG_M_CALLRET, 0, f->stream, b.data, b.len);
	mig_buf_free(&b);
}
