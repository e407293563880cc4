/*
 * fuzz_policy.c: mig__policy_parse on arbitrary text. An accepted policy
 * is a ':'-separated list of non-empty patterns, the user's marked '='
 * and first; a refused one names the file and the line.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "core.h"
#include "policy.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[4096], err[128], *text;
	int r, seen_default = 0;

	text = malloc(size ? size : 1);
	CHECK(text != NULL);
	if (size > 0)
		memcpy(text, data, size);
	memset(err, 'Z', sizeof(err));
	r = mig__policy_parse(text, size, "f", out, sizeof(out), err,
	    sizeof(err));
	if (r == 0) {
		CHECK(err[0] == 'Z');
		CHECK(memchr(out, '\0', sizeof(out)) != NULL);
		for (const char *p = out; *p != '\0';) {
			size_t n = strcspn(p, ":");
			CHECK(n > 0);
			CHECK(memchr(p, ' ', n) == NULL && memchr(p, '#', n) == NULL);
			if (*p == '=')
				CHECK(!seen_default && n > 1);
			else
				seen_default = 1;
			p += n + (p[n] == ':');
		}
		/* Matching never reads past the policy, whatever the name. */
		(void)mig__policy_match(out, "gcc");
		(void)mig__policy_match(out, text[0] != '\0' && size > 0 &&
		    memchr(text, '\0', size) != NULL ? text : "x");
	} else {
		CHECK(r == MIG_ECONFIG);
		CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		CHECK(strncmp(err, "f:", 2) == 0);
	}
	free(text);
	return 0;
}
