/*
 * run.c: what the mig launcher gives the stub (libmig/stub.c): its
 * daemon, started when there is none, and its build's mark; and the
 * terminal ssh's rules give a job.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launcher.h"
#include "rundir.h"

int
mig__stub_reach(const char *sock, int *fdp, char *why, size_t n)
{
	return mig__try_reach(sock, 1, fdp, why, n);
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
		if (vlen < sizeof(MIG_BUILD_VAR) - 1 || i + vlen == len ||
		    strncmp(env + i, MIG_BUILD_VAR,
		    sizeof(MIG_BUILD_VAR) - 1) != 0)
			continue;
		r = strlcpy(out, env + i + sizeof(MIG_BUILD_VAR) - 1, n) < n ?
		    0 : -1;
		break;
	}
	free(env);
	return r;
}

int
mig__stub_first(const char *sock)
{
	char mark[64], dir[PATH_MAX];
	const char *slash;

	if (own_mark(mark, sizeof(mark)) != 0)
		return 1;
	/* The folder of the socket the shim named, else ours. */
	if (sock != NULL && (slash = strrchr(sock, '/')) != NULL &&
	    slash != sock && (size_t)(slash - sock) < sizeof(dir)) {
		memcpy(dir, sock, (size_t)(slash - sock));
		dir[slash - sock] = '\0';
	} else if (mig_runtime_dir(dir, sizeof(dir)) != 0) {
		return 1;
	}
	return mig__build_first_in(dir, mark);
}

uint32_t
mig__want_tty(int tty, int command)
{
	if (tty < 0)
		return 0;
	if (tty >= 2 || (isatty(0) && (tty == 1 || !command)))
		return MIG_JOB_TTY;
	if (tty == 1)
		fprintf(stderr, "mig: warning: no terminal here to give the "
		    "job one (use -tt to insist)\n");
	return 0;
}

