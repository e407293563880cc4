/*
 * policy.c: the user's policy file, ~/.config/mig/policy. One pattern a
 * line adds programs to place; "!pattern" takes a default one out; '#'
 * starts a comment. Patterns are those of policy_match.c; the user's go
 * first, marked '=' (programs they name are placed even when the shim
 * cannot follow them).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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
mig__policy_parse(const char *text, size_t len, const char *where,
    char *out, size_t size, char *err, size_t errsize)
{
	char line[512], removed[4096] = "";
	const char *d = MIG_POLICY_DEFAULT;
	size_t pos = 0, lineno = 0;

	out[0] = '\0';
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
		char *p = line, *hash;
		const char *why = NULL;

		lineno++;
		if (n >= sizeof(line))
			why = "line too long";
		else if (memchr(text + pos, '\0', n) != NULL)
			why = "NUL byte in line";
		pos += n + (nl != NULL);
		if (why == NULL) {
			memcpy(line, text + pos - n - (nl != NULL), n);
			line[n] = '\0';
			if ((hash = strchr(line, '#')) != NULL)
				*hash = '\0';
			p += strspn(p, " \t\r");
			n = strcspn(p, " \t\r");
			if (n == 0)
				continue;
			if (p[n + strspn(p + n, " \t\r")] != '\0' ||
			    memchr(p, ':', n) != NULL || memchr(p, '=', n) != NULL ||
			    (p[0] == '!' && n == 1))
				why = "expected one program name or pattern a line";
			else if ((p[0] == '!' ? append(removed, sizeof(removed),
				      p + 1, n - 1) :
					    append(out, size, "=", 1) ||
				      append_more(out, size, p, n)) != 0)
				why = "too many patterns";
		}
		if (why != NULL) {
			snprintf(err, errsize, "%s:%zu: %s", where, lineno, why);
			return MIG_ECONFIG;
		}
	}
	/* Defaults not taken out follow the user's own patterns. */
	while (*d != '\0') {
		size_t n = strcspn(d, ":");
		char one[128];
		if (n < sizeof(one)) {
			memcpy(one, d, n);
			one[n] = '\0';
			if (!mig__policy_match(removed, one) &&
			    append(out, size, d, n) != 0) {
				snprintf(err, errsize, "%s: too many patterns",
				    where);
				return MIG_ECONFIG;
			}
		}
		d += n + (d[n] == ':');
	}
	return 0;
}

int
mig__policy_load(const char *path, char *out, size_t size, char *err,
    size_t errsize)
{
	char *text = NULL;
	size_t len = 0;
	int r = mig__slurp_owned(path, "policy file", 1 << 20, &text, &len,
	    err, errsize);

	if (r == MIG__ERR(ENOENT))
		return mig__policy_parse("", 0, path, out, size, err, errsize);
	if (r != 0)
		return MIG_ECONFIG;
	r = mig__policy_parse(text, len, path, out, size, err, errsize);
	free(text);
	return r;
}
