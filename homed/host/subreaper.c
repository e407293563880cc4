/*
 * subreaper.c: the process between the daemon and a job's leader. It is a
 * child subreaper, so every process of the job stays under it, also one
 * that made its own session or whose parent died (a daemon started by
 * the job). When the leader ends, or the daemon asks (SIGTERM) or dies,
 * the subreaper kills every process left under it, reaps them, leaves the
 * leader's wait status in its status pipe and exits: nothing of a job
 * outlives it, and the daemon hears of the job's end only then.
 *
 * No fork of the daemon: the subreaper is a clone on the daemon's memory
 * and a stack of its own (CLONE_VM | CLONE_VFORK, as posix_spawn makes
 * its child), which vforks the leader, waits for the leader's exec, then
 * execs mig-reaper (helpers/), which does the waiting; the daemon goes
 * on once that exec is done. A fork would copy the daemon's page tables
 * (twice, with a fork for the leader too), and, kept while a job runs,
 * make the daemon copy each page it writes (each copy with a TLB
 * shootdown; in a served build, a quarter of the host daemon's CPU).
 * Only where mig-reaper is missing, and in a daemon built with
 * AddressSanitizer, is the subreaper a fork of the daemon, which waits
 * itself (the same reap.c).
 */
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "homed.h"
#include "helpers/reap.h"

/* AddressSanitizer cannot follow code on a stack it did not make (its
 * vfork unpoisons from there up to the thread's own stack, and faults):
 * a sanitized daemon forks its subreapers. */
#if defined(__SANITIZE_ADDRESS__)
#define MIG_CLONE_SUBREAPER 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MIG_CLONE_SUBREAPER 0
#endif
#endif
#ifndef MIG_CLONE_SUBREAPER
#define MIG_CLONE_SUBREAPER 1
#endif

/* mig-reaper beside mig-homed (or in ../lib/mig), "" when missing. */
static char reaper[PATH_MAX];

void
mig__subreaper_init(void)
{
	if (mig__beside_self("mig-reaper", reaper, sizeof(reaper)) != 0) {
		reaper[0] = '\0';
		mig__log(MIG_LOG_WARN, "mig-reaper not found beside mig-homed: "
		    "each job's subreaper is a fork of the daemon");
	}
}

/* What the subreaper is given. */
struct start {
	pid_t daemon;
	int statusfd;
	void (*leader)(void *arg);
	void *arg;
};

/* In the new subreaper: takes its role and starts the leader, which
 * borrows our memory until its exec (vfork): what it writes meanwhile is
 * errno and its own stack. Then only the status pipe stays, as fd 0:
 * the job's pipes, the report and the daemon's own descriptors are the
 * leader's or nobody's. The leader's pid, or -1. */
static pid_t
start_leader(const struct start *st)
{
	sigset_t wait_for, none;
	pid_t pid;

	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	sigemptyset(&none);
	sigemptyset(&wait_for);
	sigaddset(&wait_for, SIGCHLD);
	sigaddset(&wait_for, SIGTERM);
	sigprocmask(SIG_SETMASK, &wait_for, NULL);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1 ||
	    prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != st->daemon)
		return -1;
	if ((pid = vfork()) == -1)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, 0);
		sigprocmask(SIG_SETMASK, &none, NULL);
		st->leader(st->arg);
		_exit(MIG_EXIT_FAILURE);
	}
	if (dup2(st->statusfd, 0) == -1) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		return -1;
	}
	close_range(1, ~0u, 0);
	return pid;
}

/* The subreaper as a clone: it becomes mig-reaper. The subreaper's
 * role, the parent-death signal, the blocked signals and the status pipe
 * carry over the exec. Should the exec fail, nothing could wait for the
 * job without holding the daemon up: the job goes, and the daemon sees
 * the subreaper end without a status. */
static int
clone_main(void *arg)
{
	const struct start *st = arg;
	char pid_arg[16];
	char *const argv[] = { (char *)"mig-reaper", pid_arg, NULL };
	char *const envp[] = { NULL };
	pid_t pid;

	if ((pid = start_leader(st)) == -1)
		return MIG_EXIT_FAILURE;
	snprintf(pid_arg, sizeof(pid_arg), "%d", (int)pid);
	execve(reaper, argv, envp);
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	return MIG_EXIT_FAILURE;
}

/* The clone's stack. One is enough: the daemon waits until the clone
 * has exec'd (CLONE_VFORK), and only the loop's thread starts jobs. */
static char stack[256 * 1024] __attribute__((aligned(64)));

pid_t
mig__subreaper_start(pid_t daemon, int statusfd, void (*leader)(void *arg),
    void *arg)
{
	struct start st = { daemon, statusfd, leader, arg };
	sigset_t all, old;
	pid_t pid;
	int e;

	if (reaper[0] == '\0' || !MIG_CLONE_SUBREAPER) {
		if ((pid = mig__fork()) == 0) {
			if ((pid = start_leader(&st)) == -1)
				_exit(MIG_EXIT_FAILURE);
			mig__reap(pid);
		}
		return pid;
	}
	/* No handler of ours may run in the clone, on our memory: every
	 * signal stays blocked until it has reset them all. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = clone(clone_main, stack + sizeof(stack), CLONE_VM | CLONE_VFORK |
	    SIGCHLD, &st);
	e = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return pid;
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
