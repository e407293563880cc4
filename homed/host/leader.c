/*
 * leader.c: a job's leader, from its fork to its exec: its pipes (or a
 * terminal of this host's), its environment, and what it does in the
 * subreaper's child before it runs the program (host/spawn.c forks it,
 * host/subreaper.c stands between).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "homed.h"
#include "shimenv.h"

#define MIG_SHIMENV_BUF 16384

/* The environment the program starts with: home's, plus the shim in
 * remote role (libmig/shimenv.c). The vector points into envp and into
 * *buf, which also holds our own variables (the vector keeps pointers to
 * them, so they must outlive this call). */
#define SHIM_VARS (PATH_MAX + 16 + 2 * 32)
char **
mig__leader_env(struct homed *d, char **envp, char **buf, int identfd,
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

static void __attribute__((noreturn))
child(const struct mig_job *job, char **envp, int p[3][2], int report,
    struct mig_ident *ident, int identfd, const struct view *view, int prio)
{
	/* stage (0: chdir, 1: exec, 2: entering the view, 4: below the
	 * host's owner), errno */
	int32_t why[2] = { 1, 0 }, me = (int32_t)getpid();
	int homeless = 0, hop, argc = 0;

	/* First of all, so the daemon can signal it from now on: its group,
	 * which exists once it leads a session (a signal sent to the group
	 * before the setsid would fail, and be lost). */
	setsid();
	(void)!write(report, &me, sizeof(me));
	umask((mode_t)job->umask & 0777);
	/* As at home: its nice value (a host lets us lower priority only)
	 * and a policy anyone may choose. */
	setpriority(PRIO_PROCESS, 0, job->nice);
	if (job->sched == SCHED_BATCH || job->sched == SCHED_IDLE) {
		struct sched_param sp = { 0 };
		sched_setscheduler(0, (int)job->sched, &sp);
	}
	/* Then below the host's owner, as its hosts file line says; a job
	 * that cannot be does not run. */
	if ((why[1] = mig__owner_lower(prio, &hop)) != 0) {
		why[0] = 4;
		(void)!write(report, why, sizeof(why));
		_exit(MIG_EXIT_FAILURE);
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
	/* An ssh job (mig-rsh) whose home folder is missing here starts
	 * in / and says so on its stderr, as sshd does. */
	if (chdir(job->cwd) == -1) {
		homeless = errno;
		if (!(job->flags & MIG_JOB_SSH) || chdir("/") == -1) {
			why[0] = 0;
			why[1] = homeless;
			(void)!write(report, why, sizeof(why));
			_exit(MIG_EXIT_FAILURE);
		}
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
	if (homeless != 0) {
		const char *parts[] = { "mig: could not chdir to home directory ",
			job->cwd, ": ", strerror(homeless), "; starting in /\n" };
		for (size_t i = 0; i < sizeof(parts) / sizeof(*parts); i++)
			(void)!write(2, parts[i], strlen(parts[i]));
	}
	/* Through mig-reaper (see mig__owner_lower), the report stays
	 * open until the job's own exec. */
	if (dup2(report, 3) == -1)
		goto fail;
	fcntl(3, F_SETFD, hop ? 0 : FD_CLOEXEC);
	close_range(4, MIG_IDENT_FDNO - 1, 0);
	close_range(identfd >= 0 ? MIG_IDENT_FDNO + 1 : MIG_IDENT_FDNO, ~0u, 0);
	environ = envp;
	while (job->argv[argc] != NULL)
		argc++;
	if (hop) {
		/* On the stack: this is a vfork child. */
		char *via[argc + 3];

		via[0] = (char *)"mig-reaper";
		via[1] = (char *)"lower";
		memcpy(via + 2, job->argv, (size_t)(argc + 1) * sizeof(*via));
		execve(mig__subreaper_helper(), via, envp);
		/* Gone since start-up: the job runs, at SCHED_IDLE alone. */
		fcntl(3, F_SETFD, FD_CLOEXEC);
	}
	execvp(job->argv[0], job->argv);
 fail:
	why[1] = errno;
	(void)!write(3, why, sizeof(why));
	_exit(MIG_EXIT_NOTFOUND);
}

void
mig__leader_run(void *arg)
{
	struct mig_leader *a = arg;

	child(a->job, a->envp, a->p, a->report, a->ident, a->identfd,
	    a->view, a->prio);
}

int
mig__leader_pipes(int p[3][2], int report[2], int status[2])
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
int
mig__leader_pty(const struct mig_job *job, int p[3][2])
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

void
mig__leader_close(int p[3][2], int report[2], int status[2])
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
