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
 * The shim takes its variables out of a program's environ, so a stub
 * reads its mark from /proc/self/environ, which holds the environment
 * it was started with.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launcher.h"
#include "rundir.h"

#define MARK_VAR "__MIG_BUILD="
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

	snprintf(var, n, MARK_VAR "%ld-%llu", pid, start_time(pid));
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

/* Our build's mark, from the environment we were started with, into
 * out; -1 when there is none. */
static int
own_mark(char *out, size_t n)
{
	char *env = NULL;
	size_t len = 0;
	int r = -1;

	if (mig__slurp("/proc/self/environ", 4u << 20, &env, &len) != 0)
		return -1;
	for (size_t i = 0; i < len; i += strnlen(env + i, len - i) + 1) {
		size_t vlen = strnlen(env + i, len - i);
		if (vlen < sizeof(MARK_VAR) - 1 || i + vlen == len ||
		    strncmp(env + i, MARK_VAR, sizeof(MARK_VAR) - 1) != 0)
			continue;
		r = strlcpy(out, env + i + sizeof(MARK_VAR) - 1, n) < n ? 0 : -1;
		break;
	}
	free(env);
	return r;
}

int
mig__build_first(const char *sock)
{
	char mark[64], dir[PATH_MAX], path[PATH_MAX + 80];
	unsigned long long start;
	const char *slash;
	long pid;
	int fd;

	if (own_mark(mark, sizeof(mark)) != 0 ||
	    parse_mark(mark, &pid, &start) != 0)
		return 1;
	/* The folder of the socket the shim named, else ours. */
	if (sock != NULL && (slash = strrchr(sock, '/')) != NULL &&
	    slash != sock && (size_t)(slash - sock) < sizeof(dir)) {
		memcpy(dir, sock, (size_t)(slash - sock));
		dir[slash - sock] = '\0';
	} else if (mig_runtime_dir(dir, sizeof(dir)) != 0) {
		return 1;
	}
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
