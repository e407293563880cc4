/*
 * subreaper.c: the process between the daemon and a job's leader. It is a
 * child subreaper, so every process of the job stays under it, also one
 * that made its own session or whose parent died (a daemon started by
 * the job). When the leader ends, or the daemon asks (SIGTERM) or dies,
 * the subreaper kills every process left under it, reaps them, leaves the
 * leader's wait status in its status pipe and exits: nothing of a job
 * outlives it, and the daemon hears of the job's end only then.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "homed.h"

/* SIGKILL to every child of ours that /proc lists; 0 when none is left. */
static int
kill_children(const char *path)
{
	char buf[4096];
	ssize_t n;
	int fd, found = 0;
	long pid = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	/* "PID PID ... ": a number is whole once its space is read. */
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] >= '0' && buf[i] <= '9') {
				pid = pid * 10 + (buf[i] - '0');
			} else if (pid > 0) {
				kill((pid_t)pid, SIGKILL);
				found = 1;
				pid = 0;
			}
		}
	}
	close(fd);
	return found;
}

/* Kills and reaps every process under us: a child's children become
 * ours when it dies, so the list is read again after each death. */
static void
end_the_rest(void)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d/children",
	    (int)getpid());
	for (;;) {
		kill_children(path);
		if (waitpid(-1, NULL, __WALL) == -1 && errno == ECHILD)
			return;
	}
}

void
mig__subreaper_run(pid_t daemon, int statusfd,
    void (*leader)(void *arg), void *arg)
{
	sigset_t wait_for, none;
	int32_t leader_status = 0;
	int status, ended = 0;
	pid_t pid, w;

	sigemptyset(&none);
	sigemptyset(&wait_for);
	sigaddset(&wait_for, SIGCHLD);
	sigaddset(&wait_for, SIGTERM);
	sigprocmask(SIG_BLOCK, &wait_for, NULL);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1 ||
	    prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != daemon)
		_exit(MIG_EXIT_FAILURE);
	if ((pid = fork()) == -1)
		_exit(MIG_EXIT_FAILURE);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, 0);
		sigprocmask(SIG_SETMASK, &none, NULL);
		leader(arg);
		_exit(MIG_EXIT_FAILURE);
	}
	/* Only the status pipe stays: the job's pipes, the report and the
	 * daemon's own descriptors are the leader's or nobody's. */
	if (dup2(statusfd, 0) == -1)
		_exit(MIG_EXIT_FAILURE);
	close_range(1, ~0u, 0);
	while (!ended) {
		if (sigwaitinfo(&wait_for, NULL) == SIGTERM) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
		}
		while ((w = waitpid(-1, &status, WNOHANG | __WALL)) > 0)
			if (w == pid) {
				leader_status = status;
				ended = 1;
			}
	}
	end_the_rest();
	(void)!write(0, &leader_status, sizeof(leader_status));
	_exit(0);
}

int
mig__subreaper_status(int fd, int *status)
{
	int32_t s;

	if (read(fd, &s, sizeof(s)) != (ssize_t)sizeof(s))
		return -1;
	*status = s;
	return 0;
}
