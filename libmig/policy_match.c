/* policy_match.c: matching a program against the placement policy. */
#include <string.h>

#include "policy.h"

static int
match(const char *p, size_t plen, const char *s)
{
	if (plen == 0)
		return *s == '\0';
	if (*p == '*') {
		for (;; s++) {
			if (match(p + 1, plen - 1, s))
				return 1;
			if (*s == '\0')
				return 0;
		}
	}
	if (plen >= 5 && memcmp(p, "[0-9]", 5) == 0)
		return *s >= '0' && *s <= '9' && match(p + 5, plen - 5, s + 1);
	return *s != '\0' && *s == *p && match(p + 1, plen - 1, s + 1);
}

int
mig__policy_match(const char *policy, const char *path)
{
	const char *base = strrchr(path, '/'), *p = policy;

	base = base != NULL ? base + 1 : path;
	while (*p != '\0') {
		size_t n = strcspn(p, ":");
		if (n > 0 && match(p, n, base))
			return 1;
		p += n + (p[n] == ':');
	}
	return 0;
}
