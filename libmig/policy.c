/*
 * policy.c: the user's policy file, ~/.config/mig/policy. One pattern a
 * line adds programs to place; "!pattern" takes a default one out; '#'
 * starts a comment. Patterns are those of policy_match.c; the user's go
 * first, marked '=' (programs they name are placed even when the shim
 * cannot follow them).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "policy.h"

static int
append(char *out, size_t size, const char *p, size_t n)
{
	size_t len = strlen(out);

	if (len + n + 2 > size)
		return -1;
	if (len > 0)
		out[len++] = ':';
	memcpy(out + len, p, n);
	out[len + n] = '\0';
	return 0;
}

/* Appends to the last entry without a separator. */
static int
append_more(char *out, size_t size, const char *p, size_t n)
{
	size_t len = strlen(out);

	if (len + n + 1 > size)
		return -1;
	memcpy(out + len, p, n);
	out[len + n] = '\0';
	return 0;
}

int
mig__policy_load(const char *path, char *out, size_t size, char *err,
    size_t errsize)
{
	char line[512], removed[4096] = "";
	const char *d = MIG_POLICY_DEFAULT;
	size_t lineno = 0;
	FILE *f;
	int r = 0;

	out[0] = '\0';
	if ((f = fopen(path, "re")) == NULL && errno != ENOENT) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		return MIG_ECONFIG;
	}
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		char *p = line, *hash = strchr(line, '#');
		size_t n;
		lineno++;
		if (hash != NULL)
			*hash = '\0';
		p += strspn(p, " \t\r\n");
		n = strcspn(p, " \t\r\n");
		if (n == 0)
			continue;
		if (p[n + strspn(p + n, " \t\r\n")] != '\0' ||
		    memchr(p, ':', n) != NULL || (p[0] == '!' && n == 1)) {
			snprintf(err, errsize, "%s:%zu: expected one program "
			    "name or pattern a line", path, lineno);
			r = MIG_ECONFIG;
			break;
		}
		if ((p[0] == '!' ? append(removed, sizeof(removed), p + 1,
			 n - 1) : append(out, size, "=", 1) ||
			 append_more(out, size, p, n)) != 0) {
			snprintf(err, errsize, "%s: too long", path);
			r = MIG_ECONFIG;
			break;
		}
	}
	if (f != NULL)
		fclose(f);
	if (r != 0)
		return r;
	/* Defaults not taken out follow the user's own patterns. */
	while (*d != '\0') {
		size_t n = strcspn(d, ":");
		char one[128];
		if (n < sizeof(one)) {
			memcpy(one, d, n);
			one[n] = '\0';
			if (!mig__policy_match(removed, one) &&
			    append(out, size, d, n) != 0)
				return MIG_ECONFIG;
		}
		d += n + (d[n] == ':');
	}
	return 0;
}
