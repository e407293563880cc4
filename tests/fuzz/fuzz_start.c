/*
 * fuzz_start.c: a job's description as its subreaper reads it
 * (homed/helpers/start.c, mig__start_decode): a struct mig_start, then
 * cwd, root, argv and environment. mig-homed writes it, but it is read
 * by a separate program: whatever the bytes, the decoder must take only
 * a whole description of this build, point only inside the buffer, end
 * both vectors with NULL, and never crash.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "start.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), **argv, **envp;
	struct mig_start s;
	size_t n = 0;

	CHECK(buf != NULL);
	memcpy(buf, data, size);
	if (mig__start_decode(buf, size, &s, &argv, &envp) != 0) {
		CHECK(argv == NULL && envp == NULL);
		free(buf);
		return 0;
	}
	CHECK(s.size == sizeof(s) && s.nrlimit <= MIG_JOB_NRLIMIT);
	CHECK(s.cwd >= buf && s.cwd < buf + size);
	CHECK(s.root > s.cwd && s.root < buf + size);
	for (char **v = argv; *v != NULL; v++, n++)
		CHECK(*v > s.root && *v + strlen(*v) < buf + size);
	CHECK(n == s.argc && envp == argv + n + 1);
	for (char **v = envp; *v != NULL; v++)
		CHECK(*v > s.root && *v + strlen(*v) < buf + size);
	free(argv);
	free(buf);
	return 0;
}
