/*
 * probe_deadline: absolute deadlines on the (home) wall clock. Each call
 * runs once with a deadline a second in the past, which must time out at
 * once (unshifted under a +1 h offset it would hang until the test's
 * timeout), and once 100 ms ahead, which must not time out before at
 * least 50 ms have passed on the monotonic clock (unshifted under a -1 h
 * offset it would time out at once). Calls on the monotonic clock must
 * keep their deadline. Only lower bounds on waits are checked: the
 * kernel guarantees them.
 */
#include <fcntl.h>
#include <mqueue.h>
#include <pthread.h>
#include <semaphore.h>

#include "probe.h"

#define MS 1000000LL

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t wheld = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t cm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t cv_mono;
static sem_t sem, ready;
static pthread_t holder;
static int quit[2];
static mqd_t mq = (mqd_t)-1;

/* Holds held and wheld until told to quit, and is the thread the join
 * calls wait for. */
static void *
hold(void *arg)
{
	char c;

	pthread_mutex_lock(&held);
	pthread_rwlock_wrlock(&wheld);
	sem_post(&ready);
	while (read(quit[0], &c, 1) == -1 && errno == EINTR)
		;
	pthread_rwlock_unlock(&wheld);
	pthread_mutex_unlock(&held);
	return NULL;
}

static struct timespec
at(clockid_t c, long long from_now)
{
	struct timespec ts;
	long long ns;

	clock_gettime(c, &ts);
	ns = ts.tv_sec * 1000000000LL + ts.tv_nsec + from_now;
	ts.tv_sec = ns / 1000000000LL;
	ts.tv_nsec = ns % 1000000000LL;
	return ts;
}

/* Each returns an error number, as the pthread calls do. */
typedef int (*waiter)(const struct timespec *);

static int
w_nanosleep_rt(const struct timespec *t)
{
	return clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, t, NULL);
}

static int
w_nanosleep_tai(const struct timespec *t)
{
	return clock_nanosleep(CLOCK_TAI, TIMER_ABSTIME, t, NULL);
}

static int
w_nanosleep_mono(const struct timespec *t)
{
	return clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, t, NULL);
}

static int
w_cond(const struct timespec *t)
{
	int r;

	pthread_mutex_lock(&cm);
	r = pthread_cond_timedwait(&cv, &cm, t);
	pthread_mutex_unlock(&cm);
	return r;
}

static int
w_cond_mono(const struct timespec *t)
{
	int r;

	pthread_mutex_lock(&cm);
	r = pthread_cond_timedwait(&cv_mono, &cm, t);
	pthread_mutex_unlock(&cm);
	return r;
}

static int
w_cond_clock_rt(const struct timespec *t)
{
	int r;

	pthread_mutex_lock(&cm);
	r = pthread_cond_clockwait(&cv, &cm, CLOCK_REALTIME, t);
	pthread_mutex_unlock(&cm);
	return r;
}

static int
w_cond_clock_mono(const struct timespec *t)
{
	int r;

	pthread_mutex_lock(&cm);
	r = pthread_cond_clockwait(&cv, &cm, CLOCK_MONOTONIC, t);
	pthread_mutex_unlock(&cm);
	return r;
}

static int
w_sem(const struct timespec *t)
{
	return sem_timedwait(&sem, t) == 0 ? 0 : errno;
}

static int
w_sem_clock_rt(const struct timespec *t)
{
	return sem_clockwait(&sem, CLOCK_REALTIME, t) == 0 ? 0 : errno;
}

static int
w_sem_clock_mono(const struct timespec *t)
{
	return sem_clockwait(&sem, CLOCK_MONOTONIC, t) == 0 ? 0 : errno;
}

static int
w_mutex(const struct timespec *t)
{
	return pthread_mutex_timedlock(&held, t);
}

static int
w_mutex_clock_rt(const struct timespec *t)
{
	return pthread_mutex_clocklock(&held, CLOCK_REALTIME, t);
}

static int
w_rdlock(const struct timespec *t)
{
	return pthread_rwlock_timedrdlock(&wheld, t);
}

static int
w_wrlock(const struct timespec *t)
{
	return pthread_rwlock_timedwrlock(&wheld, t);
}

static int
w_rdlock_clock_rt(const struct timespec *t)
{
	return pthread_rwlock_clockrdlock(&wheld, CLOCK_REALTIME, t);
}

static int
w_wrlock_clock_rt(const struct timespec *t)
{
	return pthread_rwlock_clockwrlock(&wheld, CLOCK_REALTIME, t);
}

static int
w_join(const struct timespec *t)
{
	return pthread_timedjoin_np(holder, NULL, t);
}

static int
w_join_clock_rt(const struct timespec *t)
{
	return pthread_clockjoin_np(holder, NULL, CLOCK_REALTIME, t);
}

static int
w_mq(const struct timespec *t)
{
	char buf[64];

	return mq_timedreceive(mq, buf, sizeof(buf), NULL, t) == -1 ? errno : 0;
}

static void
probe(const char *name, waiter w, clockid_t c)
{
	struct timespec t;
	long long start;
	char key[80];
	int r;

	t = at(c, -1000 * MS);
	snprintf(key, sizeof(key), "%s.past", name);
	say(key, "%s", err(w(&t)));

	t = at(c, 100 * MS);
	start = host_ns(CLOCK_MONOTONIC);
	r = w(&t);
	snprintf(key, sizeof(key), "%s.future", name);
	say(key, "%s %s", err(r),
	    host_ns(CLOCK_MONOTONIC) - start >= 50 * MS ? "waited" : "early");
}

int
main(void)
{
	struct mq_attr attr = { .mq_maxmsg = 1, .mq_msgsize = 64 };
	pthread_condattr_t ca;
	struct timespec t;
	char name[64];

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cv_mono, &ca);
	sem_init(&sem, 0, 0);
	sem_init(&ready, 0, 0);
	if (pipe(quit) != 0)
		return 99;
	pthread_create(&holder, NULL, hold, NULL);
	sem_wait(&ready);

	probe("clock_nanosleep(REALTIME)", w_nanosleep_rt, CLOCK_REALTIME);
	probe("clock_nanosleep(TAI)", w_nanosleep_tai, CLOCK_TAI);
	probe("clock_nanosleep(MONOTONIC)", w_nanosleep_mono, CLOCK_MONOTONIC);
	probe("pthread_cond_timedwait", w_cond, CLOCK_REALTIME);
	probe("pthread_cond_timedwait(monotonic-cond)", w_cond_mono,
	    CLOCK_MONOTONIC);
	probe("pthread_cond_clockwait(REALTIME)", w_cond_clock_rt,
	    CLOCK_REALTIME);
	probe("pthread_cond_clockwait(MONOTONIC)", w_cond_clock_mono,
	    CLOCK_MONOTONIC);
	probe("sem_timedwait", w_sem, CLOCK_REALTIME);
	probe("sem_clockwait(REALTIME)", w_sem_clock_rt, CLOCK_REALTIME);
	probe("sem_clockwait(MONOTONIC)", w_sem_clock_mono, CLOCK_MONOTONIC);
	probe("pthread_mutex_timedlock", w_mutex, CLOCK_REALTIME);
	probe("pthread_mutex_clocklock(REALTIME)", w_mutex_clock_rt,
	    CLOCK_REALTIME);
	probe("pthread_rwlock_timedrdlock", w_rdlock, CLOCK_REALTIME);
	probe("pthread_rwlock_timedwrlock", w_wrlock, CLOCK_REALTIME);
	probe("pthread_rwlock_clockrdlock(REALTIME)", w_rdlock_clock_rt,
	    CLOCK_REALTIME);
	probe("pthread_rwlock_clockwrlock(REALTIME)", w_wrlock_clock_rt,
	    CLOCK_REALTIME);
	probe("pthread_timedjoin_np", w_join, CLOCK_REALTIME);
	probe("pthread_clockjoin_np(REALTIME)", w_join_clock_rt,
	    CLOCK_REALTIME);
	snprintf(name, sizeof(name), "/mig-probe-%ld", (long)getpid());
	mq = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
	if (mq != (mqd_t)-1) {
		mq_unlink(name);
		probe("mq_timedreceive", w_mq, CLOCK_REALTIME);
		mq_close(mq);
	} else {
		say("mq_timedreceive", "unavailable");
	}

	/* What the call refuses stays refused; what is long past stays
	 * past, however far the shift takes it. */
	t.tv_sec = 0;
	t.tv_nsec = 2000000000;
	say("clock_nanosleep(bad-nsec)", "%s",
	    err(clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &t, NULL)));
	say("pthread_cond_timedwait(bad-nsec)", "%s", err(w_cond(&t)));
	say("sem_timedwait(bad-nsec)", "%s", err(w_sem(&t)));
	t.tv_sec = -1;
	t.tv_nsec = 0;
	say("clock_nanosleep(negative)", "%s",
	    err(clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &t, NULL)));
	say("pthread_mutex_timedlock(negative)", "%s", err(w_mutex(&t)));
	say("sem_timedwait(negative)", "%s", err(w_sem(&t)));
	t.tv_sec = 1;
	say("clock_nanosleep(1970)", "%s",
	    err(clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &t, NULL)));
	say("sem_timedwait(1970)", "%s", err(w_sem(&t)));
	say("pthread_cond_timedwait(1970)", "%s", err(w_cond(&t)));
	sem_post(&sem);
	t.tv_nsec = -1;
	say("sem_timedwait(posted,bad-nsec)", "%s", err(w_sem(&t)));

	if (write(quit[1], "q", 1) != 1)
		return 99;
	pthread_join(holder, NULL);
	return 0;
}
