/* test_probe.c: can this host serve (homed/fs/probe.c)? Run as root the
 * tests also probe as an unprivileged user (nobody), once with the
 * machine's /dev/fuse and once with a private node for the same device
 * that nobody may open: mode 0666 on a node of our own instead of a
 * chmod of /dev/fuse, so no other process on the machine sees a change. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core.h"
#include "fs.h"

#define NOBODY 65534

static int
userns_enabled(void)
{
	char *text = NULL;
	size_t len;
	int on = 1;

	if (mig__slurp("/proc/sys/user/max_user_namespaces", 64, &text,
	    &len) == 0) {
		on = atoi(text) > 0;
		free(text);
	}
	return on;
}

/* Runs the probe as NOBODY in a child; the answer comes back in *out. */
static void
probe_as_nobody(const struct mig_fs_probe_opts *o, struct mig_fs_probe *out)
{
	int p[2], status;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	assert_true((pid = fork()) >= 0);
	if (pid == 0) {
		struct mig_fs_probe res;
		close(p[0]);
		if (setgroups(0, NULL) != 0 || setresgid(NOBODY, NOBODY, NOBODY) ||
		    setresuid(NOBODY, NOBODY, NOBODY) != 0)
			_exit(3);
		/* A process that changed its ids is not dumpable, and then its
		 * /proc/self files are root's: a daemon started as the user is
		 * dumpable, as this makes us again. */
		prctl(PR_SET_DUMPABLE, 1);
		if (mig__fs_probe_with(o, &res) != 0)
			_exit(4);
		_exit(write(p[1], &res, sizeof(res)) == sizeof(res) ? 0 : 5);
	}
	close(p[1]);
	assert_int_equal(read(p[0], out, sizeof(*out)), sizeof(*out));
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
probe_here(void **state)
{
	struct mig_fs_probe res;

	assert_int_equal(mig__fs_probe(&res), 0);
	printf("# probe as uid %u: %s%s\n", (unsigned)getuid(),
	    res.served ? "served" : "not served: ", res.why);
	if (access("/dev/fuse", R_OK | W_OK) == 0 && userns_enabled() &&
	    geteuid() == 0) {
		/* root with a FUSE device: nothing may stop it */
		assert_int_equal(res.served, 1);
	}
	if (access("/dev/fuse", R_OK | W_OK) != 0) {
		assert_int_equal(res.served, 0);
		assert_string_equal(res.why, errno == ENOENT ?
		    "no /dev/fuse (is the fuse module loaded?)" :
		    "/dev/fuse is not readable and writable by this user");
	}
	if (res.served)
		assert_string_equal(res.why, "");
	else
		assert_true(strlen(res.why) > 0);
}

static void
no_device(void **state)
{
	struct mig_fs_probe_opts o = { .fuse_dev = "/nonexistent/fuse" };
	struct mig_fs_probe res;

	if (!userns_enabled())
		skip();
	assert_int_equal(mig__fs_probe_with(&o, &res), 0);
	assert_int_equal(res.served, 0);
	assert_string_equal(res.why,
	    "no /nonexistent/fuse (is the fuse module loaded?)");
}

static void
not_fuse(void **state)
{
	/* Opens fine, but is no FUSE device: the mount is what fails. */
	struct mig_fs_probe_opts o = { .fuse_dev = "/dev/null" };
	struct mig_fs_probe res;

	if (!userns_enabled() || access("/dev/fuse", F_OK) != 0)
		skip();
	assert_int_equal(mig__fs_probe_with(&o, &res), 0);
	assert_int_equal(res.served, 0);
	assert_non_null(strstr(res.why, "cannot mount FUSE in a user namespace"));
}

static void
nobody_machine_device(void **state)
{
	struct mig_fs_probe res;
	struct stat sb;

	if (geteuid() != 0 || stat("/dev/fuse", &sb) != 0 || !userns_enabled()) {
		printf("# skipped: needs root, /dev/fuse and user namespaces\n");
		skip();
	}
	probe_as_nobody(NULL, &res);
	printf("# probe as nobody: %s%s\n", res.served ? "served" :
	    "not served: ", res.why);
	if ((sb.st_mode & 0006) == 0006) {
		assert_int_equal(res.served, 1);
	} else {
		assert_int_equal(res.served, 0);
		assert_string_equal(res.why,
		    "/dev/fuse is not readable and writable by this user");
	}
}

static void
nobody_open_device(void **state)
{
	char dir[PATH_MAX], node[PATH_MAX];
	struct mig_fs_probe_opts o = { 0 };
	struct mig_fs_probe res;
	struct stat sb;

	if (geteuid() != 0 || stat("/dev/fuse", &sb) != 0 || !userns_enabled()) {
		printf("# skipped: needs root, /dev/fuse and user namespaces\n");
		skip();
	}
	snprintf(dir, sizeof(dir), "/tmp/mig-test-probe.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(node, sizeof(node), "%s/fuse", dir);
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(mknod(node, S_IFCHR | 0666, sb.st_rdev), 0);
	assert_int_equal(chmod(node, 0666), 0); /* past the umask */
	o.fuse_dev = node;
	probe_as_nobody(&o, &res);
	unlink(node);
	rmdir(dir);
	printf("# probe as nobody with an open device: %s%s\n",
	    res.served ? "served" : "not served: ", res.why);
	assert_int_equal(res.served, 1);
	assert_string_equal(res.why, "");
}

/* Open fds, to see that a probe leaves none behind. */
static int
open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			n++;
	return n;
}

static pid_t
fork_fails(void)
{
	errno = EAGAIN;
	return -1;
}

/* A child that ends before it can report (killed, say). */
static pid_t
fork_dies(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	return pid;
}

static void
start_fork_fails(void **state)
{
	struct mig_fs_probe_run run;
	int before = open_fds();

	assert_int_equal(mig__fs_probe_start(NULL, fork_fails, &run),
	    MIG__ERR(EAGAIN));
	assert_int_equal(open_fds(), before);
}

static void
start_then_finish(void **state)
{
	struct mig_fs_probe_opts o = { .fuse_dev = "/nonexistent/fuse" };
	struct mig_fs_probe_run run;
	struct mig_fs_probe res;
	int before = open_fds(), st;

	/* The caller reaps; finish only reads what the child left. */
	assert_int_equal(mig__fs_probe_start(&o, fork_dies, &run), 0);
	assert_true(run.pid > 0);
	assert_int_equal(waitpid(run.pid, &st, 0), run.pid);
	mig__fs_probe_finish(&run, &res);
	assert_int_equal(res.served, 0);
	assert_string_equal(res.why, "the probe failed (no report)");
	assert_int_equal(open_fds(), before);
	if (!userns_enabled())
		return;
	assert_int_equal(mig__fs_probe_start(&o, fork, &run), 0);
	assert_int_equal(waitpid(run.pid, &st, 0), run.pid);
	mig__fs_probe_finish(&run, &res);
	assert_int_equal(res.served, 0);
	assert_string_equal(res.why,
	    "no /nonexistent/fuse (is the fuse module loaded?)");
	assert_int_equal(open_fds(), before);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(probe_here),
		cmocka_unit_test(no_device),
		cmocka_unit_test(not_fuse),
		cmocka_unit_test(nobody_machine_device),
		cmocka_unit_test(nobody_open_device),
		cmocka_unit_test(start_fork_fails),
		cmocka_unit_test(start_then_finish),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
