/*
 * fuzz_slurm.c: mig__slurm_cpus on arbitrary text, what
 * SLURM_JOB_CPUS_PER_NODE may hold. What it accepts is
 * "C[(xN)][,C[(xN)]]..." with every count at least 1, expanded within the
 * room given, which the expansion never passes; anything else is
 * MIG_ECONFIG or MIG_ETOOBIG, with nothing expanded.
 */
#include <ctype.h>
#include <string.h>

#include "fuzz.h"
#include "core.h"

#define ROOM 64

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t cpus[ROOM + 1];
	size_t n = 12345, total = 0;
	char *text = malloc(size + 1);
	int r;

	CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	cpus[ROOM] = 0xdeadbeef;
	r = mig__slurm_cpus(text, cpus, ROOM, &n);
	CHECK(cpus[ROOM] == 0xdeadbeef);
	if (r != 0) {
		CHECK(r == MIG_ECONFIG || r == MIG_ETOOBIG);
		CHECK(n == 0);
		free(text);
		return 0;
	}
	CHECK(n >= 1 && n <= ROOM);
	for (size_t i = 0; i < n; i++)
		CHECK(cpus[i] >= 1);
	/* Accepted text is digits, "(x", ")" and ","; what it expands to
	 * adds up to the counts it names. */
	for (const char *p = text; *p != '\0'; p++)
		CHECK(isdigit((unsigned char)*p) || strchr("(x),", *p) != NULL);
	for (const char *p = text; *p != '\0';) {
		unsigned long times = 1;
		while (isdigit((unsigned char)*p))
			p++;
		if (strncmp(p, "(x", 2) == 0) {
			times = strtoul(p + 2, (char **)&p, 10);
			CHECK(*p++ == ')');
		}
		total += times;
		if (*p == ',')
			p++;
	}
	CHECK(total == n);
	free(text);
	return 0;
}
