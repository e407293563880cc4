/*
 * cpuof.c: the CPU a command's first process used itself, apart from
 * the processes it waited for. bench/build runs make under it to take
 * make's own CPU out of a build's total.
 *
 *   cpuof OUT CMD [ARG...]
 *
 * Runs CMD, waits for it with WNOWAIT, so that it stays a zombie whose
 * /proc/PID/stat still holds its times, and writes "SELF CHILDREN" to
 * OUT in clock ticks: utime+stime of CMD's process, and cutime+cstime
 * (what it reaped). Then reaps it and exits with its status (128+N for
 * a signal N). Exit 127 when CMD cannot run, 2 on a usage error.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	char path[64], buf[4096], *p;
	unsigned long long v[4];
	siginfo_t si;
	int status;
	FILE *f;
	pid_t pid;
	size_t n;

	if (argc < 3) {
		fprintf(stderr, "usage: cpuof OUT CMD [ARG...]\n");
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
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return perror("cpuof: /proc"), 127;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields after the command's name, which ends at the last ')':
	 * 3 state ... 14 utime 15 stime 16 cutime 17 cstime. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
		"%llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3]) != 4)
		return fprintf(stderr, "cpuof: cannot read %s\n", path), 127;
	if ((f = fopen(argv[1], "w")) == NULL ||
	    fprintf(f, "%llu %llu\n", v[0] + v[1], v[2] + v[3]) < 0 ||
	    fclose(f) != 0)
		return perror("cpuof: OUT"), 127;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 127;
	return WIFEXITED(status) ? WEXITSTATUS(status) :
				   128 + WTERMSIG(status);
}
