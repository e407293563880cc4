/*
 * scratch.c: a unit test's scratch folder of files (scratch.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "scratch.h"

char scratch_dir[PATH_MAX];

int
scratch_make(const char *what)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(scratch_dir, sizeof(scratch_dir), "%s/mig-test-%s-XXXXXX",
	    tmp != NULL ? tmp : "/tmp", what);
	return mkdtemp(scratch_dir) != NULL ? 0 : -1;
}

int
scratch_remove(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch_dir);
	return system(cmd) == 0 ? 0 : -1;
}

void
scratch_path(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", scratch_dir, name);
}

void
scratch_write(const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	scratch_path(name, path, sizeof(path));
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

void
scratch_settle(const char *name)
{
	char path[PATH_MAX];
	struct stat sb;
	struct timespec now, nap = { 0, 1000000 };

	scratch_path(name, path, sizeof(path));
	assert_int_equal(stat(path, &sb), 0);
	for (;;) {
		clock_gettime(CLOCK_REALTIME_COARSE, &now);
		if (sb.st_ctim.tv_sec < now.tv_sec ||
		    (sb.st_ctim.tv_sec == now.tv_sec &&
		    sb.st_ctim.tv_nsec < now.tv_nsec))
			return;
		nanosleep(&nap, NULL);
	}
}
