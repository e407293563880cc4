/*
 * remote.c: libmig.so's entry points of the remote role, and nothing
 * else: in a placed process, its home's pids, clock, hostname and the
 * /proc of home's pids (ident.c, pid.c, pidarg.c, proc.c, time.c,
 * host.c). shim.c has the constructor and the entry points that start
 * programs (exec, posix_spawn, system, popen).
 */
#include <dirent.h>
#include <fcntl.h>
#include <mqueue.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "preload.h"

/*
 * Remote role: the placed process's home identity (ident.c, pid.c,
 * time.c, host.c). Outside remote role, or without a valid identity
 * page, each of these is the real function.
 */
#define EXPORT __attribute__((visibility("default")))

/* pid.c */
EXPORT pid_t getpid(void) { return mig__getpid(); }
EXPORT pid_t getppid(void) { return mig__getppid(); }
EXPORT pid_t gettid(void) { return mig__gettid(); }
EXPORT pid_t getpgrp(void) { return mig__getpgrp(); }
EXPORT pid_t getpgid(pid_t pid) { return mig__getpgid(pid); }
EXPORT pid_t getsid(pid_t pid) { return mig__getsid(pid); }
EXPORT pid_t tcgetpgrp(int fd) { return mig__tcgetpgrp(fd); }
EXPORT int tcsetpgrp(int fd, pid_t pgrp) { return mig__tcsetpgrp(fd, pgrp); }
EXPORT pid_t tcgetsid(int fd) { return mig__tcgetsid(fd); }
EXPORT int kill(pid_t pid, int sig) { return mig__kill(pid, sig); }
EXPORT int killpg(pid_t pgrp, int sig) { return mig__killpg(pgrp, sig); }

EXPORT int
sigqueue(pid_t pid, int sig, const union sigval value)
{
	return mig__sigqueue(pid, sig, value);
}

EXPORT int
tgkill(pid_t tgid, pid_t tid, int sig)
{
	return mig__tgkill(tgid, tid, sig);
}

EXPORT int
pidfd_open(pid_t pid, unsigned int flags)
{
	return mig__pidfd_open(pid, flags);
}

/* Six arguments are read whatever the call takes, as glibc's own
 * syscall() does: the kernel ignores the ones it does not use. */
EXPORT long
syscall(long nr, ...)
{
	long a[6];
	va_list ap;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	return mig__syscall(nr, a);
}

/* pidarg.c */
EXPORT int setpgid(pid_t pid, pid_t pgid) { return mig__setpgid(pid, pgid); }

EXPORT int
getpriority(__priority_which_t which, id_t who)
{
	return mig__getpriority(which, who);
}

EXPORT int
setpriority(__priority_which_t which, id_t who, int prio)
{
	return mig__setpriority(which, who, prio);
}

EXPORT int
sched_setaffinity(pid_t pid, size_t size, const cpu_set_t *set)
{
	return mig__sched_setaffinity(pid, size, set);
}

EXPORT int
sched_getaffinity(pid_t pid, size_t size, cpu_set_t *set)
{
	return mig__sched_getaffinity(pid, size, set);
}

EXPORT int
sched_setscheduler(pid_t pid, int policy, const struct sched_param *p)
{
	return mig__sched_setscheduler(pid, policy, p);
}

EXPORT int sched_getscheduler(pid_t pid) { return mig__sched_getscheduler(pid); }

EXPORT int
sched_setparam(pid_t pid, const struct sched_param *p)
{
	return mig__sched_setparam(pid, p);
}

EXPORT int
sched_getparam(pid_t pid, struct sched_param *p)
{
	return mig__sched_getparam(pid, p);
}

EXPORT int
sched_rr_get_interval(pid_t pid, struct timespec *t)
{
	return mig__sched_rr_get_interval(pid, t);
}

EXPORT int
prlimit(pid_t pid, __rlimit_resource_t res, const struct rlimit *new,
    struct rlimit *old)
{
	return mig__prlimit(pid, res, new, old);
}

EXPORT int
prlimit64(pid_t pid, __rlimit_resource_t res, const struct rlimit64 *new,
    struct rlimit64 *old)
{
	return mig__prlimit64(pid, res, new, old);
}

EXPORT ssize_t
process_vm_readv(pid_t pid, const struct iovec *local, unsigned long nlocal,
    const struct iovec *remote, unsigned long nremote, unsigned long flags)
{
	return mig__process_vm(0, pid, local, nlocal, remote, nremote, flags);
}

EXPORT ssize_t
process_vm_writev(pid_t pid, const struct iovec *local, unsigned long nlocal,
    const struct iovec *remote, unsigned long nremote, unsigned long flags)
{
	return mig__process_vm(1, pid, local, nlocal, remote, nremote, flags);
}

/* time.c: readings */
EXPORT time_t time(time_t *tloc) { return mig__time(tloc); }

EXPORT int
gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	return mig__gettimeofday(tv, tz);
}

EXPORT int
clock_gettime(clockid_t clock, struct timespec *ts)
{
	return mig__clock_gettime(clock, ts);
}

EXPORT int
timespec_get(struct timespec *ts, int base)
{
	return mig__timespec_get(ts, base);
}

/* <sys/timeb.h> and <sys/timex.h> stay out of this file: one deprecates
 * ftime, the other renames ntp_gettime to ntp_gettimex at the source
 * level, and both names must be exported as they are. */
EXPORT int ftime(struct timeb *tb) { return mig__ftime(tb); }

EXPORT int
ntp_gettime(struct ntptimeval *ntv)
{
	return mig__ntp_gettime(ntv);
}

EXPORT int
ntp_gettimex(struct ntptimeval *ntv)
{
	return mig__ntp_gettimex(ntv);
}

/* time.c: absolute deadlines */
EXPORT int
clock_nanosleep(clockid_t clock, int flags, const struct timespec *req,
    struct timespec *rem)
{
	return mig__clock_nanosleep(clock, flags, req, rem);
}

EXPORT int
pthread_cond_timedwait(pthread_cond_t *restrict c, pthread_mutex_t *restrict m,
    const struct timespec *restrict abstime)
{
	return mig__cond_timedwait(c, m, abstime);
}

EXPORT int
pthread_cond_clockwait(pthread_cond_t *restrict c, pthread_mutex_t *restrict m,
    clockid_t clock, const struct timespec *restrict abstime)
{
	return mig__cond_clockwait(c, m, clock, abstime);
}

EXPORT int
pthread_mutex_timedlock(pthread_mutex_t *restrict m,
    const struct timespec *restrict abstime)
{
	return mig__mutex_timedlock(m, abstime);
}

EXPORT int
pthread_mutex_clocklock(pthread_mutex_t *restrict m, clockid_t clock,
    const struct timespec *restrict abstime)
{
	return mig__mutex_clocklock(m, clock, abstime);
}

EXPORT int
pthread_rwlock_timedrdlock(pthread_rwlock_t *restrict l,
    const struct timespec *restrict abstime)
{
	return mig__rwlock_timedlock(l, 0, abstime);
}

EXPORT int
pthread_rwlock_timedwrlock(pthread_rwlock_t *restrict l,
    const struct timespec *restrict abstime)
{
	return mig__rwlock_timedlock(l, 1, abstime);
}

EXPORT int
pthread_rwlock_clockrdlock(pthread_rwlock_t *restrict l, clockid_t clock,
    const struct timespec *restrict abstime)
{
	return mig__rwlock_clocklock(l, 0, clock, abstime);
}

EXPORT int
pthread_rwlock_clockwrlock(pthread_rwlock_t *restrict l, clockid_t clock,
    const struct timespec *restrict abstime)
{
	return mig__rwlock_clocklock(l, 1, clock, abstime);
}

EXPORT int
pthread_timedjoin_np(pthread_t t, void **ret, const struct timespec *abstime)
{
	return mig__timedjoin(t, ret, abstime);
}

EXPORT int
pthread_clockjoin_np(pthread_t t, void **ret, clockid_t clock,
    const struct timespec *abstime)
{
	return mig__clockjoin(t, ret, clock, abstime);
}

EXPORT int
sem_timedwait(sem_t *restrict sem, const struct timespec *restrict abstime)
{
	return mig__sem_timedwait(sem, abstime);
}

EXPORT int
sem_clockwait(sem_t *restrict sem, clockid_t clock,
    const struct timespec *restrict abstime)
{
	return mig__sem_clockwait(sem, clock, abstime);
}

EXPORT int
mq_timedsend(mqd_t q, const char *msg, size_t len, unsigned int prio,
    const struct timespec *abstime)
{
	return mig__mq_timedsend(q, msg, len, prio, abstime);
}

EXPORT ssize_t
mq_timedreceive(mqd_t q, char *restrict msg, size_t len,
    unsigned int *restrict prio, const struct timespec *restrict abstime)
{
	return mig__mq_timedreceive(q, msg, len, prio, abstime);
}

EXPORT int
timerfd_create(clockid_t clock, int flags)
{
	return mig__timerfd_create(clock, flags);
}

EXPORT int
timerfd_settime(int fd, int flags, const struct itimerspec *new,
    struct itimerspec *old)
{
	return mig__timerfd_settime(fd, flags, new, old);
}

EXPORT int
timer_create(clockid_t clock, struct sigevent *restrict sev,
    timer_t *restrict id)
{
	return mig__timer_create(clock, sev, id);
}

EXPORT int
timer_settime(timer_t id, int flags, const struct itimerspec *restrict new,
    struct itimerspec *restrict old)
{
	return mig__timer_settime(id, flags, new, old);
}

EXPORT int timer_delete(timer_t id) { return mig__timer_delete(id); }

/* host.c */
EXPORT int uname(struct utsname *u) { return mig__uname(u); }
EXPORT int isatty(int fd) { return mig__isatty(fd); }

EXPORT int
gethostname(char *name, size_t len)
{
	return mig__gethostname(name, len);
}

EXPORT int
getdomainname(char *name, size_t len)
{
	return mig__getdomainname(name, len);
}

/* The fortified entry points, which <unistd.h> declares only when
 * _FORTIFY_SOURCE is on (and never here, see CMakeLists.txt). */
EXPORT int __gethostname_chk(char *name, size_t len, size_t buflen);
EXPORT int __getdomainname_chk(char *name, size_t len, size_t buflen);

EXPORT int
__gethostname_chk(char *name, size_t len, size_t buflen)
{
	return mig__gethostname_chk(name, len, buflen);
}

EXPORT int
__getdomainname_chk(char *name, size_t len, size_t buflen)
{
	return mig__getdomainname_chk(name, len, buflen);
}

/* Processes a placed job starts get home pids (pid.c). */

__attribute__((visibility("default"))) pid_t
fork(void)
{
	return mig__fork();
}

__attribute__((visibility("default"))) pid_t
vfork(void)
{
	return mig__fork();
}

__attribute__((visibility("default"))) pid_t
wait(int *status)
{
	return mig__wait4(-1, status, 0, NULL);
}

__attribute__((visibility("default"))) pid_t
waitpid(pid_t pid, int *status, int options)
{
	return mig__wait4(pid, status, options, NULL);
}

__attribute__((visibility("default"))) pid_t
wait3(int *status, int options, struct rusage *ru)
{
	return mig__wait4(-1, status, options, ru);
}

__attribute__((visibility("default"))) pid_t
wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
	return mig__wait4(pid, status, options, ru);
}

__attribute__((visibility("default"))) int
waitid(idtype_t type, id_t id, siginfo_t *info, int options)
{
	return mig__waitid(type, id, info, options);
}

/* proc.c: /proc in the job's home pids. The 64 names are the same
 * calls on the 64-bit systems we build for. */
_Static_assert(sizeof(struct stat) == sizeof(struct stat64) &&
    sizeof(struct dirent) == sizeof(struct dirent64) &&
    sizeof(off_t) == sizeof(off64_t), "64-bit file calls only");

/* open's mode, when its flags say there is one. */
#define MODE_FROM_VA(flags, mode)                                      \
	mode_t mode = 0;                                               \
	if (((flags) & O_CREAT) || ((flags) & O_TMPFILE) == O_TMPFILE) { \
		va_list ap_;                                           \
		va_start(ap_, flags);                                  \
		mode = (mode_t)va_arg(ap_, int);                       \
		va_end(ap_);                                           \
	}

EXPORT int
open(const char *path, int flags, ...)
{
	MODE_FROM_VA(flags, mode);
	return mig__openat(AT_FDCWD, path, flags, mode);
}

EXPORT int
open64(const char *path, int flags, ...)
{
	MODE_FROM_VA(flags, mode);
	return mig__openat(AT_FDCWD, path, flags, mode);
}

EXPORT int
openat(int dirfd, const char *path, int flags, ...)
{
	MODE_FROM_VA(flags, mode);
	return mig__openat(dirfd, path, flags, mode);
}

EXPORT int
openat64(int dirfd, const char *path, int flags, ...)
{
	MODE_FROM_VA(flags, mode);
	return mig__openat(dirfd, path, flags, mode);
}

/* The fortified entry points: flags without O_CREAT, no mode. */
EXPORT int __open_2(const char *path, int flags);
EXPORT int __open64_2(const char *path, int flags);
EXPORT int __openat_2(int dirfd, const char *path, int flags);
EXPORT int __openat64_2(int dirfd, const char *path, int flags);

EXPORT int
__open_2(const char *path, int flags)
{
	return mig__openat(AT_FDCWD, path, flags, 0);
}

EXPORT int
__open64_2(const char *path, int flags)
{
	return mig__openat(AT_FDCWD, path, flags, 0);
}

EXPORT int
__openat_2(int dirfd, const char *path, int flags)
{
	return mig__openat(dirfd, path, flags, 0);
}

EXPORT int
__openat64_2(int dirfd, const char *path, int flags)
{
	return mig__openat(dirfd, path, flags, 0);
}

EXPORT FILE *fopen(const char *path, const char *mode) { return mig__fopen(path, mode); }
EXPORT FILE *fopen64(const char *path, const char *mode) { return mig__fopen(path, mode); }

EXPORT int
stat(const char *path, struct stat *st)
{
	return mig__fstatat(AT_FDCWD, path, st, 0);
}

EXPORT int
stat64(const char *path, struct stat64 *st)
{
	return mig__fstatat(AT_FDCWD, path, (struct stat *)st, 0);
}

EXPORT int
lstat(const char *path, struct stat *st)
{
	return mig__fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}

EXPORT int
lstat64(const char *path, struct stat64 *st)
{
	return mig__fstatat(AT_FDCWD, path, (struct stat *)st,
	    AT_SYMLINK_NOFOLLOW);
}

EXPORT int
fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	return mig__fstatat(dirfd, path, st, flags);
}

EXPORT int
fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
	return mig__fstatat(dirfd, path, (struct stat *)st, flags);
}

EXPORT int access(const char *path, int how) { return mig__faccessat(AT_FDCWD, path, how, 0); }
EXPORT int faccessat(int dirfd, const char *path, int how, int flags) { return mig__faccessat(dirfd, path, how, flags); }

EXPORT int
statx(int dirfd, const char *path, int flags, unsigned mask,
    struct statx *st)
{
	return mig__statx(dirfd, path, flags, mask, st);
}

EXPORT ssize_t
readlink(const char *path, char *buf, size_t size)
{
	return mig__readlinkat(AT_FDCWD, path, buf, size);
}

EXPORT ssize_t
readlinkat(int dirfd, const char *path, char *buf, size_t size)
{
	return mig__readlinkat(dirfd, path, buf, size);
}

EXPORT DIR *opendir(const char *path) { return mig__opendir(path); }
EXPORT struct dirent *readdir(DIR *d) { return mig__readdir(d); }
EXPORT struct dirent64 *readdir64(DIR *d) { return (struct dirent64 *)mig__readdir(d); }
EXPORT int closedir(DIR *d) { return mig__closedir(d); }
