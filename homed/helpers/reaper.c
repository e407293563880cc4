/*
 * reaper.c: mig-reaper, a job's subreaper on a host once its leader
 * runs. mig-homed starts the subreaper as a clone on its own memory
 * (host/subreaper.c), which vforks the leader and, once the leader has
 * exec'd, becomes this small static program: the daemon goes on, and no
 * copy of its memory is kept for the job.
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
