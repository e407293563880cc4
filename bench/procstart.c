/*
 * procstart.c: what one process start costs on this machine, the
 * yardstick beside bench/build's home CPU per placed compile.
 *
 *   procstart N     N times: vfork + exec of this program (built
 *                   static) with the argument "-", which returns at
 *                   once, and waitpid; prints "WALL_US CPU_US": wall
 *                   time and CPU (this process and its children, from
 *                   getrusage) per start, in microseconds
 *   procstart -     exits 0 (the static `true`)
 *   procstart N PROGRAM [ARG...]
 *                   the same with posix_spawnp of PROGRAM, which must
 *                   exit 0 (bench/stubstart: PROGRAM placed, under mig)
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static double
tv_us(struct timeval t)
{
	return t.tv_sec * 1e6 + t.tv_usec;
}

int
main(int argc, char **argv)
{
	struct timespec a, b;
	struct rusage s, c;
	char *self[] = { argv[0], "-", NULL };
	char **args = argc > 2 ? argv + 2 : self;
	long n, i;
	int status;
	pid_t pid;

	if (argc == 2 && strcmp(argv[1], "-") == 0)
		return 0;
	if (argc < 2 || (n = strtol(argv[1], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: procstart N [PROGRAM ARG...]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++) {
		if (posix_spawnp(&pid, argc > 2 ? args[0] : "/proc/self/exe",
		    NULL, NULL, args, environ) != 0 || waitpid(pid, &status, 0) != pid ||
		    status != 0) {
			fprintf(stderr, "procstart: spawn failed\n");
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	getrusage(RUSAGE_SELF, &s);
	getrusage(RUSAGE_CHILDREN, &c);
	printf("%.1f %.1f\n",
	    ((b.tv_sec - a.tv_sec) * 1e6 + (b.tv_nsec - a.tv_nsec) / 1e3) / n,
	    (tv_us(s.ru_utime) + tv_us(s.ru_stime) + tv_us(c.ru_utime) +
		tv_us(c.ru_stime)) / n);
	return 0;
}
