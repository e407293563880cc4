/*
 * spawn.c: a job of the host role's, from its start to its end (exec.c
 * has the frames that make and signal it). EXEC from a home daemon
 * becomes a process here, in the home cwd with the home environment, umask and rlimits,
 * in a session of its own, with the shim preloaded in remote role, its
 * identity page at fd 100 and stdio on pipes (relay.c). The fork never
 * waits: the child reports a failed chdir or exec on a close-on-exec
 * pipe that the loop reads, and the pipe's plain EOF means the exec
 * went through. A served job is an rjob from its EXEC on, waiting for
 * its view (RJOB_VIEW). What happens on each event is rjobfsm.c's to
 * say; this file carries it out. What waits across loop turns (a view,
 * the files of a job that ended) keeps the job's token or the link's
 * id, never a pointer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "homed.h"
#include "policy.h"

struct rjob *
mig__rjob_find(struct link *l, uint32_t id)
{
	struct rjob *rj;

	TAILQ_FOREACH(rj, &l->d->rjobs, entry)
		if (rj->link == l && rj->id == id)
			return rj;
	return NULL;
}

struct rjob *
mig__rjob_by_token(struct homed *d, uint32_t token)
{
	struct rjob *rj;

	TAILQ_FOREACH(rj, &d->rjobs, entry)
		if (rj->token == token && rj->fsm.state != RJOB_DONE)
			return rj;
	return NULL;
}

/* How long a job's STARTED and EOFs may wait for its next frame. */
#define HOLD_MS 1

/* rj holds nothing any more; the timer stops with the last job that
 * held (a later hold gets its whole HOLD_MS). */
static void
unhold(struct rjob *rj)
{
	mig_buf_free(&rj->held);
	if (--rj->d->holding == 0)
		uv_timer_stop(&rj->d->held);
}

void
mig__rjob_release(struct rjob *rj)
{
	struct mig_frame f;
	size_t at = 0;

	if (rj->held.len == 0)
		return;
	while (rj->link != NULL && mig_frame_decode(rj->held.data + at,
	    rj->held.len - at, &f) == 0) {
		mig__link_send(rj->link, f.type, f.flags, rj->id, f.payload,
		    f.len);
		at += MIG_FRAME_HDR + f.len;
	}
	unhold(rj);
}

static void
on_held(uv_timer_t *t)
{
	struct homed *d = t->data;
	struct rjob *rj;

	TAILQ_FOREACH(rj, &d->rjobs, entry)
		mig__rjob_release(rj);
}

void
mig__rjob_send(struct rjob *rj, uint16_t type, uint16_t flags, const void *p,
    size_t n)
{
	if (rj->link == NULL)
		return;
	/* That it started, and that its output ended, can wait for what
	 * comes next: for a short job, its EXIT. */
	if (type == MIG_M_STARTED || type == MIG_M_OUTPUT_EOF) {
		size_t was = rj->held.len;
		if (mig_frame_put(&rj->held, type, flags, rj->id, p, n) == 0) {
			if (was == 0 && rj->d->holding++ == 0)
				uv_timer_start(&rj->d->held, on_held, HOLD_MS,
				    0);
			return;
		}
	}
	mig__rjob_release(rj);
	mig__link_send(rj->link, type, flags, rj->id, p, n);
}

void
mig__rjob_hold_init(struct homed *d)
{
	uv_timer_init(d->loop, &d->held);
	d->held.data = d;
}

void
mig__rjob_hold_stop(struct homed *d)
{
	uv_close((uv_handle_t *)&d->held, NULL);
}

/* Ends a job that never started with a mig error, "host: what". */
void
mig__rjob_refuse(struct link *l, uint32_t id, int code, const char *fmt, ...)
{
	struct mig_buf buf = { NULL, 0, 0 };
	char msg[512];
	va_list ap;
	int n;

	n = snprintf(msg, sizeof(msg), "%s: ", l->d->name);
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	if (proto_put_u32(&buf, (uint32_t)code) == 0 &&
	    proto_put_str(&buf, msg) == 0)
		mig__link_send(l, MIG_M_ERROR, 0, id, buf.data, buf.len);
	mig_buf_free(&buf);
}

void
mig__rjob_free(struct rjob *rj)
{
	TAILQ_REMOVE(&rj->d->rjobs, rj, entry);
	if (rj->held.len > 0)
		unhold(rj);
	mig__ident_free(rj->ident);
	mig__close(rj->statusfd);
	mig_job_free(rj->job);
	free(rj->argv0);
	free(rj->cwd);
	free(rj);
}

/* The last handle of a finished job frees it. */
void
mig__rjob_handle_closed(uv_handle_t *h)
{
	struct rjob *rj = h->data;

	if (--rj->handles == 0 && rj->fsm.state == RJOB_DONE)
		mig__rjob_free(rj);
}

/* An EXIT waiting for the files the job made to be home: it goes over
 * the job's link if that is still there then. */
struct exitmsg {
	struct homed *d;
	uint32_t link;       /* the link's id */
	uint32_t id;
	uint8_t p[8];
};

static void
exit_settled(void *arg, int ok)
{
	struct exitmsg *x = arg;
	struct link *l = mig__link_by_id(x->d, x->link);

	if (ok && l != NULL)
		mig__link_send(l, MIG_M_EXIT, 0, x->id, x->p, sizeof(x->p));
	free(x);
}

static void
send_exit(struct rjob *rj)
{
	struct exitmsg *x;
	uint32_t code = 0, sig = 0;

	mig__rjob_release(rj);
	if (rj->link == NULL || (x = calloc(1, sizeof(*x))) == NULL)
		return;
	if (WIFSIGNALED(rj->status))
		sig = (uint32_t)WTERMSIG(rj->status);
	else
		code = (uint32_t)WEXITSTATUS(rj->status);
	for (int i = 0; i < 4; i++) {
		x->p[i] = (uint8_t)(code >> (8 * i));
		x->p[4 + i] = (uint8_t)(sig >> (8 * i));
	}
	x->d = rj->d;
	x->link = rj->link->id;
	x->id = rj->id;
	mig__view_settle(rj->d, rj->link, rj->subreaper, exit_settled, x);
}

/* The program could not be run: a missing cwd is mig's error; a missing
 * or unrunnable program is reported as a shell would, on the job's
 * stderr with status 127 or 126. */
static void
send_failed(struct rjob *rj)
{
	char msg[512];
	uint8_t p[8] = { 0 };
	int e = rj->exec_report[2], notfound = e == ENOENT;
	int n;

	if (rj->exec_report[1] == 3) {
		mig__rjob_refuse(rj->link, rj->id, MIG__ERR(e),
		    "cannot start a process here: %s", strerror(e));
		return;
	}
	if (rj->exec_report[1] == 0) {
		mig__rjob_refuse(rj->link, rj->id, MIG_ENOCWD,
		    "working directory %s is missing here (%s)%s", rj->cwd,
		    strerror(e), rj->d->files == MIG_FILES_SHARED ? "; this "
		    "host runs jobs in its own files only (shared in its "
		    "hosts file)" : "");
		return;
	}
	if (rj->exec_report[1] == 4) {
		mig__rjob_refuse(rj->link, rj->id, MIG__ERR(e),
		    "cannot run a job below this host's owner: the kernel "
		    "refused its session's nice 19 for 10 s (%s)", strerror(e));
		return;
	}
	if (rj->exec_report[1] == 2) {
		mig__rjob_refuse(rj->link, rj->id, MIG_ENOCWD,
		    "working directory %s is missing here, and the served "
		    "view cannot be entered (%s)", rj->cwd, strerror(e));
		return;
	}
	if (notfound && strchr(rj->argv0, '/') == NULL)
		n = snprintf(msg, sizeof(msg), "mig: %s: %s: command not found\n",
		    rj->d->name, rj->argv0);
	else
		n = snprintf(msg, sizeof(msg), "mig: %s: %s: %s\n", rj->d->name,
		    rj->argv0, strerror(e));
	if (n > (int)sizeof(msg) - 1)
		n = sizeof(msg) - 1;
	mig__rjob_send(rj, MIG_M_OUTPUT, 2, msg, (size_t)n);
	p[0] = notfound ? MIG_EXIT_NOTFOUND : MIG_EXIT_NOEXEC;
	mig__rjob_send(rj, MIG_M_EXIT, 0, p, sizeof(p));
}

/* A job that never got its pipes (it never started) has no handles. */
static void
close_handles(struct rjob *rj)
{
	for (int i = 0; i < 3; i++)
		mig__relay_close(rj, i);
	if (rj->report.data != NULL &&
	    !uv_is_closing((uv_handle_t *)&rj->report))
		uv_close((uv_handle_t *)&rj->report, mig__rjob_handle_closed);
	if (rj->status_poll.data != NULL &&
	    !uv_is_closing((uv_handle_t *)&rj->status_poll))
		uv_close((uv_handle_t *)&rj->status_poll,
		    mig__rjob_handle_closed);
}

static int spawn(struct rjob *rj, const struct mig_job *job,
    const struct view *v);

/* Runs event ev on rj and does what the state machine says. A spawn
 * comes last: when it fails, its own event may free rj. */
void
mig__rjob_event(struct rjob *rj, enum rjob_event ev)
{
	struct homed *d = rj->d;
	int act = mig__rjob_step(&rj->fsm, ev);

	if (act & RACT_SEND_ERROR) {
		mig__rjob_release(rj);
		mig__rjob_refuse(rj->link, rj->id, rj->err, "%s", rj->why);
	}
	if ((act & RACT_KILL) && rj->subreaper > 0) {
		mig__log(MIG_LOG_INFO, "job %u (pid %d): %s, killing it",
		    rj->id, (int)rj->pid, ev == REV_KILL ? "its stub is gone" :
		    ev == REV_LINK_DOWN ? "its home is gone" : "stopping");
		/* Its subreaper kills it and everything under it. */
		if (!rj->fsm.exited)
			kill(rj->subreaper, SIGTERM);
	}
	if (act & RACT_SEND_STARTED) {
		struct mig_buf b = { NULL, 0, 0 };
		if (proto_put_u32(&b, (uint32_t)rj->pid) == 0 &&
		    proto_put_str(&b, d->name) == 0 &&
		    proto_put_str(&b, rj->files) == 0)
			mig__rjob_send(rj, MIG_M_STARTED, 0, b.data, b.len);
		mig_buf_free(&b);
	}
	if (act & RACT_RELAY)
		mig__relay_start(rj);
	if (act & RACT_SEND_FAILED)
		send_failed(rj);
	if (act & RACT_SEND_EXIT)
		send_exit(rj);
	/* What it held goes before the job is done here. */
	if (act & (RACT_DETACH | RACT_END))
		mig__rjob_release(rj);
	if (act & RACT_DETACH)
		rj->link = NULL;
	if (act & RACT_END) {
		if (rj->subreaper > 0 && !rj->reaped)
			mig__child_forget(d, rj->subreaper);
		mig__descs_job_end(rj);
		d->done += rj->subreaper > 0;
		close_handles(rj);
		/* Only a job that started counts (spawn); one that waited
		 * for its view and failed never did. */
		if (rj->subreaper > 0)
			mig__load_add(d, LOAD_HOST, -1);
		if (rj->handles == 0)
			mig__rjob_free(rj);
		return;
	}
	if (act & RACT_SPAWN) {
		int r = spawn(rj, rj->job, rj->view);
		mig_job_free(rj->job);
		rj->job = NULL;
		rj->view = NULL;
		if (r != 0)
			mig__rjob_event(rj, REV_SPAWN_FAILED);
	}
}

void
mig__rjob_output_done(struct rjob *rj, int fd)
{
	/* A job not started yet (VIEW) has no output to end. */
	if (rj->subreaper == 0)
		return;
	rj->done[fd] = 1;
	if (rj->done[1] && rj->done[2])
		mig__rjob_event(rj, REV_OUTPUT_DONE);
}

/* The leader's status, in the subreaper's pipe: the subreaper writes it
 * once every process of the job is reaped, so the job is over then; its
 * own exit (on_reaped) comes later, after the kernel has taken its
 * memory down. */
static void
on_status(uv_poll_t *h, int status, int events)
{
	struct rjob *rj = h->data;
	char c;

	if (rj->fsm.exited)
		return;
	if (mig__subreaper_status(rj->statusfd, &rj->status) == 0) {
		uv_poll_stop(h);
		mig__rjob_event(rj, REV_EXITED);
	} else if (read(rj->statusfd, &c, 1) == 0) {
		/* Gone without a word: its own status stands in. */
		uv_poll_stop(h);
	}
}

/* The subreaper is gone, and with it every process of the job; if its
 * pipe was not read yet, the leader's status is there (if it never got
 * to write it, its own status stands in). */
static void
on_reaped(void *arg, int status)
{
	struct rjob *rj = arg;

	rj->reaped = 1;
	if (rj->fsm.exited)
		return;
	if (mig__subreaper_status(rj->statusfd, &rj->status) != 0)
		rj->status = status;
	mig__rjob_event(rj, REV_EXITED);
}

static void
report_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct rjob *rj = h->data;

	*buf = uv_buf_init((char *)rj->exec_report + rj->report_got,
	    (unsigned)(sizeof(rj->exec_report) - rj->report_got));
}

/* The report pipe: the leader's pid, then EOF when the exec went
 * through, or why it failed. No pid: the subreaper could not fork. */
static void
on_report(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct rjob *rj = s->data;

	if (n > 0) {
		rj->report_got += (size_t)n;
		if (rj->report_got >= sizeof(int32_t) && rj->pid == 0)
			rj->pid = (pid_t)rj->exec_report[0];
		if (rj->report_got < sizeof(rj->exec_report))
			return;
	} else if (n == 0) {
		return;
	}
	uv_read_stop(s);
	uv_close((uv_handle_t *)s, mig__rjob_handle_closed);
	if (rj->pid == 0) {
		rj->exec_report[1] = 3;
		rj->exec_report[2] = EAGAIN;
		mig__rjob_event(rj, REV_EXEC_FAILED);
		return;
	}
	mig__rjob_event(rj, rj->report_got == sizeof(rj->exec_report) ?
		REV_EXEC_FAILED : REV_EXEC_OK);
}

/*
 * Static and setuid programs ignore LD_PRELOAD: they run, but with this
 * host's identity, and the job is told so once, on its stderr. The
 * program is found as execvp will find it, with the job's PATH.
 */
static void
warn_unshimmable(struct link *l, uint32_t id, const struct mig_job *job)
{
	const char *path = NULL, *why;
	char buf[PATH_MAX], msg[PATH_MAX + 160];
	int n;

	for (char **e = job->envp; *e != NULL; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			path = *e + 5;
	if (mig__path_search(job->argv[0], path, buf, sizeof(buf)) != 0 ||
	    (why = mig__unshimmable(buf)) == NULL)
		return;
	n = snprintf(msg, sizeof(msg), "mig: warning: %s is %s: it sees the "
	    "identity of %s, not of its home\n", buf, why, l->d->name);
	mig__link_send(l, MIG_M_OUTPUT, 2, id, msg, (size_t)n);
}

/* Our ends of the job's pipes and of the report, into the loop. */
static void
adopt_fds(struct rjob *rj, int p[3][2], int report[2])
{
	struct homed *d = rj->d;

	for (int i = 0; i < 3; i++) {
		int *mine = i == 0 ? &p[0][1] : &p[i][0];
		/* Bigger pipes, fewer trips through the loop and the link
		 * (a terminal keeps its size). */
		fcntl(*mine, F_SETPIPE_SZ, (int)MIG_CHUNK);
		uv_pipe_init(d->loop, &rj->pipes[i], 0);
		rj->pipes[i].data = rj;
		uv_pipe_open(&rj->pipes[i], *mine);
		*mine = -1;
		rj->open[i] = 1;
		rj->handles++;
	}
	uv_pipe_init(d->loop, &rj->report, 0);
	rj->report.data = rj;
	uv_pipe_open(&rj->report, report[0]);
	report[0] = -1;
	rj->handles++;
	uv_read_start((uv_stream_t *)&rj->report, report_alloc, on_report);
}

/* Why rj never started, for RACT_SEND_ERROR; returns code. */
int
mig__rjob_failed(struct rjob *rj, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rj->why, sizeof(rj->why), fmt, ap);
	va_end(ap);
	rj->err = code;
	return code;
}

/* Starts rj's process, running job: in the view v when it is not NULL
 * (served mode), else in this host's own files. 0, or a MIG_E* code
 * with rj->why saying what failed. */
static int
spawn(struct rjob *rj, const struct mig_job *job, const struct view *v)
{
	struct homed *d = rj->d;
	struct link *l = rj->link;
	char **envp = NULL, *envbuf = NULL;
	int p[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
	int report[2] = { -1, -1 }, status[2] = { -1, -1 }, identfd = -1, r;
	struct mig_ident *ident = NULL;
	int fds[START_FD_COUNT];
	struct mig_start *st = NULL;
	pid_t pid;

	if ((r = mig__leader_pipes(p, report, status)) != 0) {
		mig__rjob_failed(rj, r, "cannot make pipes: %s", mig_strerror(r));
		goto out;
	}
	if ((job->flags & MIG_JOB_TTY) && (r = mig__leader_pty(job, p)) != 0) {
		mig__rjob_failed(rj, r, "cannot make a terminal: %s", mig_strerror(r));
		goto out;
	}
	/* mig-rsh's jobs are ssh's: this host's pids, names and clock.
	 * Any other keeps home's, on a terminal of this host's too (the
	 * shim gives the terminal's groups in home pids). */
	if (!(job->flags & MIG_JOB_SSH))
		identfd = mig__ident_new(job, l->peer, &ident);
	if (ident != NULL) {
		const int theirs[3] = { p[0][0], p[1][1], p[2][1] };
		mig__ident_stdio(ident, job->flags, theirs);
	}
	if ((rj->argv0 = strdup(job->argv[0])) == NULL ||
	    (rj->cwd = strdup(job->cwd)) == NULL ||
	    (envp = mig__leader_env(d, job->envp, &envbuf, identfd,
	    rj->token)) ==
		NULL) {
		r = mig__rjob_failed(rj, MIG__ERR(ENOMEM), "out of memory");
		goto out;
	}
	if ((st = malloc(sizeof(*st))) == NULL) {
		r = mig__rjob_failed(rj, MIG__ERR(ENOMEM), "out of memory");
		goto out;
	}
	mig__leader_start(d, job, v, identfd >= 0, st);
	for (int i = 0; i < START_FD_COUNT; i++)
		fds[i] = -1;
	fds[START_FD_STATUS] = status[1];
	fds[START_FD_STDIN] = p[0][0];
	fds[START_FD_STDOUT] = p[1][1];
	fds[START_FD_STDERR] = p[2][1];
	fds[START_FD_REPORT] = report[1];
	fds[START_FD_IDENT] = identfd;
	if (v != NULL)
		mig__view_ns(v, &fds[START_FD_USERNS], &fds[START_FD_MNTNS]);
	if ((pid = mig__subreaper_start(d, st, fds, job->argv, envp)) == -1) {
		r = mig__rjob_failed(rj, MIG__ERR(errno), "cannot start its subreaper: "
		    "%s", strerror(errno));
		goto out;
	}
	if (mig__child_watch(d, pid, on_reaped, rj) != 0) {
		kill(pid, SIGTERM);
		r = mig__rjob_failed(rj, MIG__ERR(ENOMEM), "out of memory");
		goto out;
	}
	/* In a view the program is home's, not this host's. Once the job
	 * is on its way (this looks the program up): still before any
	 * output of the job's, which the loop reads only after this turn. */
	if (v == NULL)
		warn_unshimmable(l, rj->id, job);
	rj->subreaper = pid;
	rj->statusfd = status[0];
	status[0] = -1;
	if (uv_poll_init(d->loop, &rj->status_poll, rj->statusfd) == 0) {
		rj->status_poll.data = rj;
		rj->handles++;
		uv_poll_start(&rj->status_poll, UV_READABLE, on_status);
	}
	rj->ident = ident;
	ident = NULL;
	adopt_fds(rj, p, report);
	mig__log(MIG_LOG_DEBUG, "job %u from %s: subreaper %d %s%s", rj->id,
	    l->peer->name, (int)pid, job->argv[0], v != NULL ? " (served)" :
							       "");
	if (job->flags & MIG_JOB_NOSTDIN)
		mig__relay_close(rj, 0);
	mig__load_add(d, LOAD_HOST, 1);
	r = 0;
 out:
	mig__leader_close(p, report, status);
	mig__close(identfd);
	mig__ident_free(ident);
	free(st);
	free(envp);
	free(envbuf);
	return r;
}

