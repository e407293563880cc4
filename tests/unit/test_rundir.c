/* test_rundir.c: where the runtime folder is looked for when the
 * environment names none (libmig/rundir.c, mig__runtime_dir_in), and
 * mig_runtime_dir's order: MIG_RUNTIME_DIR, XDG_RUNTIME_DIR, then that
 * lookup. A temporary folder stands in for /run/user. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mig/mig.h"
#include "rundir.h"

static char base[64], mine[128], tmpdir[64], inside[160];

static int
make_base(void **state)
{
	strcpy(base, "/tmp/mig-test-rundir.XXXXXX");
	if (mkdtemp(base) == NULL)
		return -1;
	snprintf(mine, sizeof(mine), "%s/%u", base, (unsigned)getuid());
	snprintf(inside, sizeof(inside), "%s/mig", mine);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mig-%u", (unsigned)getuid());
	return 0;
}

static int
remove_base(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	return system(cmd) == 0 ? 0 : -1;
}

/* The folder mig__runtime_dir_in picks with base as /run/user. */
static void
expect_dir(const char *want)
{
	char buf[256];

	assert_int_equal(mig__runtime_dir_in(buf, sizeof(buf), base), 0);
	assert_string_equal(buf, want);
}

static void
no_user_folder(void **state)
{
	/* No /run/user/UID (no login session, no lingering): /tmp. */
	expect_dir(tmpdir);
	/* No /run/user at all. */
	assert_int_equal(rmdir(base), 0);
	expect_dir(tmpdir);
	assert_int_equal(mkdir(base, 0755), 0);
}

static void
user_folder(void **state)
{
	/* As logind makes it: the user's, 0700. */
	assert_int_equal(mkdir(mine, 0700), 0);
	expect_dir(inside);
	/* Readable by others is no one else's write. */
	assert_int_equal(chmod(mine, 0755), 0);
	expect_dir(inside);
	/* The mig folder inside is not needed yet: the daemon makes it. */
	assert_int_equal(access(inside, F_OK), -1);
}

static void
unsafe_user_folder(void **state)
{
	char target[160];

	assert_int_equal(mkdir(mine, 0700), 0);
	/* Writable by the group or by others: someone else could put a
	 * socket of theirs there. */
	assert_int_equal(chmod(mine, 0770), 0);
	expect_dir(tmpdir);
	assert_int_equal(chmod(mine, 0703), 0);
	expect_dir(tmpdir);
	assert_int_equal(chmod(mine, 01777), 0);
	expect_dir(tmpdir);
	/* A symbolic link, even to a good folder of the user's. */
	snprintf(target, sizeof(target), "%s/real", base);
	assert_int_equal(rename(mine, target), 0);
	assert_int_equal(chmod(target, 0700), 0);
	assert_int_equal(symlink(target, mine), 0);
	expect_dir(tmpdir);
	/* Not a folder. */
	assert_int_equal(unlink(mine), 0);
	fclose(fopen(mine, "w"));
	expect_dir(tmpdir);
	assert_int_equal(unlink(mine), 0);
}

static void
another_users_folder(void **state)
{
	if (geteuid() != 0) {
		/* Only root can give a folder away. */
		skip();
	}
	assert_int_equal(mkdir(mine, 0700), 0);
	assert_int_equal(chown(mine, 12345, 12345), 0);
	expect_dir(tmpdir);
	assert_int_equal(chown(mine, geteuid(), getegid()), 0);
	expect_dir(inside);
}

static void
too_small(void **state)
{
	char buf[256];

	assert_int_equal(mkdir(mine, 0700), 0);
	assert_int_equal(mig__runtime_dir_in(buf, strlen(inside), base),
	    MIG_ETOOBIG);
	assert_int_equal(mig__runtime_dir_in(buf, strlen(inside) + 1, base),
	    0);
	assert_int_equal(rmdir(mine), 0);
	assert_int_equal(mig__runtime_dir_in(buf, strlen(tmpdir), base),
	    MIG_ETOOBIG);
}

static void
order(void **state)
{
	char buf[256], want[256];
	const char *saved[2] = { getenv("MIG_RUNTIME_DIR"),
		getenv("XDG_RUNTIME_DIR") };
	char *copy[2] = { saved[0] ? strdup(saved[0]) : NULL,
		saved[1] ? strdup(saved[1]) : NULL };

	setenv("MIG_RUNTIME_DIR", "/m", 1);
	setenv("XDG_RUNTIME_DIR", "/x", 1);
	assert_int_equal(mig_runtime_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/m");
	unsetenv("MIG_RUNTIME_DIR");
	assert_int_equal(mig_runtime_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/x/mig");
	/* cron, sudo, GNU parallel: no XDG_RUNTIME_DIR. */
	unsetenv("XDG_RUNTIME_DIR");
	assert_int_equal(mig_runtime_dir(buf, sizeof(buf)), 0);
	assert_int_equal(mig__runtime_dir_in(want, sizeof(want), "/run/user"),
	    0);
	assert_string_equal(buf, want);
	for (int i = 0; i < 2; i++) {
		if (copy[i] != NULL)
			setenv(i == 0 ? "MIG_RUNTIME_DIR" : "XDG_RUNTIME_DIR",
			    copy[i], 1);
		free(copy[i]);
	}
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(no_user_folder, make_base,
		    remove_base),
		cmocka_unit_test_setup_teardown(user_folder, make_base,
		    remove_base),
		cmocka_unit_test_setup_teardown(unsafe_user_folder, make_base,
		    remove_base),
		cmocka_unit_test_setup_teardown(another_users_folder, make_base,
		    remove_base),
		cmocka_unit_test_setup_teardown(too_small, make_base,
		    remove_base),
		cmocka_unit_test(order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
