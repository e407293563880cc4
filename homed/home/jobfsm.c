/*
 * jobfsm.c: a job at home as a state machine. It does no I/O: it says
 * what the next state is and what must be done (JACT_* bits), and
 * home/job.c does it. Every job ends through JOB_DONE, whatever the
 * event; tests/unit/test_jobfsm.c drives every transition.
 *
 *   QUEUED --placed there--> RUNNING --exit--> DONE
 *   QUEUED --placed here---> LOCAL --its program ends--> DONE
 *   DIALING --link up------> RUNNING
 *   RUNNING --refused / link down (restartable)--> QUEUED
 *   any --client gone--> DONE (a running job's host is told to kill it)
 */
#include "homed.h"

const char *
mig__job_state_name(enum job_state s)
{
	static const char *const names[] = { "queued", "dialing", "running",
		"local", "done" };

	return s <= JOB_DONE ? names[s] : "?";
}

int
mig__job_step(enum job_state *state, enum job_event ev, int restart)
{
	switch (*state) {
	case JOB_QUEUED:
		switch (ev) {
		case JEV_PLACED_THERE:
			*state = JOB_RUNNING;
			return JACT_SEND_EXEC;
		case JEV_PLACED_HERE:
			*state = JOB_LOCAL;
			return JACT_SEND_LOCAL;
		case JEV_CLIENT_GONE:
			*state = JOB_DONE;
			return JACT_END;
		default:
			return 0;
		}
	case JOB_DIALING:
		switch (ev) {
		case JEV_LINK_UP:
			*state = JOB_RUNNING;
			return JACT_SEND_EXEC;
		case JEV_LINK_DOWN:
			*state = JOB_DONE;
			return JACT_FAIL | JACT_END;
		case JEV_CLIENT_GONE:
			*state = JOB_DONE;
			return JACT_END;
		default:
			return 0;
		}
	case JOB_RUNNING:
		switch (ev) {
		case JEV_EXIT:
			*state = JOB_DONE;
			return JACT_FINISH | JACT_END;
		case JEV_ERROR:
			*state = JOB_DONE;
			return JACT_FAIL | JACT_END;
		case JEV_REFUSED:
			/* It never ran there: it may go anywhere else. */
			*state = JOB_QUEUED;
			return JACT_REQUEUE;
		case JEV_LINK_DOWN:
			if (restart) {
				*state = JOB_QUEUED;
				return JACT_REQUEUE;
			}
			*state = JOB_DONE;
			return JACT_FAIL | JACT_END;
		case JEV_CLIENT_GONE:
			*state = JOB_DONE;
			return JACT_SEND_KILL | JACT_END;
		default:
			return 0;
		}
	case JOB_LOCAL:
		/* The stub is gone once it execs the program; the program's
		 * end is the job's. */
		if (ev != JEV_LOCAL_EXIT)
			return 0;
		*state = JOB_DONE;
		return JACT_END;
	case JOB_DONE:
		return 0;
	}
	return 0;
}
