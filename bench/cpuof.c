/*
 * cpuof.c: the CPU a command's first process used itself, apart from
 * the processes it waited for. bench/build runs make under it to take
 * make's own CPU out of a build's total, and the build's ar and ranlib
 * (-a) to take theirs.
 *
 *   cpuof [-a] OUT CMD [ARG...]
 *
 * Runs CMD, waits for it with WNOWAIT, so that it stays a zombie whose
 * /proc/PID/schedstat still holds its run time, reaps it with wait4 and
 * writes "SELF TREE" to OUT (-a: adds it as a line at OUT's end) in µs:
 * CMD's process's own CPU (the scheduler's count, in ns, not clock
 * ticks), and that of its whole tree (wait4's rusage: itself and every
 * process it, or they, waited for).
 * Exits with CMD's status (128+N for a signal N); 127 when CMD cannot
 * run, 2 on a usage error.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	unsigned long long self_ns, tree_us;
	struct rusage ru;
	char path[64];
	siginfo_t si;
	int status;
	const char *mode = "w";
	FILE *f;
	pid_t pid;

	if (argc > 1 && strcmp(argv[1], "-a") == 0) {
		mode = "a";
		argc--;
		argv++;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: cpuof [-a] OUT CMD [ARG...]\n");
		return 2;
	}
	if ((pid = fork()) < 0) {
		perror("cpuof: fork");
		return 127;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		fprintf(stderr, "cpuof: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	signal(SIGINT, SIG_IGN);
	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) != 0)
		if (errno != EINTR) {
			perror("cpuof: waitid");
			return 127;
		}
	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return perror("cpuof: /proc"), 127;
	if (fscanf(f, "%llu", &self_ns) != 1)
		return fprintf(stderr, "cpuof: cannot read %s\n", path), 127;
	fclose(f);
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			return perror("cpuof: wait4"), 127;
	tree_us = (unsigned long long)ru.ru_utime.tv_sec * 1000000 +
	    (unsigned long long)ru.ru_utime.tv_usec +
	    (unsigned long long)ru.ru_stime.tv_sec * 1000000 +
	    (unsigned long long)ru.ru_stime.tv_usec;
	if ((f = fopen(argv[1], mode)) == NULL ||
	    fprintf(f, "%llu %llu\n", self_ns / 1000, tree_us) < 0 ||
	    fclose(f) != 0)
		return perror("cpuof: OUT"), 127;
	return WIFEXITED(status) ? WEXITSTATUS(status) :
				   128 + WTERMSIG(status);
}
