/*
 * pid.c: the placed process's pids are its home ones (ARCHITECTURE.md
 * section 7, step 1). Only the placed process itself, the one whose pid
 * here is the page's host_pid, takes the stub's pid; its descendants
 * keep their pids on this host for now and see it as their parent under
 * its home pid. The group and session the job had here when this
 * process started read as the stub's at home.
 *
 * The same map runs backwards for calls that name a process: the home
 * pid and group of the placed process are translated to its pid and
 * group here. Every other pid goes to the kernel unchanged, though at
 * home it names another process: sending kill, killpg and sigqueue for
 * those home (calls.def, mig__call() in call.c) is not wired yet; it
 * belongs in host_target() and its callers below.
 *
 * Each wrapper costs the one system call the real function makes; none
 * takes a lock, so they may run in signal handlers. A pid of a process
 * here that happens to equal the stub's home pid is shadowed by it:
 * that is what step 2 of section 7 (home pids for descendants) ends.
 */
#include <errno.h>
#include <limits.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "preload.h"

static pid_t (*real_getpid)(void);
static pid_t (*real_getppid)(void);
static pid_t (*real_gettid)(void);
static pid_t (*real_getpgrp)(void);
static pid_t (*real_getpgid)(pid_t);
static pid_t (*real_getsid)(pid_t);
static int (*real_kill)(pid_t, int);
static int (*real_killpg)(pid_t, int);
static int (*real_sigqueue)(pid_t, int, const union sigval);
static int (*real_tgkill)(pid_t, pid_t, int);
static int (*real_pidfd_open)(pid_t, unsigned int);
static long (*real_syscall)(long, ...);

void
mig__pid_init(void)
{
	MIG_REAL(real_getpid, "getpid");
	MIG_REAL(real_getppid, "getppid");
	MIG_REAL(real_gettid, "gettid");
	MIG_REAL(real_getpgrp, "getpgrp");
	MIG_REAL(real_getpgid, "getpgid");
	MIG_REAL(real_getsid, "getsid");
	MIG_REAL(real_kill, "kill");
	MIG_REAL(real_killpg, "killpg");
	MIG_REAL(real_sigqueue, "sigqueue");
	MIG_REAL(real_tgkill, "tgkill");
	MIG_REAL(real_pidfd_open, "pidfd_open");
	MIG_REAL(real_syscall, "syscall");
}

/* Is there a pid identity to give? */
static inline int
mapped(void)
{
	return mig__ident != NULL && mig__home.host_pid > 0;
}

/* Values from this host to home, for a pid, a group and a session. */
static inline pid_t
home_pid(pid_t v)
{
	return v == mig__home.host_pid ? mig__home.pid : v;
}

static inline pid_t
home_pgid(pid_t v)
{
	return v == mig__home.job_pgid ? mig__home.pgid : v;
}

static inline pid_t
home_sid(pid_t v)
{
	return v == mig__home.job_sid ? mig__home.sid : v;
}

/* And back, for the pids a caller names. */
static inline pid_t
host_pid(pid_t v)
{
	return v == mig__home.pid ? mig__home.host_pid : v;
}

static inline pid_t
host_pgid(pid_t v)
{
	return v == mig__home.pgid ? mig__home.job_pgid : v;
}

/* kill(2)'s pid argument: a process, or a group when below -1. */
static pid_t
host_target(pid_t pid)
{
	if (pid > 0)
		return host_pid(pid);
	if (pid < -1 && pid != INT_MIN)
		return -host_pgid(-pid);
	return pid;
}

pid_t
mig__getpid(void)
{
	MIG_REAL(real_getpid, "getpid");
	if (!mapped())
		return real_getpid();
	return home_pid(real_getpid());
}

/* The stub's parent for the placed process; for its children, the
 * placed process under its home pid. */
static pid_t
parent(pid_t ppid)
{
	if (ppid == mig__home.host_pid)
		return mig__home.pid;
	if (real_getpid() == mig__home.host_pid)
		return mig__home.ppid;
	return ppid;
}

pid_t
mig__getppid(void)
{
	MIG_REAL(real_getppid, "getppid");
	MIG_REAL(real_getpid, "getpid");
	if (!mapped())
		return real_getppid();
	return parent(real_getppid());
}

/* The main thread's tid is the process's pid, here and at home. */
pid_t
mig__gettid(void)
{
	MIG_REAL(real_gettid, "gettid");
	if (!mapped())
		return real_gettid();
	return home_pid(real_gettid());
}

pid_t
mig__getpgrp(void)
{
	MIG_REAL(real_getpgrp, "getpgrp");
	if (!mapped())
		return real_getpgrp();
	return home_pgid(real_getpgrp());
}

pid_t
mig__getpgid(pid_t pid)
{
	pid_t r;

	MIG_REAL(real_getpgid, "getpgid");
	if (!mapped())
		return real_getpgid(pid);
	r = real_getpgid(host_pid(pid));
	return r < 0 ? r : home_pgid(r);
}

pid_t
mig__getsid(pid_t pid)
{
	pid_t r;

	MIG_REAL(real_getsid, "getsid");
	if (!mapped())
		return real_getsid(pid);
	r = real_getsid(host_pid(pid));
	return r < 0 ? r : home_sid(r);
}

int
mig__kill(pid_t pid, int sig)
{
	MIG_REAL(real_kill, "kill");
	return real_kill(mapped() ? host_target(pid) : pid, sig);
}

int
mig__killpg(pid_t pgrp, int sig)
{
	MIG_REAL(real_killpg, "killpg");
	return real_killpg(mapped() && pgrp > 0 ? host_pgid(pgrp) : pgrp, sig);
}

int
mig__sigqueue(pid_t pid, int sig, const union sigval value)
{
	MIG_REAL(real_sigqueue, "sigqueue");
	return real_sigqueue(mapped() && pid > 0 ? host_pid(pid) : pid, sig,
	    value);
}

/* The stub's pid as a tid names the placed process's main thread. */
int
mig__tgkill(pid_t tgid, pid_t tid, int sig)
{
	MIG_REAL(real_tgkill, "tgkill");
	if (!mapped())
		return real_tgkill(tgid, tid, sig);
	return real_tgkill(tgid > 0 ? host_pid(tgid) : tgid,
	    tid > 0 ? host_pid(tid) : tid, sig);
}

int
mig__pidfd_open(pid_t pid, unsigned int flags)
{
	MIG_REAL(real_pidfd_open, "pidfd_open");
	return real_pidfd_open(mapped() && pid > 0 ? host_pid(pid) : pid,
	    flags);
}

/* syscall(2) with one of our numbers: the kernel's answer, mapped. */
int
mig__pid_syscall(long nr, const long a[6], long *ret)
{
	long r;

	if (!mapped())
		return 0;
	MIG_REAL(real_syscall, "syscall");
	MIG_REAL(real_getpid, "getpid");
	switch (nr) {
	case SYS_getpid:
	case SYS_gettid:
		r = real_syscall(nr);
		*ret = r < 0 ? r : home_pid((pid_t)r);
		return 1;
	case SYS_getppid:
		r = real_syscall(nr);
		*ret = r < 0 ? r : parent((pid_t)r);
		return 1;
#ifdef SYS_getpgrp
	case SYS_getpgrp:
		r = real_syscall(nr);
		*ret = r < 0 ? r : home_pgid((pid_t)r);
		return 1;
#endif
	case SYS_getpgid:
		r = real_syscall(nr, (long)host_pid((pid_t)a[0]));
		*ret = r < 0 ? r : home_pgid((pid_t)r);
		return 1;
	case SYS_getsid:
		r = real_syscall(nr, (long)host_pid((pid_t)a[0]));
		*ret = r < 0 ? r : home_sid((pid_t)r);
		return 1;
	case SYS_kill:
		*ret = real_syscall(nr, (long)host_target((pid_t)a[0]), a[1]);
		return 1;
	case SYS_tgkill:
		*ret = real_syscall(nr,
		    (pid_t)a[0] > 0 ? (long)host_pid((pid_t)a[0]) : a[0],
		    (pid_t)a[1] > 0 ? (long)host_pid((pid_t)a[1]) : a[1], a[2]);
		return 1;
	case SYS_pidfd_open:
		*ret = real_syscall(nr,
		    (pid_t)a[0] > 0 ? (long)host_pid((pid_t)a[0]) : a[0], a[1]);
		return 1;
	}
	return 0;
}
