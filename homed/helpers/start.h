/*
 * start.h: how a job starts on a host (start.c). mig-homed asks its
 * subreaper server, "mig-reaper serve" (reaper.c), for each job: the
 * request carries the descriptors below, START_FD_DESC among them, a
 * memfd with a struct mig_start, then the job's cwd, the view's root
 * ("" when not served), argv and environment, each string with its NUL (none of it in mig-reaper's own
 * command line, so that pkill -f of the job's never matches its
 * subreaper). Where mig-reaper is missing, a fork of the daemon puts the
 * same descriptors in place and calls mig__start itself.
 */
#ifndef MIG_START_H
#define MIG_START_H

#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <mig/proto.h>

/* The job's descriptors, where its subreaper finds them. */
enum {
	START_FD_STATUS = 0, /* the status pipe (reap.h) */
	START_FD_DESC = 3,   /* the description (a memfd, read from 0) */
	START_FD_STDIN,      /* the job's stdin, stdout and stderr */
	START_FD_STDOUT,
	START_FD_STDERR,
	START_FD_REPORT,     /* the exec report's write end */
	START_FD_IDENT,      /* the identity page (has_ident) */
	START_FD_USERNS,     /* served: the view's user namespace */
	START_FD_MNTNS,      /* and its mount namespace */
	START_FD_COUNT
};
/* close_range(2) and sched_setscheduler(2) by system call: musl has no
 * wrapper for the first, and its second returns ENOSYS (it will not set
 * one thread's policy alone). Our callers are one thread. */
static inline void
mig__close_range(unsigned lo, unsigned hi)
{
	syscall(SYS_close_range, lo, hi, 0);
}

static inline void
mig__set_sched(int policy)
{
	struct sched_param sp = { 0 };

	syscall(SYS_sched_setscheduler, 0, policy, &sp);
}

/* A request's mask for a spare subreaper (reaper.c). */
#define START_SPARE 0x80000000u

/* What the job is, beside its argv and environment. */
struct mig_start {
	uint32_t size;       /* sizeof(struct mig_start): the same build */
	uint32_t argc;       /* argv's strings, after cwd and root */
	int32_t daemon;      /* the daemon's pid: our parent */
	uint32_t flags;      /* the job's MIG_JOB_* */
	uint32_t umask;
	int32_t nice;
	uint32_t sched;
	int32_t prio;        /* the host's MIG_PRIO_* (host/owner.c) */
	int32_t autogroups;  /* the kernel groups sessions (lower.h) */
	int32_t has_ident;   /* START_FD_IDENT is the identity page */
	int32_t has_view;    /* START_FD_USERNS and _MNTNS are set */
	uint32_t nrlimit;
	struct {
		uint32_t resource;
		uint64_t cur, max;
	} rlimit[MIG_JOB_NRLIMIT];
	/* Decoded from the strings that follow; not sent. */
	const char *cwd;
	const char *root;    /* served: the view's root, in its namespace */
};

/* The description in buf (n bytes: the struct, then cwd, root, argv's
 * strings and envp's, each with its NUL) into *s (cwd and root point
 * into buf), *argv and *envp (vectors of pointers into buf, NULL last,
 * in one allocation at *argv). 0, or -1 when it is not one of this
 * build's. */
int mig__start_decode(const char *buf, size_t n, struct mig_start *s,
    char ***argv, char ***envp);

/*
 * The job's subreaper, with the descriptors above in place: becomes a
 * child subreaper that dies with the daemon, seals the identity page
 * against any other writer, vforks the leader (which enters the view,
 * goes to cwd, takes its stdio, limits and priority, writes its pid to
 * the report and the identity page, and execs argv with envp; a failure
 * goes to the report as stage and errno), and then waits for the job
 * (reap.h). Never returns.
 */
void mig__start(const struct mig_start *s, char **argv, char **envp)
    __attribute__((noreturn));

#endif
