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
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
call_answer(struct client *c, uint32_t seq, int64_t ret, int err)
{
	struct mig_buf b = { NULL, 0, 0 };

	if (proto_put_u32(&b, seq) == 0 && proto_put_u64(&b, (uint64_t)ret) == 0 &&
	    proto_put_u32(&b, (uint32_t)err) == 0)
		mig__client_send(c, MIG_M_CALLRET, 0, b.data, b.len);
	mig_buf_free(&b);
}

/* A request of type (CALL or HOLD) answered here: failed with err. */
static void
refuse(struct client *c, uint16_t type, int err)
{
	uint8_t r[8] = { 0 };

	if (type == MIG_M_CALL) {
		call_answer(c, 0, -1, err);
		return;
	}
	put32(r + 4, (uint32_t)-err);
	mig__client_send(c, MIG_M_HOLDRET, 0, r, sizeof(r));
}

/* Answers a waiting request with err, if its caller is still there,
 * and forgets it. */
static void
wait_fail(struct homed *d, struct callwait *w, int err)
{
	if (w->client != NULL)
		refuse(w->client, w->type, err);
	TAILQ_REMOVE(&d->calls, w, entry);
	free(w);
}

/*
 * Sends a request of a process of job rj home over the job's link,
 * numbered by us. Every request gets one answer: home's, or an error
 * when it cannot be sent, when memory runs out, or when the link ends
 * first (on_link_down). A caller that stops waiting (the shim's
 * deadline, libmig/preload/call.c) simply goes.
 */
static void
forward(struct client *c, struct rjob *rj, const struct mig_frame *f,
    pid_t host_pid)
{
	struct homed *d = c->d;
	struct callwait *w;
	uint8_t *p = NULL;

	if (rj == NULL || rj->link == NULL) {
		refuse(c, f->type, EHOSTUNREACH);
		return;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (p = malloc(f->len)) == NULL) {
		free(w);
		refuse(c, f->type, ENOMEM);
		return;
	}
	w->client = c;
	w->type = f->type;
	w->seq = ++d->next_seq;
	w->link = rj->link->id;
	w->job = rj->id;
	w->token = rj->token;
	w->host_pid = host_pid;
	TAILQ_INSERT_TAIL(&d->calls, w, entry);
	/* The caller's payload, numbered by us. */
	memcpy(p, f->payload, f->len);
	put32(p, w->seq);
	mig__rjob_release(rj);
	if (mig__link_send(rj->link, f->type, 0, rj->id, p, f->len) != 0)
		wait_fail(d, w, EHOSTUNREACH);
	free(p);
}

static void
on_call(struct client *c, const struct mig_frame *f)
{
	if (f->len < 4) {
		refuse(c, f->type, EINVAL);
		return;
	}
	forward(c, mig__rjob_by_token(c->d, f->stream), f, 0);
}

/* The request an answer from home is for: only the link and the job it
 * was sent for may answer it. */
static struct callwait *
wait_find(struct link *l, const struct mig_frame *f, uint32_t *seq)
{
	struct callwait *w;
	struct mig_rd rd;
	uint16_t type = f->type == MIG_M_CALLRET ? MIG_M_CALL : MIG_M_HOLD;

	proto_rd_init(&rd, f->payload, f->len);
	if (proto_get_u32(&rd, seq) != 0)
		return NULL;
	TAILQ_FOREACH(w, &l->d->calls, entry)
		if (w->seq == *seq && w->type == type && w->link == l->id &&
		    w->job == f->stream)
			return w;
	return NULL;
}

static void
on_callret(struct link *l, const struct mig_frame *f)
{
	struct callwait *w;
	uint32_t seq;

	if ((w = wait_find(l, f, &seq)) == NULL)
		return;
	if (w->client != NULL)
		mig__client_send(w->client, MIG_M_CALLRET, 0, f->payload,
		    f->len);
	TAILQ_REMOVE(&l->d->calls, w, entry);
	free(w);
}

/* A caller that went stops waiting for a CALL's answer; a HOLD's
 * stays, so that the home pid it gets is given back. */
static void
on_client_gone(struct client *c)
{
	struct callwait *w, *next;

	TAILQ_FOREACH_SAFE(w, &c->d->calls, entry, next) {
		if (w->client != c)
			continue;
		w->client = NULL;
		if (w->type == MIG_M_CALL) {
			TAILQ_REMOVE(&c->d->calls, w, entry);
			free(w);
		}
	}
}

/* Home will not answer over a link that is gone: every request sent
 * over it fails (EHOSTUNREACH, as for a job whose link is gone). */
static void
on_link_down(struct link *l, int code, const char *why)
{
	struct callwait *w, *next;

	TAILQ_FOREACH_SAFE(w, &l->d->calls, entry, next)
		if (w->link == l->id)
			wait_fail(l->d, w, EHOSTUNREACH);
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

	put32(p, (uint32_t)home_pid);
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
	struct mig_rd rd;
	uint32_t seq, pid;

	proto_rd_init(&rd, f->payload, f->len);
	if (proto_get_u32(&rd, &seq) != 0 || proto_get_u32(&rd, &pid) != 0) {
		refuse(c, f->type, EINVAL);
		return;
	}
	forward(c, mig__rjob_by_token(c->d, f->stream), f, (pid_t)pid);
}

/* Records host pid -> home pid in the job's identity page, where every
 * process of the job finds it, and watches the process's end. */
static void
desc_add(struct rjob *rj, pid_t host_pid, pid_t home_pid)
{
	struct desc *ds;
	int slot = -1, e;

	if ((ds = calloc(1, sizeof(*ds))) == NULL)
		return;
	if ((e = mig__pid_watch(rj->d, host_pid, on_desc_exit, ds)) ==
	    MIG__ERR(ESRCH)) {
		free(ds);
		send_gone(rj, home_pid); /* already ended */
		return;
	}
	/* No pidfd for a live process (EMFILE, or no pidfd_open, as under
	 * valgrind 3.19): it keeps its home pid until the job ends. */
	if (e != 0)
		mig__log(MIG_LOG_WARN, "job %u: cannot watch process %d (%s): "
		    "its home pid %d stays until the job ends", rj->id,
		    (int)host_pid, mig_strerror(e), (int)home_pid);
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

	if ((w = wait_find(l, f, &seq)) == NULL)
		return;
	proto_rd_init(&rd, f->payload, f->len);
	if (proto_get_u32(&rd, &seq) != 0 || proto_get_u32(&rd, &pid) != 0)
		pid = (uint32_t)-EPROTO;
	if (w->client == NULL) {
		/* Its caller went on with the host pid: the placeholder
		 * goes again. */
		if ((int32_t)pid > 0) {
			uint8_t p[4];
			put32(p, pid);
			mig__link_send(l, MIG_M_GONE, 0, w->job, p, sizeof(p));
		}
	} else {
		rj = mig__rjob_by_token(l->d, w->token);
		if ((int32_t)pid > 0 && rj != NULL)
			desc_add(rj, w->host_pid, (pid_t)pid);
		mig__client_send(w->client, MIG_M_HOLDRET, 0, f->payload,
		    f->len);
	}
	TAILQ_REMOVE(&l->d->calls, w, entry);
	free(w);
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
	static const struct watcher w = { .link_down = on_link_down,
		.client_gone = on_client_gone };

	mig__on_client_frame(d, MIG_M_CALL, on_call);
	mig__on_client_frame(d, MIG_M_HOLD, on_hold);
	mig__on_link_frame(d, MIG_M_CALLRET, on_callret);
	mig__on_link_frame(d, MIG_M_HOLDRET, on_holdret);
	mig__watch(d, &w);
}
