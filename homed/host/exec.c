/*
 * exec.c: what a home's frames become on this host (the host role's
 * handlers and watchers): EXEC a job (rjob), decided by fs/exact.c and
 * waiting for its view when served, then started (spawn.c); KILL,
 * SIGNAL and WINSIZE passed on to it; a home link's end, the daemon's
 * stop and a new clock reading told to its jobs. What waits across loop
 * turns keeps the job's token, never a pointer.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "homed.h"

/* A new job of link l (stream id), in the host's list from now on. */
static struct rjob *
rjob_new(struct link *l, uint32_t id)
{
	struct rjob *rj;

	if ((rj = calloc(1, sizeof(*rj))) == NULL)
		return NULL;
	rj->d = l->d;
	rj->link = l;
	rj->id = id;
	rj->statusfd = -1;
	rj->token = ++l->d->next_token;
	TAILQ_INSERT_TAIL(&l->d->rjobs, rj, entry);
	return rj;
}

/* A served job waiting for its view: it is looked up again by token
 * when the view is ready, as it may have ended meanwhile. */
struct viewwait {
	struct homed *d;
	uint32_t token;
};

static void
view_ready(void *arg, struct view *v, const char *why)
{
	struct viewwait *w = arg;
	struct rjob *rj = mig__rjob_by_token(w->d, w->token);

	free(w);
	if (rj == NULL)
		return;
	if (v == NULL) {
		mig__rjob_failed(rj, MIG_ENOCWD, "home's files cannot be served here: %s",
		    why);
		mig__rjob_event(rj, REV_VIEW_FAILED);
		return;
	}
	rj->view = v;
	mig__view_files(v, rj->files, sizeof(rj->files));
	mig__rjob_event(rj, REV_VIEW_READY);
}

/* The job's mode is known (fs/exact.c): this host's own files, home's
 * view, or not here. The decision held rj as a handle (it reads the
 * job), so rj is there, though it may have ended meanwhile. */
static void
decided(void *arg, const struct mig_exact *e)
{
	struct rjob *rj = arg;
	struct viewwait *w;

	rj->handles--;
	if (rj->fsm.state == RJOB_DONE) {
		if (rj->handles == 0)
			mig__rjob_free(rj);
		return;
	}
	strlcpy(rj->files, e->text, sizeof(rj->files));
	if (e->mode != MIG_EXACT_VIEW && rj->link != NULL)
		mig__view_prime_drop(rj->d, rj->link, rj->id);
	switch (e->mode) {
	case MIG_EXACT_OWN:
		rj->view = NULL;
		mig__rjob_event(rj, REV_VIEW_READY);
		return;
	case MIG_EXACT_VIEW:
		if ((w = calloc(1, sizeof(*w))) == NULL) {
			mig__rjob_failed(rj, MIG__ERR(ENOMEM), "out of memory");
			break;
		}
		w->d = rj->d;
		w->token = rj->token;
		mig__view_want(rj->d, rj->link, rj->id, e->plan, view_ready, w);
		return;
	case MIG_EXACT_GONE:
		mig__rjob_failed(rj, MIG_EHOSTDOWN, "its home went away");
		break;
	default:
		mig__rjob_failed(rj, e->code, "%s", e->text);
		break;
	}
	mig__rjob_event(rj, REV_VIEW_FAILED);
}

/*
 * The job's mode here is fs/exact.c's to decide: in this host's own
 * files where they are proven home's (or the hosts file says "shared"),
 * else in the view of home's files, or refused when this host can do
 * neither.
 */
static void
on_exec(struct link *l, const struct mig_frame *f)
{
	struct homed *d = l->d;
	struct mig_job *job = NULL;
	struct rjob *rj;

	if (mig_r_job(f->payload, f->len, &job) != 0) {
		mig__log(MIG_LOG_WARN, "link %s: malformed EXEC", l->desc);
		mig__rjob_refuse(l, f->stream, MIG_EPROTO, "malformed job");
		goto out;
	}
	/* Placed jobs respect the slots, whichever home sends them; a job
	 * sent to a named host (mig -h) runs as ssh's would. */
	if ((job->flags & MIG_JOB_PLACE) && mig__load_running(d) >= d->slots) {
		mig__rjob_refuse(l, f->stream, MIG_EFULL, "no free slot");
		goto out;
	}
	/* Nothing new while the owner uses the host (host/owner.c). */
	if (d->busy) {
		mig__rjob_refuse(l, f->stream, MIG_EBUSY, "its owner is using it (%s)",
		    d->busy_why);
		goto out;
	}
	if ((rj = rjob_new(l, f->stream)) == NULL) {
		mig__rjob_refuse(l, f->stream, MIG__ERR(ENOMEM), "out of memory");
		goto out;
	}
	rj->fsm.state = RJOB_VIEW;
	rj->flags = job->flags;
	rj->job = job;
	job = NULL;
	rj->handles++; /* the decision reads rj->job: see decided */
	mig__exact_decide(d, l, rj->job, decided, rj);
 out:
	mig_job_free(job);
}

static void
on_kill(struct link *l, const struct mig_frame *f)
{
	struct rjob *rj = mig__rjob_find(l, f->stream);

	if (rj != NULL)
		mig__rjob_event(rj, REV_KILL);
}

static void
on_signal(struct link *l, const struct mig_frame *f)
{
	struct rjob *rj = mig__rjob_find(l, f->stream);
	struct mig_rd rd;
	uint32_t sig, pid;

	if (rj == NULL || rj->fsm.state == RJOB_DONE)
		return;
	proto_rd_init(&rd, f->payload, f->len);
	if (proto_get_u32(&rd, &sig) != 0 || sig == 0 || sig >= NSIG)
		return;
	if (f->flags == 1) {
		if (proto_get_u32(&rd, &pid) == 0)
			mig__desc_signal(rj, (pid_t)pid, (int)sig);
	} else if (!rj->fsm.exited && rj->pid > 0) {
		kill(-rj->pid, (int)sig);
	}
}

/* The home terminal's new size: the host's tells its job (SIGWINCH). */
static void
on_winsize(struct link *l, const struct mig_frame *f)
{
	struct rjob *rj = mig__rjob_find(l, f->stream);
	struct winsize ws = { 0 };
	struct mig_rd rd;
	uv_os_fd_t fd;

	proto_rd_init(&rd, f->payload, f->len);
	if (rj == NULL || !rj->open[1] || proto_get_u16(&rd, &ws.ws_row) != 0 ||
	    proto_get_u16(&rd, &ws.ws_col) != 0 ||
	    uv_fileno((uv_handle_t *)&rj->pipes[1], &fd) != 0 ||
	    !isatty(fd))
		return;
	ioctl(fd, TIOCSWINSZ, &ws);
}

static void
on_link_down(struct link *l, int code, const char *why)
{
	struct rjob *rj, *next;

	/* No orphans: a job whose home is gone is killed. */
	TAILQ_FOREACH_SAFE(rj, &l->d->rjobs, entry, next)
		if (rj->link == l)
			mig__rjob_event(rj, REV_LINK_DOWN);
}

void
mig__rjobs_stop(struct homed *d)
{
	struct rjob *rj, *next;

	TAILQ_FOREACH_SAFE(rj, &d->rjobs, entry, next)
		mig__rjob_event(rj, REV_STOP);
	mig__rjob_hold_stop(d);
	mig__subreaper_stop(d);
}

/* Home's clock measured anew: its jobs here see it (identity pages). */
static void
on_clock_changed(struct link *l)
{
	struct rjob *rj;

	TAILQ_FOREACH(rj, &l->d->rjobs, entry)
		if (rj->link == l && rj->ident != NULL)
			mig__ident_clock(rj->ident, l->peer);
}

void
mig__host_init(struct homed *d)
{
	static const struct watcher w = { .link_down = on_link_down,
		.clock_changed = on_clock_changed };

	mig__subreaper_init(d);
	mig__rjob_hold_init(d);
	mig__on_link_frame(d, MIG_M_EXEC, on_exec);
	mig__on_link_frame(d, MIG_M_KILL, on_kill);
	mig__on_link_frame(d, MIG_M_SIGNAL, on_signal);
	mig__on_link_frame(d, MIG_M_WINSIZE, on_winsize);
	mig__watch(d, &w);
}

void
mig__rjob_kill(struct rjob *rj)
{
	mig__rjob_event(rj, REV_KILL);
}
