/*
 * kill_rtt: the cost of kill(PID, 0), N times, in microseconds per call.
 * Run at home it is a system call; run on a host through mig -h with PID
 * a home pid, every call crosses to home and back (calls.def).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int
main(int argc, char **argv)
{
	struct timespec a, b;
	long n;
	pid_t pid;

	if (argc != 3)
		return 2;
	pid = (pid_t)atol(argv[1]);
	n = atol(argv[2]);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++)
		if (kill(pid, 0) != 0) {
			perror("kill");
			return 1;
		}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.2f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) /
	    1e3 / (double)n);
	return 0;
}
