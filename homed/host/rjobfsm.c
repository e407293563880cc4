/*
 * rjobfsm.c: a job on this host as a state machine. No I/O: it says the
 * next state and what must be done (RACT_* bits), and host/spawn.c does
 * it. A served job first waits for its link's view (VIEW); a job in
 * this host's own files starts at STARTING. "Exited" is the end of the
 * job's subreaper (host/subreaper.c), which comes after the leader's and
 * after it killed every other process of the job: nothing of a job
 * outlives it, and a leader's end is the job's (what its output still
 * holds is relayed). EXIT goes home only once that is so and the output
 * is drained, so no output can arrive after it. A job whose home is
 * gone is killed and ends without telling anyone.
 *
 *   VIEW --view ready--> STARTING (spawn) --exec ok--> RUNNING (relay)
 *   VIEW --view failed--> DONE (error);  STARTING --spawn failed--> DONE
 *   RUNNING --exited--> DRAINING --drained--> DONE
 *   STARTING --exec failed--> DONE
 *   RUNNING --drained, then exited--> DONE
 *   VIEW --link down / kill / stop--> DONE (nothing ran)
 *   any other --link down / kill--> (killed, orphan) ... DONE
 *   any other --stop--> DONE
 */
#include "homed.h"

const char *
mig__rjob_state_name(enum rjob_state s)
{
	static const char *const names[] = { "view", "starting", "running",
		"draining", "done" };

	return s <= RJOB_DONE ? names[s] : "?";
}

static int
step(struct rjob_fsm *m, enum rjob_event ev)
{
	switch (m->state) {
	case RJOB_VIEW:
		switch (ev) {
		case REV_VIEW_READY:
			m->state = RJOB_STARTING;
			return RACT_SPAWN;
		case REV_VIEW_FAILED:
			m->state = RJOB_DONE;
			return RACT_SEND_ERROR | RACT_END;
		case REV_LINK_DOWN:
		case REV_KILL:
		case REV_STOP:
			/* Nothing runs yet: it never will. */
			m->orphan = 1;
			m->state = RJOB_DONE;
			return RACT_DETACH | RACT_END;
		default:
			return 0;
		}
	case RJOB_STARTING:
		switch (ev) {
		case REV_SPAWN_FAILED:
			m->state = RJOB_DONE;
			return RACT_SEND_ERROR | RACT_END;
		case REV_EXEC_OK:
			m->state = RJOB_RUNNING;
			/* An orphan's output is read (and dropped) too, so
			 * that it ends. */
			return RACT_SEND_STARTED | RACT_RELAY;
		case REV_EXEC_FAILED:
			m->state = RJOB_DONE;
			return RACT_SEND_FAILED | RACT_END;
		case REV_EXITED:
			/* Reaped before its report was read: the report
			 * still says how the exec went. */
			m->exited = 1;
			return 0;
		case REV_LINK_DOWN:
		case REV_KILL:
			m->orphan = 1;
			return RACT_KILL | RACT_DETACH;
		case REV_STOP:
			m->state = RJOB_DONE;
			return RACT_KILL | RACT_DETACH | RACT_END;
		default:
			return 0;
		}
	case RJOB_RUNNING:
		switch (ev) {
		case REV_EXITED:
			m->exited = 1;
			if (m->drained) {
				m->state = RJOB_DONE;
				return RACT_SEND_EXIT | RACT_END;
			}
			m->state = RJOB_DRAINING;
			return 0;
		case REV_OUTPUT_DONE:
			m->drained = 1;
			if (m->exited) {
				m->state = RJOB_DONE;
				return RACT_SEND_EXIT | RACT_END;
			}
			return 0;
		case REV_LINK_DOWN:
		case REV_KILL:
			m->orphan = 1;
			return RACT_KILL | RACT_DETACH;
		case REV_STOP:
			m->state = RJOB_DONE;
			return RACT_KILL | RACT_DETACH | RACT_END;
		default:
			return 0;
		}
	case RJOB_DRAINING:
		switch (ev) {
		case REV_OUTPUT_DONE:
			m->drained = 1;
			m->state = RJOB_DONE;
			return RACT_SEND_EXIT | RACT_END;
		case REV_LINK_DOWN:
		case REV_KILL:
		case REV_STOP:
			/* Nobody reads the rest of its output. */
			m->orphan = 1;
			m->state = RJOB_DONE;
			return RACT_DETACH | RACT_END;
		default:
			return 0;
		}
	case RJOB_DONE:
		return 0;
	}
	return 0;
}

int
mig__rjob_step(struct rjob_fsm *m, enum rjob_event ev)
{
	int act = step(m, ev);

	/* A job without a home tells nobody anything. */
	if (m->orphan)
		act &= ~(RACT_SEND_STARTED | RACT_SEND_FAILED | RACT_SEND_EXIT |
		    RACT_SEND_ERROR);
	return act;
}
