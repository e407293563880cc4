/*
 * job.c: the home role. A stub's RUN becomes a job: placed (for now, on
 * the host the stub names), sent to that host's daemon as EXEC over the
 * link, and from then on the daemon relays frames between the stub and
 * the link: stdin, signals and acknowledgements one way, output, start,
 * exit and errors the other.
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

static void
job_free(struct job *j)
{
	TAILQ_REMOVE(&j->d->jobs, j, entry);
	if (j->client != NULL)
		j->client->job = NULL;
	free(j->req);
	free(j);
}

static void
send_exec(struct job *j)
{
	j->link = j->peer->link;
	j->state = JOB_RUNNING;
	/* EXEC carries the stub's RUN payload unchanged. */
	mig__link_send(j->link, MIG_M_EXEC, 0, j->id, j->req, j->reqlen);
}

void
mig__job_run(struct client *c, const struct mig_frame *f)
{
	struct homed *d = c->d;
	struct mig_job *req = NULL;
	struct peer *p;
	struct job *j;
	int r;

	if ((r = mig_r_job(f->payload, f->len, &req)) != 0) {
		mig__log(MIG_LOG_WARN, "local client: bad RUN: %s",
		    mig_strerror(r));
		mig__client_close(c);
		return;
	}
	if (req->host[0] == '\0' || strcmp(req->host, d->name) == 0) {
		mig__client_send(c, MIG_M_LOCAL, 0, NULL, 0);
		goto out;
	}
	if ((p = mig__peer_find(d, req->host)) == NULL || p->port == 0) {
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
	j->peer = p;
	j->state = JOB_WAITING;
	c->job = j;
	TAILQ_INSERT_TAIL(&d->jobs, j, entry);
	mig__log(MIG_LOG_DEBUG, "job %u: %s on %s", j->id, req->argv[0],
	    p->name);
	if (p->link != NULL)
		send_exec(j);
	else
		mig__peer_dial(p);
 out:
	mig_job_free(req);
}

void
mig__jobs_link_up(struct peer *p)
{
	struct job *j, *next;

	TAILQ_FOREACH_SAFE(j, &p->d->jobs, entry, next)
		if (j->peer == p && j->state == JOB_WAITING)
			send_exec(j);
}

void
mig__jobs_link_down(struct peer *p, struct link *l, int code,
    const char *why)
{
	struct job *j, *next;

	TAILQ_FOREACH_SAFE(j, &p->d->jobs, entry, next) {
		if (j->peer != p)
			continue;
		/* A waiting job fails once no link can serve it. */
		if (j->state == JOB_RUNNING ? j->link != l :
					      p->link != NULL || p->dialing != NULL)
			continue;
		if (j->client != NULL)
			mig__client_error(j->client, code, "%s: %s", p->name,
			    why);
		job_free(j);
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
	job_free(j);
}

void
mig__job_acked(struct homed *d, uint32_t id, uint16_t fd, size_t n)
{
	struct job *j = mig__job_find(d, id);
	uint8_t p[4];

	if (j == NULL || j->link == NULL)
		return;
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(n >> (8 * i));
	mig__link_send(j->link, MIG_M_ACK, fd, j->id, p, sizeof(p));
}

void
mig__job_from_link(struct link *l, const struct mig_frame *f)
{
	struct job *j = mig__job_find(l->d, f->stream);

	/* Frames for a job that ended here (the stub went away) are late,
	 * not wrong: the host learns of the end through KILL. */
	if (j == NULL || j->link != l)
		return;
	if (j->client == NULL)
		return;
	if (f->type == MIG_M_DATA)
		mig__client_send_data(j->client, f->flags, f->payload, f->len,
		    j->id);
	else
		mig__client_send(j->client, f->type, f->flags, f->payload,
		    f->len);
	if (f->type == MIG_M_EXIT || f->type == MIG_M_ERROR)
		job_free(j);
}
