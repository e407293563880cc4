/*
 * activity.c: is the host's owner using it? Two cheap reads a second,
 * neither needing a privilege:
 *
 *  - terminals: the newest access time of a terminal, as w(1) computes a
 *    session's idle time: the lines of utmp's login sessions, and every
 *    /dev/pts entry (terminal windows often write no utmp line). The
 *    terminals of this host's own jobs (mig -t) are not the owner's.
 *  - CPU: the busy ticks of /proc/stat, less those of this daemon and
 *    its jobs. Every process of a job is under its subreaper, which
 *    reaps them, and the daemon reaps the subreaper, so each process's
 *    utime+stime+cutime+cstime over the job trees and the daemon itself
 *    counts mig's ticks once, ended processes included. A test bed that
 *    runs several hosts on one machine gives each a cgroup v2 folder
 *    (--owner-cpu-cgroup): its cpu.stat usage_usec stands in for
 *    /proc/stat, and the rest is the same.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utmpx.h>

#include "homed.h"

/* Processes of one job whose ticks are counted. */
#define JOB_PIDS_MAX 4096

static void
newest(const char *path, int64_t *seen)
{
	struct stat st;

	if (stat(path, &st) == 0 && S_ISCHR(st.st_mode) &&
	    (int64_t)st.st_atime > *seen)
		*seen = (int64_t)st.st_atime;
}

/* The pty slaves of this host's jobs on a terminal. */
static int
jobs_tty(struct homed *d, const char *path)
{
	struct rjob *rj;
	char name[64];
	uv_os_fd_t fd;

	TAILQ_FOREACH(rj, &d->rjobs, entry)
		if ((rj->flags & MIG_JOB_TTY) && rj->open[1] &&
		    uv_fileno((uv_handle_t *)&rj->pipes[1], &fd) == 0 &&
		    ptsname_r(fd, name, sizeof(name)) == 0 &&
		    strcmp(name, path) == 0)
			return 1;
	return 0;
}

int64_t
mig__owner_tty_seen(struct homed *d)
{
	char path[80];
	struct utmpx *u;
	struct dirent *e;
	int64_t seen = 0;
	DIR *dir;

	setutxent();
	while ((u = getutxent()) != NULL) {
		if (u->ut_type != USER_PROCESS || u->ut_line[0] == '\0')
			continue;
		snprintf(path, sizeof(path), "/dev/%.*s",
		    (int)sizeof(u->ut_line), u->ut_line);
		if (!jobs_tty(d, path))
			newest(path, &seen);
	}
	endutxent();
	if ((dir = opendir("/dev/pts")) == NULL)
		return seen;
	while ((e = readdir(dir)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/dev/pts/%s", e->d_name);
		if (!jobs_tty(d, path))
			newest(path, &seen);
	}
	closedir(dir);
	return seen;
}

/* utime + stime + cutime + cstime of one process (its stat line), 0 if
 * gone. */
static uint64_t
ticks_of(const char *path)
{
	char buf[1024], *p;
	unsigned long long v[4];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* After "pid (comm) ": state ppid pgrp session tty_nr tpgid flags
	 * minflt cminflt majflt cmajflt, then the four times. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3]) != 4)
		return 0;
	return v[0] + v[1] + v[2] + v[3];
}

static uint64_t
mig_ticks(struct homed *d, pid_t *pids)
{
	struct rjob *rj;
	char path[64];
	uint64_t t = ticks_of("/proc/self/stat");

	TAILQ_FOREACH(rj, &d->rjobs, entry) {
		size_t n;
		if (rj->fsm.exited)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)rj->subreaper);
		t += ticks_of(path);
		n = mig__job_pids(rj->subreaper, pids, JOB_PIDS_MAX);
		for (size_t i = 0; i < n; i++) {
			snprintf(path, sizeof(path), "/proc/%d/stat",
			    (int)pids[i]);
			t += ticks_of(path);
		}
	}
	return t;
}

/* The first bytes of path into buf, NUL-terminated; 0 or -1. */
static int
read_head(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* CPU time used in cgroup dir (its cpu.stat's usage_usec), in ticks. */
static int
cgroup_ticks(const char *dir, long hz, uint64_t *busy)
{
	char path[PATH_MAX], buf[256];
	unsigned long long us;

	if (snprintf(path, sizeof(path), "%s/cpu.stat", dir) >=
	    (int)sizeof(path) || read_head(path, buf, sizeof(buf)) != 0 ||
	    sscanf(buf, "usage_usec %llu", &us) != 1)
		return -1;
	*busy = us * (uint64_t)hz / 1000000;
	return 0;
}

/* Busy ticks of all CPUs: user nice system idle iowait irq softirq
 * steal, less idle and iowait; or the test bed's cgroup's. */
static int
busy_ticks(struct homed *d, long hz, uint64_t *busy)
{
	unsigned long long v[8];
	char buf[256];

	if (d->cpu_cgroup != NULL)
		return cgroup_ticks(d->cpu_cgroup, hz, busy);
	if (read_head("/proc/stat", buf, sizeof(buf)) != 0 ||
	    sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
	    &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
		return -1;
	*busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
	return 0;
}

int
mig__owner_cpu_check(const char *dir, char *err, size_t n)
{
	uint64_t t;

	if (dir[0] != '/') {
		snprintf(err, n, "not an absolute path");
		return MIG_ECONFIG;
	}
	if (cgroup_ticks(dir, 100, &t) != 0) {
		snprintf(err, n, "no cgroup v2 cpu.stat with usage_usec there");
		return MIG_ECONFIG;
	}
	return 0;
}

int64_t
mig__owner_cpu(struct homed *d, uint64_t now_ms)
{
	uint64_t busy, mig, was_busy = d->cpu_busy, was_mig = d->cpu_mig;
	uint64_t was_ms = d->cpu_at_ms;
	long hz = sysconf(_SC_CLK_TCK);
	int64_t owner;
	pid_t *pids;

	if (hz <= 0 || busy_ticks(d, hz, &busy) != 0 ||
	    (pids = calloc(JOB_PIDS_MAX, sizeof(*pids))) == NULL)
		return -1;
	mig = mig_ticks(d, pids);
	free(pids);
	d->cpu_busy = busy;
	d->cpu_mig = mig;
	d->cpu_at_ms = now_ms;
	if (was_ms == 0 || now_ms <= was_ms || busy < was_busy)
		return -1;
	owner = (int64_t)(busy - was_busy) - (int64_t)(mig - was_mig);
	if (owner < 0)
		owner = 0;
	/* ticks / hz CPU-seconds over (now - was) ms, in thousandths. */
	return owner * 1000 * 1000 / hz / (int64_t)(now_ms - was_ms);
}
