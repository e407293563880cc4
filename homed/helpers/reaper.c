/*
 * reaper.c: mig-reaper, a job's subreaper on a host once its leader is
 * forked. mig-homed forks the subreaper and the subreaper forks the
 * leader; the subreaper then becomes this small static program, so that
 * it holds no copy of the daemon's memory for the whole job (every page
 * the daemon wrote while a job ran would otherwise be copied).
 * PR_SET_CHILD_SUBREAPER, the parent-death signal, the blocked signals
 * and the status pipe (fd 0) all carry over the exec. Not a command: run
 * by mig-homed only, as "mig-reaper LEADER [leave]" (reap.h).
 *
 * Also, as "mig-reaper lower PROG ARG...", the step between a job's
 * leader and its program where the job's session is put at nice 19
 * (host/owner.c, helpers/lower.c): a leader that is not dumpable (a
 * daemon's child) cannot write its own /proc files, this image can. Fd
 * 3 is the leader's report (host/leader.c): stage 4 and the errno when
 * the kernel did not take the change in time (the job does not run),
 * stage 1 and exec's errno when PROG cannot run, closed by the exec.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <mig/mig.h>

#include "lower.h"
#include "reap.h"

static void __attribute__((noreturn))
lower(char **argv)
{
	int32_t why[2] = { 4, 0 };
	int e = mig__autogroup_lower();

	/* Refused for good (not EAGAIN): it runs at SCHED_IDLE alone. */
	if (e == EAGAIN) {
		why[1] = e;
		(void)!write(3, why, sizeof(why));
		_exit(MIG_EXIT_FAILURE);
	}
	fcntl(3, F_SETFD, FD_CLOEXEC);
	execvp(argv[0], argv);
	why[0] = 1;
	why[1] = errno;
	(void)!write(3, why, sizeof(why));
	_exit(MIG_EXIT_NOTFOUND);
}

int
main(int argc, char **argv)
{
	char *end;
	long leader;
	int on = 0;

	if (argc >= 3 && strcmp(argv[1], "lower") == 0)
		lower(argv + 2);

	if (argc == 2 || (argc == 3 && strcmp(argv[2], "leave") == 0)) {
		leader = strtol(argv[1], &end, 10);
		if (*end == '\0' && leader > 1 &&
		    prctl(PR_GET_CHILD_SUBREAPER, &on) == 0 && on)
			mig__reap((pid_t)leader, argc == 3);
	}
	fprintf(stderr, "mig-reaper: run by mig-homed only, as a job's "
	    "subreaper\n");
	return 2;
}
