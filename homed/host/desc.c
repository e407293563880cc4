/*
 * desc.c: the host half of a job's forwarded calls and of its
 * descendants' home pids. A process of a job asks over the control
 * socket (naming its job by the token in __MIG_JOB); the request goes
 * home over the job's link, and the answer comes back to the process.
 * A process that got a home pid is watched through a pidfd, listed in
 * the job's identity page, and reported home (GONE) when it ends.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "homed.h"

static void
call_answer(struct client *c, uint32_t seq, int64_t ret, int err)
{
	struct mig_buf b = { NULL, 0, 0 };

	if (proto_put_u32(&b, seq) == 0 && proto_put_u64(&b, (uint64_t)ret) == 0 &&
	    proto_put_u32(&b, (uint32_t)err) == 0)
		mig__client_send(c, MIG_M_CALLRET, 0, b.data, b.len);
	mig_buf_free(&b);
}

static void
on_call(struct client *c, const struct mig_frame *f)
{
	struct homed *d = c->d;
	struct rjob *rj = mig__rjob_by_token(d, f->stream);
	struct callwait *w;
	uint8_t *p;

	if (f->len < 4)
		return;
	if (rj == NULL || rj->link == NULL) {
		call_answer(c, 0, -1, EHOSTUNREACH);
		return;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL || (p = malloc(f->len)) == NULL) {
		free(w);
		call_answer(c, 0, -1, ENOMEM);
		return;
	}
	w->client = c;
	w->seq = ++d->next_seq;
	TAILQ_INSERT_TAIL(&d->calls, w, entry);
	/* The caller's payload, numbered by us. */
	memcpy(p, f->payload, f->len);
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(w->seq >> (8 * i));
	mig__rjob_send(rj, MIG_M_CALL, 0, p, f->len);
	free(p);
}

static void
on_callret(struct link *l, const struct mig_frame *f)
{
	struct callwait *w;
	struct mig_rd rd;
	uint32_t seq;

	proto_rd_init(&rd, f->payload, f->len);
	if (proto_get_u32(&rd, &seq) != 0)
		return;
	TAILQ_FOREACH(w, &l->d->calls, entry) {
		if (w->seq != seq || w->token != 0)
			continue;
		mig__client_send(w->client, MIG_M_CALLRET, 0, f->payload,
		    f->len);
		TAILQ_REMOVE(&l->d->calls, w, entry);
		free(w);
		return;
	}
}

static void
on_client_gone(struct client *c)
{
	struct callwait *w, *next;

	TAILQ_FOREACH_SAFE(w, &c->d->calls, entry, next) {
		if (w->client != c)
			continue;
		TAILQ_REMOVE(&c->d->calls, w, entry);
		free(w);
	}
}

/* Forgets a process of a job: its line in the identity page, its watch. */
static void
desc_close(struct desc *ds)
{
	struct rjob *rj = ds->rj;

	if (rj != NULL && rj->ident != NULL && ds->slot >= 0)
		__atomic_store_n(&rj->ident->pids[ds->slot].host_pid, 0,
		    __ATOMIC_RELEASE);
	TAILQ_REMOVE(&ds->d->descs, ds, entry);
	mig__pid_unwatch(ds->d, ds);
	free(ds);
}

static void
send_gone(struct rjob *rj, pid_t home_pid)
{
	uint8_t p[4];

	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)((uint32_t)home_pid >> (8 * i));
	mig__rjob_send(rj, MIG_M_GONE, 0, p, sizeof(p));
}

/* The process ended: its home pid is free again. */
static void
on_desc_exit(void *arg)
{
	struct desc *ds = arg;

	if (ds->rj != NULL)
		send_gone(ds->rj, ds->home_pid);
	desc_close(ds);
}

static void
on_hold(struct client *c, const struct mig_frame *f)
{
	struct homed *d = c->d;
	struct rjob *rj = mig__rjob_by_token(d, f->stream);
	struct mig_rd rd;
	struct callwait *w;
	uint32_t seq, pid;
	uint8_t *p;

	proto_rd_init(&rd, f->payload, f->len);
	if (proto_get_u32(&rd, &seq) != 0 || proto_get_u32(&rd, &pid) != 0)
		return;
	if (rj == NULL || rj->link == NULL ||
	    (w = calloc(1, sizeof(*w))) == NULL) {
		uint8_t r[8] = { 0 };
		uint32_t e = (uint32_t)-EHOSTUNREACH;
		for (int i = 0; i < 4; i++)
			r[4 + i] = (uint8_t)(e >> (8 * i));
		mig__client_send(c, MIG_M_HOLDRET, 0, r, sizeof(r));
		return;
	}
	w->client = c;
	w->seq = ++d->next_seq;
	w->token = rj->token;
	w->host_pid = (pid_t)pid;
	TAILQ_INSERT_TAIL(&d->calls, w, entry);
	if ((p = malloc(f->len)) == NULL)
		return;
	memcpy(p, f->payload, f->len);
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(w->seq >> (8 * i));
	mig__rjob_send(rj, MIG_M_HOLD, 0, p, f->len);
	free(p);
}

/* Records host pid -> home pid in the job's identity page, where every
 * process of the job finds it, and watches the process's end. */
static void
desc_add(struct rjob *rj, pid_t host_pid, pid_t home_pid)
{
	struct desc *ds;
	int slot = -1;

	if ((ds = calloc(1, sizeof(*ds))) == NULL)
		return;
	if (mig__pid_watch(rj->d, host_pid, on_desc_exit, ds) != 0) {
		free(ds);
		send_gone(rj, home_pid); /* already ended */
		return;
	}
	for (int i = 0; rj->ident != NULL && i < MIG_IDENT_PIDS; i++) {
		if (rj->ident->pids[i].host_pid == 0) {
			slot = i;
			break;
		}
	}
	if (slot >= 0) {
		__atomic_store_n(&rj->ident->pids[slot].home_pid, home_pid,
		    __ATOMIC_RELAXED);
		__atomic_store_n(&rj->ident->pids[slot].host_pid, host_pid,
		    __ATOMIC_RELEASE);
	} else if (rj->ident != NULL && !rj->ident_full) {
		rj->ident_full = 1;
		mig__log(MIG_LOG_WARN, "job %u: more than %d processes at once "
		    "(MIG_IDENT_PIDS): the others see their host pids as "
		    "their own", rj->id, MIG_IDENT_PIDS);
	}
	ds->d = rj->d;
	ds->rj = rj;
	ds->host_pid = host_pid;
	ds->home_pid = home_pid;
	ds->slot = slot;
	TAILQ_INSERT_TAIL(&rj->d->descs, ds, entry);
}

static void
on_holdret(struct link *l, const struct mig_frame *f)
{
	struct callwait *w;
	struct mig_rd rd;
	uint32_t seq, pid;
	struct rjob *rj;

	proto_rd_init(&rd, f->payload, f->len);
	if (proto_get_u32(&rd, &seq) != 0 || proto_get_u32(&rd, &pid) != 0)
		return;
	TAILQ_FOREACH(w, &l->d->calls, entry) {
		if (w->seq != seq || w->token == 0)
			continue;
		rj = mig__rjob_by_token(l->d, w->token);
		if ((int32_t)pid > 0 && rj != NULL)
			desc_add(rj, w->host_pid, (pid_t)pid);
		mig__client_send(w->client, MIG_M_HOLDRET, 0, f->payload,
		    f->len);
		TAILQ_REMOVE(&l->d->calls, w, entry);
		free(w);
		return;
	}
}

void
mig__descs_job_end(struct rjob *rj)
{
	struct desc *ds, *next;

	TAILQ_FOREACH_SAFE(ds, &rj->d->descs, entry, next)
		if (ds->rj == rj)
			desc_close(ds);
}

/* A signal sent at home to the placeholder of one of the job's
 * processes: only a process of this job may receive it. */
void
mig__desc_signal(struct rjob *rj, pid_t host_pid, int sig)
{
	struct desc *ds;

	TAILQ_FOREACH(ds, &rj->d->descs, entry)
		if (ds->rj == rj && ds->host_pid == host_pid)
			kill(ds->host_pid, sig);
}

void
mig__desc_init(struct homed *d)
{
	static const struct watcher w = { .client_gone = on_client_gone };

	mig__on_client_frame(d, MIG_M_CALL, on_call);
	mig__on_client_frame(d, MIG_M_HOLD, on_hold);
	mig__on_link_frame(d, MIG_M_CALLRET, on_callret);
	mig__on_link_frame(d, MIG_M_HOLDRET, on_holdret);
	mig__watch(d, &w);
}
