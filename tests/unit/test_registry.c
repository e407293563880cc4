/*
 * test_registry.c: the registry (homed/transport/registry.c) and the
 * load counter (homed/load.c) on a real libuv loop, without links: the
 * roles' counts add up; changes made in one loop turn are told to every
 * load_changed watcher once, on the next; a change a watcher makes asks
 * for another turn; clock_changed reaches its watchers; and a watcher or
 * handler past the tables' size stops the daemon with a mig: line
 * instead of being dropped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "homed.h"

/* The reaper also tears down links and clients, and the loop writes
 * what they queued: there are none here. */
void
mig__links_reap(struct homed *d)
{
}

void
mig__clients_reap(struct homed *d)
{
}

void
mig__links_flush(struct homed *d)
{
}

void
mig__clients_flush(struct homed *d)
{
}

static struct homed d;
static uv_loop_t loop;
static int told[2];
static uint32_t seen;

static void
on_load0(struct homed *h)
{
	told[0]++;
	seen = mig__load_running(h);
}

static void
on_load1(struct homed *h)
{
	told[1]++;
	/* A watcher that takes a slot (the home role placing a job). */
	if (told[1] == 1)
		mig__load_add(h, LOAD_HOME, 1);
}

static int clocked;

static void
on_clock(struct link *l)
{
	clocked++;
}

static int
setup(void **state)
{
	memset(&d, 0, sizeof(d));
	memset(told, 0, sizeof(told));
	assert_int_equal(uv_loop_init(&loop), 0);
	d.loop = &loop;
	TAILQ_INIT(&d.links);
	TAILQ_INIT(&d.clients);
	mig__reaper_init(&d);
	return 0;
}

static int
teardown(void **state)
{
	uv_close((uv_handle_t *)&d.reaper, NULL);
	uv_close((uv_handle_t *)&d.flush, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	return 0;
}

static void
load_told_once_next_turn(void **state)
{
	static const struct watcher w0 = { .load_changed = on_load0 };
	static const struct watcher w1 = { .load_changed = on_load1 };

	mig__watch(&d, &w0);
	mig__watch(&d, &w1);
	mig__load_add(&d, LOAD_HOST, 1);
	mig__load_add(&d, LOAD_HOST, 1);
	mig__load_add(&d, LOAD_HOME, 1);
	mig__load_add(&d, LOAD_HOST, -1);
	assert_int_equal(mig__load_running(&d), 2);
	/* Nothing is told in the turn that changed it. */
	assert_int_equal(told[0] + told[1], 0);
	uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(told[0], 1);
	assert_int_equal(told[1], 1);
	assert_int_equal(seen, 2);
	/* w1 took a slot while being told: one more turn tells it. */
	uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(told[0], 2);
	assert_int_equal(seen, 3);
	assert_int_equal(d.running[LOAD_HOME], 2);
	assert_int_equal(d.running[LOAD_HOST], 1);
	/* Nothing changed since: nothing more is told. */
	uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(told[0], 2);
	assert_int_equal(told[1], 2);
	/* A peer's load or this host's slots: told the same way. */
	mig__load_changed(&d);
	uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(told[0], 3);
}

static void
clock_told(void **state)
{
	static const struct watcher w = { .clock_changed = on_clock };
	static const struct watcher other = { .load_changed = on_load0 };
	struct link l = { .d = &d };

	mig__watch(&d, &other);
	mig__watch(&d, &w);
	clocked = 0;
	mig__notify_clock(&l);
	assert_int_equal(clocked, 1);
}

/* Runs fn in a child; returns its exit status, its stderr in err. */
static int
in_child(void (*fn)(void), char *err, size_t n)
{
	int p[2], status;
	ssize_t got;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	assert_true((pid = fork()) >= 0);
	if (pid == 0) {
		dup2(p[1], 2);
		fn();
		_exit(0);
	}
	close(p[1]);
	n--;
	while (n > 0 && (got = read(p[0], err, n)) > 0) {
		err += got;
		n -= (size_t)got;
	}
	*err = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void
fill_watchers(void)
{
	static const struct watcher w = { .clock_changed = on_clock };

	for (int i = 0; i <= MIG_WATCHERS; i++)
		mig__watch(&d, &w);
}

static void
fill_exactly(void)
{
	static const struct watcher w = { .clock_changed = on_clock };

	for (int i = 0; i < MIG_WATCHERS; i++)
		mig__watch(&d, &w);
}

static void
bad_type(void)
{
	mig__on_link_frame(&d, MIG_M__COUNT, NULL);
}

static void
tables_full_are_loud(void **state)
{
	char err[512];

	assert_int_equal(in_child(fill_exactly, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(in_child(fill_watchers, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "mig: internal limit: more than "
	    "MIG_WATCHERS (16) watchers registered"));
	assert_int_equal(in_child(bad_type, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "mig: internal limit: a handler for "
	    "message type"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(load_told_once_next_turn,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(clock_told, setup, teardown),
		cmocka_unit_test_setup_teardown(tables_full_are_loud, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
