/*
 * reap.c: what a job's subreaper does once its leader runs (reap.h).
 * Only system calls and the stack: it runs in the small static
 * mig-reaper, and in a fork of the daemon when mig-reaper is missing.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reap.h"

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
mig__reap(pid_t leader, int leave_rest)
{
	sigset_t wait_for;
	int32_t leader_status = 0;
	int status, ended = 0;
	pid_t w;

	sigemptyset(&wait_for);
	sigaddset(&wait_for, SIGCHLD);
	sigaddset(&wait_for, SIGTERM);
	while (!ended) {
		/* The leader may have ended before we were ready to wait:
		 * reap first, then wait for a signal. */
		while ((w = waitpid(-1, &status, WNOHANG | __WALL)) > 0)
			if (w == leader) {
				leader_status = status;
				ended = 1;
			}
		if (ended)
			break;
		if (sigwaitinfo(&wait_for, NULL) == SIGTERM) {
			kill(-leader, SIGKILL);
			kill(leader, SIGKILL);
		}
	}
	/* An ssh job's other processes are left to whoever inherits them:
	 * those that still hold its output keep it open, as under sshd. A
	 * signal here would race nohup, which ignores SIGHUP only once it
	 * runs, in a background process the shell may not have started. */
	if (!leave_rest)
		end_the_rest();
	(void)!write(0, &leader_status, sizeof(leader_status));
	_exit(0);
}
