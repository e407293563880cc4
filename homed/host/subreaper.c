/*
 * subreaper.c: the process between the daemon and a job's leader. It is a
 * child subreaper, so every process of the job stays under it, also one
 * that made its own session or whose parent died (a daemon started by
 * the job). When the leader ends, or the daemon asks (SIGTERM) or dies,
 * the subreaper kills every process left under it, reaps them, leaves the
 * leader's wait status in its status pipe and exits: nothing of a job
 * outlives it, and the daemon hears of the job's end only then. An ssh
 * job's (mig-rsh's) leader ending kills nothing: what it left running
 * (nohup … &, setsid -f) lives on, as after an ssh session, and what
 * still holds the job's output keeps it open, as under sshd.
 *
 * A job still running REAPER_AFTER_MS after its leader was forked has
 * its subreaper exec mig-reaper (helpers/), which does the waiting: a
 * fork of the daemon kept for a whole job would make the daemon copy
 * every page it writes meanwhile (each copy with a TLB shootdown; in a
 * served build, a quarter of the host daemon's CPU). A shorter job is
 * waited for by the fork itself (the same reap.c), as is every job where
 * mig-reaper cannot be run: the exec costs about as much as such a job.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "homed.h"
#include "helpers/reap.h"

/* mig-reaper beside mig-homed (or in ../lib/mig), "" when missing. */
static char reaper[PATH_MAX];

/* A job that runs longer than this gets mig-reaper. */
#define REAPER_AFTER_MS 50

void
mig__subreaper_init(void)
{
	if (mig__beside_self("mig-reaper", reaper, sizeof(reaper)) != 0) {
		reaper[0] = '\0';
		mig__log(MIG_LOG_WARN, "mig-reaper not found beside mig-homed: "
		    "each job's subreaper stays a fork of the daemon, and "
		    "unless this daemon runs as root, a job's session is not "
		    "put below the host's owner (priority idle)");
	}
}

const char *
mig__subreaper_helper(void)
{
	return reaper;
}

/* Whether the leader is still running ms after now: 0 when it ended
 * (not reaped: reap.c does that) or SIGTERM came (left pending for
 * reap.c). The signals in wait_for (SIGCHLD, SIGTERM) are blocked. */
static int
runs_for(pid_t leader, long ms, const sigset_t *wait_for)
{
	struct timespec t;
	int64_t end, left;
	siginfo_t si;

	clock_gettime(CLOCK_MONOTONIC, &t);
	end = (int64_t)t.tv_sec * 1000000000 + t.tv_nsec + (int64_t)ms * 1000000;
	for (;;) {
		si.si_pid = 0;
		if (waitid(P_PID, (id_t)leader, &si, WEXITED | WNOHANG |
		    WNOWAIT) == 0 && si.si_pid == leader)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((left = end - ((int64_t)t.tv_sec * 1000000000 + t.tv_nsec)) <= 0)
			return 1;
		t.tv_sec = left / 1000000000;
		t.tv_nsec = left % 1000000000;
		if (sigtimedwait(wait_for, NULL, &t) == SIGTERM) {
			raise(SIGTERM);
			return 0;
		}
	}
}

void
mig__subreaper_run(pid_t daemon, int statusfd, int leave_rest,
    void (*leader)(void *arg), void *arg)
{
	sigset_t wait_for, none;
	char pid_arg[16];
	pid_t pid;

	sigemptyset(&none);
	sigemptyset(&wait_for);
	sigaddset(&wait_for, SIGCHLD);
	sigaddset(&wait_for, SIGTERM);
	sigprocmask(SIG_BLOCK, &wait_for, NULL);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1 ||
	    prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != daemon)
		_exit(MIG_EXIT_FAILURE);
	/* The leader borrows our memory until its exec (vfork): a fork
	 * would copy the daemon's page tables a second time. What it writes
	 * meanwhile (errno, environ) is ours only, and we are a copy. */
	if ((pid = vfork()) == -1)
		_exit(MIG_EXIT_FAILURE);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, 0);
		sigprocmask(SIG_SETMASK, &none, NULL);
		leader(arg);
		_exit(MIG_EXIT_FAILURE);
	}
	/* Only the status pipe stays: the job's pipes, the report and the
	 * daemon's own descriptors are the leader's or nobody's. The
	 * subreaper's role, the parent-death signal and the blocked
	 * signals carry over the exec. */
	if (dup2(statusfd, 0) == -1)
		_exit(MIG_EXIT_FAILURE);
	close_range(1, ~0u, 0);
	if (reaper[0] != '\0' && runs_for(pid, REAPER_AFTER_MS, &wait_for)) {
		char *const argv[] = { (char *)"mig-reaper", pid_arg,
			leave_rest ? (char *)"leave" : NULL, NULL };
		char *const envp[] = { NULL };

		snprintf(pid_arg, sizeof(pid_arg), "%d", (int)pid);
		execve(reaper, argv, envp);
	}
	mig__reap(pid, leave_rest);
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
