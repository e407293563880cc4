/*
 * test_jobfsm.c: both job state machines (home/jobfsm.c, host/rjobfsm.c)
 * through every event in every state, without a socket, and the host's
 * through the paths a job takes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "homed.h"

struct jcase {
	enum job_state from;
	enum job_event ev;
	int restart;
	enum job_state to;
	int act;
};

/* Every (state, event) pair of the home machine, restartable or not. */
static const struct jcase jcases[] = {
	{ JOB_QUEUED, JEV_PLACED_THERE, 0, JOB_RUNNING, JACT_SEND_EXEC },
	{ JOB_QUEUED, JEV_PLACED_HERE, 0, JOB_LOCAL, JACT_SEND_LOCAL },
	{ JOB_QUEUED, JEV_LINK_UP, 0, JOB_QUEUED, 0 },
	{ JOB_QUEUED, JEV_LINK_DOWN, 0, JOB_QUEUED, 0 },
	{ JOB_QUEUED, JEV_LINK_DOWN, 1, JOB_QUEUED, 0 },
	{ JOB_QUEUED, JEV_REFUSED, 0, JOB_QUEUED, 0 },
	{ JOB_QUEUED, JEV_ERROR, 0, JOB_QUEUED, 0 },
	{ JOB_QUEUED, JEV_EXIT, 0, JOB_QUEUED, 0 },
	{ JOB_QUEUED, JEV_CLIENT_GONE, 0, JOB_DONE, JACT_END },
	{ JOB_QUEUED, JEV_LOCAL_EXIT, 0, JOB_QUEUED, 0 },

	{ JOB_DIALING, JEV_PLACED_THERE, 0, JOB_DIALING, 0 },
	{ JOB_DIALING, JEV_PLACED_HERE, 0, JOB_DIALING, 0 },
	{ JOB_DIALING, JEV_LINK_UP, 0, JOB_RUNNING, JACT_SEND_EXEC },
	{ JOB_DIALING, JEV_LINK_DOWN, 0, JOB_DONE, JACT_FAIL | JACT_END },
	/* A named host (mig -h) that cannot be reached fails the job, even
	 * one that could run twice: it was never placed. */
	{ JOB_DIALING, JEV_LINK_DOWN, 1, JOB_DONE, JACT_FAIL | JACT_END },
	{ JOB_DIALING, JEV_REFUSED, 0, JOB_DIALING, 0 },
	{ JOB_DIALING, JEV_ERROR, 0, JOB_DIALING, 0 },
	{ JOB_DIALING, JEV_EXIT, 0, JOB_DIALING, 0 },
	{ JOB_DIALING, JEV_CLIENT_GONE, 0, JOB_DONE, JACT_END },
	{ JOB_DIALING, JEV_LOCAL_EXIT, 0, JOB_DIALING, 0 },

	{ JOB_RUNNING, JEV_PLACED_THERE, 0, JOB_RUNNING, 0 },
	{ JOB_RUNNING, JEV_PLACED_HERE, 0, JOB_RUNNING, 0 },
	{ JOB_RUNNING, JEV_LINK_UP, 0, JOB_RUNNING, 0 },
	{ JOB_RUNNING, JEV_LINK_DOWN, 0, JOB_DONE, JACT_FAIL | JACT_END },
	{ JOB_RUNNING, JEV_LINK_DOWN, 1, JOB_QUEUED, JACT_REQUEUE },
	{ JOB_RUNNING, JEV_REFUSED, 0, JOB_QUEUED, JACT_REQUEUE },
	{ JOB_RUNNING, JEV_ERROR, 0, JOB_DONE, JACT_FAIL | JACT_END },
	{ JOB_RUNNING, JEV_ERROR, 1, JOB_DONE, JACT_FAIL | JACT_END },
	{ JOB_RUNNING, JEV_EXIT, 0, JOB_DONE, JACT_FINISH | JACT_END },
	{ JOB_RUNNING, JEV_EXIT, 1, JOB_DONE, JACT_FINISH | JACT_END },
	{ JOB_RUNNING, JEV_CLIENT_GONE, 0, JOB_DONE,
	    JACT_SEND_KILL | JACT_END },
	{ JOB_RUNNING, JEV_CLIENT_GONE, 1, JOB_DONE,
	    JACT_SEND_KILL | JACT_END },
	{ JOB_RUNNING, JEV_LOCAL_EXIT, 0, JOB_RUNNING, 0 },

	{ JOB_LOCAL, JEV_PLACED_THERE, 0, JOB_LOCAL, 0 },
	{ JOB_LOCAL, JEV_PLACED_HERE, 0, JOB_LOCAL, 0 },
	{ JOB_LOCAL, JEV_LINK_UP, 0, JOB_LOCAL, 0 },
	{ JOB_LOCAL, JEV_LINK_DOWN, 0, JOB_LOCAL, 0 },
	{ JOB_LOCAL, JEV_LINK_DOWN, 1, JOB_LOCAL, 0 },
	{ JOB_LOCAL, JEV_REFUSED, 0, JOB_LOCAL, 0 },
	{ JOB_LOCAL, JEV_ERROR, 0, JOB_LOCAL, 0 },
	{ JOB_LOCAL, JEV_EXIT, 0, JOB_LOCAL, 0 },
	/* The stub execs the program: its socket closing means nothing. */
	{ JOB_LOCAL, JEV_CLIENT_GONE, 0, JOB_LOCAL, 0 },
	{ JOB_LOCAL, JEV_LOCAL_EXIT, 0, JOB_DONE, JACT_END },
};

static void
home_transitions(void **state)
{
	for (size_t i = 0; i < sizeof(jcases) / sizeof(*jcases); i++) {
		const struct jcase *c = &jcases[i];
		enum job_state s = c->from;
		int act = mig__job_step(&s, c->ev, c->restart);
		if (s != c->to || act != c->act)
			fail_msg("case %zu: %s + event %d (restart %d): got %s "
			    "0x%x, want %s 0x%x", i,
			    mig__job_state_name(c->from), c->ev, c->restart,
			    mig__job_state_name(s), act,
			    mig__job_state_name(c->to), c->act);
	}
}

/* Every pair is listed above, and DONE takes no event. */
static void
home_every_pair(void **state)
{
	for (int from = JOB_QUEUED; from < JOB_DONE; from++) {
		for (int ev = 0; ev < JEV__COUNT; ev++) {
			int found = 0;
			for (size_t i = 0; i < sizeof(jcases) / sizeof(*jcases);
			     i++)
				found |= jcases[i].from == (enum job_state)from &&
				    jcases[i].ev == (enum job_event)ev;
			if (!found)
				fail_msg("no case for %s + event %d",
				    mig__job_state_name(from), ev);
		}
	}
	for (int ev = 0; ev < JEV__COUNT; ev++) {
		enum job_state s = JOB_DONE;
		assert_int_equal(mig__job_step(&s, ev, 1), 0);
		assert_int_equal(s, JOB_DONE);
	}
}

/* Every path ends: a job either ends or waits for an event that ends
 * it, and a restartable one lost any number of times comes back. */
static void
home_restart_loop(void **state)
{
	enum job_state s = JOB_QUEUED;

	for (int i = 0; i < 3; i++) {
		assert_int_equal(mig__job_step(&s, JEV_PLACED_THERE, 1),
		    JACT_SEND_EXEC);
		assert_int_equal(mig__job_step(&s, JEV_LINK_DOWN, 1),
		    JACT_REQUEUE);
		assert_int_equal(s, JOB_QUEUED);
	}
	assert_int_equal(mig__job_step(&s, JEV_PLACED_HERE, 1),
	    JACT_SEND_LOCAL);
	assert_int_equal(mig__job_step(&s, JEV_CLIENT_GONE, 1), 0);
	assert_int_equal(mig__job_step(&s, JEV_LOCAL_EXIT, 1), JACT_END);
	assert_int_equal(s, JOB_DONE);
}

/* The host machine's flags in a case: exited, drained, orphan. */
#define X 1
#define D 2
#define O 4

struct rcase {
	enum rjob_state from;
	unsigned flags;
	enum rjob_event ev;
	enum rjob_state to;
	int act;
};

#define STARTED (RACT_SEND_STARTED | RACT_RELAY)
#define LOST (RACT_KILL | RACT_DETACH)

/* Every (state, event) pair of the host machine, with the flags that
 * change the answer. */
static const struct rcase rcases[] = {
	{ RJOB_VIEW, 0, REV_VIEW_READY, RJOB_STARTING, RACT_SPAWN },
	{ RJOB_VIEW, 0, REV_VIEW_FAILED, RJOB_DONE,
	    RACT_SEND_ERROR | RACT_END },
	{ RJOB_VIEW, 0, REV_SPAWN_FAILED, RJOB_VIEW, 0 },
	{ RJOB_VIEW, 0, REV_EXEC_OK, RJOB_VIEW, 0 },
	{ RJOB_VIEW, 0, REV_EXEC_FAILED, RJOB_VIEW, 0 },
	{ RJOB_VIEW, 0, REV_EXITED, RJOB_VIEW, 0 },
	{ RJOB_VIEW, 0, REV_OUTPUT_DONE, RJOB_VIEW, 0 },
	/* Nothing runs yet: nothing to kill, nobody to tell. */
	{ RJOB_VIEW, 0, REV_LINK_DOWN, RJOB_DONE, RACT_DETACH | RACT_END },
	{ RJOB_VIEW, 0, REV_KILL, RJOB_DONE, RACT_DETACH | RACT_END },
	{ RJOB_VIEW, 0, REV_STOP, RJOB_DONE, RACT_DETACH | RACT_END },

	{ RJOB_STARTING, 0, REV_VIEW_READY, RJOB_STARTING, 0 },
	{ RJOB_STARTING, 0, REV_VIEW_FAILED, RJOB_STARTING, 0 },
	{ RJOB_STARTING, 0, REV_SPAWN_FAILED, RJOB_DONE,
	    RACT_SEND_ERROR | RACT_END },
	{ RJOB_STARTING, 0, REV_EXEC_OK, RJOB_RUNNING, STARTED },
	{ RJOB_STARTING, X, REV_EXEC_OK, RJOB_RUNNING, STARTED },
	/* An orphan's output is still read to its end. */
	{ RJOB_STARTING, O, REV_EXEC_OK, RJOB_RUNNING, RACT_RELAY },
	{ RJOB_STARTING, 0, REV_EXEC_FAILED, RJOB_DONE,
	    RACT_SEND_FAILED | RACT_END },
	{ RJOB_STARTING, O, REV_EXEC_FAILED, RJOB_DONE, RACT_END },
	{ RJOB_STARTING, 0, REV_EXITED, RJOB_STARTING, 0 },
	{ RJOB_STARTING, 0, REV_OUTPUT_DONE, RJOB_STARTING, 0 },
	{ RJOB_STARTING, 0, REV_LINK_DOWN, RJOB_STARTING, LOST },
	{ RJOB_STARTING, 0, REV_KILL, RJOB_STARTING, LOST },
	{ RJOB_STARTING, 0, REV_STOP, RJOB_DONE, LOST | RACT_END },

	{ RJOB_RUNNING, 0, REV_VIEW_READY, RJOB_RUNNING, 0 },
	{ RJOB_RUNNING, 0, REV_VIEW_FAILED, RJOB_RUNNING, 0 },
	{ RJOB_RUNNING, 0, REV_SPAWN_FAILED, RJOB_RUNNING, 0 },
	{ RJOB_RUNNING, 0, REV_EXEC_OK, RJOB_RUNNING, 0 },
	{ RJOB_RUNNING, 0, REV_EXEC_FAILED, RJOB_RUNNING, 0 },
	{ RJOB_RUNNING, 0, REV_EXITED, RJOB_DRAINING, 0 },
	{ RJOB_RUNNING, D, REV_EXITED, RJOB_DONE,
	    RACT_SEND_EXIT | RACT_END },
	{ RJOB_RUNNING, D | O, REV_EXITED, RJOB_DONE, RACT_END },
	{ RJOB_RUNNING, 0, REV_OUTPUT_DONE, RJOB_RUNNING, 0 },
	{ RJOB_RUNNING, X, REV_OUTPUT_DONE, RJOB_DONE,
	    RACT_SEND_EXIT | RACT_END },
	{ RJOB_RUNNING, X | O, REV_OUTPUT_DONE, RJOB_DONE, RACT_END },
	{ RJOB_RUNNING, 0, REV_LINK_DOWN, RJOB_RUNNING, LOST },
	{ RJOB_RUNNING, 0, REV_KILL, RJOB_RUNNING, LOST },
	{ RJOB_RUNNING, 0, REV_STOP, RJOB_DONE, LOST | RACT_END },

	{ RJOB_DRAINING, X, REV_VIEW_READY, RJOB_DRAINING, 0 },
	{ RJOB_DRAINING, X, REV_VIEW_FAILED, RJOB_DRAINING, 0 },
	{ RJOB_DRAINING, X, REV_SPAWN_FAILED, RJOB_DRAINING, 0 },
	{ RJOB_DRAINING, X, REV_EXEC_OK, RJOB_DRAINING, 0 },
	{ RJOB_DRAINING, X, REV_EXEC_FAILED, RJOB_DRAINING, 0 },
	{ RJOB_DRAINING, X, REV_EXITED, RJOB_DRAINING, 0 },
	{ RJOB_DRAINING, X, REV_OUTPUT_DONE, RJOB_DONE,
	    RACT_SEND_EXIT | RACT_END },
	{ RJOB_DRAINING, X | O, REV_OUTPUT_DONE, RJOB_DONE, RACT_END },
	/* Nobody reads the rest of its output. */
	{ RJOB_DRAINING, X, REV_LINK_DOWN, RJOB_DONE, RACT_DETACH | RACT_END },
	{ RJOB_DRAINING, X, REV_KILL, RJOB_DONE, RACT_DETACH | RACT_END },
	{ RJOB_DRAINING, X, REV_STOP, RJOB_DONE, RACT_DETACH | RACT_END },
};

static void
host_transitions(void **state)
{
	for (size_t i = 0; i < sizeof(rcases) / sizeof(*rcases); i++) {
		const struct rcase *c = &rcases[i];
		struct rjob_fsm m = { .state = c->from,
			.exited = !!(c->flags & X), .drained = !!(c->flags & D),
			.orphan = !!(c->flags & O) };
		int act = mig__rjob_step(&m, c->ev);
		if (m.state != c->to || act != c->act)
			fail_msg("case %zu: %s (flags %u) + event %d: got %s "
			    "0x%x, want %s 0x%x", i,
			    mig__rjob_state_name(c->from), c->flags, c->ev,
			    mig__rjob_state_name(m.state), act,
			    mig__rjob_state_name(c->to), c->act);
	}
}

/* Every pair is listed above, and DONE takes no event. */
static void
host_every_pair(void **state)
{
	for (int from = RJOB_VIEW; from < RJOB_DONE; from++) {
		for (int ev = 0; ev < REV__COUNT; ev++) {
			int found = 0;
			for (size_t i = 0; i < sizeof(rcases) / sizeof(*rcases);
			     i++)
				found |= rcases[i].from ==
				    (enum rjob_state)from &&
				    rcases[i].ev == (enum rjob_event)ev;
			if (!found)
				fail_msg("no case for %s + event %d",
				    mig__rjob_state_name(from), ev);
		}
	}
	for (int ev = 0; ev < REV__COUNT; ev++) {
		struct rjob_fsm m = { .state = RJOB_DONE };
		assert_int_equal(mig__rjob_step(&m, ev), 0);
		assert_int_equal(m.state, RJOB_DONE);
	}
}

/* The host machine, from a fresh state, through one path of events. */
static int
run(struct rjob_fsm *m, const enum rjob_event *evs, size_t n)
{
	int all = 0;

	m->state = RJOB_STARTING;
	m->exited = m->drained = m->orphan = 0;
	for (size_t i = 0; i < n; i++)
		all |= mig__rjob_step(m, evs[i]);
	return all;
}

#define RUN(m, ...) run(m, (const enum rjob_event[]){ __VA_ARGS__ }, \
    sizeof((const enum rjob_event[]){ __VA_ARGS__ }) / sizeof(enum rjob_event))

static void
host_normal(void **state)
{
	struct rjob_fsm m;

	/* Exit, then the last output: EXIT goes once, after it. */
	assert_int_equal(RUN(&m, REV_EXEC_OK), STARTED);
	assert_int_equal(m.state, RJOB_RUNNING);
	/* Exited (the subreaper: nothing of the job is left), then drained. */
	assert_int_equal(mig__rjob_step(&m, REV_EXITED), 0);
	assert_int_equal(m.state, RJOB_DRAINING);
	assert_int_equal(mig__rjob_step(&m, REV_OUTPUT_DONE),
	    RACT_SEND_EXIT | RACT_END);
	assert_int_equal(m.state, RJOB_DONE);
	/* Output first, then the exit. */
	RUN(&m, REV_EXEC_OK, REV_OUTPUT_DONE);
	assert_int_equal(m.state, RJOB_RUNNING);
	assert_int_equal(mig__rjob_step(&m, REV_EXITED),
	    RACT_SEND_EXIT | RACT_END);
	/* Reaped before its report was read. */
	RUN(&m, REV_EXITED);
	assert_int_equal(m.state, RJOB_STARTING);
	assert_int_equal(mig__rjob_step(&m, REV_EXEC_OK), STARTED);
	assert_int_equal(mig__rjob_step(&m, REV_OUTPUT_DONE),
	    RACT_SEND_EXIT | RACT_END);
	assert_int_equal(RUN(&m, REV_EXEC_FAILED),
	    RACT_SEND_FAILED | RACT_END);
	assert_int_equal(m.state, RJOB_DONE);
}

/* Link down and kill in every state: the job is killed, tells nobody,
 * and still ends. */
static void
host_link_down_everywhere(void **state)
{
	static const enum rjob_event lost[] = { REV_LINK_DOWN, REV_KILL };
	struct rjob_fsm m;

	for (int i = 0; i < 2; i++) {
		enum rjob_event ev = lost[i];
		int act;

		/* STARTING, then the exec goes through or not. */
		assert_int_equal(RUN(&m, ev), RACT_KILL | RACT_DETACH);
		assert_int_equal(mig__rjob_step(&m, REV_EXEC_OK), RACT_RELAY);
		assert_int_equal(mig__rjob_step(&m, REV_EXITED), 0);
		assert_int_equal(mig__rjob_step(&m, REV_OUTPUT_DONE), RACT_END);
		assert_int_equal(m.state, RJOB_DONE);
		assert_int_equal(RUN(&m, ev, REV_EXEC_FAILED),
		    RACT_KILL | RACT_DETACH | RACT_END);
		assert_int_equal(m.state, RJOB_DONE);
		/* RUNNING. */
		act = RUN(&m, REV_EXEC_OK, ev);
		assert_int_equal(act, STARTED | RACT_KILL | RACT_DETACH);
		assert_int_equal(mig__rjob_step(&m, REV_OUTPUT_DONE), 0);
		assert_int_equal(mig__rjob_step(&m, REV_EXITED),
		    RACT_END);
		/* DRAINING: nobody reads the rest; it ends now. */
		RUN(&m, REV_EXEC_OK, REV_EXITED);
		assert_int_equal(m.state, RJOB_DRAINING);
		assert_int_equal(mig__rjob_step(&m, ev), RACT_DETACH | RACT_END);
		assert_int_equal(m.state, RJOB_DONE);
		/* DONE takes nothing more. */
		for (int e = 0; e < REV__COUNT; e++)
			assert_int_equal(mig__rjob_step(&m, e), 0);
	}
}

/* A served job: its view first, then as any other; killed while it
 * waits, it ends at once and its view's late readiness finds nothing. */
static void
host_served(void **state)
{
	struct rjob_fsm m = { .state = RJOB_VIEW };

	assert_int_equal(mig__rjob_step(&m, REV_VIEW_READY), RACT_SPAWN);
	assert_int_equal(mig__rjob_step(&m, REV_EXEC_OK), STARTED);
	assert_int_equal(mig__rjob_step(&m, REV_EXITED), 0);
	assert_int_equal(mig__rjob_step(&m, REV_OUTPUT_DONE),
	    RACT_SEND_EXIT | RACT_END);
	assert_int_equal(m.state, RJOB_DONE);
	m = (struct rjob_fsm){ .state = RJOB_VIEW };
	assert_int_equal(mig__rjob_step(&m, REV_KILL), RACT_DETACH | RACT_END);
	assert_int_equal(mig__rjob_step(&m, REV_VIEW_READY), 0);
	assert_int_equal(m.state, RJOB_DONE);
	/* A view that cannot be made, or a spawn that fails, is said. */
	m = (struct rjob_fsm){ .state = RJOB_VIEW };
	assert_int_equal(mig__rjob_step(&m, REV_VIEW_FAILED),
	    RACT_SEND_ERROR | RACT_END);
	m = (struct rjob_fsm){ .state = RJOB_VIEW };
	assert_int_equal(mig__rjob_step(&m, REV_VIEW_READY), RACT_SPAWN);
	assert_int_equal(mig__rjob_step(&m, REV_SPAWN_FAILED),
	    RACT_SEND_ERROR | RACT_END);
}

static void
host_stop_everywhere(void **state)
{
	struct rjob_fsm m;

	assert_int_equal(RUN(&m, REV_STOP), RACT_KILL | RACT_DETACH | RACT_END);
	assert_int_equal(RUN(&m, REV_EXEC_OK, REV_STOP),
	    STARTED | RACT_KILL | RACT_DETACH | RACT_END);
	assert_int_equal(m.state, RJOB_DONE);
	RUN(&m, REV_EXEC_OK, REV_EXITED);
	assert_int_equal(mig__rjob_step(&m, REV_STOP), RACT_DETACH | RACT_END);
	assert_int_equal(m.state, RJOB_DONE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(home_transitions),
		cmocka_unit_test(home_every_pair),
		cmocka_unit_test(home_restart_loop),
		cmocka_unit_test(host_transitions),
		cmocka_unit_test(host_every_pair),
		cmocka_unit_test(host_normal),
		cmocka_unit_test(host_served),
		cmocka_unit_test(host_link_down_everywhere),
		cmocka_unit_test(host_stop_everywhere),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
