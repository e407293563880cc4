/*
 * probe_timer: timerfds and POSIX timers armed with an absolute time on
 * the (home) wall clock. Armed 100 ms ahead, the time left must be in
 * (0, 200 ms]; armed in the past, the timer must have fired; armed with
 * zero, it must stay disarmed. Nothing here waits.
 */
#include <signal.h>
#include <sys/resource.h>
#include <sys/timerfd.h>

#include "probe.h"

#define MS 1000000LL

static struct itimerspec
at(clockid_t c, long long from_now)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };
	long long ns;

	clock_gettime(c, &its.it_value);
	ns = its.it_value.tv_sec * 1000000000LL + its.it_value.tv_nsec +
	    from_now;
	its.it_value.tv_sec = ns / 1000000000LL;
	its.it_value.tv_nsec = ns % 1000000000LL;
	return its;
}

static const char *
left(const struct itimerspec *cur)
{
	long long ns = cur->it_value.tv_sec * 1000000000LL +
	    cur->it_value.tv_nsec;

	if (ns == 0)
		return "disarmed-or-fired";
	return ns <= 200 * MS ? "armed-soon" : "armed-late";
}

/* A timerfd at fd: armed ahead, in the past, in 1970 and with zero. */
static void
timerfd(const char *name, int fd, clockid_t c)
{
	struct itimerspec its, cur;
	unsigned long long n;
	char key[96];

	its = at(c, 100 * MS);
	snprintf(key, sizeof(key), "%s.ahead", name);
	say(key, "%s", res(timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL)));
	timerfd_gettime(fd, &cur);
	snprintf(key, sizeof(key), "%s.ahead.left", name);
	say(key, "%s", left(&cur));

	its = at(c, -1000 * MS);
	timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL);
	snprintf(key, sizeof(key), "%s.past.read", name);
	say(key, "%s", read(fd, &n, sizeof(n)) == sizeof(n) ? "fired" :
							     res(-1));

	its.it_value.tv_sec = 1;
	its.it_value.tv_nsec = 0;
	timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL);
	snprintf(key, sizeof(key), "%s.1970.read", name);
	say(key, "%s", read(fd, &n, sizeof(n)) == sizeof(n) ? "fired" :
							     res(-1));

	its.it_value.tv_sec = 0;
	its.it_value.tv_nsec = 0;
	timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL);
	timerfd_gettime(fd, &cur);
	snprintf(key, sizeof(key), "%s.zero", name);
	say(key, "%s %s", left(&cur), read(fd, &n, sizeof(n)) == sizeof(n) ?
	    "fired" : res(-1));
}

static void
posix_timer(const char *name, clockid_t c)
{
	struct sigevent sev = { .sigev_notify = SIGEV_NONE };
	struct itimerspec its, cur;
	char key[96];
	timer_t id;

	if (timer_create(c, &sev, &id) != 0) {
		say(name, "%s", res(-1));
		return;
	}
	its = at(c, 100 * MS);
	snprintf(key, sizeof(key), "%s.ahead", name);
	say(key, "%s", res(timer_settime(id, TIMER_ABSTIME, &its, NULL)));
	timer_gettime(id, &cur);
	snprintf(key, sizeof(key), "%s.ahead.left", name);
	say(key, "%s", left(&cur));
	its = at(c, -1000 * MS);
	timer_settime(id, TIMER_ABSTIME, &its, NULL);
	timer_gettime(id, &cur);
	snprintf(key, sizeof(key), "%s.past.left", name);
	say(key, "%s", left(&cur));
	its.it_value.tv_sec = 1;
	its.it_value.tv_nsec = 0;
	timer_settime(id, TIMER_ABSTIME, &its, NULL);
	timer_gettime(id, &cur);
	snprintf(key, sizeof(key), "%s.1970.left", name);
	say(key, "%s", left(&cur));
	/* A relative time is a length: never shifted. */
	its = at(c, 0);
	its.it_value.tv_sec = 0;
	its.it_value.tv_nsec = 100 * MS;
	timer_settime(id, 0, &its, NULL);
	timer_gettime(id, &cur);
	snprintf(key, sizeof(key), "%s.relative.left", name);
	say(key, "%s", left(&cur));
	snprintf(key, sizeof(key), "%s.delete", name);
	say(key, "%s", res(timer_delete(id)));
}

int
main(void)
{
	struct itimerspec its = { { 0, 0 }, { 0, 1 } };
	struct rlimit rl;
	int rt, mono, fd;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 3001 &&
	    rl.rlim_max > 3001) {
		rl.rlim_cur = 3001;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	rt = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
	mono = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	timerfd("timerfd(REALTIME)", rt, CLOCK_REALTIME);
	timerfd("timerfd(MONOTONIC)", mono, CLOCK_MONOTONIC);
	/* Descriptors timerfd_create never returned: a dup, and one past
	 * the shim's table. */
	fd = dup(rt);
	timerfd("timerfd(REALTIME,dup)", fd, CLOCK_REALTIME);
	close(fd);
	fd = dup(mono);
	timerfd("timerfd(MONOTONIC,dup)", fd, CLOCK_MONOTONIC);
	close(fd);
	if (dup2(rt, 3000) == 3000) {
		timerfd("timerfd(REALTIME,3000)", 3000, CLOCK_REALTIME);
		close(3000);
	}
	say("timerfd_settime(bad-fd)", "%s",
	    res(timerfd_settime(999, TFD_TIMER_ABSTIME, &its, NULL)));
	its.it_value.tv_nsec = 2000000000;
	say("timerfd_settime(bad-nsec)", "%s",
	    res(timerfd_settime(rt, TFD_TIMER_ABSTIME, &its, NULL)));
	say("timerfd_create(bad-clock)", "%s",
	    res(timerfd_create(12345, 0)));

	posix_timer("timer(REALTIME)", CLOCK_REALTIME);
	posix_timer("timer(MONOTONIC)", CLOCK_MONOTONIC);
	posix_timer("timer(TAI)", CLOCK_TAI);
	return 0;
}
