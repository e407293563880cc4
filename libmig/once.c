/*
 * once.c: one warning per build. When the daemon goes away mid-build,
 * the stub of every placed program runs it here, and each used to say
 * so: a build of 60 files printed 38 identical lines. mig make marks its
 * build (__MIG_BUILD=PID-START: the pid and start time of the process
 * that becomes make), the shim hands the mark on to every process of the
 * build, and the first stub that finds the daemon gone makes the file
 * lost-PID-START in the runtime folder (O_EXCL): it alone warns. Each
 * mig make removes the files of builds that have ended.
 *
 * The shim takes its variables out of a program's environ, so the mig
 * stub reads its mark from /proc/self/environ, which holds the
 * environment it was started with; a stub the shim forked has it from
 * the shim's own variables. Shared by mig and libmig.so.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "rundir.h"
#include "stub.h"

#define MARK_FILE "lost-"

/* The start time of process pid (clock ticks after boot), or 0 when it
 * is gone. */
static unsigned long long
start_time(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long t = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	mig__close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The name may hold anything, ")" too: the fields follow the last
	 * one. The start time is field 22; state, field 3, comes first. */
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	for (int field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p != NULL)
		t = strtoull(p + 1, NULL, 10);
	return t;
}

/* A mark is digits, '-', digits: nothing that could leave the folder. */
static int
parse_mark(const char *m, long *pid, unsigned long long *start)
{
	char *end;

	if (*m < '0' || *m > '9')
		return -1;
	*pid = strtol(m, &end, 10);
	if (*end != '-' || end[1] < '0' || end[1] > '9')
		return -1;
	*start = strtoull(end + 1, &end, 10);
	return *end == '\0' && *pid > 0 ? 0 : -1;
}

void
mig__build_mark(const char *dir, char *var, size_t n)
{
	long pid = (long)getpid();
	struct dirent *e;
	DIR *d;

	snprintf(var, n, MIG_BUILD_VAR "%ld-%llu", pid, start_time(pid));
	if (mig__rundir_check(dir, NULL, 0) != 0 || (d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		unsigned long long start;
		long p;
		if (strncmp(e->d_name, MARK_FILE, sizeof(MARK_FILE) - 1) != 0 ||
		    parse_mark(e->d_name + sizeof(MARK_FILE) - 1, &p,
		    &start) != 0)
			continue;
		/* Gone, or its pid is another process's now. */
		if (start_time(p) != start)
			(void)unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

int
mig__build_first_in(const char *dir, const char *mark)
{
	char path[PATH_MAX + 80];
	unsigned long long start;
	long pid;
	int fd;

	if (mark == NULL || parse_mark(mark, &pid, &start) != 0)
		return 1;
	/* Only in a folder of the user's alone, as the daemon's socket. */
	if (mig__rundir_check(dir, NULL, 0) != 0)
		return 1;
	snprintf(path, sizeof(path), "%s/" MARK_FILE "%s", dir, mark);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1)
		return errno == EEXIST ? 0 : 1;
	mig__close(fd);
	return 2;
}
