/*
 * test_place.c: placement (home/place.c) over a peer table built in
 * memory: most free slots wins, ties stay home, down hosts, drained and
 * busy ones and hosts that have not said their slots are skipped, and
 * what this home already sent counts even before the host's next LOAD.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "homed.h"

static struct link up; /* any non-NULL link: the peer is up */

static struct homed d;
static struct peer p1, p2;

static int
setup(void **state)
{
	memset(&d, 0, sizeof(d));
	TAILQ_INIT(&d.peers);
	memset(&p1, 0, sizeof(p1));
	memset(&p2, 0, sizeof(p2));
	strcpy(p1.name, "host1");
	strcpy(p2.name, "host2");
	p1.link = p2.link = &up;
	p1.host_slots = p2.host_slots = 4;
	TAILQ_INSERT_TAIL(&d.peers, &p1, entry);
	TAILQ_INSERT_TAIL(&d.peers, &p2, entry);
	return 0;
}

static void
most_free_wins(void **state)
{
	int full;

	p1.running = 3;
	assert_ptr_equal(mig__place_pick(&d, 2, &full), &p2);
	assert_false(full);
	p2.running = 4;
	/* host1 has 1, home 2: home. */
	assert_null(mig__place_pick(&d, 2, &full));
	assert_false(full);
}

static void
ties_stay_home_then_first(void **state)
{
	int full;

	assert_null(mig__place_pick(&d, 4, &full));
	assert_false(full);
	assert_ptr_equal(mig__place_pick(&d, 3, &full), &p1);
}

/* A host's line in home's hosts file caps what home sends it, whatever
 * the host says it has (one reached over ssh has its CPUs); a line
 * without SLOTS leaves what the host says. */
static void
hosts_file_slots_cap(void **state)
{
	int full;

	p1.slots = 1;
	p2.host_slots = 2;
	p2.slots = 8;
	assert_int_equal(mig__place_slots(&p1), 1);
	assert_int_equal(mig__place_slots(&p2), 2);
	assert_int_equal(mig__place_free(&p1), 1);
	/* host2 has 2 free, host1 1 (of its 4): host2, then a tie. */
	assert_ptr_equal(mig__place_pick(&d, 0, &full), &p2);
	p2.running = 1;
	assert_ptr_equal(mig__place_pick(&d, 0, &full), &p1);
	p1.mine = 1;
	p2.mine = 2;
	assert_null(mig__place_pick(&d, 0, &full));
	assert_true(full);
	p1.slots = 0;
	assert_ptr_equal(mig__place_pick(&d, 0, &full), &p1);
	assert_int_equal(mig__place_free(&p1), 3);
}

static void
down_and_unknown_hosts_skipped(void **state)
{
	int full;

	p1.link = NULL;
	p2.host_slots = 0; /* no LOAD yet */
	assert_null(mig__place_pick(&d, 1, &full));
	assert_false(full);
	assert_null(mig__place_pick(&d, 0, &full));
	assert_true(full);
}

static void
drained_and_busy_hosts_skipped(void **state)
{
	int full;

	p2.running = 2;
	p1.drained = 1;
	assert_ptr_equal(mig__place_pick(&d, 1, &full), &p2);
	p2.busy = 1;
	assert_null(mig__place_pick(&d, 1, &full));
	assert_false(full);
	assert_null(mig__place_pick(&d, 0, &full));
	assert_true(full);
	p1.drained = 0;
	assert_ptr_equal(mig__place_pick(&d, 0, &full), &p1);
	assert_false(full);
}

static void
own_jobs_count_before_load(void **state)
{
	int full;

	/* The host still says it runs nothing, but this home sent 4. */
	p1.mine = 4;
	p2.mine = 4;
	assert_null(mig__place_pick(&d, 0, &full));
	assert_true(full);
	p2.mine = 3;
	assert_ptr_equal(mig__place_pick(&d, 0, &full), &p2);
	assert_false(full);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(most_free_wins, setup),
		cmocka_unit_test_setup(ties_stay_home_then_first, setup),
		cmocka_unit_test_setup(hosts_file_slots_cap, setup),
		cmocka_unit_test_setup(down_and_unknown_hosts_skipped, setup),
		cmocka_unit_test_setup(own_jobs_count_before_load, setup),
		cmocka_unit_test_setup(drained_and_busy_hosts_skipped, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
