/* preload.h: the parts of libmig.so; nothing here is exported. */
#ifndef MIG_PRELOAD_H
#define MIG_PRELOAD_H

#include <limits.h>
#include <stddef.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define MIG_HIDDEN __attribute__((visibility("hidden")))

/* A fixed table is full: msg ("mig: ...\n") goes to stderr, once per
 * flag and process; the caller then does what its table's comment says.
 * Safe in a signal handler and a vfork child. */
static inline void
mig__full_once(int *said, const char *msg)
{
	if (__atomic_exchange_n(said, 1, __ATOMIC_RELAXED) == 0)
		(void)!write(2, msg, strlen(msg));
}

enum { MIG_ROLE_NONE, MIG_ROLE_HOME, MIG_ROLE_REMOTE };

#define MIG_SHIM_MAXVARS 16

/* What the shim learnt at start-up; read-only afterwards. */
struct mig_shim {
	int role;                 /* MIG_ROLE_* */
	char self[PATH_MAX];      /* what children preload: this library,
				   * then the host's (__MIG_PRELOAD) */
	char stub[PATH_MAX];      /* home role: the mig launcher */
	char policy[4096];        /* home role: ':'-separated programs */
	char sock[PATH_MAX];      /* remote role: the host daemon's socket */
	int ident_fd;             /* remote role: the identity page, or -1 */
	unsigned job;             /* remote role: the job, as the daemon names it */
	char *vars[MIG_SHIM_MAXVARS]; /* "__MIG_x=y" to pass on */
	int nvars;
	char store[8192];         /* the strings vars point to */
	size_t used;
};

extern MIG_HIDDEN struct mig_shim mig__shim;

/* env.c */
MIG_HIDDEN void mig__env_init(void);
/* The environment a child gets (see libmig/shimenv.h). */
MIG_HIDDEN ssize_t mig__env_child(char *const envp[], char **out, size_t nout,
    char *buf, size_t nbuf);
/* Takes the shim's variables out of env, in place, and puts the user's
 * LD_PRELOAD back: what the shim does to environ at start-up. */
MIG_HIDDEN void mig__env_strip(char **env);

/* pid.c: starting and waiting for processes, in home pids */
#include <sys/resource.h>
#include <sys/wait.h>
MIG_HIDDEN pid_t mig__fork(void);
/* In a child of mig__fork, its pid: this image was forked, not exec'd
 * (a process it starts by clone, without mig__fork, has another pid). */
extern MIG_HIDDEN pid_t mig__forked;
/* A process this one started (host pid): its home pid, once held. */
MIG_HIDDEN pid_t mig__pid_started(pid_t host, const char *what);
MIG_HIDDEN pid_t mig__wait4(pid_t pid, int *status, int options,
    struct rusage *ru);
MIG_HIDDEN int mig__waitid(idtype_t type, id_t id, siginfo_t *info,
    int options);

/* call.c */
/*
 * Runs a call of calls.def at home: args[0..nargs) in, the result in
 * *ret with errno set as the call at home left it (or -1 with EAGAIN
 * when it was sent but no answer came by the deadline, call.c). Returns
 * 0, or -1 when the call could not be forwarded (the caller then acts
 * here).
 */
MIG_HIDDEN int mig__call(int call, int nargs, const long *args, long *ret);
/* The home pid that now stands for host_pid, a process this job
 * started (what: what it runs), or -1 when none could be had. */
MIG_HIDDEN pid_t mig__hold(pid_t host_pid, const char *what);

/* real.c */
/* The next definition of a symbol after ours: libc's. */
MIG_HIDDEN void *mig__real(const char *name);
#define MIG_REAL(var, name) \
	((var) != NULL ? (var) : ((var) = (__typeof__(var))mig__real(name)))

/* exec.c: the exec family, spawn, system and popen */
#include <spawn.h>
#include <stdio.h>
MIG_HIDDEN void mig__exec_init(void);
MIG_HIDDEN int mig__execve(const char *path, char *const argv[],
    char *const envp[]);
MIG_HIDDEN int mig__execvpe(const char *file, char *const argv[],
    char *const envp[]);
MIG_HIDDEN int mig__execveat(int dirfd, const char *path, char *const argv[],
    char *const envp[], int flags);
MIG_HIDDEN int mig__fexecve(int fd, char *const argv[], char *const envp[]);
MIG_HIDDEN int mig__spawn(pid_t *pid, const char *file,
    const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
    char *const argv[], char *const envp[], int search);
MIG_HIDDEN int mig__system(const char *cmd);
MIG_HIDDEN FILE *mig__popen(const char *cmd, const char *mode);
MIG_HIDDEN int mig__pclose(FILE *f);

/* spawn.c: a placed program's stub forked, not exec'd */
MIG_HIDDEN int mig__fa_init(posix_spawn_file_actions_t *fa);
MIG_HIDDEN int mig__fa_destroy(posix_spawn_file_actions_t *fa);
MIG_HIDDEN int mig__fa_adddup2(posix_spawn_file_actions_t *fa, int fd,
    int newfd);
MIG_HIDDEN int mig__fa_addopen(posix_spawn_file_actions_t *fa, int fd,
    const char *path, int oflag, mode_t mode);
MIG_HIDDEN int mig__fa_addclose(posix_spawn_file_actions_t *fa, int fd);
MIG_HIDDEN int mig__fa_addchdir(posix_spawn_file_actions_t *fa,
    const char *path);
MIG_HIDDEN int mig__fa_addfchdir(posix_spawn_file_actions_t *fa, int fd);
/*
 * Starts the stub of a placed program as a child running the stub's
 * loop, with what fa and attr ask of posix_spawn: av is the exec'd
 * stub's argv ("mig --stub SOCK -- PATH ARG..."), env the environment
 * it would get (mig__env_child's). Returns 0 with the child's pid in
 * *pid, posix_spawn's error, or -1 when it cannot (the caller then execs
 * the stub).
 */
MIG_HIDDEN int mig__spawn_stub(pid_t *pid, const posix_spawn_file_actions_t *fa,
    const posix_spawnattr_t *attr, char **av, char **env);
/* The same for an exec of a placed program by a process with one
 * thread and memory of its own (a child of fork, or of vfork, which the
 * shim makes a fork; a shell's last command): it becomes the stub in
 * place. Returns only when it cannot. */
MIG_HIDDEN void mig__exec_stub(char **av, char **env);

/*
 * ident.c: the identity page (remote role). mig__ident is NULL unless
 * this process runs in remote role with a valid page mapped; every
 * wrapper of pid.c, time.c and host.c is a pure pass-through then.
 */
#include <stdint.h>

#include "mig/ident.h"

/* The fields the daemon writes once, before exec: copied at start-up. */
struct mig_home {
	pid_t pid;                /* at home: the stub's pid */
	pid_t ppid;               /* at home: the stub's parent */
	pid_t pgid;               /* at home: the stub's group */
	pid_t sid;                /* at home: the stub's session */
	pid_t host_pid;           /* the placed process, on this host */
	pid_t job_pgid;           /* its group here, when we started */
	pid_t job_sid;            /* its session here, when we started */
	unsigned stdio_tty;       /* fds 0-2 that are terminals at home */
	uint64_t stdio_dev[3];    /* ... while they are these pipes */
	uint64_t stdio_ino[3];
	char nodename[65];        /* home's, or "" to keep this host's */
	char domainname[65];      /* likewise */
};

extern MIG_HIDDEN const struct mig_ident *mig__ident;
extern MIG_HIDDEN struct mig_home mig__home;

MIG_HIDDEN void mig__ident_init(void);
/* syscall(2) for the numbers the page answers; others go straight on. */
MIG_HIDDEN long mig__syscall(long nr, const long a[6]);

/* Retries of a seqlock read before we give up on it: a writer that died
 * half-way must not hang us (we may be in a signal handler). */
#define MIG_IDENT_TRIES 100000

/* The last offset read whole, what a read that gives up answers. */
extern MIG_HIDDEN int64_t mig__ident_last;

static inline void
mig__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/* Home CLOCK_REALTIME minus ours, read under the seqlock; 0 until the
 * daemon has measured it. */
static inline int64_t
mig__ident_offset(void)
{
	const struct mig_ident *p = mig__ident;
	uint32_t s, flags;
	int64_t off;

	for (long n = 0; n < MIG_IDENT_TRIES; n++) {
		s = __atomic_load_n(&p->seq, __ATOMIC_ACQUIRE);
		if (!(s & 1)) {
			off = __atomic_load_n(&p->offset_ns, __ATOMIC_RELAXED);
			flags = __atomic_load_n(&p->flags, __ATOMIC_RELAXED);
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (__atomic_load_n(&p->seq, __ATOMIC_RELAXED) == s) {
				off = (flags & MIG_IDENT_CLOCK) ? off : 0;
				if (__atomic_load_n(&mig__ident_last,
				    __ATOMIC_RELAXED) != off)
					__atomic_store_n(&mig__ident_last, off,
					    __ATOMIC_RELAXED);
				return off;
			}
		}
		mig__cpu_relax();
	}
	return __atomic_load_n(&mig__ident_last, __ATOMIC_RELAXED);
}

/* pid.c: getpid and friends, and signals to home pids */
#include <signal.h>
MIG_HIDDEN void mig__pid_init(void);
MIG_HIDDEN int mig__pid_syscall(long nr, const long a[6], long *ret);
MIG_HIDDEN pid_t mig__getpid(void);
MIG_HIDDEN pid_t mig__getppid(void);
MIG_HIDDEN pid_t mig__gettid(void);
MIG_HIDDEN pid_t mig__getpgrp(void);
MIG_HIDDEN pid_t mig__getpgid(pid_t pid);
MIG_HIDDEN pid_t mig__getsid(pid_t pid);
MIG_HIDDEN pid_t mig__tcgetpgrp(int fd);
MIG_HIDDEN int mig__tcsetpgrp(int fd, pid_t pgrp);
MIG_HIDDEN pid_t mig__tcgetsid(int fd);
MIG_HIDDEN int mig__kill(pid_t pid, int sig);
MIG_HIDDEN int mig__killpg(pid_t pgrp, int sig);
MIG_HIDDEN int mig__sigqueue(pid_t pid, int sig, const union sigval value);
MIG_HIDDEN int mig__tgkill(pid_t tgid, pid_t tid, int sig);
MIG_HIDDEN int mig__pidfd_open(pid_t pid, unsigned int flags);
/* A job's process on this host under its home pid, and back; any other
 * pid as it is. */
MIG_HIDDEN pid_t mig__pid_home_of(pid_t host);
MIG_HIDDEN pid_t mig__pid_host_of(pid_t home);
/* The same for a process group: the job's home group is its group here. */
MIG_HIDDEN pid_t mig__pgid_host_of(pid_t home);
/* A process's pid, parent, group and session here (ids[0..3]), as the
 * job sees them. */
MIG_HIDDEN void mig__pid_ids_home(pid_t ids[4]);

/* pidarg.c: calls that name a process to read or change it */
#include <sched.h>
#include <sys/uio.h>
MIG_HIDDEN void mig__pidarg_init(void);
MIG_HIDDEN int mig__pidarg_syscall(long nr, const long a[6], long *ret);
MIG_HIDDEN int mig__setpgid(pid_t pid, pid_t pgid);
MIG_HIDDEN int mig__getpriority(__priority_which_t which, id_t who);
MIG_HIDDEN int mig__setpriority(__priority_which_t which, id_t who, int prio);
MIG_HIDDEN int mig__sched_setaffinity(pid_t pid, size_t size,
    const cpu_set_t *set);
MIG_HIDDEN int mig__sched_getaffinity(pid_t pid, size_t size, cpu_set_t *set);
MIG_HIDDEN int mig__sched_setscheduler(pid_t pid, int policy,
    const struct sched_param *p);
MIG_HIDDEN int mig__sched_getscheduler(pid_t pid);
MIG_HIDDEN int mig__sched_setparam(pid_t pid, const struct sched_param *p);
MIG_HIDDEN int mig__sched_getparam(pid_t pid, struct sched_param *p);
MIG_HIDDEN int mig__sched_rr_get_interval(pid_t pid, struct timespec *t);
MIG_HIDDEN int mig__prlimit(pid_t pid, __rlimit_resource_t res,
    const struct rlimit *new, struct rlimit *old);
MIG_HIDDEN int mig__prlimit64(pid_t pid, __rlimit_resource_t res,
    const struct rlimit64 *new, struct rlimit64 *old);
/* process_vm_readv, or with writing process_vm_writev */
MIG_HIDDEN ssize_t mig__process_vm(int writing, pid_t pid,
    const struct iovec *local, unsigned long nlocal,
    const struct iovec *remote, unsigned long nremote, unsigned long flags);

/* proc.c: /proc paths and listings in the job's home pids */
#include <dirent.h>
#include <sys/stat.h>
MIG_HIDDEN void mig__proc_init(void);
MIG_HIDDEN int mig__openat(int dirfd, const char *path, int flags,
    mode_t mode);
MIG_HIDDEN FILE *mig__fopen(const char *path, const char *mode);
MIG_HIDDEN int mig__fstatat(int dirfd, const char *path, struct stat *st,
    int flags);
MIG_HIDDEN int mig__faccessat(int dirfd, const char *path, int how,
    int flags);
MIG_HIDDEN int mig__statx(int dirfd, const char *path, int flags,
    unsigned mask, struct statx *st);
MIG_HIDDEN ssize_t mig__readlinkat(int dirfd, const char *path, char *out,
    size_t size);
MIG_HIDDEN DIR *mig__opendir(const char *path);
MIG_HIDDEN struct dirent *mig__readdir(DIR *d);
MIG_HIDDEN int mig__closedir(DIR *d);

/* time.c: the home wall clock, and deadlines on it */
#include <mqueue.h>
#include <pthread.h>
#include <semaphore.h>
#include <sys/time.h>
#include <time.h>
struct timeb;
struct ntptimeval;
MIG_HIDDEN void mig__time_init(void);
MIG_HIDDEN int mig__time_syscall(long nr, const long a[6], long *ret);
MIG_HIDDEN time_t mig__time(time_t *tloc);
MIG_HIDDEN int mig__gettimeofday(struct timeval *tv, void *tz);
MIG_HIDDEN int mig__clock_gettime(clockid_t clock, struct timespec *ts);
MIG_HIDDEN int mig__timespec_get(struct timespec *ts, int base);
MIG_HIDDEN int mig__ftime(struct timeb *tb);
MIG_HIDDEN int mig__ntp_gettime(struct ntptimeval *ntv);
MIG_HIDDEN int mig__ntp_gettimex(struct ntptimeval *ntv);
MIG_HIDDEN int mig__clock_nanosleep(clockid_t clock, int flags,
    const struct timespec *req, struct timespec *rem);
MIG_HIDDEN int mig__cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
    const struct timespec *abstime);
MIG_HIDDEN int mig__cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m,
    clockid_t clock, const struct timespec *abstime);
MIG_HIDDEN int mig__mutex_timedlock(pthread_mutex_t *m,
    const struct timespec *abstime);
MIG_HIDDEN int mig__mutex_clocklock(pthread_mutex_t *m, clockid_t clock,
    const struct timespec *abstime);
MIG_HIDDEN int mig__rwlock_timedlock(pthread_rwlock_t *l, int wr,
    const struct timespec *abstime);
MIG_HIDDEN int mig__rwlock_clocklock(pthread_rwlock_t *l, int wr,
    clockid_t clock, const struct timespec *abstime);
MIG_HIDDEN int mig__timedjoin(pthread_t t, void **ret,
    const struct timespec *abstime);
MIG_HIDDEN int mig__clockjoin(pthread_t t, void **ret, clockid_t clock,
    const struct timespec *abstime);
MIG_HIDDEN int mig__sem_timedwait(sem_t *sem, const struct timespec *abstime);
MIG_HIDDEN int mig__sem_clockwait(sem_t *sem, clockid_t clock,
    const struct timespec *abstime);
MIG_HIDDEN int mig__mq_timedsend(mqd_t q, const char *msg, size_t len,
    unsigned int prio, const struct timespec *abstime);
MIG_HIDDEN ssize_t mig__mq_timedreceive(mqd_t q, char *msg, size_t len,
    unsigned int *prio, const struct timespec *abstime);
MIG_HIDDEN int mig__timerfd_create(clockid_t clock, int flags);
MIG_HIDDEN int mig__timerfd_settime(int fd, int flags,
    const struct itimerspec *new, struct itimerspec *old);
MIG_HIDDEN int mig__timer_create(clockid_t clock, struct sigevent *sev,
    timer_t *id);
MIG_HIDDEN int mig__timer_settime(timer_t id, int flags,
    const struct itimerspec *new, struct itimerspec *old);
MIG_HIDDEN int mig__timer_delete(timer_t id);

/* host.c: the home host's names */
struct utsname;
MIG_HIDDEN void mig__host_init(void);
MIG_HIDDEN int mig__host_syscall(long nr, const long a[6], long *ret);
MIG_HIDDEN int mig__uname(struct utsname *u);
MIG_HIDDEN int mig__gethostname(char *name, size_t len);
MIG_HIDDEN int mig__getdomainname(char *name, size_t len);
MIG_HIDDEN int mig__gethostname_chk(char *name, size_t len, size_t buflen);
MIG_HIDDEN int mig__isatty(int fd);
MIG_HIDDEN int mig__getdomainname_chk(char *name, size_t len, size_t buflen);

#endif
