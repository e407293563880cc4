/*
 * freeze.c: stops a job where it stands and lets it go on later. Every
 * process under the job's subreaper (host/subreaper.c) gets SIGSTOP,
 * then SIGCONT: its memory stays on this host, but it takes no CPU. The
 * pair is the one place that knows how a job is frozen, so that a
 * checkpointer (which would let the job move instead) can take it over.
 *
 * The processes are found through /proc/PID/task/TID/children, from the
 * subreaper down. A process may fork between the listing and its
 * SIGSTOP, so the walk is repeated until it finds no process it has not
 * stopped already; a stopped process forks no more.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "homed.h"

/* The most processes of one job that are stopped or resumed. */
#define FREEZE_MAX 4096
/* Walks before giving up on a job that forks faster than it is stopped. */
#define FREEZE_PASSES 16

/* Appends the children of every thread of pid to v[*n..max). */
static void
children_of(pid_t pid, pid_t *v, size_t *n, size_t max)
{
	char path[64], buf[4096];
	struct dirent *e;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((dir = opendir(path)) == NULL)
		return;
	while ((e = readdir(dir)) != NULL && *n < max) {
		ssize_t got;
		long c = 0;
		int fd;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/children",
		    (int)pid, e->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		/* "PID PID ... ": a number is whole once its space is read. */
		while ((got = read(fd, buf, sizeof(buf))) > 0)
			for (ssize_t i = 0; i < got && *n < max; i++) {
				if (buf[i] >= '0' && buf[i] <= '9') {
					c = c * 10 + (buf[i] - '0');
				} else if (c > 0) {
					v[(*n)++] = (pid_t)c;
					c = 0;
				}
			}
		close(fd);
	}
	closedir(dir);
}

/* Every process under subreaper, breadth first. */
size_t
mig__job_pids(pid_t subreaper, pid_t *v, size_t max)
{
	size_t n = 0;

	children_of(subreaper, v, &n, max);
	for (size_t i = 0; i < n; i++)
		children_of(v[i], v, &n, max);
	return n;
}

/* Sends sig to every process of the job until a walk finds no new one. */
static int
signal_all(pid_t subreaper, int sig)
{
	pid_t *v;
	size_t n, before = 0;
	int r = MIG_EINTERNAL;

	if ((v = calloc(FREEZE_MAX, sizeof(*v))) == NULL)
		return MIG__ERR(ENOMEM);
	for (int pass = 0; pass < FREEZE_PASSES; pass++) {
		n = mig__job_pids(subreaper, v, FREEZE_MAX);
		for (size_t i = 0; i < n; i++)
			kill(v[i], sig);
		if (n == FREEZE_MAX) {
			mig__log(MIG_LOG_WARN, "job under %d: more than %d "
			    "processes; only those were signalled",
			    (int)subreaper, FREEZE_MAX);
			r = MIG__ERR(E2BIG);
			goto out;
		}
		/* SIGCONT needs one walk; SIGSTOP until no process is new. */
		if (sig != SIGSTOP || (pass > 0 && n == before)) {
			r = 0;
			goto out;
		}
		before = n;
	}
	mig__log(MIG_LOG_WARN, "job under %d: still forking after %d walks",
	    (int)subreaper, FREEZE_PASSES);
	r = MIG__ERR(EAGAIN);
 out:
	free(v);
	return r;
}

int
mig__job_freeze(pid_t subreaper)
{
	return signal_all(subreaper, SIGSTOP);
}

int
mig__job_thaw(pid_t subreaper)
{
	return signal_all(subreaper, SIGCONT);
}
