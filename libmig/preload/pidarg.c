/*
 * pidarg.c: the calls that name a process, or a process group, to read
 * or change something of it: its group (setpgid), its priority
 * (getpriority, setpriority), its scheduling (the sched_* family;
 * sched_setattr and sched_getattr through syscall()), its resource
 * limits (prlimit), its I/O priority (ioprio_get and ioprio_set, through
 * syscall() only: libc has no wrapper), its memory (process_vm_readv and
 * process_vm_writev; migrate_pages, move_pages, get_robust_list and kcmp
 * through syscall()), perf_event_open, and the signals only syscall()
 * sends (tkill, rt_sigqueueinfo, rt_tgsigqueueinfo).
 *
 * A placed job names its processes by their home pids (pid.c). Each
 * pid argument becomes the host pid that stands for it, as for kill, a
 * group argument the job's group here when it is the job's home group,
 * and the call runs here, on the process itself. 0 (the caller), -1 and
 * other values below 1 go through as they are, and so does a pid that
 * is none of the job's: it is this host's, as for any program on it,
 * and the kernel answers ESRCH when there is no such process. Nothing
 * goes home: each of the job's home pids stands for a process here (at
 * home a stub or placeholder only holds the number), and a home process
 * outside the job is not the job's to change (docs/security.md). No
 * result carries a pid, so results and errno are the kernel's (a group
 * that a process of the job leads reads as its leader's home pid:
 * getpgid, pid.c).
 */
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "preload.h"

/* <linux/ioprio.h>'s "which" values and <linux/perf_event.h>'s flag,
 * which glibc does not define. */
enum { IOPRIO_WHO_PROCESS = 1, IOPRIO_WHO_PGRP = 2 };
#define PERF_FLAG_PID_CGROUP (1UL << 2)

static int (*real_setpgid)(pid_t, pid_t);
static int (*real_getpriority)(__priority_which_t, id_t);
static int (*real_setpriority)(__priority_which_t, id_t, int);
static int (*real_sched_setaffinity)(pid_t, size_t, const cpu_set_t *);
static int (*real_sched_getaffinity)(pid_t, size_t, cpu_set_t *);
static int (*real_sched_setscheduler)(pid_t, int, const struct sched_param *);
static int (*real_sched_getscheduler)(pid_t);
static int (*real_sched_setparam)(pid_t, const struct sched_param *);
static int (*real_sched_getparam)(pid_t, struct sched_param *);
static int (*real_sched_rr_get_interval)(pid_t, struct timespec *);
static int (*real_prlimit)(pid_t, __rlimit_resource_t, const struct rlimit *,
    struct rlimit *);
static int (*real_prlimit64)(pid_t, __rlimit_resource_t,
    const struct rlimit64 *, struct rlimit64 *);
static ssize_t (*real_process_vm_readv)(pid_t, const struct iovec *,
    unsigned long, const struct iovec *, unsigned long, unsigned long);
static ssize_t (*real_process_vm_writev)(pid_t, const struct iovec *,
    unsigned long, const struct iovec *, unsigned long, unsigned long);
static long (*real_syscall)(long, ...);

void
mig__pidarg_init(void)
{
	MIG_REAL(real_setpgid, "setpgid");
	MIG_REAL(real_getpriority, "getpriority");
	MIG_REAL(real_setpriority, "setpriority");
	MIG_REAL(real_sched_setaffinity, "sched_setaffinity");
	MIG_REAL(real_sched_getaffinity, "sched_getaffinity");
	MIG_REAL(real_sched_setscheduler, "sched_setscheduler");
	MIG_REAL(real_sched_getscheduler, "sched_getscheduler");
	MIG_REAL(real_sched_setparam, "sched_setparam");
	MIG_REAL(real_sched_getparam, "sched_getparam");
	MIG_REAL(real_sched_rr_get_interval, "sched_rr_get_interval");
	MIG_REAL(real_prlimit, "prlimit");
	MIG_REAL(real_prlimit64, "prlimit64");
	MIG_REAL(real_process_vm_readv, "process_vm_readv");
	MIG_REAL(real_process_vm_writev, "process_vm_writev");
	MIG_REAL(real_syscall, "syscall");
}

/* A process, and a process group, as this host names them. */
static inline pid_t
proc(pid_t v)
{
	return v > 0 ? mig__pid_host_of(v) : v;
}

static inline pid_t
group(pid_t v)
{
	return v > 0 ? mig__pgid_host_of(v) : v;
}

/* Job control: a shell puts its child in a group of its own, named by
 * the child's pid (bash with set -m). */
int
mig__setpgid(pid_t pid, pid_t pgid)
{
	MIG_REAL(real_setpgid, "setpgid");
	return real_setpgid(proc(pid), group(pgid));
}

/* getpriority's and setpriority's "who": a process, a group or a user. */
static id_t
prio_who(int which, id_t who)
{
	if (which == PRIO_PROCESS)
		return (id_t)proc((pid_t)who);
	if (which == PRIO_PGRP)
		return (id_t)group((pid_t)who);
	return who;
}

int
mig__getpriority(__priority_which_t which, id_t who)
{
	MIG_REAL(real_getpriority, "getpriority");
	return real_getpriority(which, prio_who(which, who));
}

int
mig__setpriority(__priority_which_t which, id_t who, int prio)
{
	MIG_REAL(real_setpriority, "setpriority");
	return real_setpriority(which, prio_who(which, who), prio);
}

int
mig__sched_setaffinity(pid_t pid, size_t size, const cpu_set_t *set)
{
	MIG_REAL(real_sched_setaffinity, "sched_setaffinity");
	return real_sched_setaffinity(proc(pid), size, set);
}

int
mig__sched_getaffinity(pid_t pid, size_t size, cpu_set_t *set)
{
	MIG_REAL(real_sched_getaffinity, "sched_getaffinity");
	return real_sched_getaffinity(proc(pid), size, set);
}

int
mig__sched_setscheduler(pid_t pid, int policy, const struct sched_param *p)
{
	MIG_REAL(real_sched_setscheduler, "sched_setscheduler");
	return real_sched_setscheduler(proc(pid), policy, p);
}

int
mig__sched_getscheduler(pid_t pid)
{
	MIG_REAL(real_sched_getscheduler, "sched_getscheduler");
	return real_sched_getscheduler(proc(pid));
}

int
mig__sched_setparam(pid_t pid, const struct sched_param *p)
{
	MIG_REAL(real_sched_setparam, "sched_setparam");
	return real_sched_setparam(proc(pid), p);
}

int
mig__sched_getparam(pid_t pid, struct sched_param *p)
{
	MIG_REAL(real_sched_getparam, "sched_getparam");
	return real_sched_getparam(proc(pid), p);
}

int
mig__sched_rr_get_interval(pid_t pid, struct timespec *t)
{
	MIG_REAL(real_sched_rr_get_interval, "sched_rr_get_interval");
	return real_sched_rr_get_interval(proc(pid), t);
}

int
mig__prlimit(pid_t pid, __rlimit_resource_t res, const struct rlimit *new,
    struct rlimit *old)
{
	MIG_REAL(real_prlimit, "prlimit");
	return real_prlimit(proc(pid), res, new, old);
}

int
mig__prlimit64(pid_t pid, __rlimit_resource_t res,
    const struct rlimit64 *new, struct rlimit64 *old)
{
	MIG_REAL(real_prlimit64, "prlimit64");
	return real_prlimit64(proc(pid), res, new, old);
}

ssize_t
mig__process_vm(int writing, pid_t pid, const struct iovec *local,
    unsigned long nlocal, const struct iovec *remote, unsigned long nremote,
    unsigned long flags)
{
	MIG_REAL(real_process_vm_readv, "process_vm_readv");
	MIG_REAL(real_process_vm_writev, "process_vm_writev");
	return (writing ? real_process_vm_writev : real_process_vm_readv)(
	    proc(pid), local, nlocal, remote, nremote, flags);
}

/* syscall()'s argument i as a process or a group here; its other bits
 * stay as the caller gave them unless it is one of the job's. */
static void
arg_proc(long b[6], int i, int grp)
{
	pid_t v = (pid_t)b[i], h = grp ? group(v) : proc(v);

	if (h != v)
		b[i] = h;
}

/* syscall(2) with a number whose arguments name a process: the same
 * call, on the host pids. 0 when nr is none of them. */
int
mig__pidarg_syscall(long nr, const long a[6], long *ret)
{
	long b[6] = { a[0], a[1], a[2], a[3], a[4], a[5] };

	switch (nr) {
	case SYS_setpgid:
		arg_proc(b, 0, 0);
		arg_proc(b, 1, 1);
		break;
	case SYS_getpriority:
	case SYS_setpriority:
		if (a[0] == PRIO_PROCESS || a[0] == PRIO_PGRP)
			arg_proc(b, 1, a[0] == PRIO_PGRP);
		break;
	case SYS_ioprio_get:
	case SYS_ioprio_set:
		if (a[0] == IOPRIO_WHO_PROCESS || a[0] == IOPRIO_WHO_PGRP)
			arg_proc(b, 1, a[0] == IOPRIO_WHO_PGRP);
		break;
	case SYS_sched_setaffinity:
	case SYS_sched_getaffinity:
	case SYS_sched_setscheduler:
	case SYS_sched_getscheduler:
	case SYS_sched_setparam:
	case SYS_sched_getparam:
	case SYS_sched_rr_get_interval:
	case SYS_sched_setattr:
	case SYS_sched_getattr:
	case SYS_prlimit64:
	case SYS_process_vm_readv:
	case SYS_process_vm_writev:
	case SYS_migrate_pages:
	case SYS_move_pages:
	case SYS_get_robust_list:
	case SYS_tkill:
	case SYS_rt_sigqueueinfo:
		arg_proc(b, 0, 0);
		break;
	case SYS_kcmp:
	case SYS_rt_tgsigqueueinfo:
		arg_proc(b, 0, 0);
		arg_proc(b, 1, 0);
		break;
	case SYS_perf_event_open:
		/* With PERF_FLAG_PID_CGROUP the "pid" is a cgroup's fd. */
		if (!(a[4] & PERF_FLAG_PID_CGROUP))
			arg_proc(b, 1, 0);
		break;
	default:
		return 0;
	}
	MIG_REAL(real_syscall, "syscall");
	*ret = real_syscall(nr, b[0], b[1], b[2], b[3], b[4], b[5]);
	return 1;
}
