/*
 * slurm.c: what Slurm says of an allocation, as text in the environment.
 * SLURM_JOB_CPUS_PER_NODE gives each node's CPUs in node-list order,
 * with runs compressed: "2(x3),1" is 2, 2, 2, 1.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "core.h"

/* A number from 1 to max at *s, which moves past it; 0 when none. */
static unsigned long
number(const char **s, unsigned long max)
{
	unsigned long v = 0;
	const char *p = *s;

	if (!isdigit((unsigned char)*p))
		return 0;
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > max)
			return 0;
	}
	*s = p;
	return v;
}

int
mig__slurm_cpus(const char *spec, uint32_t *cpus, size_t max, size_t *n)
{
	const char *s = spec;
	size_t got = 0;

	*n = 0;
	for (;;) {
		unsigned long c = number(&s, 1u << 20), times = 1;
		if (c == 0)
			return MIG_ECONFIG;
		if (strncmp(s, "(x", 2) == 0) {
			s += 2;
			if ((times = number(&s, 1ul << 30)) == 0 || *s++ != ')')
				return MIG_ECONFIG;
		}
		if (times > max - got)
			return MIG_ETOOBIG;
		while (times-- > 0)
			cpus[got++] = (uint32_t)c;
		if (*s == '\0')
			break;
		if (*s++ != ',')
			return MIG_ECONFIG;
	}
	*n = got;
	return 0;
}

const char *
mig__slurm_job(void)
{
	const char *job = getenv("SLURM_JOB_ID"), *no = getenv("MIG_SLURM");
	char conf[PATH_MAX], hosts[PATH_MAX];

	if (job == NULL || *job == '\0' || strlen(job) > 20 ||
	    strspn(job, "0123456789") != strlen(job))
		return NULL;
	if (no != NULL && strcmp(no, "0") == 0)
		return NULL;
	if (mig_config_dir(conf, sizeof(conf)) != 0 ||
	    mig_path(hosts, sizeof(hosts), conf, "hosts") != 0 ||
	    access(hosts, F_OK) == 0)
		return NULL;
	return job;
}
