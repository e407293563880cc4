/*
 * reap.h: the waiting half of a job's subreaper (host/subreaper.c), which
 * runs as its own small program, mig-reaper (reaper.c), or in the daemon's
 * forked child when that program cannot be run.
 */
#ifndef MIG_REAP_H
#define MIG_REAP_H

#include <sys/types.h>

/* In a child subreaper with SIGCHLD and SIGTERM blocked and the status
 * pipe as fd 0: waits for leader to end (on SIGTERM, ends its group),
 * ends and reaps every process left under us (SIGTERM, a grace, then
 * SIGKILL), writes the leader's wait status (an int32_t) to fd 0 and
 * exits. With leave_rest (an ssh job), the leader's own end ends
 * nothing: the rest is left to whoever inherits it. SIGTERM before that
 * still ends everything. */
void mig__reap(pid_t leader, int leave_rest) __attribute__((noreturn));

#endif
