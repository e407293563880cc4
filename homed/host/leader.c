/*
 * leader.c: what a job's leader gets from the daemon: its pipes (or a
 * terminal of this host's), its environment, and the description its
 * subreaper starts it from (helpers/start.c runs it; host/spawn.c and
 * host/subreaper.c start the subreaper).
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
#include "helpers/lower.h"
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

void
mig__leader_start(struct homed *d, const struct mig_job *job,
    const struct view *v, int has_ident, struct mig_start *s)
{
	memset(s, 0, sizeof(*s));
	s->size = sizeof(*s);
	s->daemon = (int32_t)getpid();
	s->flags = job->flags;
	s->umask = job->umask;
	s->nice = job->nice;
	s->sched = job->sched;
	s->prio = mig__owner_priority(d);
	/* Read only for a job to put below the owner (a /proc file). */
	s->autogroups = s->prio == MIG_PRIO_IDLE && mig__autogroups_on();
	s->has_ident = has_ident;
	s->nrlimit = job->nrlimit < MIG_JOB_NRLIMIT ? job->nrlimit :
						      MIG_JOB_NRLIMIT;
	memcpy(s->rlimit, job->rlimit, sizeof(s->rlimit));
	s->cwd = job->cwd;
	s->root = "";
	if (v != NULL) {
		int userfd, mntfd;
		s->has_view = 1;
		s->root = mig__view_ns(v, &userfd, &mntfd);
	}
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
