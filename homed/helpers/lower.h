/*
 * lower.h: a job's session below its host's owner (host/owner.c), in the
 * job's leader or, when the leader's /proc files are not its own, in
 * mig-reaper's "lower" mode (reaper.c), after an exec.
 */
#ifndef MIG_LOWER_H
#define MIG_LOWER_H

/* Whether the kernel shares the CPU between sessions first (autogroups
 * on). */
int mig__autogroups_on(void);

/* Puts the CPU group of our session (our autogroup) at nice 19. Without
 * CAP_SYS_ADMIN the kernel takes one such change every 100 ms on the
 * whole machine and refuses the others (EAGAIN): tries again every 5 ms,
 * for 10 s at most. 0 when done; EACCES when our /proc/self files are
 * not ours (a process that is not dumpable: mig-homed's children); else
 * the errno of the last try. */
int mig__autogroup_lower(void);

#endif
