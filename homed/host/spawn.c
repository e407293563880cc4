/*
 * spawn.c: the host role. EXEC from a home daemon becomes a process
 * here, in the home cwd with the home environment, umask and rlimits,
 * in a session of its own, with the shim preloaded in remote role, its
 * identity page at fd 100 and stdio on pipes (relay.c). The fork never
 * waits: the child reports a failed chdir or exec on a close-on-exec
 * pipe that the loop reads, and the pipe's plain EOF means the exec
 * went through. What happens on each event is rjobfsm.c's to say; this
 * file carries it out.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "homed.h"
#include "policy.h"
#include "shimenv.h"

#define MIG_SHIMENV_BUF 16384

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

uint32_t
mig__rjobs_running(struct homed *d)
{
	struct rjob *rj;
	uint32_t n = 0;

	TAILQ_FOREACH(rj, &d->rjobs, entry)
		n += rj->fsm.state != RJOB_DONE;
	return n;
}

void
mig__rjob_send(struct rjob *rj, uint16_t type, uint16_t flags, const void *p,
    size_t n)
{
	if (rj->link != NULL)
		mig__link_send(rj->link, type, flags, rj->id, p, n);
}

/* Ends a job that never started with a mig error, "host: what". */
static void fail_job(struct link *l, uint32_t id, int code, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static void
fail_job(struct link *l, uint32_t id, int code, const char *fmt, ...)
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

static void
rjob_free(struct rjob *rj)
{
	TAILQ_REMOVE(&rj->d->rjobs, rj, entry);
	mig__ident_free(rj->ident);
	mig__close(rj->statusfd);
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
		rjob_free(rj);
}

/* An EXIT waiting for the files the job made to be home. */
struct exitmsg {
	struct link *link;
	uint32_t id;
	uint8_t p[8];
};

static void
exit_settled(void *arg, int ok)
{
	struct exitmsg *x = arg;

	if (ok)
		mig__link_send(x->link, MIG_M_EXIT, 0, x->id, x->p,
		    sizeof(x->p));
	free(x);
}

static void
send_exit(struct rjob *rj)
{
	struct exitmsg *x;
	uint32_t code = 0, sig = 0;

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
	x->link = rj->link;
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
		fail_job(rj->link, rj->id, MIG__ERR(e),
		    "cannot start a process here: %s", strerror(e));
		return;
	}
	if (rj->exec_report[1] == 0) {
		fail_job(rj->link, rj->id, MIG_ENOCWD,
		    "working directory %s is missing here (%s)%s", rj->cwd,
		    strerror(e), rj->d->files == MIG_FILES_SHARED ? "; this "
		    "host runs jobs in its own files only (shared in its "
		    "hosts file)" : "");
		return;
	}
	if (rj->exec_report[1] == 2) {
		fail_job(rj->link, rj->id, MIG_ENOCWD,
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

static void
close_handles(struct rjob *rj)
{
	for (int i = 0; i < 3; i++)
		mig__relay_close(rj, i);
	if (!uv_is_closing((uv_handle_t *)&rj->report))
		uv_close((uv_handle_t *)&rj->report, mig__rjob_handle_closed);
}

/* Runs event ev on rj and does what the state machine says. */
static void
rjob_event(struct rjob *rj, enum rjob_event ev)
{
	struct homed *d = rj->d;
	int act = mig__rjob_step(&rj->fsm, ev);

	if (act & RACT_KILL) {
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
	if (rj->fsm.state == RJOB_RUNNING && ev == REV_EXEC_OK)
		mig__relay_start(rj);
	if (act & RACT_SEND_FAILED)
		send_failed(rj);
	if (act & RACT_SEND_EXIT)
		send_exit(rj);
	if (act & RACT_DETACH)
		rj->link = NULL;
	if (act & RACT_END) {
		if (!rj->fsm.exited)
			mig__child_forget(d, rj->subreaper);
		mig__descs_job_end(rj);
		d->done++;
		close_handles(rj);
		mig__push_load(d);
		if (rj->handles == 0)
			rjob_free(rj);
	}
}

void
mig__rjob_output_done(struct rjob *rj, int fd)
{
	rj->done[fd] = 1;
	if (rj->done[1] && rj->done[2])
		rjob_event(rj, REV_OUTPUT_DONE);
}

/* The subreaper is gone, and with it every process of the job: the
 * leader's status is in its pipe (if it never got to write it, its own
 * status stands in). */
static void
on_reaped(void *arg, int status)
{
	struct rjob *rj = arg;

	if (mig__subreaper_status(rj->statusfd, &rj->status) != 0)
		rj->status = status;
	rjob_event(rj, REV_EXITED);
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
		rjob_event(rj, REV_EXEC_FAILED);
		return;
	}
	rjob_event(rj, rj->report_got == sizeof(rj->exec_report) ?
		REV_EXEC_FAILED : REV_EXEC_OK);
}

/* The environment the program starts with: home's, plus the shim in
 * remote role (libmig/shimenv.c). The vector points into envp and into
 * *buf, which also holds our own variables (the vector keeps pointers to
 * them, so they must outlive this call). */
#define SHIM_VARS (PATH_MAX + 16 + 2 * 32)
static char **
shim_env(struct homed *d, char **envp, char **buf, int identfd,
    uint32_t token)
{
	char *sockvar, *jobvar, *fdvar, *extra[40] = { NULL };
	size_t n = 0, x = 3;
	char **v;

	while (envp[n] != NULL)
		n++;
	n += 48;
	*buf = NULL;
	if ((v = calloc(n, sizeof(*v))) == NULL)
		return NULL;
	if (d->shim[0] == '\0') {
		memcpy(v, envp, (n - 48) * sizeof(*v));
		return v;
	}
	if ((*buf = malloc(MIG_SHIMENV_BUF + SHIM_VARS)) == NULL) {
		free(v);
		return NULL;
	}
	sockvar = *buf + MIG_SHIMENV_BUF;
	jobvar = sockvar + PATH_MAX + 16;
	fdvar = jobvar + 32;
	snprintf(sockvar, PATH_MAX + 16, "__MIG_SOCK=%s", d->sockpath);
	snprintf(jobvar, 32, "__MIG_JOB=%u", token);
	snprintf(fdvar, 32, "__MIG_IDENT_FD=%d", MIG_IDENT_FDNO);
	extra[0] = (char *)"__MIG_ROLE=remote";
	extra[1] = sockvar;
	extra[2] = jobvar;
	if (identfd >= 0)
		extra[x++] = fdvar;
	for (size_t i = 0; d->hostenv != NULL && d->hostenv[i] != NULL; i++)
		extra[x++] = d->hostenv[i];
	extra[x] = NULL;
	if (mig__shimenv(envp, d->preload, extra, v, n, *buf,
	    MIG_SHIMENV_BUF) < 0) {
		free(v);
		free(*buf);
		*buf = NULL;
		return NULL;
	}
	return v;
}

/* What the job's leader starts from, in its subreaper. */
struct leader {
	const struct mig_job *job;
	char **envp;
	int (*p)[2];
	int report;
	struct mig_ident *ident;
	int identfd;
	const struct view *view;
};

static void __attribute__((noreturn))
child(const struct mig_job *job, char **envp, int p[3][2], int report,
    struct mig_ident *ident, int identfd, const struct view *view)
{
	/* stage (0: chdir, 1: exec, 2: entering the view), errno */
	int32_t why[2] = { 1, 0 }, me = (int32_t)getpid();

	/* First of all, so the daemon can signal it from now on. */
	(void)!write(report, &me, sizeof(me));
	setsid();
	umask((mode_t)job->umask & 0777);
	/* As at home: its nice value (a host lets us lower priority only)
	 * and a policy anyone may choose. */
	setpriority(PRIO_PROCESS, 0, job->nice);
	if (job->sched == SCHED_BATCH || job->sched == SCHED_IDLE) {
		struct sched_param sp = { 0 };
		sched_setscheduler(0, (int)job->sched, &sp);
	}
	for (uint32_t i = 0; i < job->nrlimit; i++) {
		struct rlimit rl = { (rlim_t)job->rlimit[i].cur,
			(rlim_t)job->rlimit[i].max };
		/* A limit this host cannot grant stays at its maximum. */
		if (setrlimit((int)job->rlimit[i].resource, &rl) == -1) {
			struct rlimit now;
			if (getrlimit((int)job->rlimit[i].resource, &now) == 0) {
				if (rl.rlim_cur > now.rlim_max)
					rl.rlim_cur = now.rlim_max;
				rl.rlim_max = now.rlim_max;
				setrlimit((int)job->rlimit[i].resource, &rl);
			}
		}
	}
	if (view != NULL && (why[1] = mig__view_enter(view)) != 0) {
		why[0] = 2;
		(void)!write(report, why, sizeof(why));
		_exit(MIG_EXIT_FAILURE);
	}
	if (chdir(job->cwd) == -1) {
		why[0] = 0;
		why[1] = errno;
		(void)!write(report, why, sizeof(why));
		_exit(MIG_EXIT_FAILURE);
	}
	/* Out of the way first, so no dup2 below can land on it. */
	if ((report = fcntl(report, F_DUPFD_CLOEXEC, MIG_IDENT_FDNO + 1)) == -1)
		_exit(MIG_EXIT_FAILURE);
	/* On a terminal: it becomes our controlling one, and stderr goes
	 * there too, as on a terminal at home. */
	if ((job->flags & MIG_JOB_TTY) && ioctl(p[0][0], TIOCSCTTY, 0) == -1)
		goto fail;
	if (dup2(p[0][0], 0) == -1 || dup2(p[1][1], 1) == -1 ||
	    dup2((job->flags & MIG_JOB_TTY) ? p[1][1] : p[2][1], 2) == -1)
		goto fail;
	if (identfd >= 0) {
		/* The child writes its host pid, since only it knows it
		 * before exec; the daemon's mapping is the writable one. */
		ident->host_pid = (int32_t)getpid();
		if (dup2(identfd, MIG_IDENT_FDNO) == -1)
			goto fail;
	}
	if (dup2(report, 3) == -1)
		goto fail;
	fcntl(3, F_SETFD, FD_CLOEXEC);
	close_range(4, MIG_IDENT_FDNO - 1, 0);
	close_range(identfd >= 0 ? MIG_IDENT_FDNO + 1 : MIG_IDENT_FDNO, ~0u, 0);
	environ = envp;
	execvp(job->argv[0], job->argv);
 fail:
	why[1] = errno;
	(void)!write(3, why, sizeof(why));
	_exit(MIG_EXIT_NOTFOUND);
}

static void
leader(void *arg)
{
	struct leader *a = arg;

	child(a->job, a->envp, a->p, a->report, a->ident, a->identfd,
	    a->view);
}

static int
pipes(int p[3][2], int report[2], int status[2])
{
	for (int i = 0; i < 3; i++)
		if (pipe2(p[i], O_CLOEXEC) == -1)
			return MIG__ERR(errno);
	if (pipe2(report, O_CLOEXEC) == -1 ||
	    pipe2(status, O_CLOEXEC | O_NONBLOCK) == -1)
		return MIG__ERR(errno);
	return 0;
}

/*
 * A terminal on this host for the job (mig -t): its stdin and stdout are
 * the pty's slave side, and our ends of "stdin" and "stdout" are the
 * master's (two descriptors, one for each of libuv's handles).
 */
static int
make_pty(const struct mig_job *job, int p[3][2])
{
	char name[64];
	int m, sl;

	if ((m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1)
		return MIG__ERR(errno);
	if (grantpt(m) != 0 || unlockpt(m) != 0 ||
	    ptsname_r(m, name, sizeof(name)) != 0 ||
	    (sl = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1) {
		int r = MIG__ERR(errno);
		mig__close(m);
		return r;
	}
	if (job->ws_row != 0 && job->ws_col != 0) {
		struct winsize ws = { .ws_row = job->ws_row,
			.ws_col = job->ws_col };
		ioctl(m, TIOCSWINSZ, &ws);
	}
	for (int i = 0; i < 2; i++) {
		mig__close(p[i][0]);
		mig__close(p[i][1]);
	}
	p[0][0] = sl;
	p[1][0] = m;
	p[0][1] = fcntl(m, F_DUPFD_CLOEXEC, 0);
	p[1][1] = fcntl(sl, F_DUPFD_CLOEXEC, 0);
	return p[0][1] == -1 || p[1][1] == -1 ? MIG__ERR(errno) : 0;
}

static void
close_all(int p[3][2], int report[2], int status[2])
{
	for (int i = 0; i < 3; i++) {
		mig__close(p[i][0]);
		mig__close(p[i][1]);
	}
	for (int i = 0; i < 2; i++) {
		mig__close(report[i]);
		mig__close(status[i]);
	}
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

/* Starts job (stream id of link l) here: in the view v when it is not
 * NULL (served mode), else in this host's own files; files says which
 * (mig ps). */
static void
start_job(struct link *l, uint32_t id, struct mig_job *job, struct view *v,
    const char *files)
{
	struct homed *d = l->d;
	struct rjob *rj = NULL;
	char **envp = NULL, *envbuf = NULL;
	int p[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
	int report[2] = { -1, -1 }, status[2] = { -1, -1 }, identfd = -1, r;
	struct mig_ident *ident = NULL;
	pid_t pid, self = getpid();

	if ((r = pipes(p, report, status)) != 0) {
		fail_job(l, id, r, "cannot make pipes: %s", mig_strerror(r));
		goto out;
	}
	if ((job->flags & MIG_JOB_TTY) && (r = make_pty(job, p)) != 0) {
		fail_job(l, id, r, "cannot make a terminal: %s",
		    mig_strerror(r));
		goto out;
	}
	/* In a view the program is home's, not this host's. */
	if (v == NULL)
		warn_unshimmable(l, id, job);
	/* A job on a terminal of this host's is a session here, as with
	 * ssh -t: job-control shells compare the terminal's foreground
	 * group with their own, so it keeps this host's pids (no page). */
	if (!(job->flags & MIG_JOB_TTY))
		identfd = mig__ident_new(job, l->peer, &ident);
	if (ident != NULL) {
		const int theirs[3] = { p[0][0], p[1][1], p[2][1] };
		mig__ident_stdio(ident, job->flags, theirs);
	}
	if ((rj = calloc(1, sizeof(*rj))) == NULL ||
	    (rj->argv0 = strdup(job->argv[0])) == NULL ||
	    (rj->cwd = strdup(job->cwd)) == NULL ||
	    (envp = shim_env(d, job->envp, &envbuf, identfd,
	    d->next_token + 1)) ==
		NULL) {
		fail_job(l, id, MIG__ERR(ENOMEM), "out of memory");
		goto out;
	}
	if ((pid = mig__fork()) == -1) {
		fail_job(l, id, MIG__ERR(errno), "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		struct leader a = { job, envp, p, report[1], ident, identfd,
			v };
		mig__subreaper_run(self, status[1], leader, &a);
	}
	rj->d = d;
	rj->link = l;
	rj->id = id;
	rj->subreaper = pid;
	rj->statusfd = status[0];
	status[0] = -1;
	rj->token = ++d->next_token;
	strlcpy(rj->files, files, sizeof(rj->files));
	rj->fsm.state = RJOB_STARTING;
	rj->ident = ident;
	ident = NULL;
	if (mig__child_watch(d, pid, on_reaped, rj) != 0) {
		kill(pid, SIGTERM);
		fail_job(l, id, MIG__ERR(ENOMEM), "out of memory");
		goto out;
	}
	adopt_fds(rj, p, report);
	TAILQ_INSERT_TAIL(&d->rjobs, rj, entry);
	mig__log(MIG_LOG_DEBUG, "job %u from %s: subreaper %d %s%s", rj->id,
	    l->peer->name, (int)pid, job->argv[0], v != NULL ? " (served)" :
							       "");
	if (job->flags & MIG_JOB_NOSTDIN)
		mig__relay_close(rj, 0);
	mig__push_load(d);
	rj = NULL;
 out:
	close_all(p, report, status);
	mig__close(identfd);
	mig__ident_free(ident);
	if (rj != NULL) {
		mig__ident_free(rj->ident);
		free(rj->argv0);
		free(rj->cwd);
	}
	free(rj);
	free(envp);
	free(envbuf);
}

/* A job waiting for its mode here, then for its link's view. */
struct pending {
	TAILQ_ENTRY(pending) entry;
	struct homed *d;
	struct link *link;
	uint32_t id;
	struct mig_job *job;
	int killed;          /* its stub went first: it never starts */
	char files[200];     /* how it sees home's files */
};

static void
pending_free(struct pending *p)
{
	TAILQ_REMOVE(&p->d->pendings, p, entry);
	mig_job_free(p->job);
	free(p);
}

static void
view_ready(void *arg, struct view *v, const char *why)
{
	struct pending *p = arg;

	if (p->killed)
		;
	else if (v == NULL)
		fail_job(p->link, p->id, MIG_ENOCWD, "home's files cannot be "
		    "served here: %s", why);
	else
		start_job(p->link, p->id, p->job, v, p->files);
	pending_free(p);
}

/* The job's mode is known (fs/exact.c): this host's own files, the
 * view, or not here. */
static void
decided(void *arg, const struct mig_exact *e)
{
	struct pending *p = arg;

	if (e->mode == MIG_EXACT_VIEW && !p->killed) {
		strlcpy(p->files, e->text, sizeof(p->files));
		mig__view_want(p->d, p->link, p->id, e->plan, view_ready, p);
		return;
	}
	if (p->killed || e->mode == MIG_EXACT_GONE)
		;
	else if (e->mode == MIG_EXACT_OWN)
		start_job(p->link, p->id, p->job, NULL, e->text);
	else
		fail_job(p->link, p->id, e->code, "%s", e->text);
	pending_free(p);
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
	struct pending *p;

	if (mig_r_job(f->payload, f->len, &job) != 0) {
		mig__log(MIG_LOG_WARN, "link %s: malformed EXEC", l->desc);
		fail_job(l, f->stream, MIG_EPROTO, "malformed job");
		goto out;
	}
	/* Placed jobs respect the slots, whichever home sends them; a job
	 * sent to a named host (mig -h) runs as ssh's would. */
	if ((job->flags & MIG_JOB_PLACE) && mig__running_here(d) >= d->slots) {
		fail_job(l, f->stream, MIG_EFULL, "no free slot");
		goto out;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		fail_job(l, f->stream, MIG__ERR(ENOMEM), "out of memory");
		goto out;
	}
	p->d = d;
	p->link = l;
	p->id = f->stream;
	p->job = job;
	job = NULL;
	TAILQ_INSERT_TAIL(&d->pendings, p, entry);
	mig__exact_decide(d, l, p->job, decided, p);
 out:
	mig_job_free(job);
}

static void
on_kill(struct link *l, const struct mig_frame *f)
{
	struct rjob *rj = mig__rjob_find(l, f->stream);
	struct pending *p;

	if (rj != NULL)
		rjob_event(rj, REV_KILL);
	TAILQ_FOREACH(p, &l->d->pendings, entry)
		if (p->link == l && p->id == f->stream)
			p->killed = 1;
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
			rjob_event(rj, REV_LINK_DOWN);
}

void
mig__rjobs_stop(struct homed *d)
{
	struct rjob *rj, *next;

	TAILQ_FOREACH_SAFE(rj, &d->rjobs, entry, next)
		rjob_event(rj, REV_STOP);
}

void
mig__host_init(struct homed *d)
{
	static const struct watcher w = { .link_down = on_link_down };

	mig__subreaper_init();
	mig__on_link_frame(d, MIG_M_EXEC, on_exec);
	mig__on_link_frame(d, MIG_M_KILL, on_kill);
	mig__on_link_frame(d, MIG_M_SIGNAL, on_signal);
	mig__on_link_frame(d, MIG_M_WINSIZE, on_winsize);
	mig__watch(d, &w);
}
