/* probe_clock: every wall-clock reading the shim shifts, as its distance
 * from this host's clock (libc's own, not the shim's), rounded to
 * 100 ms; the other clocks stay untouched; errors stay the kernel's. */
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timex.h>

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <sys/timeb.h>

#include "probe.h"

#define NS 1000000000LL

/* home - host, in ms rounded to 100: the host read around the call. */
static long long
delta(long long home_ns, long long before, long long after)
{
	long long host = before + (after - before) / 2;
	long long d = home_ns - host;

	return (d >= 0 ? (d + 50000000) / 100000000 :
			 -((-d + 50000000) / 100000000)) * 100;
}

#define DELTA(key, clock, read)                                        \
	do {                                                           \
		long long b_ = host_ns(clock), v_ = (read),            \
			  a_ = host_ns(clock);                         \
		say(key, "%lld", delta(v_, b_, a_));                   \
	} while (0)

static long long
ts_ns(struct timespec ts)
{
	return ts.tv_sec * NS + ts.tv_nsec;
}

static long long
cg(clockid_t c)
{
	struct timespec ts;

	if (clock_gettime(c, &ts) != 0)
		return -1;
	return ts_ns(ts);
}

static long long
sys_cg(clockid_t c)
{
	struct timespec ts;

	if (syscall(SYS_clock_gettime, c, &ts) != 0)
		return -1;
	return ts_ns(ts);
}

static long long
gtod(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec * NS + tv.tv_usec * 1000LL;
}

static long long
sys_gtod(void)
{
	struct timeval tv;

	syscall(SYS_gettimeofday, &tv, NULL);
	return tv.tv_sec * NS + tv.tv_usec * 1000LL;
}

static long long
tsget(void)
{
	struct timespec ts;

	timespec_get(&ts, TIME_UTC);
	return ts_ns(ts);
}

static long long
ft(void)
{
	struct timeb tb;

	ftime(&tb);
	return tb.time * NS + tb.millitm * 1000000LL;
}

/* ntp_gettime's tv_usec holds ns when the kernel runs with STA_NANO. */
static long long
ntp(int x, int *state)
{
	struct ntptimeval ntv;
	struct timex tx = { 0 };
	long unit;

	*state = x ? ntp_gettimex(&ntv) : ntp_gettime(&ntv);
	adjtimex(&tx);
	unit = (tx.status & STA_NANO) ? 1 : 1000;
	return ntv.time.tv_sec * NS + ntv.time.tv_usec * unit;
}

/* time() against the shim's own coarse clock, which it reads too. */
static const char *
time_agrees(time_t (*read)(void))
{
	for (int i = 0; i < 100; i++) {
		long long b = cg(CLOCK_REALTIME_COARSE) / NS;
		time_t t = read();
		long long a = cg(CLOCK_REALTIME_COARSE) / NS;
		if (a == b)
			return t == b ? "yes" : "no";
	}
	return "unsettled";
}

static time_t
time_null(void)
{
	return time(NULL);
}

static time_t
time_ptr(void)
{
	time_t t = 0, r = time(&t);
	return r == t ? r : -1;
}

static time_t
sys_time(void)
{
	time_t t = 0, r = (time_t)syscall(SYS_time, &t);
	return r == t ? r : -1;
}

int
main(void)
{
	struct timespec ts;
	struct timeval tv;
	int state, statex;

	DELTA("clock_gettime(REALTIME)", CLOCK_REALTIME, cg(CLOCK_REALTIME));
	DELTA("clock_gettime(REALTIME_COARSE)", CLOCK_REALTIME_COARSE,
	    cg(CLOCK_REALTIME_COARSE));
	DELTA("clock_gettime(TAI)", CLOCK_TAI, cg(CLOCK_TAI));
	DELTA("gettimeofday", CLOCK_REALTIME, gtod());
	DELTA("timespec_get(UTC)", CLOCK_REALTIME, tsget());
	DELTA("ftime", CLOCK_REALTIME, ft());
	DELTA("ntp_gettime", CLOCK_REALTIME, ntp(0, &state));
	DELTA("ntp_gettimex", CLOCK_REALTIME, ntp(1, &statex));
	say("ntp_gettime.state", "%d %d", state, statex);
	DELTA("syscall(clock_gettime,REALTIME)", CLOCK_REALTIME,
	    sys_cg(CLOCK_REALTIME));
	DELTA("syscall(clock_gettime,TAI)", CLOCK_TAI, sys_cg(CLOCK_TAI));
	DELTA("syscall(gettimeofday)", CLOCK_REALTIME, sys_gtod());
	say("time(NULL)==coarse", "%s", time_agrees(time_null));
	say("time(&t)==coarse", "%s", time_agrees(time_ptr));
	say("syscall(time)==coarse", "%s", time_agrees(sys_time));
	DELTA("clock_gettime(MONOTONIC)", CLOCK_MONOTONIC,
	    cg(CLOCK_MONOTONIC));
	DELTA("clock_gettime(BOOTTIME)", CLOCK_BOOTTIME, cg(CLOCK_BOOTTIME));
	DELTA("syscall(clock_gettime,MONOTONIC)", CLOCK_MONOTONIC,
	    sys_cg(CLOCK_MONOTONIC));
	say("clock_gettime(REALTIME_ALARM)", "%s",
	    res(clock_gettime(CLOCK_REALTIME_ALARM, &ts)));

	say("clock_gettime(12345)", "%s", res(clock_gettime(12345, &ts)));
	say("clock_gettime(-1)", "%s", res(clock_gettime(-1, &ts)));
	say("syscall(clock_gettime,12345)", "%s",
	    res(syscall(SYS_clock_gettime, 12345, &ts)));
	say("syscall(clock_gettime,REALTIME,bad)", "%s",
	    res(syscall(SYS_clock_gettime, CLOCK_REALTIME, (void *)8)));
	say("syscall(gettimeofday,bad)", "%s",
	    res(syscall(SYS_gettimeofday, (void *)8, NULL)));
	say("syscall(time,bad)", "%s", res(syscall(SYS_time, (void *)8)));
	{
		struct timeval *volatile none = NULL;
		say("gettimeofday(NULL)", "%s", res(gettimeofday(none, NULL)));
		say("syscall(gettimeofday,NULL)", "%s",
		    res(syscall(SYS_gettimeofday, NULL, NULL)));
	}
	say("timespec_get(0)", "%d", timespec_get(&ts, 0));
	say("timespec_get(UTC).ret", "%d", timespec_get(&ts, TIME_UTC));
	errno = 1234;
	clock_gettime(CLOCK_REALTIME, &ts);
	gettimeofday(&tv, NULL);
	time(NULL);
	timespec_get(&ts, TIME_UTC);
	ft();
	ntp(0, &state);
	syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts);
	say("errno-kept", "%d", errno);
	return 0;
}
