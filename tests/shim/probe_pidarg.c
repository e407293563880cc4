/* probe_pidarg: the calls that name a process to read or change it
 * (priority, scheduling, limits, I/O priority, memory, kcmp, and waits
 * through syscall()), given the pids the program sees: its own, 0, its
 * group, a child's, and pids that name nothing. Each must act on the
 * process named, with the kernel's results and errors. Changes are only
 * ever made to the probe and its child: run.sh may run it in the test
 * runner's process group, which it only reads. */
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "probe.h"

/* <linux/ioprio.h> and <linux/kcmp.h>, which glibc does not wrap. */
#define WHO_PROCESS 1
#define WHO_PGRP 2
#define IOPRIO_BE_4 ((2 << 13) | 4)
#define KCMP_VM 1

/* The kernel's struct sched_attr (SCHED_ATTR_SIZE_VER1). */
struct attr {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
	uint32_t util_min, util_max;
};

static volatile long cell = 1;
static int base; /* the nice value the probe started with */

/* A nice value, relative to the one we started with. */
static const char *
nice_of(long r)
{
	static char b[64];

	if (r == -1 && errno != 0)
		return res(r);
	snprintf(b, sizeof(b), "base%+ld", r - base);
	return b;
}

/* getpriority, which may return -1 as a nice value. */
static long
prio(int which, id_t who)
{
	errno = 0;
	return getpriority(which, who);
}

/* Every call on the process called WHO, at pid t. */
static void
on(const char *who, pid_t t, int delta)
{
	char key[128];
	cpu_set_t set;
	struct sched_param sp = { 0 };
	struct timespec ts;
	struct rlimit rl = { 0, 0 };
	struct rlimit64 rl64 = { 0, 0 };
	struct attr at;
	long r, v = 0, put;
	struct iovec mine = { &v, sizeof(v) };
	struct iovec theirs = { (void *)&cell, sizeof(cell) };

#define K(call) (snprintf(key, sizeof(key), call "(%s)", who), key)
	say(K("setpriority"), "%s",
	    res(setpriority(PRIO_PROCESS, (id_t)t, base + delta)));
	say(K("getpriority"), "%s", nice_of(prio(PRIO_PROCESS, (id_t)t)));
	r = syscall(SYS_getpriority, PRIO_PROCESS, t);
	say(K("syscall.getpriority"), "%s", r > 0 ? nice_of(20 - r) : res(r));
	say(K("syscall.setpriority"), "%s",
	    res(syscall(SYS_setpriority, PRIO_PROCESS, t, base + delta)));
	CPU_ZERO(&set);
	r = sched_getaffinity(t, sizeof(set), &set);
	say(K("sched_getaffinity"), "%s cpus %d", res(r), CPU_COUNT(&set));
	say(K("sched_setaffinity"), "%s",
	    res(r == 0 ? sched_setaffinity(t, sizeof(set), &set) : -1));
	say(K("syscall.sched_getaffinity"), "%s",
	    res(syscall(SYS_sched_getaffinity, t, sizeof(set), &set)));
	say(K("sched_getscheduler"), "%s", res(sched_getscheduler(t)));
	r = sched_getparam(t, &sp);
	say(K("sched_getparam"), "%s prio %d", res(r), sp.sched_priority);
	sp.sched_priority = 0;
	say(K("sched_setscheduler"), "%s",
	    res(sched_setscheduler(t, SCHED_OTHER, &sp)));
	say(K("sched_setparam"), "%s", res(sched_setparam(t, &sp)));
	say(K("sched_rr_get_interval"), "%s",
	    res(sched_rr_get_interval(t, &ts)));
	memset(&at, 0, sizeof(at));
	r = syscall(SYS_sched_getattr, t, &at, sizeof(at), 0);
	say(K("syscall.sched_getattr"), "%s policy %u nice %s", res(r),
	    at.policy, r == 0 ? nice_of(at.nice) : "-");
	say(K("syscall.sched_setattr"), "%s",
	    res(r == 0 ? syscall(SYS_sched_setattr, t, &at, 0) : -1));
	r = prlimit(t, RLIMIT_NOFILE, NULL, &rl);
	say(K("prlimit.get"), "%s %llu", res(r), (unsigned long long)rl.rlim_cur);
	say(K("prlimit.set"), "%s", res(r == 0 ?
	    prlimit(t, RLIMIT_NOFILE, &rl, NULL) : -1));
	r = prlimit64(t, RLIMIT_NOFILE, NULL, &rl64);
	say(K("prlimit64.get"), "%s %llu", res(r),
	    (unsigned long long)rl64.rlim_cur);
	say(K("syscall.prlimit64"), "%s",
	    res(syscall(SYS_prlimit64, t, RLIMIT_NOFILE, NULL, &rl64)));
	put = syscall(SYS_ioprio_set, WHO_PROCESS, t, IOPRIO_BE_4 + delta);
	say(K("syscall.ioprio_set"), "%s", res(put));
	r = syscall(SYS_ioprio_get, WHO_PROCESS, t);
	say(K("syscall.ioprio_get"), "%s", r < 0 ? res(r) :
	    r == IOPRIO_BE_4 + delta ? "as-set" : "other");
	r = process_vm_readv(t, &mine, 1, &theirs, 1, 0);
	say(K("process_vm_readv"), "%s cell %ld", res(r), v);
	v = 100 + delta;
	say(K("process_vm_writev"), "%s",
	    res(process_vm_writev(t, &mine, 1, &theirs, 1, 0)));
	v = 0;
	r = syscall(SYS_process_vm_readv, t, &mine, 1, &theirs, 1, 0);
	say(K("syscall.process_vm_readv"), "%s cell %ld", res(r), v);
	r = syscall(SYS_kcmp, getpid(), t, KCMP_VM, 0, 0);
	say(K("syscall.kcmp-VM"), "%s",
	    r == 0 ? "same" : r > 0 ? "differs" : res(r));
#undef K
}

int
main(void)
{
	int pipefd[2], status;
	siginfo_t si;
	struct attr at;
	pid_t me, child;
	char c;
	long r;

	ids = real_ids();
	base = (int)prio(PRIO_PROCESS, 0);
	me = getpid();
	if (pipe(pipefd) != 0)
		return 1;
	fflush(stdout);
	/* The child waits for its end: it only ever reads its pipe. */
	if ((child = fork()) == 0) {
		close(pipefd[1]);
		(void)!read(pipefd[0], &c, 1);
		_exit(7);
	}
	close(pipefd[0]);

	on("getpid", me, 1);
	on("0", 0, 2);
	on("child", child, 3);
	/* What each of them is left with: not one another's. */
	say("getpriority(getpid) after", "%s",
	    nice_of(prio(PRIO_PROCESS, (id_t)me)));
	say("getpriority(child) after", "%s",
	    nice_of(prio(PRIO_PROCESS, (id_t)child)));
	say("cell here", "%ld", (long)cell);

	/* Job control: the child leads a group named by its pid, and goes
	 * back to ours. */
	say("setpgid(child,child)", "%s", res(setpgid(child, child)));
	say("getpgid(child)==child", "%s", getpgid(child) == child ? "yes" : "no");
	say("kill(-child,0)", "%s", res(kill(-child, 0)));
	say("syscall.setpgid(child,getpgrp)", "%s",
	    res(syscall(SYS_setpgid, child, getpgrp())));
	say("getpgid(child)==getpgrp", "%s",
	    getpgid(child) == getpgrp() ? "yes" : "no");
	say("setpgid(bad,0)", "%s", res(setpgid(999999999, 0)));

	/* Groups, read only: the probe's, with the child in it. */
	r = prio(PRIO_PGRP, (id_t)getpgrp());
	say("getpriority(PGRP,getpgrp)", "%s", r == -1 && errno ? res(r) : "ok");
	say("syscall.ioprio_get(PGRP,getpgrp)", "%s",
	    res(syscall(SYS_ioprio_get, WHO_PGRP, getpgrp()) < 0 ? -1 : 0));

	/* Pids that name nothing, and bad ones: the kernel's errors. */
	say("getpriority(bad)", "%s", nice_of(prio(PRIO_PROCESS, 999999999)));
	say("setpriority(bad)", "%s",
	    res(setpriority(PRIO_PROCESS, 999999999, base)));
	say("sched_getscheduler(bad)", "%s", res(sched_getscheduler(999999999)));
	say("sched_getscheduler(-5)", "%s", res(sched_getscheduler(-5)));
	say("prlimit(bad)", "%s",
	    res(prlimit(999999999, RLIMIT_NOFILE, NULL, NULL)));
	say("syscall.ioprio_get(bad)", "%s",
	    res(syscall(SYS_ioprio_get, WHO_PROCESS, 999999999)));
	say("syscall.ioprio_get(bad-which)", "%s",
	    res(syscall(SYS_ioprio_get, 77, me)));
	say("syscall.sched_getattr(bad)", "%s",
	    res(syscall(SYS_sched_getattr, 999999999, &at, sizeof(at), 0)));

	/* syscall() stays exact: errno kept on success, the kernel's
	 * answer for numbers it does not know. */
	errno = 1234;
	(void)getpriority(PRIO_PROCESS, (id_t)me);
	(void)syscall(SYS_ioprio_get, WHO_PROCESS, me);
	(void)syscall(SYS_getuid);
	say("errno-kept", "%d", errno);
	say("syscall(getuid)==getuid", "%s",
	    syscall(SYS_getuid) == (long)getuid() ? "yes" : "no");
	say("syscall(100000)", "%s", res(syscall(100000, 1, 2, 3, 4, 5, 6)));
	say("syscall(write,bad-fd)", "%s", res(syscall(SYS_write, -1, "", 0)));

	/* Waits by pid through syscall(): the child's own pid back. */
	close(pipefd[1]);
	memset(&si, 0, sizeof(si));
	r = syscall(SYS_waitid, P_PID, child, &si, WEXITED, NULL);
	say("syscall.waitid(P_PID,child)", "%s pid %s status %d", res(r),
	    si.si_pid == child ? "child" : pidname(si.si_pid), si.si_status);
	fflush(stdout);
	if ((child = fork()) == 0)
		_exit(9);
	r = syscall(SYS_wait4, child, &status, 0, NULL);
	say("syscall.wait4(child)", "%s status %d",
	    r == child ? "child" : res(r), WEXITSTATUS(status));
	fflush(stdout);
	/* A status the caller cannot take is the kernel's EFAULT. */
	if ((child = fork()) == 0)
		_exit(5);
	say("syscall.wait4(child,bad-status)", "%s",
	    res(syscall(SYS_wait4, child, (int *)8, 0, NULL)));
	return 0;
}
