/*
 * time.c: the home wall clock. The page holds offset_ns, home
 * CLOCK_REALTIME minus ours, which the host daemon keeps current; a
 * reading of a realtime clock is the real reading (the vDSO one, no
 * system call) plus the offset, read under the seqlock. Monotonic,
 * boot-time and CPU clocks are this host's and stay untouched.
 *
 * A deadline on a realtime clock, which the program computed from the
 * home clock, is turned back into one on ours (minus the offset) when it
 * is handed to the kernel or to a libc wait: clock_nanosleep, the
 * pthread and semaphore timed waits, message queues, POSIX timers and
 * timerfds armed with an absolute time. The offset is the one current
 * at the call: if the daemon corrects it during the wait, the wait does
 * not follow. Relative timeouts need nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/timeb.h>
#include <sys/timerfd.h>
#include <sys/timex.h>
#include <unistd.h>

#include "preload.h"

#define NS 1000000000LL
#define TIME_T_MAX \
	((time_t)((1ULL << (sizeof(time_t) * CHAR_BIT - 1)) - 1))

static int (*real_clock_gettime)(clockid_t, struct timespec *);
static time_t (*real_time)(time_t *);
static int (*real_gettimeofday)(struct timeval *, void *);
static int (*real_timespec_get)(struct timespec *, int);
static int (*real_ftime)(struct timeb *);
static int (*real_ntp_gettime)(struct ntptimeval *);
static int (*real_ntp_gettimex)(struct ntptimeval *);
static int (*real_clock_nanosleep)(clockid_t, int, const struct timespec *,
    struct timespec *);
static int (*real_cond_timedwait)(pthread_cond_t *, pthread_mutex_t *,
    const struct timespec *);
static int (*real_cond_clockwait)(pthread_cond_t *, pthread_mutex_t *,
    clockid_t, const struct timespec *);
static int (*real_mutex_timedlock)(pthread_mutex_t *, const struct timespec *);
static int (*real_mutex_clocklock)(pthread_mutex_t *, clockid_t,
    const struct timespec *);
static int (*real_rwlock_timedrdlock)(pthread_rwlock_t *,
    const struct timespec *);
static int (*real_rwlock_timedwrlock)(pthread_rwlock_t *,
    const struct timespec *);
static int (*real_rwlock_clockrdlock)(pthread_rwlock_t *, clockid_t,
    const struct timespec *);
static int (*real_rwlock_clockwrlock)(pthread_rwlock_t *, clockid_t,
    const struct timespec *);
static int (*real_timedjoin)(pthread_t, void **, const struct timespec *);
static int (*real_clockjoin)(pthread_t, void **, clockid_t,
    const struct timespec *);
static int (*real_sem_timedwait)(sem_t *, const struct timespec *);
static int (*real_sem_clockwait)(sem_t *, clockid_t, const struct timespec *);
static int (*real_mq_timedsend)(mqd_t, const char *, size_t, unsigned int,
    const struct timespec *);
static ssize_t (*real_mq_timedreceive)(mqd_t, char *, size_t, unsigned int *,
    const struct timespec *);
static int (*real_timerfd_create)(clockid_t, int);
static int (*real_timerfd_settime)(int, int, const struct itimerspec *,
    struct itimerspec *);
static int (*real_timer_create)(clockid_t, struct sigevent *, timer_t *);
static int (*real_timer_settime)(timer_t, int, const struct itimerspec *,
    struct itimerspec *);
static int (*real_timer_delete)(timer_t);
static long (*real_syscall)(long, ...);

void
mig__time_init(void)
{
	MIG_REAL(real_clock_gettime, "clock_gettime");
	MIG_REAL(real_time, "time");
	MIG_REAL(real_gettimeofday, "gettimeofday");
	MIG_REAL(real_timespec_get, "timespec_get");
	MIG_REAL(real_ftime, "ftime");
	MIG_REAL(real_ntp_gettime, "ntp_gettime");
	MIG_REAL(real_ntp_gettimex, "ntp_gettimex");
	MIG_REAL(real_clock_nanosleep, "clock_nanosleep");
	MIG_REAL(real_cond_timedwait, "pthread_cond_timedwait");
	MIG_REAL(real_cond_clockwait, "pthread_cond_clockwait");
	MIG_REAL(real_mutex_timedlock, "pthread_mutex_timedlock");
	MIG_REAL(real_mutex_clocklock, "pthread_mutex_clocklock");
	MIG_REAL(real_rwlock_timedrdlock, "pthread_rwlock_timedrdlock");
	MIG_REAL(real_rwlock_timedwrlock, "pthread_rwlock_timedwrlock");
	MIG_REAL(real_rwlock_clockrdlock, "pthread_rwlock_clockrdlock");
	MIG_REAL(real_rwlock_clockwrlock, "pthread_rwlock_clockwrlock");
	MIG_REAL(real_timedjoin, "pthread_timedjoin_np");
	MIG_REAL(real_clockjoin, "pthread_clockjoin_np");
	MIG_REAL(real_sem_timedwait, "sem_timedwait");
	MIG_REAL(real_sem_clockwait, "sem_clockwait");
	MIG_REAL(real_mq_timedsend, "mq_timedsend");
	MIG_REAL(real_mq_timedreceive, "mq_timedreceive");
	MIG_REAL(real_timerfd_create, "timerfd_create");
	MIG_REAL(real_timerfd_settime, "timerfd_settime");
	MIG_REAL(real_timer_create, "timer_create");
	MIG_REAL(real_timer_settime, "timer_settime");
	MIG_REAL(real_timer_delete, "timer_delete");
	MIG_REAL(real_syscall, "syscall");
}

/* Clocks that read the wall clock, and those a deadline may be on. */
static int
wall_clock(clockid_t c)
{
	return c == CLOCK_REALTIME || c == CLOCK_REALTIME_COARSE ||
	    c == CLOCK_TAI || c == CLOCK_REALTIME_ALARM;
}

static int
wall_deadline(clockid_t c)
{
	return c == CLOCK_REALTIME || c == CLOCK_TAI ||
	    c == CLOCK_REALTIME_ALARM;
}

/* The offset to add to a reading: 0 when we pass through. */
static inline int64_t
offset(void)
{
	return mig__ident != NULL ? mig__ident_offset() : 0;
}

/* ts + off, for a ts with tv_nsec in [0, NS). */
static inline void
add(struct timespec *ts, int64_t off)
{
	ts->tv_sec += off / NS;
	ts->tv_nsec += off % NS;
	if (ts->tv_nsec >= NS) {
		ts->tv_nsec -= NS;
		ts->tv_sec++;
	} else if (ts->tv_nsec < 0) {
		ts->tv_nsec += NS;
		ts->tv_sec--;
	}
}

int
mig__clock_gettime(clockid_t clock, struct timespec *ts)
{
	int64_t off;
	int r;

	MIG_REAL(real_clock_gettime, "clock_gettime");
	r = real_clock_gettime(clock, ts);
	if (r == 0 && wall_clock(clock) && (off = offset()) != 0)
		add(ts, off);
	return r;
}

/* time() reads whole seconds, as cheaply as it can: from the real time()
 * when the offset is whole seconds too, else from the coarse clock that
 * time() reads as well. */
time_t
mig__time(time_t *tloc)
{
	struct timespec ts;
	int64_t off;
	time_t t;

	MIG_REAL(real_time, "time");
	MIG_REAL(real_clock_gettime, "clock_gettime");
	if ((off = offset()) == 0)
		return real_time(tloc);
	if (off % NS == 0) {
		t = real_time(NULL) + off / NS;
	} else {
		real_clock_gettime(CLOCK_REALTIME_COARSE, &ts);
		add(&ts, off);
		t = ts.tv_sec;
	}
	if (tloc != NULL)
		*tloc = t;
	return t;
}

static void
add_tv(struct timeval *tv, int64_t off)
{
	struct timespec ts = { tv->tv_sec, tv->tv_usec * 1000 };

	add(&ts, off);
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
}

int
mig__gettimeofday(struct timeval *tv, void *tz)
{
	int64_t off;
	int r;

	MIG_REAL(real_gettimeofday, "gettimeofday");
	r = real_gettimeofday(tv, tz);
	if (r == 0 && tv != NULL && (off = offset()) != 0)
		add_tv(tv, off);
	return r;
}

int
mig__timespec_get(struct timespec *ts, int base)
{
	int64_t off;
	int r;

	MIG_REAL(real_timespec_get, "timespec_get");
	r = real_timespec_get(ts, base);
	if (r == TIME_UTC && base == TIME_UTC && (off = offset()) != 0)
		add(ts, off);
	return r;
}

int
mig__ftime(struct timeb *tb)
{
	struct timespec ts;
	int64_t off;
	int r;

	MIG_REAL(real_ftime, "ftime");
	r = real_ftime(tb);
	if (r == 0 && (off = offset()) != 0) {
		ts.tv_sec = tb->time;
		ts.tv_nsec = tb->millitm * 1000000L;
		add(&ts, off);
		tb->time = ts.tv_sec;
		tb->millitm = (unsigned short)(ts.tv_nsec / 1000000);
	}
	return r;
}

/*
 * ntp_gettime() hands on the kernel's adjtimex time, whose tv_usec holds
 * nanoseconds when the kernel runs with STA_NANO: one more adjtimex,
 * only when there is an offset to add, tells which. (It is a system
 * call already; this path is not a fast one.)
 */
static void
add_ntv(struct ntptimeval *ntv, int64_t off)
{
	struct timex tx;
	struct timespec ts;
	long unit = 1000;
	int saved = errno;

	memset(&tx, 0, sizeof(tx));
	if (adjtimex(&tx) != -1 && (tx.status & STA_NANO))
		unit = 1;
	errno = saved;
	ts.tv_sec = ntv->time.tv_sec;
	ts.tv_nsec = ntv->time.tv_usec * unit;
	if (ts.tv_nsec < 0 || ts.tv_nsec >= NS)
		return;
	add(&ts, off);
	ntv->time.tv_sec = ts.tv_sec;
	ntv->time.tv_usec = ts.tv_nsec / unit;
}

int
mig__ntp_gettime(struct ntptimeval *ntv)
{
	int64_t off;
	int r;

	MIG_REAL(real_ntp_gettime, "ntp_gettime");
	r = real_ntp_gettime(ntv);
	if (r != -1 && (off = offset()) != 0)
		add_ntv(ntv, off);
	return r;
}

int
mig__ntp_gettimex(struct ntptimeval *ntv)
{
	int64_t off;
	int r;

	MIG_REAL(real_ntp_gettimex, "ntp_gettimex");
	r = real_ntp_gettimex(ntv);
	if (r != -1 && (off = offset()) != 0)
		add_ntv(ntv, off);
	return r;
}

/*
 * A home deadline as one on our clock, into buf; the caller's own when
 * there is nothing to do. A timespec the call would refuse (tv_nsec out
 * of range, a negative tv_sec) is handed on as it is, so the error stays
 * the real one. A deadline the shift makes negative is in the past
 * either way: it becomes 0, or 1 ns for timers (keep_armed), where 0
 * would disarm.
 */
static const struct timespec *
host_deadline(const struct timespec *home, struct timespec *buf,
    int keep_armed)
{
	int64_t off;
	time_t s;

	if (home == NULL || home->tv_sec < 0 || home->tv_nsec < 0 ||
	    home->tv_nsec >= NS || (off = offset()) == 0)
		return home;
	/* Only a negative offset can overflow (tv_sec >= 0): saturate. */
	if (__builtin_sub_overflow(home->tv_sec, (time_t)(off / NS), &s)) {
		buf->tv_sec = TIME_T_MAX;
		buf->tv_nsec = NS - 1;
	} else {
		buf->tv_sec = s;
		buf->tv_nsec = home->tv_nsec - off % NS;
		if (buf->tv_nsec >= NS) {
			buf->tv_nsec -= NS;
			if (buf->tv_sec < TIME_T_MAX)
				buf->tv_sec++;
			else
				buf->tv_nsec = NS - 1;
		} else if (buf->tv_nsec < 0) {
			buf->tv_nsec += NS;
			buf->tv_sec--;
		}
	}
	if (buf->tv_sec < 0)
		buf->tv_sec = buf->tv_nsec = 0;
	if (keep_armed && buf->tv_sec == 0 && buf->tv_nsec == 0)
		buf->tv_nsec = 1;
	return buf;
}

int
mig__clock_nanosleep(clockid_t clock, int flags, const struct timespec *req,
    struct timespec *rem)
{
	struct timespec buf;

	MIG_REAL(real_clock_nanosleep, "clock_nanosleep");
	if ((flags & TIMER_ABSTIME) && wall_deadline(clock))
		req = host_deadline(req, &buf, 0);
	return real_clock_nanosleep(clock, flags, req, rem);
}

/*
 * A condition variable's clock is set once, by pthread_cond_init, and
 * glibc (2.25 and later) keeps it in bit 1 of __wrefs: set for
 * CLOCK_MONOTONIC (nptl's __PTHREAD_COND_CLOCK_MONOTONIC_MASK). We read
 * it as pthread_cond_timedwait itself does, so a condvar on the
 * monotonic clock keeps its deadline.
 */
#define COND_CLOCK_MONOTONIC 2u

int
mig__cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
    const struct timespec *abstime)
{
	struct timespec buf;

	MIG_REAL(real_cond_timedwait, "pthread_cond_timedwait");
	if (mig__ident != NULL && !(__atomic_load_n(&c->__data.__wrefs,
	    __ATOMIC_RELAXED) & COND_CLOCK_MONOTONIC))
		abstime = host_deadline(abstime, &buf, 0);
	return real_cond_timedwait(c, m, abstime);
}

int
mig__cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clock,
    const struct timespec *abstime)
{
	struct timespec buf;

	MIG_REAL(real_cond_clockwait, "pthread_cond_clockwait");
	if (wall_deadline(clock))
		abstime = host_deadline(abstime, &buf, 0);
	return real_cond_clockwait(c, m, clock, abstime);
}

int
mig__mutex_timedlock(pthread_mutex_t *m, const struct timespec *abstime)
{
	struct timespec buf;

	MIG_REAL(real_mutex_timedlock, "pthread_mutex_timedlock");
	return real_mutex_timedlock(m, host_deadline(abstime, &buf, 0));
}

int
mig__mutex_clocklock(pthread_mutex_t *m, clockid_t clock,
    const struct timespec *abstime)
{
	struct timespec buf;

	MIG_REAL(real_mutex_clocklock, "pthread_mutex_clocklock");
	if (wall_deadline(clock))
		abstime = host_deadline(abstime, &buf, 0);
	return real_mutex_clocklock(m, clock, abstime);
}

int
mig__rwlock_timedlock(pthread_rwlock_t *l, int wr,
    const struct timespec *abstime)
{
	struct timespec buf;

	MIG_REAL(real_rwlock_timedrdlock, "pthread_rwlock_timedrdlock");
	MIG_REAL(real_rwlock_timedwrlock, "pthread_rwlock_timedwrlock");
	abstime = host_deadline(abstime, &buf, 0);
	return wr ? real_rwlock_timedwrlock(l, abstime) :
		    real_rwlock_timedrdlock(l, abstime);
}

int
mig__rwlock_clocklock(pthread_rwlock_t *l, int wr, clockid_t clock,
    const struct timespec *abstime)
{
	struct timespec buf;

	MIG_REAL(real_rwlock_clockrdlock, "pthread_rwlock_clockrdlock");
	MIG_REAL(real_rwlock_clockwrlock, "pthread_rwlock_clockwrlock");
	if (wall_deadline(clock))
		abstime = host_deadline(abstime, &buf, 0);
	return wr ? real_rwlock_clockwrlock(l, clock, abstime) :
		    real_rwlock_clockrdlock(l, clock, abstime);
}

int
mig__timedjoin(pthread_t t, void **ret, const struct timespec *abstime)
{
	struct timespec buf;

	MIG_REAL(real_timedjoin, "pthread_timedjoin_np");
	return real_timedjoin(t, ret, host_deadline(abstime, &buf, 0));
}

int
mig__clockjoin(pthread_t t, void **ret, clockid_t clock,
    const struct timespec *abstime)
{
	struct timespec buf;

	MIG_REAL(real_clockjoin, "pthread_clockjoin_np");
	if (wall_deadline(clock))
		abstime = host_deadline(abstime, &buf, 0);
	return real_clockjoin(t, ret, clock, abstime);
}

int
mig__sem_timedwait(sem_t *sem, const struct timespec *abstime)
{
	struct timespec buf;

	MIG_REAL(real_sem_timedwait, "sem_timedwait");
	return real_sem_timedwait(sem, host_deadline(abstime, &buf, 0));
}

int
mig__sem_clockwait(sem_t *sem, clockid_t clock, const struct timespec *abstime)
{
	struct timespec buf;

	MIG_REAL(real_sem_clockwait, "sem_clockwait");
	if (wall_deadline(clock))
		abstime = host_deadline(abstime, &buf, 0);
	return real_sem_clockwait(sem, clock, abstime);
}

int
mig__mq_timedsend(mqd_t q, const char *msg, size_t len, unsigned int prio,
    const struct timespec *abstime)
{
	struct timespec buf;

	MIG_REAL(real_mq_timedsend, "mq_timedsend");
	return real_mq_timedsend(q, msg, len, prio,
	    host_deadline(abstime, &buf, 0));
}

ssize_t
mig__mq_timedreceive(mqd_t q, char *msg, size_t len, unsigned int *prio,
    const struct timespec *abstime)
{
	struct timespec buf;

	MIG_REAL(real_mq_timedreceive, "mq_timedreceive");
	return real_mq_timedreceive(q, msg, len, prio,
	    host_deadline(abstime, &buf, 0));
}

/* An absolute it_value on a wall clock, moved to ours; it_interval is a
 * length and stays. A zero it_value disarms and stays zero. */
static const struct itimerspec *
host_timer(const struct itimerspec *home, struct itimerspec *buf)
{
	const struct timespec *v;

	if (home == NULL ||
	    (home->it_value.tv_sec == 0 && home->it_value.tv_nsec == 0))
		return home;
	v = host_deadline(&home->it_value, &buf->it_value, 1);
	if (v == &home->it_value)
		return home;
	buf->it_interval = home->it_interval;
	return buf;
}

/*
 * timerfds: the clock each one was made on. timerfd_create records it
 * in a small table (no heap, no lock: one byte per descriptor); a
 * descriptor it never saw (inherited, duplicated, made by a raw system
 * call, or beyond the table) is looked up in /proc/self/fdinfo. An
 * entry outlives its descriptor: a number reused by dup() of a timerfd
 * on another clock reads wrong until timerfd_create reuses it.
 */
#define TFD_MAX 1024
enum { TFD_UNKNOWN, TFD_WALL, TFD_OTHER };
static unsigned char tfd_clock[TFD_MAX];

int
mig__timerfd_create(clockid_t clock, int flags)
{
	int fd;

	MIG_REAL(real_timerfd_create, "timerfd_create");
	fd = real_timerfd_create(clock, flags);
	if (fd >= 0 && fd < TFD_MAX)
		__atomic_store_n(&tfd_clock[fd],
		    wall_deadline(clock) ? TFD_WALL : TFD_OTHER,
		    __ATOMIC_RELAXED);
	return fd;
}

/* "clockid: N" out of /proc/self/fdinfo/FD, without stdio or the heap. */
static int
fdinfo_wall(int fd)
{
	char path[40] = "/proc/self/fdinfo/", digits[12], buf[512], *p;
	int n = 0, f, saved = errno;
	ssize_t len;
	size_t at = strlen(path);

	do
		digits[n++] = (char)('0' + fd % 10);
	while ((fd /= 10) > 0);
	while (n > 0)
		path[at++] = digits[--n];
	path[at] = '\0';
	if ((f = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		errno = saved;
		return 0;
	}
	len = read(f, buf, sizeof(buf) - 1);
	close(f);
	errno = saved;
	if (len <= 0)
		return 0;
	buf[len] = '\0';
	if ((p = strstr(buf, "\nclockid:")) == NULL)
		return 0;
	p += 9;
	while (*p == ' ' || *p == '\t')
		p++;
	return wall_deadline((clockid_t)strtol(p, NULL, 10));
}

static int
tfd_wall(int fd)
{
	int c = fd >= 0 && fd < TFD_MAX ?
	    __atomic_load_n(&tfd_clock[fd], __ATOMIC_RELAXED) : TFD_UNKNOWN;

	return c == TFD_UNKNOWN ? fdinfo_wall(fd) : c == TFD_WALL;
}

int
mig__timerfd_settime(int fd, int flags, const struct itimerspec *new,
    struct itimerspec *old)
{
	struct itimerspec buf;

	MIG_REAL(real_timerfd_settime, "timerfd_settime");
	if (mig__ident != NULL && (flags & TFD_TIMER_ABSTIME) &&
	    offset() != 0 && tfd_wall(fd))
		new = host_timer(new, &buf);
	return real_timerfd_settime(fd, flags, new, old);
}

/*
 * POSIX timers on a wall clock, by id: a small table filled by
 * timer_create and emptied by timer_delete, claimed slot by slot with
 * compare-and-swap. When it is full, a timer's absolute deadlines stay
 * unshifted.
 */
#define TIMERS_MAX 64
enum { SLOT_FREE, SLOT_CLAIMED, SLOT_WALL };
static struct {
	int state;
	timer_t id;
} timers[TIMERS_MAX];

int
mig__timer_create(clockid_t clock, struct sigevent *sev, timer_t *id)
{
	int r, expect;

	MIG_REAL(real_timer_create, "timer_create");
	r = real_timer_create(clock, sev, id);
	if (r != 0 || mig__ident == NULL || !wall_deadline(clock))
		return r;
	for (int i = 0; i < TIMERS_MAX; i++) {
		expect = SLOT_FREE;
		if (__atomic_compare_exchange_n(&timers[i].state, &expect,
		    SLOT_CLAIMED, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			timers[i].id = *id;
			__atomic_store_n(&timers[i].state, SLOT_WALL,
			    __ATOMIC_RELEASE);
			break;
		}
	}
	return r;
}

static int
timer_slot(timer_t id)
{
	for (int i = 0; i < TIMERS_MAX; i++)
		if (__atomic_load_n(&timers[i].state, __ATOMIC_ACQUIRE) ==
		    SLOT_WALL && timers[i].id == id)
			return i;
	return -1;
}

int
mig__timer_settime(timer_t id, int flags, const struct itimerspec *new,
    struct itimerspec *old)
{
	struct itimerspec buf;

	MIG_REAL(real_timer_settime, "timer_settime");
	if (mig__ident != NULL && (flags & TIMER_ABSTIME) &&
	    timer_slot(id) >= 0)
		new = host_timer(new, &buf);
	return real_timer_settime(id, flags, new, old);
}

int
mig__timer_delete(timer_t id)
{
	int r, i;

	MIG_REAL(real_timer_delete, "timer_delete");
	r = real_timer_delete(id);
	if (r == 0 && mig__ident != NULL && (i = timer_slot(id)) >= 0)
		__atomic_store_n(&timers[i].state, SLOT_FREE, __ATOMIC_RELEASE);
	return r;
}

/* syscall(2) with one of our numbers: the kernel's answer, shifted. */
int
mig__time_syscall(long nr, const long a[6], long *ret)
{
	struct timespec *ts;
	struct timeval *tv;
	int64_t off;
	long r;

	MIG_REAL(real_syscall, "syscall");
	switch (nr) {
	case SYS_clock_gettime:
		r = real_syscall(nr, a[0], a[1]);
		ts = (struct timespec *)a[1];
		if (r == 0 && wall_clock((clockid_t)a[0]) &&
		    (off = offset()) != 0)
			add(ts, off);
		*ret = r;
		return 1;
	case SYS_gettimeofday:
		r = real_syscall(nr, a[0], a[1]);
		tv = (struct timeval *)a[0];
		if (r == 0 && tv != NULL && (off = offset()) != 0)
			add_tv(tv, off);
		*ret = r;
		return 1;
#ifdef SYS_time
	case SYS_time:
		/* The kernel's time(2) fails only on a bad tloc: let it
		 * say so, then put the home time where it wrote ours. */
		if ((r = real_syscall(nr, a[0])) != -1 && offset() != 0) {
			r = mig__time(NULL);
			if (a[0] != 0)
				*(time_t *)a[0] = (time_t)r;
		}
		*ret = r;
		return 1;
#endif
	}
	return 0;
}
