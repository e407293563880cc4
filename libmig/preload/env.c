/*
 * env.c: the shim's own variables. A process started with the shim gets
 * them from whoever started it (the launcher, the host daemon, or the
 * shim in its parent, see libmig/shimenv.c). At start-up this file keeps
 * them in static storage and takes them out of environ, in place and
 * without the heap, so that the program sees exactly the environment it
 * would have had without mig; exec.c puts them back into every child's.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "preload.h"
#include "shimenv.h"

extern char **environ;

struct mig_shim mig__shim;

/* One "__MIG_x=y" of ours. An entry without '=' (execve takes any
 * string) names nothing and is not passed on; env_init still takes it
 * out of environ, as every "__MIG_" entry. */
static void
keep(const char *var)
{
	const char *eq = strchr(var, '='), *v;
	size_t n = strlen(var);

	if (eq == NULL)
		return;
	v = eq + 1;

	if (strncmp(var, "__MIG_ROLE=", 11) == 0) {
		if (strcmp(v, "home") == 0)
			mig__shim.role = MIG_ROLE_HOME;
		else if (strcmp(v, "remote") == 0)
			mig__shim.role = MIG_ROLE_REMOTE;
	} else if (strncmp(var, "__MIG_STUB=", 11) == 0) {
		if (strlen(v) < sizeof(mig__shim.stub))
			strcpy(mig__shim.stub, v);
	} else if (strncmp(var, "__MIG_POLICY=", 13) == 0) {
		if (strlen(v) < sizeof(mig__shim.policy))
			strcpy(mig__shim.policy, v);
	} else if (strncmp(var, "__MIG_IDENT_FD=", 15) == 0) {
		mig__shim.ident_fd = atoi(v);
	} else if (strncmp(var, "__MIG_PRELOAD=", 14) == 0) {
		if (strlen(v) < sizeof(mig__shim.self))
			strcpy(mig__shim.self, v);
	} else if (strncmp(var, "__MIG_JOB=", 10) == 0) {
		mig__shim.job = (unsigned)strtoul(v, NULL, 10);
	} else if (strncmp(var, "__MIG_SOCK=", 11) == 0) {
		if (strlen(v) < sizeof(mig__shim.sock))
			strcpy(mig__shim.sock, v);
	}
	/* Everything but the LD_PRELOAD markers goes on to children. */
	if (strncmp(var, MIG_SHIMENV_SAVED, sizeof(MIG_SHIMENV_SAVED) - 1) == 0 ||
	    strncmp(var, "__MIG_LD_PRELOAD_UNSET=", 23) == 0)
		return;
	if (mig__shim.nvars + 1 >= MIG_SHIM_MAXVARS ||
	    mig__shim.used + n + 1 > sizeof(mig__shim.store))
		return;
	mig__shim.vars[mig__shim.nvars++] = mig__shim.store + mig__shim.used;
	memcpy(mig__shim.store + mig__shim.used, var, n + 1);
	mig__shim.used += n + 1;
	mig__shim.vars[mig__shim.nvars] = NULL;
}

/* With save, each of ours is kept first (keep). */
static void
strip(char **env, int save)
{
	char **e, **out, **end, **preload = NULL, *saved = NULL;
	int unset = 0;

	for (e = env; *e != NULL; e++) {
		if (strncmp(*e, "LD_PRELOAD=", 11) == 0 && preload == NULL)
			preload = e;
		else if (strncmp(*e, MIG_SHIMENV_SAVED,
		    sizeof(MIG_SHIMENV_SAVED) - 1) == 0)
			saved = *e;
		else if (strcmp(*e, MIG_SHIMENV_UNSET) == 0)
			unset = 1;
		if (save && strncmp(*e, MIG_SHIMENV_PREFIX,
		    sizeof(MIG_SHIMENV_PREFIX) - 1) == 0)
			keep(*e);
	}
	if (saved == NULL && !unset)
		return;
	/* "__MIG_LD_PRELOAD=x" ends with "LD_PRELOAD=x": reuse it. */
	if (preload != NULL)
		*preload = saved != NULL ?
		    saved + sizeof(MIG_SHIMENV_PREFIX) - 1 : NULL;
	end = preload != NULL && *preload == NULL ? preload + 1 : env;
	while (*end != NULL)
		end++;
	for (e = out = env; e < end; e++)
		if (*e != NULL && strncmp(*e, MIG_SHIMENV_PREFIX,
		    sizeof(MIG_SHIMENV_PREFIX) - 1) != 0)
			*out++ = *e;
	*out = NULL;
}

void
mig__env_init(void)
{
	Dl_info info;

	mig__shim.ident_fd = -1;
	/* Children preload this library, then the host's (__MIG_PRELOAD). */
	if (dladdr((void *)mig__env_init, &info) != 0 && info.dli_fname &&
	    strlen(info.dli_fname) < sizeof(mig__shim.self))
		strcpy(mig__shim.self, info.dli_fname);
	if (environ != NULL)
		strip(environ, 1);
}

void
mig__env_strip(char **env)
{
	strip(env, 0);
}

ssize_t
mig__env_child(char *const envp[], char **out, size_t nout, char *buf,
    size_t nbuf)
{
	return mig__shimenv(envp, mig__shim.self, mig__shim.vars, out, nout,
	    buf, nbuf);
}
