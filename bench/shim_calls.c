/*
 * shim_calls: what the shim's remote role costs per call. Runs the same
 * loops natively and under mkident (tests/shim: the shim in remote role
 * with a home identity and a +1 h clock offset), one after the other in
 * one run, and prints ns per call and the ratio. Not a test: nothing
 * passes or fails on a figure.
 *
 *   shim_calls            both runs and the table
 *   shim_calls --measure  one run's figures, as "name ns" lines
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MKIDENT_PATH
#define MKIDENT_PATH "mkident"
#endif

#define REPEATS 7

static volatile long sink;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void
c_clock_gettime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	sink += ts.tv_nsec;
}

static void
c_gettimeofday(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	sink += tv.tv_usec;
}

static void
c_time(void)
{
	sink += time(NULL);
}

static void
c_getpid(void)
{
	sink += getpid();
}

static void
c_uname(void)
{
	struct utsname u;

	uname(&u);
	sink += u.nodename[0];
}

static const struct {
	const char *name;
	void (*call)(void);
	long n;
} calls[] = {
	{ "clock_gettime(REALTIME)", c_clock_gettime, 2000000 },
	{ "gettimeofday", c_gettimeofday, 2000000 },
	{ "time", c_time, 5000000 },
	{ "getpid", c_getpid, 500000 },
	{ "uname", c_uname, 300000 },
};
#define NCALLS (sizeof(calls) / sizeof(calls[0]))

/* Best of REPEATS, in ns per call. */
static void
measure(void)
{
	for (size_t i = 0; i < NCALLS; i++) {
		double best = 1e30;
		for (int r = 0; r < REPEATS; r++) {
			double t = now();
			for (long k = 0; k < calls[i].n; k++)
				calls[i].call();
			t = (now() - t) / (double)calls[i].n;
			if (t < best)
				best = t;
		}
		printf("%s %.2f\n", calls[i].name, best);
	}
}

/* argv run with its output in out[]. */
static int
collect(char *const argv[], double out[NCALLS])
{
	int fds[2], status;
	char line[256];
	FILE *f;
	pid_t pid;

	if (pipe(fds) != 0 || (pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execv(argv[0], argv);
		fprintf(stderr, "shim_calls: %s: %s\n", argv[0],
		    strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	for (size_t i = 0; i < NCALLS; i++) {
		char *sp;
		if (fgets(line, sizeof(line), f) == NULL ||
		    (sp = strrchr(line, ' ')) == NULL)
			return -1;
		out[i] = strtod(sp + 1, NULL);
	}
	fclose(f);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	char self[4096];
	const char *mkident = getenv("MKIDENT") ? getenv("MKIDENT") :
						   MKIDENT_PATH;
	double native[NCALLS], shim[NCALLS];
	ssize_t n;

	if (argc > 1 && strcmp(argv[1], "--measure") == 0) {
		measure();
		return 0;
	}
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0)
		return 1;
	self[n] = '\0';
	{
		char *nat[] = { self, (char *)"--measure", NULL };
		char *sh[] = { (char *)mkident, (char *)"-S", (char *)"-p",
			(char *)"4242", (char *)"-n", (char *)"homebox",
			(char *)"-o", (char *)"3600s", (char *)"--", self,
			(char *)"--measure", NULL };
		if (collect(nat, native) != 0 || collect(sh, shim) != 0) {
			fprintf(stderr, "shim_calls: a run failed\n");
			return 1;
		}
	}
	printf("%-26s %12s %12s %8s\n", "call", "native ns", "shim ns",
	    "ratio");
	for (size_t i = 0; i < NCALLS; i++)
		printf("%-26s %12.1f %12.1f %8.2f\n", calls[i].name, native[i],
		    shim[i], shim[i] / native[i]);
	return 0;
}
