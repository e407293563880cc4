/*
 * home.c: mig CMD. A program the policy places (mig gcc -c x.c, or
 * CC="mig gcc" in a makefile) is placed right away; any other (mig make
 * -j32) runs here with the shim in home role, which places the programs
 * it starts.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launcher.h"
#include "mig/proto.h"
#include "policy.h"
#include "shimenv.h"

extern char **environ;

void
mig__exec_failed(const char *cmd, int err)
{
	fprintf(stderr, "mig: %s: %s\n", cmd,
	    err == MIG__ERR(ENOENT) ? "command not found" : mig_strerror(err));
	exit(err == MIG__ERR(ENOENT) ? MIG_EXIT_NOTFOUND : MIG_EXIT_NOEXEC);
}

void
mig__policy(char *out, size_t size)
{
	char dir[PATH_MAX], path[PATH_MAX], err[512];

	if (mig_config_dir(dir, sizeof(dir)) != 0 ||
	    mig_path(path, sizeof(path), dir, "policy") != 0)
		mig__fatal("config dir path too long");
	if (mig__policy_load(path, out, size, err, sizeof(err)) != 0)
		mig__fatal("%s", err);
}

int
mig__home_main(char **argv)
{
	static char policy[4096], shim[PATH_MAX], self[PATH_MAX];
	static char vpolicy[4200], vstub[PATH_MAX + 16], vsock[PATH_MAX + 16];
	char *extra[] = { (char *)"__MIG_ROLE=home", vstub, vpolicy, vsock,
		NULL };
	char dir[PATH_MAX];
	size_t n = 0;
	char **env, *buf;
	ssize_t len;

	mig__policy(policy, sizeof(policy));
	switch (mig__policy_match(policy, argv[0])) {
	case 1:
		/* A default pattern: only what the shim can follow. */
		if (mig__path_search(argv[0], getenv("PATH"), shim,
		    sizeof(shim)) == 0 && mig__unshimmable(shim) != NULL)
			break;
		/* FALLTHROUGH */
	case 2:
		mig__run("", argv, MIG_JOB_PLACE);
	}
	/* Stubs reach the daemon at its socket without starting one. */
	mig__close(mig__reach(NULL, 1));
	if (mig__beside_self("libmig.so", shim, sizeof(shim)) != 0)
		mig__fatal("libmig.so is not installed beside mig");
	if ((len = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		mig__fatal("cannot find myself: %s", strerror(errno));
	self[len] = '\0';
	snprintf(vstub, sizeof(vstub), "__MIG_STUB=%s", self);
	snprintf(vpolicy, sizeof(vpolicy), "__MIG_POLICY=%s", policy);
	if (mig_runtime_dir(dir, sizeof(dir)) != 0)
		mig__fatal("runtime dir path too long");
	snprintf(vsock, sizeof(vsock), "__MIG_SOCK=%s/homed.sock", dir);
	while (environ[n] != NULL)
		n++;
	n += 8;
	if ((env = calloc(n, sizeof(*env))) == NULL ||
	    (buf = malloc(1 << 16)) == NULL)
		mig__fatal("out of memory");
	if (mig__shimenv(environ, shim, extra, env, n, buf, 1 << 16) < 0)
		mig__fatal("the environment is too large for the shim");
	mig__exec_failed(argv[0], mig__exec_raw(argv[0], argv, env));
}
