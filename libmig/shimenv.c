/*
 * shimenv.c: the environment a process gets when the shim must follow it,
 * built without the heap (the shim calls it in exec paths, possibly in a
 * vfork child). Compiled into libmigcore (the launcher, the daemon) and
 * into libmig.so.
 *
 * From envp it makes envp with:
 *   - LD_PRELOAD=<shim>[ <the user's own LD_PRELOAD>], in place of the
 *     user's LD_PRELOAD or, when there is none, at the end;
 *   - __MIG_LD_PRELOAD=<the user's value> or __MIG_LD_PRELOAD_UNSET=1,
 *     which tells the shim what to put back (libmig/preload/env.c);
 *   - the extra "__MIG_x=y" variables given;
 * and without any other "__MIG_" variable. Old copies of the shim in the
 * user's LD_PRELOAD are dropped, so it never stacks up.
 */
#include <string.h>

#include "shimenv.h"

static int
put(char **buf, size_t *left, const char *a, const char *b, size_t blen,
    char **s)
{
	size_t alen = strlen(a);

	if (alen + blen + 1 > *left)
		return -1;
	*s = *buf;
	memcpy(*buf, a, alen);
	memcpy(*buf + alen, b, blen);
	(*buf)[alen + blen] = '\0';
	*buf += alen + blen + 1;
	*left -= alen + blen + 1;
	return 0;
}

/* The user's LD_PRELOAD without the shim, into buf. */
static int
user_preload(const char *v, const char *shim, char *out, size_t size)
{
	size_t n = 0, slen = strlen(shim);

	while (*v != '\0') {
		size_t w;
		v += strspn(v, " :");
		w = strcspn(v, " :");
		if (w == 0)
			break;
		if (!(w == slen && memcmp(v, shim, w) == 0)) {
			if (n + w + 2 > size)
				return -1;
			if (n > 0)
				out[n++] = ' ';
			memcpy(out + n, v, w);
			n += w;
		}
		v += w;
	}
	out[n] = '\0';
	return 0;
}

ssize_t
mig__shimenv(char *const envp[], const char *shim, char *const extra[],
    char **out, size_t nout, char *buf, size_t nbuf)
{
	size_t n = 0, need = 4;
	char user[4096];
	char **slot = NULL;
	const char *had = NULL;

	for (size_t i = 0; envp != NULL && envp[i] != NULL; i++)
		need++;
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
		need++;
	if (need > nout)
		return -1;
	for (size_t i = 0; envp != NULL && envp[i] != NULL; i++) {
		if (strncmp(envp[i], MIG_SHIMENV_PREFIX,
		    sizeof(MIG_SHIMENV_PREFIX) - 1) == 0)
			continue;
		if (strncmp(envp[i], "LD_PRELOAD=", 11) == 0) {
			if (slot != NULL)
				continue; /* the loader reads the first one */
			had = envp[i] + 11;
			slot = &out[n];
		}
		out[n++] = envp[i];
	}
	if (slot == NULL)
		slot = &out[n++];
	if (had != NULL) {
		if (user_preload(had, shim, user, sizeof(user)) != 0)
			return -1;
		if (user[0] != '\0') {
			char both[8192];
			size_t sl = strlen(shim), ul = strlen(user);
			if (sl + ul + 2 > sizeof(both))
				return -1;
			memcpy(both, shim, sl);
			both[sl] = ' ';
			memcpy(both + sl + 1, user, ul + 1);
			if (put(&buf, &nbuf, "LD_PRELOAD=", both, sl + ul + 1,
			    slot) != 0 ||
			    put(&buf, &nbuf, MIG_SHIMENV_SAVED, had,
				strlen(had), &out[n++]) != 0)
				return -1;
		} else {
			had = NULL;
		}
	}
	if (had == NULL) {
		if (put(&buf, &nbuf, "LD_PRELOAD=", shim, strlen(shim),
		    slot) != 0)
			return -1;
		out[n++] = (char *)MIG_SHIMENV_UNSET;
	}
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
		out[n++] = extra[i];
	out[n] = NULL;
	return (ssize_t)n;
}
