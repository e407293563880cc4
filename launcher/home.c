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
mig__policy(char *out, size_t size)
{
	char dir[PATH_MAX], path[PATH_MAX], err[512];

	if (mig_config_dir(dir, sizeof(dir)) != 0 ||
	    mig_path(path, sizeof(path), dir, "policy") != 0)
		mig__fatal("config dir path too long");
	if (mig__policy_load(path, out, size, err, sizeof(err)) != 0)
		mig__fatal("%s", err);
}

/* Does a cluster of short options (-kj8) hold -j? Letters in take_arg
 * take the rest of the word as their value, so a 'j' after one is not
 * an option. */
static int
short_jobs(const char *w, const char *take_arg)
{
	for (w++; *w != '\0'; w++) {
		if (*w == 'j')
			return 1;
		if (strchr(take_arg, *w) != NULL)
			return 0;
	}
	return 0;
}

/* Did the user give make or ninja a job count: -j, -jN, --jobs[=N], or
 * (make) MAKEFLAGS with one or a jobserver of a parent make? */
static int
jobs_given(char **argv, int make)
{
	const char *take_arg = make ? "CfIoWE" : "Cfkldtw";
	const char *mf = make ? getenv("MAKEFLAGS") : NULL;

	for (char **a = argv + 1; *a != NULL; a++) {
		if (strcmp(*a, "--") == 0)
			break;
		if (strncmp(*a, "--jobs", 6) == 0 ||
		    ((*a)[0] == '-' && (*a)[1] != '-' &&
		    short_jobs(*a, take_arg)))
			return 1;
	}
	if (mf == NULL)
		return 0;
	/* MAKEFLAGS: a first word of flag letters without a dash ("kj"),
	 * then options ("-j8 --jobserver-auth=3,4"), then variables. */
	for (const char *w = mf; *w != '\0';) {
		size_t n;
		w += strspn(w, " ");
		n = strcspn(w, " ");
		if (w == mf + strspn(mf, " ") && w[0] != '-' &&
		    memchr(w, '=', n) == NULL && memchr(w, 'j', n) != NULL)
			return 1;
		if ((n >= 2 && strncmp(w, "-j", 2) == 0) ||
		    (n >= 6 && strncmp(w, "--jobs", 6) == 0))
			return 1;
		w += n;
	}
	return 0;
}

/* make and ninja with no job count get one per slot of the hosts that
 * are up, home's included. The count goes first, so that a -j the user
 * hid where jobs_given cannot see it still wins (the last -j does). */
static char **
with_jobs(char **argv, int verbose)
{
	static char jobs[24];
	const char *base = strrchr(argv[0], '/');
	uint32_t slots, up, left;
	char cwd[PATH_MAX];
	size_t n = 0;
	char **out;
	int make;

	base = base != NULL ? base + 1 : argv[0];
	make = strcmp(base, "make") == 0 || strcmp(base, "gmake") == 0;
	if (!make && strcmp(base, "ninja") != 0)
		return argv;
	if (jobs_given(argv, make)) {
		if (verbose)
			fprintf(stderr, "mig: %s has a job count: kept\n", base);
		return argv;
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return argv;
	mig__cluster_slots(cwd, &slots, &up, &left);
	if (slots == 0)
		return argv;
	snprintf(jobs, sizeof(jobs), "-j%u", slots);
	if (verbose)
		fprintf(stderr, "mig: %s: %u slot%s on %u host%s up\n", jobs,
		    slots, slots == 1 ? "" : "s", up, up == 1 ? "" : "s");
	if (verbose && left > 0)
		fprintf(stderr, "mig: %u host%s up left out: cannot serve "
		    "home's files, and %s is not proven home's there\n", left,
		    left == 1 ? "" : "s", cwd);
	while (argv[n] != NULL)
		n++;
	if ((out = calloc(n + 2, sizeof(*out))) == NULL)
		mig__fatal("out of memory");
	out[0] = argv[0];
	out[1] = jobs;
	memcpy(out + 2, argv + 1, n * sizeof(*out));
	return out;
}

int
mig__home_main(char **argv, int verbose)
{
	static char policy[4096], shim[PATH_MAX], self[PATH_MAX];
	static char vpolicy[4200], vstub[PATH_MAX + 16], vsock[PATH_MAX + 16];
	static char vbuild[64];
	char *extra[] = { (char *)"__MIG_ROLE=home", vstub, vpolicy, vsock,
		vbuild, NULL };
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
	argv = with_jobs(argv, verbose);
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
	mig__build_mark(dir, vbuild, sizeof(vbuild));
	while (environ[n] != NULL)
		n++;
	/* mig__shimenv's own four, and the extras. */
	n += 4 + sizeof(extra) / sizeof(*extra);
	if ((env = calloc(n, sizeof(*env))) == NULL ||
	    (buf = malloc(1 << 16)) == NULL)
		mig__fatal("out of memory");
	if (mig__shimenv(environ, shim, extra, env, n, buf, 1 << 16) < 0)
		mig__fatal("the environment is too large for the shim");
	mig__exec_failed(argv[0], mig__exec_raw(argv[0], argv, env));
}
