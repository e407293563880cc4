/*
 * spawn.c: the host role. EXEC from a home daemon becomes a process
 * here, in the home cwd with the home environment, umask and rlimits,
 * in a session of its own, with the shim preloaded in remote role and
 * stdio on pipes that this file relays over the link:
 *
 *   stdout/stderr: read while fewer than MIG_WINDOW bytes wait for the
 *                  home's ACK, sent as DATA, then EOF;
 *   stdin:         DATA written to the job's pipe, ACKed once written;
 *                  EOF closes it, and a job that stops reading gets its
 *                  pipe closed and the home a CLOSE.
 *
 * EXIT goes out once the process has ended and both output pipes are
 * drained, so no output can arrive after it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "homed.h"
#include "policy.h"
#include "shimenv.h"

struct swrite {
	uv_write_t req;
	struct rjob *rj;
	uv_buf_t buf;
	uint8_t data[];
};

#define MIG_SHIMENV_BUF 16384
/* Where a job finds its identity page: high, out of the way of the
 * descriptors programs pass on purpose (make's jobserver, shells). */
#define MIG_IDENT_FDNO 100

static struct rjob *
rjob_find(struct link *l, uint32_t id)
{
	struct rjob *rj;

	TAILQ_FOREACH(rj, &l->d->rjobs, entry)
		if (rj->link == l && rj->id == id)
			return rj;
	return NULL;
}

static void
send_frame(struct rjob *rj, uint16_t type, uint16_t flags, const void *p,
    size_t n)
{
	if (rj->link != NULL)
		mig__link_send(rj->link, type, flags, rj->id, p, n);
}

/*
 * The identity page (include/mig/ident.h): the home's pid space, names
 * and clock, as the shim in the job reads them.
 */
static void
ident_write(struct mig_ident *id, const struct peer *home)
{
	__atomic_store_n(&id->seq, id->seq + 1, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (home != NULL && home->have_offset) {
		id->offset_ns = home->offset_ns;
		id->flags |= MIG_IDENT_CLOCK;
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&id->seq, id->seq + 1, __ATOMIC_RELEASE);
}

static int
ident_new(struct link *l, const struct mig_job *job, struct mig_ident **idp)
{
	struct mig_ident *id;
	int fd;

	*idp = NULL;
	if ((fd = memfd_create("mig-ident", MFD_CLOEXEC)) == -1)
		return -1;
	if (ftruncate(fd, MIG_IDENT_SIZE) == -1 ||
	    (id = mmap(NULL, MIG_IDENT_SIZE, PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, 0)) == MAP_FAILED) {
		mig__close(fd);
		return -1;
	}
	id->magic = MIG_IDENT_MAGIC;
	id->size = sizeof(*id);
	id->pid = job->pid;
	id->ppid = job->ppid;
	id->pgid = job->pgid;
	id->sid = job->sid;
	strlcpy(id->nodename, job->nodename, sizeof(id->nodename));
	strlcpy(id->domainname, job->domainname, sizeof(id->domainname));
	ident_write(id, l->peer);
	*idp = id;
	return fd;
}

static void
ident_free(struct mig_ident *id, int fd)
{
	if (id != NULL)
		munmap(id, MIG_IDENT_SIZE);
	mig__close(fd);
}

void
mig__rjobs_clock(struct link *l)
{
	struct rjob *rj;

	TAILQ_FOREACH(rj, &l->d->rjobs, entry)
		if (rj->link == l && rj->ident != NULL)
			ident_write(rj->ident, l->peer);
}

static void desc_close(struct desc *ds);

static void
rjob_free(struct rjob *rj)
{
	struct desc *ds, *next;

	TAILQ_FOREACH_SAFE(ds, &rj->d->descs, entry, next)
		if (ds->rj == rj)
			desc_close(ds);
	TAILQ_REMOVE(&rj->d->rjobs, rj, entry);
	ident_free(rj->ident, -1);
	free(rj);
}

static void
on_pipe_closed(uv_handle_t *h)
{
	struct rjob *rj = h->data;

	if (--rj->handles == 0 && rj->finished)
		rjob_free(rj);
}

static void
close_pipe(struct rjob *rj, int fd)
{
	if (!rj->open[fd])
		return;
	rj->open[fd] = 0;
	uv_close((uv_handle_t *)&rj->pipes[fd], on_pipe_closed);
}

static void
maybe_finish(struct rjob *rj)
{
	uint8_t p[8];
	uint32_t code = 0, sig = 0;

	if (rj->finished || !rj->exited || !rj->done[1] || !rj->done[2])
		return;
	rj->finished = 1;
	if (WIFSIGNALED(rj->status))
		sig = (uint32_t)WTERMSIG(rj->status);
	else
		code = (uint32_t)WEXITSTATUS(rj->status);
	for (int i = 0; i < 4; i++) {
		p[i] = (uint8_t)(code >> (8 * i));
		p[4 + i] = (uint8_t)(sig >> (8 * i));
	}
	send_frame(rj, MIG_M_EXIT, 0, p, sizeof(p));
	close_pipe(rj, 0);
	rj->d->done++;
	mig__push_load(rj->d);
	if (rj->handles == 0)
		rjob_free(rj);
}

static void
output_done(struct rjob *rj, int fd)
{
	close_pipe(rj, fd);
	rj->done[fd] = 1;
	maybe_finish(rj);
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static char chunk[MIG_CHUNK];

	/* Each read is sent on before the next one starts, so one buffer
	 * serves every job. */
	*buf = uv_buf_init(chunk, sizeof(chunk));
}

static void
on_output(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct rjob *rj = s->data;
	int fd = s == (uv_stream_t *)&rj->pipes[1] ? 1 : 2;

	if (n == 0)
		return;
	if (n < 0) {
		send_frame(rj, MIG_M_EOF, (uint16_t)fd, NULL, 0);
		output_done(rj, fd);
		return;
	}
	send_frame(rj, MIG_M_DATA, (uint16_t)fd, buf->base, (size_t)n);
	rj->unacked[fd] += (size_t)n;
	if (rj->unacked[fd] >= MIG_WINDOW) {
		uv_read_stop(s);
		rj->reading[fd] = 0;
	}
}

static void
on_stdin_written(uv_write_t *req, int status)
{
	struct swrite *w = (struct swrite *)req;
	struct rjob *rj = w->rj;

	if (status == 0) {
		uint8_t p[4];
		for (int i = 0; i < 4; i++)
			p[i] = (uint8_t)(w->buf.len >> (8 * i));
		send_frame(rj, MIG_M_ACK, 0, p, sizeof(p));
	} else if (status != UV_ECANCELED && rj->open[0]) {
		/* The job closed its stdin: tell the stub to stop. */
		close_pipe(rj, 0);
		send_frame(rj, MIG_M_CLOSE, 0, NULL, 0);
	}
	free(w);
}

static void
on_stdin_shutdown(uv_shutdown_t *req, int status)
{
	struct rjob *rj = req->data;

	close_pipe(rj, 0);
	free(req);
}

static void
stdin_frame(struct rjob *rj, const struct mig_frame *f)
{
	struct swrite *w;
	uv_shutdown_t *sr;

	if (!rj->open[0])
		return;
	if (f->type == MIG_M_EOF) {
		if ((sr = malloc(sizeof(*sr))) == NULL ||
		    uv_shutdown(sr, (uv_stream_t *)&rj->pipes[0],
			on_stdin_shutdown) != 0) {
			free(sr);
			close_pipe(rj, 0);
			return;
		}
		sr->data = rj;
		return;
	}
	if (f->type != MIG_M_DATA || f->len == 0)
		return;
	if ((w = malloc(sizeof(*w) + f->len)) == NULL)
		return;
	memcpy(w->data, f->payload, f->len);
	w->rj = rj;
	w->buf = uv_buf_init((char *)w->data, f->len);
	if (uv_write(&w->req, (uv_stream_t *)&rj->pipes[0], &w->buf, 1,
	    on_stdin_written) != 0) {
		free(w);
		close_pipe(rj, 0);
		send_frame(rj, MIG_M_CLOSE, 0, NULL, 0);
	}
}

/* A signal sent at home to the placeholder of one of the job's
 * processes: only a process of this job may receive it. */
static void
signal_desc(struct rjob *rj, struct mig_rd *rd, int sig)
{
	struct desc *ds;
	uint32_t pid;

	if (proto_get_u32(rd, &pid) != 0)
		return;
	TAILQ_FOREACH(ds, &rj->d->descs, entry)
		if (ds->rj == rj && ds->host_pid == (pid_t)pid)
			kill(ds->host_pid, sig);
}

void
mig__rjob_from_link(struct link *l, const struct mig_frame *f)
{
	struct rjob *rj = rjob_find(l, f->stream);
	struct mig_rd rd;
	uint32_t v;

	if (rj == NULL || rj->finished)
		return;
	proto_rd_init(&rd, f->payload, f->len);
	switch (f->type) {
	case MIG_M_DATA:
	case MIG_M_EOF:
		stdin_frame(rj, f);
		break;
	case MIG_M_ACK:
		if (f->flags < 1 || f->flags > 2 || proto_get_u32(&rd, &v) != 0)
			break;
		rj->unacked[f->flags] -= v < rj->unacked[f->flags] ?
		    v : rj->unacked[f->flags];
		if (rj->open[f->flags] && !rj->reading[f->flags] &&
		    rj->unacked[f->flags] < MIG_WINDOW) {
			rj->reading[f->flags] = 1;
			uv_read_start((uv_stream_t *)&rj->pipes[f->flags],
			    on_alloc, on_output);
		}
		break;
	case MIG_M_CLOSE:
		/* Nobody reads this output at home any more: closing our
		 * end gives the job SIGPIPE, as a local pipe would. */
		if (f->flags == 1 || f->flags == 2)
			output_done(rj, f->flags);
		break;
	case MIG_M_SIGNAL:
		if (proto_get_u32(&rd, &v) != 0 || v == 0 || v >= NSIG)
			break;
		if (f->flags == 1)
			signal_desc(rj, &rd, (int)v);
		else if (!rj->exited)
			kill(-rj->pid, (int)v);
		break;
	case MIG_M_KILL:
		mig__log(MIG_LOG_INFO, "job %u (pid %d): its stub is gone, "
		    "killing it", rj->id, (int)rj->pid);
		if (!rj->exited)
			kill(-rj->pid, SIGKILL);
		rj->link = NULL;
		break;
	}
}

/* The environment the program starts with: home's, plus the shim in
 * remote role (libmig/shimenv.c). */
static char **
shim_env(struct homed *d, char **envp, char **buf, int identfd,
    uint32_t token)
{
	static char fdvar[32], jobvar[32], sockvar[PATH_MAX + 16];
	char *extra[40] = { (char *)"__MIG_ROLE=remote", sockvar, jobvar };
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
	snprintf(sockvar, sizeof(sockvar), "__MIG_SOCK=%s", d->sockpath);
	snprintf(jobvar, sizeof(jobvar), "__MIG_JOB=%u", token);
	snprintf(fdvar, sizeof(fdvar), "__MIG_IDENT_FD=%d", MIG_IDENT_FDNO);
	if (identfd >= 0)
		extra[x++] = fdvar;
	for (size_t i = 0; d->hostenv != NULL && d->hostenv[i] != NULL; i++)
		extra[x++] = d->hostenv[i];
	extra[x] = NULL;
	if ((*buf = malloc(MIG_SHIMENV_BUF)) == NULL ||
	    mig__shimenv(envp, d->preload, extra, v, n, *buf,
		MIG_SHIMENV_BUF) < 0) {
		free(v);
		free(*buf);
		*buf = NULL;
		return NULL;
	}
	return v;
}

static void
child(const struct mig_job *job, char **envp, int pin[2], int pout[2],
    int perr[2], int report, struct mig_ident *ident, int identfd)
{
	int why[2] = { 1, 0 }; /* stage (0: chdir, 1: exec), errno */
	sigset_t all;

	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	setsid();
	umask((mode_t)job->umask & 0777);
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
	if (chdir(job->cwd) == -1) {
		int why[2] = { 0, errno };
		(void)!write(report, why, sizeof(why));
		_exit(MIG_EXIT_FAILURE);
	}
	/* Out of the way first, so no dup2 below can land on it. */
	if ((report = fcntl(report, F_DUPFD_CLOEXEC, MIG_IDENT_FDNO + 1)) == -1)
		_exit(MIG_EXIT_FAILURE);
	if (dup2(pin[0], 0) == -1 || dup2(pout[1], 1) == -1 ||
	    dup2(perr[1], 2) == -1)
		goto fail;
	if (identfd >= 0) {
		/* The page the shim maps; the child writes its host pid,
		 * since only it knows it before exec. */
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

static int
pipes(int p[3][2], int report[2])
{
	for (int i = 0; i < 3; i++)
		p[i][0] = p[i][1] = -1;
	report[0] = report[1] = -1;
	for (int i = 0; i < 3; i++)
		if (pipe2(p[i], O_CLOEXEC) == -1)
			return MIG__ERR(errno);
	if (pipe2(report, O_CLOEXEC) == -1)
		return MIG__ERR(errno);
	return 0;
}

static void
close_all(int p[3][2], int report[2])
{
	for (int i = 0; i < 3; i++) {
		mig__close(p[i][0]);
		mig__close(p[i][1]);
	}
	mig__close(report[0]);
	mig__close(report[1]);
}

static void fail_job(struct link *l, uint32_t id, int code, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

/* Ends a job that never started with a mig error, "host: what". */
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
	mig__link_send(l, MIG_M_DATA, 2, id, msg, (size_t)n);
}

/* The program could not be run: report it as a shell would, on the
 * job's stderr with status 127 or 126. */
static void
exec_failed(struct link *l, uint32_t id, const char *cmd, int e)
{
	char msg[512];
	uint8_t p[8] = { 0 };
	int notfound = e == ENOENT;
	int n;

	if (notfound && strchr(cmd, '/') == NULL)
		n = snprintf(msg, sizeof(msg), "mig: %s: %s: command not found\n",
		    l->d->name, cmd);
	else
		n = snprintf(msg, sizeof(msg), "mig: %s: %s: %s\n", l->d->name,
		    cmd, strerror(e));
	if (n > (int)sizeof(msg) - 1)
		n = sizeof(msg) - 1;
	mig__link_send(l, MIG_M_DATA, 2, id, msg, (size_t)n);
	p[0] = notfound ? MIG_EXIT_NOTFOUND : MIG_EXIT_NOEXEC;
	mig__link_send(l, MIG_M_EXIT, 0, id, p, sizeof(p));
}

void
mig__rjob_exec(struct link *l, const struct mig_frame *f)
{
	struct homed *d = l->d;
	struct mig_job *job = NULL;
	struct rjob *rj = NULL;
	char **envp = NULL, *envbuf = NULL;
	int p[3][2], report[2], why[2], status, identfd = -1;
	struct mig_ident *ident = NULL;
	struct stat st;
	ssize_t n;
	pid_t pid;
	int r;

	if ((r = pipes(p, report)) != 0) {
		fail_job(l, f->stream, r, "cannot make pipes: %s",
		    mig_strerror(r));
		goto out;
	}
	if ((r = mig_r_job(f->payload, f->len, &job)) != 0) {
		mig__log(MIG_LOG_WARN, "link %s: malformed EXEC", l->desc);
		fail_job(l, f->stream, MIG_EPROTO, "malformed job");
		goto out;
	}
	/* Placed jobs respect the slots, whichever home sends them; a job
	 * sent to a named host (mig -h) runs as ssh's would. */
	if ((job->flags & MIG_JOB_PLACE) &&
	    d->local_running + mig__rjobs_running(d) >= d->slots) {
		fail_job(l, f->stream, MIG_EFULL, "no free slot");
		goto out;
	}
	errno = 0;
	if (stat(job->cwd, &st) == -1 || !S_ISDIR(st.st_mode)) {
		fail_job(l, f->stream, MIG_ENOCWD,
		    "working directory %s is missing here (%s)", job->cwd,
		    errno == 0 ? "not a directory" : strerror(errno));
		goto out;
	}
	warn_unshimmable(l, f->stream, job);
	identfd = ident_new(l, job, &ident);
	if ((rj = calloc(1, sizeof(*rj))) == NULL ||
	    (envp = shim_env(d, job->envp, &envbuf, identfd,
		 d->next_token + 1)) == NULL) {
		fail_job(l, f->stream, MIG__ERR(ENOMEM), "out of memory");
		goto out;
	}
	if ((pid = fork()) == -1) {
		fail_job(l, f->stream, MIG__ERR(errno), "fork: %s",
		    strerror(errno));
		goto out;
	}
	if (pid == 0)
		child(job, envp, p[0], p[1], p[2], report[1], ident, identfd);
	mig__close(report[1]);
	report[1] = -1;
	/* The report pipe closes on exec, or brings why it failed. */
	do
		n = read(report[0], why, sizeof(why));
	while (n == -1 && errno == EINTR);
	if (n == sizeof(why)) {
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		if (why[0] == 0)
			fail_job(l, f->stream, MIG_ENOCWD,
			    "working directory %s is missing here (%s)",
			    job->cwd, strerror(why[1]));
		else
			exec_failed(l, f->stream, job->argv[0], why[1]);
		goto out;
	}
	rj->d = d;
	rj->link = l;
	rj->id = f->stream;
	rj->pid = pid;
	rj->token = ++d->next_token;
	/* The mapping stays; the descriptor was for the child. */
	rj->ident = ident;
	ident = NULL;
	/* Our ends: write to the job's stdin, read its stdout and stderr. */
	for (int i = 0; i < 3; i++) {
		int mine = i == 0 ? p[0][1] : p[i][0];
		/* Bigger pipes, fewer trips through the loop and the link. */
		fcntl(mine, F_SETPIPE_SZ, (int)MIG_CHUNK);
		uv_pipe_init(d->loop, &rj->pipes[i], 0);
		rj->pipes[i].data = rj;
		uv_pipe_open(&rj->pipes[i], mine);
		if (i == 0)
			p[0][1] = -1;
		else
			p[i][0] = -1;
		rj->open[i] = 1;
		rj->handles++;
	}
	TAILQ_INSERT_TAIL(&d->rjobs, rj, entry);
	{
		struct mig_buf b = { NULL, 0, 0 };
		if (proto_put_u32(&b, (uint32_t)pid) == 0 &&
		    proto_put_str(&b, d->name) == 0)
			send_frame(rj, MIG_M_STARTED, 0, b.data, b.len);
		mig_buf_free(&b);
	}
	mig__log(MIG_LOG_DEBUG, "job %u from %s: pid %d %s", rj->id,
	    l->peer->name, (int)pid, job->argv[0]);
	if (job->flags & MIG_JOB_NOSTDIN)
		close_pipe(rj, 0);
	mig__push_load(d);
	for (int i = 1; i < 3; i++) {
		rj->reading[i] = 1;
		uv_read_start((uv_stream_t *)&rj->pipes[i], on_alloc, on_output);
	}
	rj = NULL;
 out:
	close_all(p, report);
	ident_free(ident, identfd);
	free(rj);
	free(envp);
	free(envbuf);
	mig_job_free(job);
}

void
mig__rjobs_reap(struct homed *d)
{
	struct rjob *rj;
	int status;
	pid_t pid;

	/* Reap every child: as pid 1 of a test host's namespace we also
	 * inherit orphans. */
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		TAILQ_FOREACH(rj, &d->rjobs, entry) {
			if (rj->pid == pid && !rj->exited) {
				rj->exited = 1;
				rj->status = status;
				maybe_finish(rj);
				break;
			}
		}
	}
}

void
mig__rjobs_link_down(struct link *l)
{
	struct rjob *rj;

	/* No orphans: a job whose home is gone is killed. */
	TAILQ_FOREACH(rj, &l->d->rjobs, entry) {
		if (rj->link != l)
			continue;
		rj->link = NULL;
		if (!rj->exited)
			kill(-rj->pid, SIGKILL);
	}
}

void
mig__rjobs_stop(struct homed *d)
{
	struct rjob *rj, *next;

	TAILQ_FOREACH_SAFE(rj, &d->rjobs, entry, next) {
		rj->link = NULL;
		if (!rj->exited)
			kill(-rj->pid, SIGKILL);
		for (int i = 0; i < 3; i++)
			close_pipe(rj, i);
		rj->finished = 1;
		if (rj->handles == 0)
			rjob_free(rj);
	}
}

uint32_t
mig__rjobs_running(struct homed *d)
{
	struct rjob *rj;
	uint32_t n = 0;

	TAILQ_FOREACH(rj, &d->rjobs, entry)
		n += !rj->finished;
	return n;
}

static struct rjob *
rjob_by_token(struct homed *d, uint32_t token)
{
	struct rjob *rj;

	TAILQ_FOREACH(rj, &d->rjobs, entry)
		if (rj->token == token && !rj->finished)
			return rj;
	return NULL;
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

void
mig__rjob_call(struct client *c, const struct mig_frame *f)
{
	struct homed *d = c->d;
	struct rjob *rj = rjob_by_token(d, f->stream);
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
	mig__link_send(rj->link, MIG_M_CALL, 0, rj->id, p, f->len);
	free(p);
}

void
mig__rjob_callret(struct link *l, const struct mig_frame *f)
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

void
mig__calls_client_gone(struct client *c)
{
	struct callwait *w, *next;

	TAILQ_FOREACH_SAFE(w, &c->d->calls, entry, next) {
		if (w->client != c)
			continue;
		TAILQ_REMOVE(&c->d->calls, w, entry);
		free(w);
	}
}

static void
on_desc_closed(uv_handle_t *h)
{
	struct desc *ds = h->data;

	mig__close(ds->pidfd);
	free(ds);
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
	uv_close((uv_handle_t *)&ds->poll, on_desc_closed);
}

static void
send_gone(struct rjob *rj, pid_t home_pid)
{
	uint8_t p[4];

	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)((uint32_t)home_pid >> (8 * i));
	send_frame(rj, MIG_M_GONE, 0, p, sizeof(p));
}

/* The process ended: its home pid is free again. */
static void
on_desc_exit(uv_poll_t *p, int status, int events)
{
	struct desc *ds = p->data;

	if (ds->rj != NULL)
		send_gone(ds->rj, ds->home_pid);
	desc_close(ds);
}

void
mig__rjob_hold(struct client *c, const struct mig_frame *f)
{
	struct homed *d = c->d;
	struct rjob *rj = rjob_by_token(d, f->stream);
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
	mig__link_send(rj->link, MIG_M_HOLD, 0, rj->id, p, f->len);
	free(p);
}

/* Records host pid -> home pid in the job's identity page, where every
 * process of the job finds it, and watches the process's end. */
static void
desc_add(struct rjob *rj, pid_t host_pid, pid_t home_pid)
{
	struct desc *ds;
	int fd, slot = -1;

	if ((fd = (int)syscall(SYS_pidfd_open, host_pid, 0)) == -1) {
		send_gone(rj, home_pid); /* already ended */
		return;
	}
	if ((ds = calloc(1, sizeof(*ds))) == NULL) {
		mig__close(fd);
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
	}
	ds->d = rj->d;
	ds->rj = rj;
	ds->host_pid = host_pid;
	ds->home_pid = home_pid;
	ds->pidfd = fd;
	ds->slot = slot;
	uv_poll_init(rj->d->loop, &ds->poll, fd);
	ds->poll.data = ds;
	uv_poll_start(&ds->poll, UV_READABLE, on_desc_exit);
	TAILQ_INSERT_TAIL(&rj->d->descs, ds, entry);
}

void
mig__rjob_holdret(struct link *l, const struct mig_frame *f)
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
		rj = rjob_by_token(l->d, w->token);
		if ((int32_t)pid > 0 && rj != NULL)
			desc_add(rj, w->host_pid, (pid_t)pid);
		mig__client_send(w->client, MIG_M_HOLDRET, 0, f->payload,
		    f->len);
		TAILQ_REMOVE(&l->d->calls, w, entry);
		free(w);
		return;
	}
}
