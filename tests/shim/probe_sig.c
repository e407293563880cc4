/* probe_sig: signals aimed at the placed process by its home pid and
 * group reach it; errors stay the kernel's. Signals to the group are
 * only ever 0 (run.sh may run us in the test runner's group). */
#include <limits.h>
#include <signal.h>
#include <sys/pidfd.h>
#include <sys/syscall.h>

#include "probe.h"

static volatile sig_atomic_t got, value;

static void
on_usr1(int sig, siginfo_t *si, void *uc)
{
	got++;
	if (si->si_code == SI_QUEUE)
		value = si->si_value.sival_int;
}

/* SIGUSR1 is blocked: a call's signal is pending until we look. */
static const char *
delivered(void)
{
	sigset_t set;

	got = 0;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return got == 1 ? "delivered" : "not-delivered";
}

/* A siginfo as sigqueue() makes one, with value 43. */
static siginfo_t *
queued(siginfo_t *si)
{
	memset(si, 0, sizeof(*si));
	si->si_signo = SIGUSR1;
	si->si_code = SI_QUEUE;
	si->si_pid = getpid();
	si->si_uid = getuid();
	si->si_value.sival_int = 43;
	return si;
}

/* The call first, then whether its signal came. */
#define SIGCALL(key, call)                                             \
	do {                                                           \
		long r_ = (call);                                      \
		const char *s_ = res(r_);                              \
		say(key, "%s %s", s_, delivered());                    \
	} while (0)

int
main(void)
{
	struct sigaction sa = { .sa_sigaction = on_usr1,
		.sa_flags = SA_SIGINFO };
	union sigval v = { .sival_int = 42 };
	siginfo_t si;
	sigset_t set;
	pid_t me, grp;
	int fd;

	ids = real_ids();
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	me = getpid();
	grp = getpgrp();

	say("kill(getpid,0)", "%s", res(kill(me, 0)));
	SIGCALL("kill(getpid,USR1)", kill(me, SIGUSR1));
	say("kill(getpid,999)", "%s", res(kill(me, 999)));
	say("kill(0,0)", "%s", res(kill(0, 0)));
	say("kill(-getpgrp,0)", "%s", res(kill(-grp, 0)));
	say("kill(INT_MIN,0)", "%s", res(kill(INT_MIN, 0)));
	say("kill(bad,0)", "%s", res(kill(999999999, 0)));
	say("kill(-bad,0)", "%s", res(kill(-999999999, 0)));
	say("killpg(getpgrp,0)", "%s", res(killpg(grp, 0)));
	say("killpg(-1,0)", "%s", res(killpg(-1, 0)));
	say("killpg(getpgrp,999)", "%s", res(killpg(grp, 999)));
	SIGCALL("sigqueue(getpid,USR1)", sigqueue(me, SIGUSR1, v));
	say("sigqueue.value", "%d", (int)value);
	say("sigqueue(getpid,999)", "%s", res(sigqueue(me, 999, v)));
	SIGCALL("tgkill(getpid,gettid,USR1)", tgkill(me, gettid(), SIGUSR1));
	say("tgkill(getpid,bad,0)", "%s", res(tgkill(me, 999999999, 0)));
	say("tgkill(getpid,gettid,999)", "%s",
	    res(tgkill(me, gettid(), 999)));
	SIGCALL("syscall(kill,getpid,USR1)", syscall(SYS_kill, me, SIGUSR1));
	say("syscall(kill,-getpgrp,0)", "%s",
	    res(syscall(SYS_kill, -grp, 0)));
	SIGCALL("syscall(tgkill,getpid,gettid,USR1)",
	    syscall(SYS_tgkill, me, gettid(), SIGUSR1));
	SIGCALL("syscall(tkill,gettid,USR1)",
	    syscall(SYS_tkill, gettid(), SIGUSR1));
	say("syscall(tkill,bad,0)", "%s", res(syscall(SYS_tkill, 999999999, 0)));
	SIGCALL("syscall(rt_sigqueueinfo,getpid,USR1)",
	    syscall(SYS_rt_sigqueueinfo, me, SIGUSR1, queued(&si)));
	say("syscall.rt_sigqueueinfo.value", "%d", (int)value);
	SIGCALL("syscall(rt_tgsigqueueinfo,getpid,gettid,USR1)",
	    syscall(SYS_rt_tgsigqueueinfo, me, gettid(), SIGUSR1, queued(&si)));
	say("syscall(rt_tgsigqueueinfo,getpid,bad,0)", "%s",
	    res(syscall(SYS_rt_tgsigqueueinfo, me, 999999999, 0, queued(&si))));
	fd = pidfd_open(me, 0);
	say("pidfd_open(getpid)", "%s", fd >= 0 ? "fd" : res(fd));
	if (fd >= 0) {
		SIGCALL("pidfd_send_signal(USR1)",
		    pidfd_send_signal(fd, SIGUSR1, NULL, 0));
		close(fd);
	}
	fd = (int)syscall(SYS_pidfd_open, me, 0);
	say("syscall(pidfd_open,getpid)", "%s", fd >= 0 ? "fd" : res(fd));
	if (fd >= 0) {
		SIGCALL("syscall.pidfd_send_signal(USR1)",
		    pidfd_send_signal(fd, SIGUSR1, NULL, 0));
		close(fd);
	}
	say("pidfd_open(-1)", "%s", res(pidfd_open(-1, 0)));
	say("pidfd_open(getpid,bad-flags)", "%s", res(pidfd_open(me, 12345)));
	return 0;
}
