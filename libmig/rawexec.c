/*
 * rawexec.c: exec for mig's own programs, which must not go through the
 * shim that may be preloaded into them (a stub runs under make's
 * LD_PRELOAD): the system call itself, with execvp's PATH search.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core.h"

static void
try(const char *path, char *const argv[], char *const envp[])
{
	syscall(SYS_execve, path, argv, envp);
	if (errno == ENOEXEC) {
		/* A script without "#!": the shell runs it, as execvp does. */
		size_t n = 0;
		while (argv[n] != NULL)
			n++;
		char *sh[n + 2];
		sh[0] = (char *)"sh";
		sh[1] = (char *)path;
		memcpy(sh + 2, argv + 1, n * sizeof(*sh));
		syscall(SYS_execve, "/bin/sh", sh, envp);
		errno = ENOEXEC;
	}
}

int
mig__path_search(const char *file, const char *path, char *buf, size_t size)
{
	const char *p;

	if (strchr(file, '/') != NULL)
		return snprintf(buf, size, "%s", file) < (int)size ? 0 :
		    MIG_ETOOBIG;
	if (path == NULL)
		path = "/bin:/usr/bin";
	for (p = path;; p += strcspn(p, ":") + 1) {
		size_t n = strcspn(p, ":");
		if (snprintf(buf, size, "%.*s%s%s", (int)n, p, n > 0 ? "/" : "",
		    file) < (int)size && access(buf, X_OK) == 0)
			return 0;
		if (p[n] == '\0')
			return MIG__ERR(ENOENT);
	}
}

int
mig__exec_raw(const char *file, char *const argv[], char *const envp[])
{
	const char *path = getenv("PATH"), *p;
	char buf[PATH_MAX];
	int seen_eacces = 0;

	if (strchr(file, '/') != NULL) {
		try(file, argv, envp);
		return MIG__ERR(errno);
	}
	if (path == NULL)
		path = "/bin:/usr/bin";
	for (p = path;; p += strcspn(p, ":") + 1) {
		size_t n = strcspn(p, ":");
		if (snprintf(buf, sizeof(buf), "%.*s%s%s", (int)n, p,
		    n > 0 ? "/" : "", file) < (int)sizeof(buf)) {
			try(buf, argv, envp);
			if (errno == EACCES)
				seen_eacces = 1;
			else if (errno != ENOENT && errno != ENOTDIR)
				return MIG__ERR(errno);
		}
		if (p[n] == '\0')
			break;
	}
	return MIG__ERR(seen_eacces ? EACCES : ENOENT);
}
