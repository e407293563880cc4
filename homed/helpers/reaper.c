/*
 * reaper.c: mig-reaper, a job's subreaper on a host once its leader is
 * forked. mig-homed forks the subreaper and the subreaper forks the
 * leader; the subreaper then becomes this small static program, so that
 * it holds no copy of the daemon's memory for the whole job (every page
 * the daemon wrote while a job ran would otherwise be copied).
 * PR_SET_CHILD_SUBREAPER, the parent-death signal, the blocked signals
 * and the status pipe (fd 0) all carry over the exec. Not a command: run
 * by mig-homed only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>

#include "reap.h"

int
main(int argc, char **argv)
{
	char *end;
	long leader;
	int on = 0;

	if (argc == 2) {
		leader = strtol(argv[1], &end, 10);
		if (*end == '\0' && leader > 1 &&
		    prctl(PR_GET_CHILD_SUBREAPER, &on) == 0 && on)
			mig__reap((pid_t)leader);
	}
	fprintf(stderr, "mig-reaper: run by mig-homed only, as a job's "
	    "subreaper\n");
	return 2;
}
