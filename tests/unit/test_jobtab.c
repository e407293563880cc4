/*
 * test_jobtab.c: home's tables of its jobs (homed/home/jobtab.c): a job
 * is found by its id while it is in the table, also when many share a
 * bucket; the queue holds exactly the jobs whose state is JOB_QUEUED, in
 * the order they arrived, also a job queued again (its host was lost)
 * and across the wrap of the ids.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "homed.h"

static struct homed d;

static void
init(void)
{
	memset(&d, 0, sizeof(d));
	TAILQ_INIT(&d.jobs);
	TAILQ_INIT(&d.queue);
}

static struct job *
job(uint32_t id, enum job_state state)
{
	struct job *j = calloc(1, sizeof(*j));

	assert_non_null(j);
	j->id = id;
	j->state = state;
	mig__jobs_add(&d, j);
	mig__job_queue_sync(&d, j);
	return j;
}

/* The ids on the queue, in its order, into buf. */
static void
queue_ids(char *buf, size_t size)
{
	struct job *j;
	size_t n = 0;

	buf[0] = '\0';
	TAILQ_FOREACH(j, &d.queue, qentry)
		n += (size_t)snprintf(buf + n, size - n, "%s%u", n ? " " : "",
		    j->id);
}

static void
find_by_id(void **state)
{
	struct job *j[3];

	(void)state;
	init();
	/* Three ids in one bucket. */
	j[0] = job(5, JOB_RUNNING);
	j[1] = job(5 + MIG_JOB_BUCKETS, JOB_RUNNING);
	j[2] = job(5 + 2 * MIG_JOB_BUCKETS, JOB_RUNNING);
	for (int i = 0; i < 3; i++)
		assert_ptr_equal(mig__job_find(&d, j[i]->id), j[i]);
	assert_null(mig__job_find(&d, 6));
	mig__jobs_remove(&d, j[1]);
	assert_null(mig__job_find(&d, j[1]->id));
	assert_ptr_equal(mig__job_find(&d, j[0]->id), j[0]);
	assert_ptr_equal(mig__job_find(&d, j[2]->id), j[2]);
	mig__jobs_remove(&d, j[0]);
	mig__jobs_remove(&d, j[2]);
	assert_null(mig__job_find(&d, 5));
	for (int i = 0; i < 3; i++)
		free(j[i]);
}

static void
queue_order(void **state)
{
	struct job *j[6];
	char buf[128];

	(void)state;
	init();
	j[0] = job(UINT32_MAX - 1, JOB_QUEUED);
	j[1] = job(UINT32_MAX, JOB_RUNNING);
	j[2] = job(1, JOB_QUEUED);
	j[3] = job(2, JOB_QUEUED);
	queue_ids(buf, sizeof(buf));
	assert_string_equal(buf, "4294967294 1 2");
	/* Placed: off the queue. */
	j[2]->state = JOB_RUNNING;
	mig__job_queue_sync(&d, j[2]);
	j[0]->state = JOB_RUNNING;
	mig__job_queue_sync(&d, j[0]);
	queue_ids(buf, sizeof(buf));
	assert_string_equal(buf, "2");
	/* Queued again (its host lost): before the later ones, after the
	 * earlier, across the wrap. */
	j[1]->state = JOB_QUEUED;
	mig__job_queue_sync(&d, j[1]);
	j[4] = job(3, JOB_QUEUED);
	j[2]->state = JOB_QUEUED;
	mig__job_queue_sync(&d, j[2]);
	queue_ids(buf, sizeof(buf));
	assert_string_equal(buf, "4294967295 1 2 3");
	/* Syncing twice changes nothing; a job that ends leaves it. */
	mig__job_queue_sync(&d, j[2]);
	mig__jobs_remove(&d, j[3]);
	queue_ids(buf, sizeof(buf));
	assert_string_equal(buf, "4294967295 1 3");
	assert_null(mig__job_find(&d, 2));
	j[5] = job(4, JOB_DIALING);
	queue_ids(buf, sizeof(buf));
	assert_string_equal(buf, "4294967295 1 3");
	for (int i = 0; i < 6; i++) {
		if (i != 3)
			mig__jobs_remove(&d, j[i]);
		free(j[i]);
	}
	assert_true(TAILQ_EMPTY(&d.queue));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(find_by_id),
		cmocka_unit_test(queue_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
