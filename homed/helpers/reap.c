/*
 * reap.c: what a job's subreaper does once its leader runs (reap.h).
 * Only system calls and the stack: it runs in the small static
 * mig-reaper, and in a fork of the daemon when mig-reaper is missing.
 *
 * Whatever ends a job (the daemon asks, or the leader ends and leaves
 * processes behind), they get SIGTERM first and GRACE_MS to end by
 * themselves, so that they clean up after themselves (gcc removes its
 * /tmp/cc* files), and SIGCONT, as a frozen job must run to do so; only
 * what is left after that gets SIGKILL. A second SIGTERM from the daemon
 * cuts the grace short.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reap.h"

/* How long a job's processes have between SIGTERM and SIGKILL. */
#define GRACE_MS 500

/* sig to every child of ours that /proc lists; 0 when none is left. */
static int
signal_children(const char *path, int sig)
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
				kill((pid_t)pid, sig);
				found = 1;
				pid = 0;
			}
		}
	}
	close(fd);
	return found;
}

/* Whether anything is left under us: a job whose processes all ended
 * costs no read of /proc. */
static int
has_children(void)
{
	siginfo_t si;

	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0 ||
	    errno != ECHILD;
}

static int64_t
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Reaps what ends, keeping the leader's status, until nothing is left
 * under us (1) or the grace is over or cut short by SIGTERM (0). */
static int
reap_for(pid_t leader, const sigset_t *wait_for, int32_t *leader_status,
    int *ended)
{
	int64_t end = now_ns() + (int64_t)GRACE_MS * 1000000, left;
	struct timespec t;
	int status;
	pid_t w;

	for (;;) {
		while ((w = waitpid(-1, &status, WNOHANG | __WALL)) > 0)
			if (w == leader) {
				*leader_status = status;
				*ended = 1;
			}
		if (w == -1 && errno == ECHILD)
			return 1;
		if ((left = end - now_ns()) <= 0)
			return 0;
		t.tv_sec = left / 1000000000;
		t.tv_nsec = left % 1000000000;
		if (sigtimedwait(wait_for, NULL, &t) == SIGTERM)
			return 0;
	}
}

/* Kills and reaps every process under us: a child's children become
 * ours when it dies, so the list is read again after each death. */
static void
kill_the_rest(const char *path, pid_t leader, int32_t *leader_status)
{
	int status;
	pid_t w;

	for (;;) {
		signal_children(path, SIGKILL);
		if ((w = waitpid(-1, &status, __WALL)) == -1 && errno == ECHILD)
			return;
		if (w == leader)
			*leader_status = status;
	}
}

void
mig__reap(pid_t leader, int leave_rest)
{
	sigset_t wait_for;
	int32_t leader_status = 0;
	int status, ended = 0, termed = 0;
	char path[64];
	pid_t w;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children",
	    (int)getpid());
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
			/* Its group while the leader is unreaped (its pid,
			 * the group's id, cannot be reused meanwhile); a
			 * frozen job (host/freeze.c) goes on to clean up. */
			kill(-leader, SIGTERM);
			kill(-leader, SIGCONT);
			termed = 1;
			break;
		}
	}
	/* What is left: SIGTERM, a grace, then SIGKILL. An ssh job's
	 * other processes that outlive its leader are left to whoever
	 * inherits them: those that still hold its output keep it open, as
	 * under sshd (a signal here would race nohup, which ignores SIGHUP
	 * only once it runs). SIGTERM before that still ends everything. */
	if ((!leave_rest || termed) && (!ended || has_children()) &&
	    (signal_children(path, SIGTERM) || !ended)) {
		signal_children(path, SIGCONT);
		if (!reap_for(leader, &wait_for, &leader_status, &ended)) {
			/* Its group too while the leader is unreaped. */
			if (!ended)
				kill(-leader, SIGKILL);
			kill_the_rest(path, leader, &leader_status);
		}
	}
	(void)!write(0, &leader_status, sizeof(leader_status));
	_exit(0);
}
