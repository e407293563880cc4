/*
 * fuzz_shimenv.c: the shim's environment at start-up (libmig/preload/
 * env.c, which reads the "__MIG_" variables and takes them out of
 * environ) and the environment it then gives children (libmig/
 * shimenv.c), on an arbitrary environment: one entry per line of the
 * input, any bytes but NUL, with or without '='.
 */
#include <string.h>

#include "fuzz.h"
#include "preload.h"
#include "shimenv.h"

extern char **environ;

#define MAXV 256

static int
ours(const char *e)
{
	return strncmp(e, MIG_SHIMENV_PREFIX, sizeof(MIG_SHIMENV_PREFIX) - 1) ==
	    0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[8192];
	char *in[MAXV + 1], *copy[MAXV + 1], *out[MAXV + 32], buf[16384];
	char **saved = environ;
	size_t n = 0, pos = 0, k;
	ssize_t m;

	if (size >= sizeof(text) || memchr(data, '\0', size) != NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	while (pos <= size && n < MAXV) {
		char *nl = strchr(text + pos, '\n');
		in[n] = copy[n] = text + pos;
		n++;
		if (nl == NULL)
			break;
		*nl = '\0';
		pos = (size_t)(nl - text) + 1;
	}
	in[n] = copy[n] = NULL;

	memset(&mig__shim, 0, sizeof(mig__shim));
	environ = in;
	mig__env_init();
	CHECK(mig__shim.nvars < MIG_SHIM_MAXVARS);
	CHECK(mig__shim.used <= sizeof(mig__shim.store));
	CHECK(mig__shim.role == MIG_ROLE_NONE || mig__shim.role ==
	    MIG_ROLE_HOME || mig__shim.role == MIG_ROLE_REMOTE);
	CHECK(memchr(mig__shim.sock, '\0', sizeof(mig__shim.sock)) != NULL);
	CHECK(memchr(mig__shim.stub, '\0', sizeof(mig__shim.stub)) != NULL);
	for (int i = 0; i < mig__shim.nvars; i++) {
		CHECK(ours(mig__shim.vars[i]));
		CHECK(strchr(mig__shim.vars[i], '=') != NULL);
	}
	/* Without the markers shimenv.c leaves, the shim did not set up
	 * this environment and leaves it alone. */
	for (k = 0; k < n; k++)
		if (strncmp(copy[k], MIG_SHIMENV_SAVED,
		    sizeof(MIG_SHIMENV_SAVED) - 1) == 0 ||
		    strcmp(copy[k], MIG_SHIMENV_UNSET) == 0)
			break;
	if (k == n) {
		for (k = 0; k <= n; k++)
			CHECK(environ[k] == copy[k]);
		goto child;
	}
	/* What is left of environ: entries of the input, in their order,
	 * none of ours, or the user's LD_PRELOAD put back. */
	k = 0;
	for (char **e = environ; *e != NULL; e++) {
		size_t j = k;
		CHECK(!ours(*e));
		while (j < n && copy[j] != *e)
			j++;
		if (j < n)
			k = j + 1;
		else /* "__MIG_LD_PRELOAD=x" reused as the user's own */
			CHECK(strncmp(*e, "LD_PRELOAD=", 11) == 0);
	}
child:
	m = mig__env_child(environ, out, sizeof(out) / sizeof(*out), buf,
	    sizeof(buf));
	if (m >= 0) {
		int preloads = 0;
		CHECK(out[m] == NULL);
		for (ssize_t i = 0; i < m; i++) {
			CHECK(out[i] != NULL);
			if (strncmp(out[i], "LD_PRELOAD=", 11) == 0) {
				preloads++;
				CHECK(strncmp(out[i] + 11, mig__shim.self,
				    strlen(mig__shim.self)) == 0);
			}
		}
		CHECK(preloads == 1);
	}
	environ = saved;
	return 0;
}
