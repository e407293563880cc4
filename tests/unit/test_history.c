/*
 * test_history.c: the run history kept in the user's state folder
 * (homed/home/history.c). It is written through a new temporary file
 * renamed into place, so a symbolic link at the history's name, or at
 * any name beside it, is never followed; a state folder another user
 * owns or may write to is refused, and the history then not kept. Each
 * case checks that the file a link leads to is unchanged. Only ends
 * that time a program's run are recorded.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "homed.h"

/* What the file a planted link leads to holds: a history line too, so
 * that a load through the link would show. */
#define VICTIM "evil 3 0 3 1 1 1\n"

static char dir[PATH_MAX];      /* XDG_STATE_HOME */
static char state[PATH_MAX];    /* its mig/ */
static char history[PATH_MAX];  /* state/history-vic */
static char victim[PATH_MAX];   /* a file of the user's, elsewhere */
static struct homed d;

static int
setup(void **unused)
{
	char tmpl[] = "/tmp/mig-test-history.XXXXXX";
	FILE *f;

	assert_non_null(mkdtemp(tmpl));
	strlcpy(dir, tmpl, sizeof(dir));
	snprintf(state, sizeof(state), "%s/mig", dir);
	snprintf(history, sizeof(history), "%s/history-vic", state);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	assert_int_equal(mkdir(state, 0700), 0);
	assert_non_null(f = fopen(victim, "w"));
	fputs(VICTIM, f);
	fclose(f);
	setenv("XDG_STATE_HOME", dir, 1);
	memset(&d, 0, sizeof(d));
	strlcpy(d.name, "vic", sizeof(d.name));
	return 0;
}

static int
teardown(void **unused)
{
	char cmd[PATH_MAX + 16];

	mig__history_free(&d);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* The whole of path, or "" when it cannot be read. */
static const char *
contents(const char *path)
{
	static char buf[512];
	ssize_t n;
	int fd;

	buf[0] = '\0';
	if ((fd = open(path, O_RDONLY)) < 0)
		return buf;
	n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	return buf;
}

/* A daemon's life: load, a run of cc, save. */
static void
run_once(void)
{
	mig__history_load(&d);
	mig__history_add(&d, "cc", 1234, 1);
	mig__history_save(&d);
}

static void
kept_and_read_back(void **unused)
{
	struct stat st;

	run_once();
	assert_int_equal(lstat(history, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 077, 0);
	assert_string_equal(contents(history), "cc 1 1 1 1234\n");
	mig__history_free(&d);
	mig__history_load(&d);
	assert_int_equal(d.nhistory, 1);
	assert_string_equal(d.history[0].prog, "cc");
}

/* A link at the history's name: not read, not written through; the
 * history replaces the link. */
static void
history_a_symlink(void **unused)
{
	struct stat st;

	assert_int_equal(symlink(victim, history), 0);
	run_once();
	assert_string_equal(contents(victim), VICTIM);
	assert_int_equal(d.nhistory, 1); /* evil was not read */
	assert_int_equal(lstat(history, &st), 0);
	assert_true(S_ISREG(st.st_mode));
}

/* A link at the name the temporary file once had. */
static void
temporary_a_symlink(void **unused)
{
	char tmp[PATH_MAX + 8];

	snprintf(tmp, sizeof(tmp), "%s.tmp", history);
	assert_int_equal(symlink(victim, tmp), 0);
	run_once();
	assert_string_equal(contents(victim), VICTIM);
	assert_string_equal(contents(history), "cc 1 1 1 1234\n");
}

/* A folder others may write to (they could plant those links): refused,
 * nothing written in it. */
static void
folder_open_to_others(void **unused)
{
	char tmp[PATH_MAX + 8];

	assert_int_equal(chmod(state, 0777), 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", history);
	assert_int_equal(symlink(victim, tmp), 0);
	run_once();
	assert_string_equal(d.history_path, "");
	assert_string_equal(contents(victim), VICTIM);
	assert_int_equal(access(history, F_OK), -1);
}

static void
folder_of_another_user(void **unused)
{
	if (geteuid() != 0)
		skip(); /* only root gives a folder away */
	assert_int_equal(chown(state, 65534, 65534), 0);
	run_once();
	assert_string_equal(d.history_path, "");
	assert_int_equal(access(history, F_OK), -1);
	/* The parent's owner could swap the folder. */
	assert_int_equal(chown(state, 0, 0), 0);
	assert_int_equal(chown(dir, 65534, 65534), 0);
	mig__history_free(&d);
	run_once();
	assert_string_equal(d.history_path, "");
	assert_int_equal(access(history, F_OK), -1);
}

/* Which ends time a run: a placed job's EXIT, and a job run here whose
 * program's end was watched. Unwatched (no pidfd_open: valgrind 3.19,
 * Linux before 5.3) it ends at its program's exec: three such ends of
 * a long compile must not make gcc too short to place. */
static void
unwatched_ends_time_nothing(void **unused)
{
	assert_true(mig__history_timed(JOB_RUNNING, JEV_EXIT, 0));
	assert_false(mig__history_timed(JOB_RUNNING, JEV_LINK_DOWN, 0));
	assert_false(mig__history_timed(JOB_RUNNING, JEV_CLIENT_GONE, 0));
	assert_true(mig__history_timed(JOB_LOCAL, JEV_LOCAL_EXIT, 1));
	assert_false(mig__history_timed(JOB_LOCAL, JEV_LOCAL_EXIT, 0));
	assert_false(mig__history_timed(JOB_QUEUED, JEV_CLIENT_GONE, 1));
	/* As home/job.c records an end. */
	for (int i = 0; i < 3; i++)
		if (mig__history_timed(JOB_LOCAL, JEV_LOCAL_EXIT, 0))
			mig__history_add(&d, "gcc", 2, 0);
	assert_false(mig__history_short(&d, "gcc"));
	for (int i = 0; i < 3; i++)
		if (mig__history_timed(JOB_LOCAL, JEV_LOCAL_EXIT, 1))
			mig__history_add(&d, "true", 2, 0);
	assert_true(mig__history_short(&d, "true"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(kept_and_read_back, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(history_a_symlink, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(temporary_a_symlink, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(folder_open_to_others, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(folder_of_another_user, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(unwatched_ends_time_nothing,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
