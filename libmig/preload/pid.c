/*
 * pid.c: the placed process's pids are its home ones (docs/design.md,
 * "Identity of a placed process"). The placed process itself, the one
 * whose pid here is the page's host_pid, takes the stub's pid. Every process it starts here
 * gets a pid at home as well (step 2): fork, vfork and posix_spawn ask
 * the daemons for one (mig__hold, call.c), which a placeholder process
 * at home holds, and the host daemon writes the pair into the identity
 * page, where every process of the job finds it. A parent also keeps
 * its own children's pairs, since the page forgets a process as soon as
 * it ends and wait() must still name it. The group and session the job
 * had here read as the stub's at home.
 *
 * The same map runs backwards for calls that name a process. A job may
 * signal at home only what is its own there (docs/security.md,
 * "A placed job"): its own pids (itself and its descendants' placeholders, all of
 * which are processes here, so the signal goes straight to them), and
 * its home process group and session as groups (kill(-pgid), killpg),
 * which are forwarded home (calls.def, mig__call()) and reach the stub,
 * which relays them to the job, with every other member at home. Any
 * other pid or group is this host's, as for any program on it.
 *
 * The wrappers that only read take no lock and make no more system
 * calls than the real function, so they may run in signal handlers.
 * The tables they share with threads and handlers are claimed and read
 * with atomics; every real function is found in the constructor, so
 * that no handler is the first to call dlsym.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mig/proto.h"

#include "preload.h"

static pid_t (*real_getpid)(void);
static pid_t (*real_getppid)(void);
static pid_t (*real_gettid)(void);
static pid_t (*real_getpgrp)(void);
static pid_t (*real_getpgid)(pid_t);
static pid_t (*real_getsid)(pid_t);
static pid_t (*real_tcgetpgrp)(int);
static int (*real_tcsetpgrp)(int, pid_t);
static pid_t (*real_tcgetsid)(int);
static int (*real_kill)(pid_t, int);
static int (*real_killpg)(pid_t, int);
static int (*real_sigqueue)(pid_t, int, const union sigval);
static int (*real_tgkill)(pid_t, pid_t, int);
static int (*real_pidfd_open)(pid_t, unsigned int);
static long (*real_syscall)(long, ...);
static pid_t (*real_fork)(void);
static pid_t (*real_waitpid)(pid_t, int *, int);
static pid_t (*real_wait4)(pid_t, int *, int, struct rusage *);
static int (*real_waitid)(idtype_t, id_t, siginfo_t *, int);

/* This process's own children: host pid and home pid. A slot is
 * claimed by a compare-and-swap of host from 0; home is written after
 * and read as 0 (unknown) until then. */
#define MIG_KIDS 256
static struct {
	pid_t host, home;
} kids[MIG_KIDS];

void
mig__pid_init(void)
{
	MIG_REAL(real_getpid, "getpid");
	MIG_REAL(real_getppid, "getppid");
	MIG_REAL(real_gettid, "gettid");
	MIG_REAL(real_getpgrp, "getpgrp");
	MIG_REAL(real_getpgid, "getpgid");
	MIG_REAL(real_getsid, "getsid");
	MIG_REAL(real_tcgetpgrp, "tcgetpgrp");
	MIG_REAL(real_tcsetpgrp, "tcsetpgrp");
	MIG_REAL(real_tcgetsid, "tcgetsid");
	MIG_REAL(real_kill, "kill");
	MIG_REAL(real_killpg, "killpg");
	MIG_REAL(real_sigqueue, "sigqueue");
	MIG_REAL(real_tgkill, "tgkill");
	MIG_REAL(real_pidfd_open, "pidfd_open");
	MIG_REAL(real_syscall, "syscall");
	MIG_REAL(real_fork, "fork");
	MIG_REAL(real_waitpid, "waitpid");
	MIG_REAL(real_wait4, "wait4");
	MIG_REAL(real_waitid, "waitid");
}

/* Is there a pid identity to give? */
static inline int
mapped(void)
{
	return mig__ident != NULL && mig__home.host_pid > 0;
}

/* The job's processes in the identity page, one way and the other. */
static pid_t
table_home(pid_t h)
{
	for (int i = 0; i < MIG_IDENT_PIDS; i++)
		if (__atomic_load_n(&mig__ident->pids[i].host_pid,
		    __ATOMIC_ACQUIRE) == h)
			return __atomic_load_n(&mig__ident->pids[i].home_pid,
			    __ATOMIC_RELAXED);
	return 0;
}

static pid_t
table_host(pid_t p)
{
	for (int i = 0; i < MIG_IDENT_PIDS; i++) {
		pid_t h = __atomic_load_n(&mig__ident->pids[i].host_pid,
		    __ATOMIC_ACQUIRE);
		if (h != 0 && __atomic_load_n(&mig__ident->pids[i].home_pid,
		    __ATOMIC_RELAXED) == p)
			return h;
	}
	return 0;
}

static pid_t
kid_home(pid_t h)
{
	for (int i = 0; i < MIG_KIDS; i++)
		if (__atomic_load_n(&kids[i].host, __ATOMIC_ACQUIRE) == h)
			return __atomic_load_n(&kids[i].home, __ATOMIC_ACQUIRE);
	return 0;
}

static pid_t
kid_host(pid_t p)
{
	for (int i = 0; i < MIG_KIDS; i++) {
		pid_t h = __atomic_load_n(&kids[i].host, __ATOMIC_ACQUIRE);
		if (h != 0 && __atomic_load_n(&kids[i].home,
		    __ATOMIC_ACQUIRE) == p)
			return h;
	}
	return 0;
}

/* A child and its home pid, in a slot claimed atomically. With all
 * taken, the child is looked up in the identity page's table alone. */
static void
kid_add(pid_t h, pid_t p)
{
	static int said;

	for (int i = 0; i < MIG_KIDS; i++) {
		pid_t free_ = 0;
		if (__atomic_compare_exchange_n(&kids[i].host, &free_, h, 0,
		    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
			__atomic_store_n(&kids[i].home, p, __ATOMIC_RELEASE);
			return;
		}
	}
	mig__full_once(&said, "mig: more than 256 children at once "
	    "(MIG_KIDS): the others' home pids come from the identity page "
	    "alone\n");
}

/* A reaped child leaves: only the thread that swaps its pid out
 * clears the slot. */
static void
kid_del(pid_t h)
{
	for (int i = 0; i < MIG_KIDS; i++) {
		pid_t old = h;
		if (__atomic_load_n(&kids[i].host, __ATOMIC_ACQUIRE) != h)
			continue;
		__atomic_store_n(&kids[i].home, 0, __ATOMIC_RELEASE);
		if (__atomic_compare_exchange_n(&kids[i].host, &old, 0, 0,
		    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			return;
	}
}

/* Values from this host to home, for a pid, a group and a session. */
static inline pid_t
home_pid(pid_t v)
{
	pid_t p;

	if (v == mig__home.host_pid)
		return mig__home.pid;
	if ((p = kid_home(v)) != 0 || (p = table_home(v)) != 0)
		return p;
	return v;
}

/*
 * Our own home pid. A child may ask before its parent has had the
 * answer from home: it waits for its line in the page, a while, once
 * per process. What it found is kept (real pid and home pid in one
 * atomic word, as threads and handlers share it); not finding it is
 * not, so that a line that comes later is still read.
 */
static uint64_t known; /* real pid << 32 | home pid (0: not found) */
static pid_t waited_for; /* the real pid that has had its wait */

static pid_t
self_pid(pid_t real)
{
	struct timespec nap = { 0, 100000 };
	uint64_t k;
	pid_t p = 0;

	if (real == mig__home.host_pid)
		return mig__home.pid;
	k = __atomic_load_n(&known, __ATOMIC_ACQUIRE);
	if ((pid_t)(k >> 32) == real && (pid_t)(uint32_t)k != 0)
		return (pid_t)(uint32_t)k;
	if ((p = table_home(real)) == 0 &&
	    __atomic_exchange_n(&waited_for, real, __ATOMIC_ACQ_REL) != real)
		for (int i = 0; i < 1000 && (p = table_home(real)) == 0; i++)
			nanosleep(&nap, NULL);
	if (p == 0)
		return real;
	__atomic_store_n(&known, (uint64_t)(uint32_t)real << 32 | (uint32_t)p,
	    __ATOMIC_RELEASE);
	return p;
}

/* A group or session: the job's own reads as home's; one that a
 * process of the job leads (setpgid, setsid) by the leader's home pid. */
static inline pid_t
home_pgid(pid_t v)
{
	if (v == mig__home.job_pgid)
		return mig__home.pgid;
	return v > 0 ? home_pid(v) : v;
}

static inline pid_t
home_sid(pid_t v)
{
	if (v == mig__home.job_sid)
		return mig__home.sid;
	return v > 0 ? home_pid(v) : v;
}

/* And back, for the pids a caller names. */
static inline pid_t
host_pid(pid_t v)
{
	pid_t h;

	if (v == mig__home.pid)
		return mig__home.host_pid;
	if ((h = kid_host(v)) != 0 || (h = table_host(v)) != 0)
		return h;
	return v;
}

static inline pid_t
host_pgid(pid_t v)
{
	return v == mig__home.pgid ? mig__home.job_pgid : host_pid(v);
}

/* The job's own groups at home, the only ones it signals there: its
 * process group and its session (as a group id, for killpg). Its own
 * pids are processes here and are signalled here (host_pid()). */
static int
home_group(pid_t pgrp)
{
	return pgrp > 0 && (pgrp == mig__home.pgid || pgrp == mig__home.sid);
}

/* A forwarded call; -1 with *done 0 when it could not be sent. */
static long
forward(int call, long a, long b, long c, int nargs, int *done)
{
	long args[3] = { a, b, c }, ret = -1;

	*done = mig__call(call, nargs, args, &ret) == 0;
	return ret;
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
mig__pid_home_of(pid_t host)
{
	return mapped() ? home_pid(host) : host;
}

pid_t
mig__pid_host_of(pid_t home)
{
	return mapped() ? host_pid(home) : home;
}

pid_t
mig__pgid_host_of(pid_t home)
{
	return mapped() ? host_pgid(home) : home;
}

pid_t
mig__getpid(void)
{
	MIG_REAL(real_getpid, "getpid");
	if (!mapped())
		return real_getpid();
	return self_pid(real_getpid());
}

/* The stub's parent for the placed process; for its children, the
 * placed process under its home pid. */
static pid_t
parent(pid_t ppid)
{
	if (real_getpid() == mig__home.host_pid)
		return mig__home.ppid;
	return home_pid(ppid);
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

void
mig__pid_ids_home(pid_t ids[4])
{
	MIG_REAL(real_getpid, "getpid");
	if (!mapped())
		return;
	if (ids[0] == real_getpid()) {
		ids[1] = parent(ids[1]);
		ids[0] = self_pid(ids[0]);
	} else {
		ids[1] = ids[0] == mig__home.host_pid ? mig__home.ppid :
							home_pid(ids[1]);
		ids[0] = home_pid(ids[0]);
	}
	ids[2] = home_pgid(ids[2]);
	ids[3] = home_sid(ids[3]);
}

/* The main thread's tid is the process's pid, here and at home. */
pid_t
mig__gettid(void)
{
	pid_t tid;

	MIG_REAL(real_gettid, "gettid");
	MIG_REAL(real_getpid, "getpid");
	if (!mapped())
		return real_gettid();
	/* Other threads' ids are no process's: they stay as they are. */
	tid = real_gettid();
	if (tid == mig__home.host_pid)
		return mig__home.pid;
	return tid == real_getpid() ? self_pid(tid) : tid;
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

/*
 * A terminal's foreground group and session (mig -h -t: a terminal of
 * the host's, which the job's session leads), in the job's pids, so that
 * a job-control shell finds its own group in the foreground and gives
 * the terminal to its jobs by the pids it knows them by.
 */
pid_t
mig__tcgetpgrp(int fd)
{
	pid_t r;

	MIG_REAL(real_tcgetpgrp, "tcgetpgrp");
	r = real_tcgetpgrp(fd);
	return r <= 0 || !mapped() ? r : home_pgid(r);
}

int
mig__tcsetpgrp(int fd, pid_t pgrp)
{
	MIG_REAL(real_tcsetpgrp, "tcsetpgrp");
	return real_tcsetpgrp(fd, mapped() && pgrp > 0 ? host_pgid(pgrp) :
							  pgrp);
}

pid_t
mig__tcgetsid(int fd)
{
	pid_t r;

	MIG_REAL(real_tcgetsid, "tcgetsid");
	r = real_tcgetsid(fd);
	return r <= 0 || !mapped() ? r : home_sid(r);
}

/* errno is left as the call at home left it, or as it was when that
 * call succeeded (mig__call()). */
int
mig__kill(pid_t pid, int sig)
{
	int done;
	long r;

	MIG_REAL(real_kill, "kill");
	if (!mapped())
		return real_kill(pid, sig);
	if (pid < -1 && pid != INT_MIN && home_group(-pid)) {
		r = forward(MIG_CALL_killpg, -pid, sig, 0, 2, &done);
		if (done)
			return (int)r;
	}
	return real_kill(host_target(pid), sig);
}

int
mig__killpg(pid_t pgrp, int sig)
{
	int done;
	long r;

	MIG_REAL(real_killpg, "killpg");
	if (!mapped() || pgrp <= 0)
		return real_killpg(pgrp, sig);
	if (home_group(pgrp)) {
		r = forward(MIG_CALL_killpg, pgrp, sig, 0, 2, &done);
		if (done)
			return (int)r;
	}
	return real_killpg(host_pgid(pgrp), sig);
}

int
mig__sigqueue(pid_t pid, int sig, const union sigval value)
{
	MIG_REAL(real_sigqueue, "sigqueue");
	if (!mapped() || pid <= 0)
		return real_sigqueue(pid, sig, value);
	return real_sigqueue(host_pid(pid), sig, value);
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

static int waitid_home(idtype_t type, id_t id, siginfo_t *info, int options,
    const long *sys);

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
		r = real_syscall(nr);
		*ret = r < 0 ? r : self_pid((pid_t)r);
		return 1;
	case SYS_gettid:
		*ret = mig__gettid();
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
		*ret = mig__kill((pid_t)a[0], (int)a[1]);
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
	case SYS_wait4:
		*ret = mig__wait4((pid_t)a[0], (int *)a[1], (int)a[2],
		    (struct rusage *)a[3]);
		return 1;
	case SYS_waitid:
		*ret = waitid_home((idtype_t)a[0], (id_t)a[1], (siginfo_t *)a[2],
		    (int)a[3], a);
		return 1;
	}
	return 0;
}

pid_t
mig__pid_started(pid_t host, const char *what)
{
	pid_t home;

	if (!mapped() || host <= 0 || (home = mig__hold(host, what)) <= 0)
		return host;
	kid_add(host, home);
	return home;
}

/* vfork comes here too: the child gets its own memory, which a correct
 * vfork caller cannot tell from a vfork's. */
pid_t mig__forked;

pid_t
mig__fork(void)
{
	pid_t h;

	MIG_REAL(real_fork, "fork");
	h = real_fork();
	if (h == 0)
		mig__forked = (pid_t)syscall(SYS_getpid);
	if (h == 0 && mapped()) {
		/* Not our children; the child has one thread. */
		memset(kids, 0, sizeof(kids));
		__atomic_store_n(&known, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&waited_for, 0, __ATOMIC_RELEASE);
	}
	if (h <= 0)
		return h;
	return mig__pid_started(h, program_invocation_short_name);
}

/* A wait's answer, in home pids; a reaped child leaves our table. */
static pid_t
waited(pid_t r, int status)
{
	pid_t p;

	if (r <= 0)
		return r;
	p = home_pid(r);
	if (WIFEXITED(status) || WIFSIGNALED(status))
		kid_del(r);
	return p;
}

pid_t
mig__wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
	/* The caller's status, so that a bad pointer is the kernel's
	 * EFAULT; ours when there is none, to see how the child ended. */
	int st = 0, *sp = status != NULL ? status : &st, saved;
	pid_t r;

	MIG_REAL(real_wait4, "wait4");
	MIG_REAL(real_waitpid, "waitpid");
	if (!mapped())
		return ru != NULL ? real_wait4(pid, status, options, ru) :
				    real_waitpid(pid, status, options);
	r = ru != NULL ? real_wait4(host_target(pid), sp, options, ru) :
			 real_waitpid(host_target(pid), sp, options);
	saved = errno;
	r = waited(r, r > 0 ? *sp : 0);
	errno = saved;
	return r;
}

/* waitid in home pids: libc's, or with sys (syscall()'s six
 * arguments) the system call, whose fifth takes a struct rusage. */
static int
waitid_home(idtype_t type, id_t id, siginfo_t *info, int options,
    const long *sys)
{
	int r, saved;

	if (type == P_PID && (pid_t)id > 0)
		id = (id_t)host_pid((pid_t)id);
	else if (type == P_PGID && id != 0)
		id = (id_t)host_pgid((pid_t)id);
	r = sys != NULL ? (int)real_syscall(SYS_waitid, (long)type, (long)id,
				(long)info, (long)options, sys[4]) :
			  real_waitid(type, id, info, options);
	saved = errno;
	if (r == 0 && info != NULL && info->si_pid > 0) {
		int gone = info->si_code == CLD_EXITED ||
		    info->si_code == CLD_KILLED || info->si_code == CLD_DUMPED;
		pid_t h = info->si_pid;
		info->si_pid = home_pid(h);
		if (gone && !(options & WNOWAIT))
			kid_del(h);
	}
	errno = saved;
	return r;
}

int
mig__waitid(idtype_t type, id_t id, siginfo_t *info, int options)
{
	MIG_REAL(real_waitid, "waitid");
	if (!mapped())
		return real_waitid(type, id, info, options);
	return waitid_home(type, id, info, options, NULL);
}
