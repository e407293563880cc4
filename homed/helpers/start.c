/*
 * start.c: a host job's subreaper and leader, from the subreaper's start
 * to the job's exec (start.h); reap.c does the waiting after it. libc
 * only: it runs in mig-reaper, and in a fork of mig-homed where
 * mig-reaper is missing.
 *
 * The leader is a vfork of the subreaper: it borrows the subreaper's
 * memory until its exec, and in mig-reaper that is a few pages. Within
 * the leader, the order matters: first its own session, so that the
 * daemon can signal its group from the moment it reads the pid; then its
 * priority, while nothing of the job runs yet; its view before its
 * chdir, as the cwd is home's.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mig/ident.h>
#include <mig/mig.h>

#include "core.h"
#include "lower.h"
#include "reap.h"
#include "start.h"

extern char **environ;

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

/* The report's stages: the errno of what failed comes with it. */
enum {
	STAGE_CHDIR = 0,
	STAGE_EXEC = 1,
	STAGE_VIEW = 2,
	STAGE_LOWER = 4,
};

static void __attribute__((noreturn))
fail(int report, int stage, int e)
{
	int32_t why[2] = { stage, e };

	(void)!write(report, why, sizeof(why));
	_exit(stage == STAGE_EXEC ? MIG_EXIT_NOTFOUND : MIG_EXIT_FAILURE);
}

/*
 * Below the host's owner, as its hosts file line says. Where the kernel
 * groups the CPU by session (autogroups), the owner's terminal and the
 * job are two groups of equal weight, whatever SCHED_IDLE does within
 * the job's: "idle" puts the job's group at nice 19 too, and waits for
 * the kernel to take it, so that no job ever runs beside the owner.
 * None of it needs a privilege: it only lowers the job. Our /proc files
 * are ours, as mig-reaper was exec'd (not so in a fork of a daemon that
 * is not dumpable, where mig-reaper is missing). 0, or the errno of a
 * job that could not be lowered in time (it must not run). Any other
 * refusal (an LSM's, no autogroup file, those /proc files) is for good:
 * the job runs at SCHED_IDLE alone.
 */
static int
lower(const struct mig_start *s)
{
	int r = 0;

	/* The group first, while it still weighs as much as the owner's:
	 * its wait goes faster. */
	if (s->prio == MIG_PRIO_IDLE && s->autogroups &&
	    (r = mig__autogroup_lower()) != EAGAIN)
		r = 0;
	if (s->prio == MIG_PRIO_IDLE)
		mig__set_sched(SCHED_IDLE);
	else if (s->prio == MIG_PRIO_LOW)
		setpriority(PRIO_PROCESS, 0, 19);
	return r;
}

static void
limits(const struct mig_start *s)
{
	for (uint32_t i = 0; i < s->nrlimit && i < MIG_JOB_NRLIMIT; i++) {
		struct rlimit rl = { (rlim_t)s->rlimit[i].cur,
			(rlim_t)s->rlimit[i].max };
		struct rlimit now;

		/* A limit this host cannot grant stays at its maximum. */
		if (setrlimit((int)s->rlimit[i].resource, &rl) == 0 ||
		    getrlimit((int)s->rlimit[i].resource, &now) != 0)
			continue;
		if (rl.rlim_cur > now.rlim_max)
			rl.rlim_cur = now.rlim_max;
		rl.rlim_max = now.rlim_max;
		setrlimit((int)s->rlimit[i].resource, &rl);
	}
}

static void __attribute__((noreturn))
leader(const struct mig_start *s, char **argv, char **envp,
    struct mig_ident *ident)
{
	int32_t me = (int32_t)getpid();
	int homeless = 0, tty = (s->flags & MIG_JOB_TTY) != 0, report, e;

	setsid();
	(void)!write(START_FD_REPORT, &me, sizeof(me));
	umask((mode_t)s->umask & 0777);
	/* As at home: its nice value (a host lets us lower priority only)
	 * and a policy anyone may choose. */
	setpriority(PRIO_PROCESS, 0, s->nice);
	if (s->sched == SCHED_BATCH || s->sched == SCHED_IDLE)
		mig__set_sched((int)s->sched);
	if ((e = lower(s)) != 0)
		fail(START_FD_REPORT, STAGE_LOWER, e);
	limits(s);
	if (s->has_view && (setns(START_FD_USERNS, CLONE_NEWUSER) == -1 ||
	    setns(START_FD_MNTNS, CLONE_NEWNS) == -1 || chroot(s->root) == -1))
		fail(START_FD_REPORT, STAGE_VIEW, errno);
	/* An ssh job (mig-rsh) whose home folder is missing here starts
	 * in / and says so on its stderr, as sshd does. */
	if (chdir(s->cwd) == -1) {
		homeless = errno;
		if (!(s->flags & MIG_JOB_SSH) || chdir("/") == -1)
			fail(START_FD_REPORT, STAGE_CHDIR, homeless);
	}
	/* Out of the way first, so no dup2 below can land on it. */
	if ((report = fcntl(START_FD_REPORT, F_DUPFD_CLOEXEC,
	    MIG_IDENT_FDNO + 1)) == -1)
		_exit(MIG_EXIT_FAILURE);
	/* On a terminal: it becomes our controlling one, and stderr goes
	 * there too, as on a terminal at home. */
	if ((tty && ioctl(START_FD_STDIN, TIOCSCTTY, 0) == -1) ||
	    dup2(START_FD_STDIN, 0) == -1 || dup2(START_FD_STDOUT, 1) == -1 ||
	    dup2(tty ? START_FD_STDOUT : START_FD_STDERR, 2) == -1)
		fail(report, STAGE_EXEC, errno);
	if (ident != NULL) {
		/* Only we know our pid before the exec. */
		ident->host_pid = me;
		if (dup2(START_FD_IDENT, MIG_IDENT_FDNO) == -1)
			fail(report, STAGE_EXEC, errno);
	}
	if (homeless != 0) {
		const char *parts[] = { "mig: could not chdir to home directory ",
			s->cwd, ": ", strerror(homeless), "; starting in /\n" };
		for (size_t i = 0; i < sizeof(parts) / sizeof(*parts); i++)
			(void)!write(2, parts[i], strlen(parts[i]));
	}
	/* The report, closed by the exec: its plain EOF says the exec went
	 * through. */
	if (dup2(report, 3) == -1 || fcntl(3, F_SETFD, FD_CLOEXEC) == -1)
		_exit(MIG_EXIT_FAILURE);
	mig__close_range(4, MIG_IDENT_FDNO - 1);
	mig__close_range(ident != NULL ? MIG_IDENT_FDNO + 1 : MIG_IDENT_FDNO,
	    ~0u);
	/* The job's PATH is searched, and a script without "#!" runs with
	 * sh, as glibc's execvp does (musl's runs no sh). In mig-reaper
	 * environ is envp already; in a fork of the daemon it is the fork's
	 * own copy. */
	environ = envp;
	fail(3, STAGE_EXEC, -mig__exec_raw(argv[0], argv, envp));
}

int
mig__start_decode(const char *buf, size_t n, struct mig_start *s,
    char ***argv, char ***envp)
{
	const char *p = buf + sizeof(*s), *end = buf + n;
	size_t strings = 0;
	char **v;

	*argv = *envp = NULL;
	if (n <= sizeof(*s) || end[-1] != '\0')
		return -1;
	memcpy(s, buf, sizeof(*s));
	for (const char *q = p; q < end; q++)
		strings += *q == '\0';
	/* cwd, root, then at least a program. */
	if (s->size != sizeof(*s) || s->argc == 0 || strings < 2 ||
	    s->argc > strings - 2 || s->nrlimit > MIG_JOB_NRLIMIT)
		return -1;
	s->cwd = p;
	p += strlen(p) + 1;
	s->root = p;
	p += strlen(p) + 1;
	strings -= 2;
	/* argv, its NULL, envp, its NULL. */
	if ((v = calloc(strings + 2, sizeof(*v))) == NULL)
		return -1;
	for (size_t i = 0, k = 0; i < strings; i++, k++) {
		if (i == s->argc)
			k++;
		v[k] = (char *)p;
		p += strlen(p) + 1;
	}
	*argv = v;
	*envp = v + s->argc + 1;
	return 0;
}

/* The leader borrows our memory until its exec. */
static pid_t
fork_leader(const struct mig_start *s, char **argv, char **envp,
    struct mig_ident *ident)
{
	sigset_t none;
	pid_t pid;

	sigemptyset(&none);
	if ((pid = vfork()) == 0) {
		prctl(PR_SET_PDEATHSIG, 0);
		sigprocmask(SIG_SETMASK, &none, NULL);
		leader(s, argv, envp, ident);
	}
	return pid;
}

void
mig__start(const struct mig_start *s, char **argv, char **envp)
{
	struct mig_ident *ident = NULL;
	sigset_t wait_for;
	pid_t pid;

	sigemptyset(&wait_for);
	sigaddset(&wait_for, SIGCHLD);
	sigaddset(&wait_for, SIGTERM);
	sigprocmask(SIG_SETMASK, &wait_for, NULL);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1 ||
	    prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != s->daemon)
		_exit(MIG_EXIT_FAILURE);
	/* The daemon's mapping and ours are the page's only writable
	 * ones: no process of the job can forge what the others read, or
	 * truncate it under its daemon (SIGBUS). */
	if (s->has_ident &&
	    ((ident = mmap(NULL, MIG_IDENT_SIZE, PROT_READ | PROT_WRITE,
	    MAP_SHARED, START_FD_IDENT, 0)) == MAP_FAILED ||
	    fcntl(START_FD_IDENT, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_FUTURE_WRITE | F_SEAL_SEAL) == -1))
		_exit(MIG_EXIT_FAILURE);
	if ((pid = fork_leader(s, argv, envp, ident)) == -1)
		_exit(MIG_EXIT_FAILURE);
	/* Only the status pipe stays: the job's pipes and the report are
	 * the leader's. */
	mig__close_range(1, ~0u);
	if (ident != NULL)
		munmap(ident, MIG_IDENT_SIZE);
	mig__reap(pid, (s->flags & MIG_JOB_SSH) != 0);
}
