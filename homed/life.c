/*
 * life.c: mig-homed --status and --stop, run by hand or by a service
 * manager. The daemon of a runtime folder is the process that holds
 * homed.pid locked (main.c); the file says its pid. Exit statuses (also
 * in mig-homed(8)):
 *
 *   --status  0 it runs (its pid and socket on stdout), 3 none runs,
 *             1 the folder cannot be trusted or read
 *   --stop    0 it stopped (or none ran, which it says), 1 it did not
 *             stop within MIG_STOP_MS, or cannot be told to
 *
 * The pid is signalled only when it is a mig-homed of the caller's:
 * in another pid namespace (a container) the file's pid names another
 * process here.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "homed.h"
#include "rundir.h"

#define MIG_STOP_MS 10000

/* Whether someone holds homed.pid: 1 with *pid (0 while the daemon has
 * not written it yet), 0 when nobody does, or a negative code. */
static int
holder(const char *dir, pid_t *pid)
{
	char path[PATH_MAX], buf[32];
	ssize_t n;
	int fd, r;

	*pid = 0;
	if (mig_path(path, sizeof(path), dir, "homed.pid") != 0)
		return MIG_ETOOBIG;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : MIG__ERR(errno);
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		r = 0;
	} else if (errno == EWOULDBLOCK) {
		r = 1;
		if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) > 0) {
			buf[n] = '\0';
			*pid = (pid_t)strtol(buf, NULL, 10);
		}
	} else {
		r = MIG__ERR(errno);
	}
	mig__close(fd);
	return r;
}

/* 1 when pid is a mig-homed process of ours, here. */
static int
ours(pid_t pid)
{
	char path[64], comm[32] = "";
	struct stat st;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	if (pid <= 1 || stat(path, &st) != 0 || st.st_uid != geteuid())
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	if (fgets(comm, sizeof(comm), f) == NULL)
		comm[0] = '\0';
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	return strcmp(comm, "mig-homed") == 0;
}

static void
nap(void)
{
	struct timespec ts = { 0, 20 * 1000000 };

	nanosleep(&ts, NULL);
}

int
mig__life(const char *dir, const char *sock, int stop)
{
	char why[PATH_MAX + 128];
	pid_t pid;
	int r, waited;
	struct stat st;

	if (stat(dir, &st) != 0 && errno == ENOENT)
		r = 0;
	else if (mig__rundir_check(dir, why, sizeof(why)) != 0) {
		fprintf(stderr, "mig: %s\n", why);
		return 1;
	} else
		r = holder(dir, &pid);
	/* A daemon that took the lock writes its pid next. */
	for (waited = 0; r == 1 && pid == 0 && waited < 1000; waited += 20) {
		nap();
		r = holder(dir, &pid);
	}
	if (r < 0) {
		fprintf(stderr, "mig: %s/homed.pid: %s\n", dir, mig_strerror(r));
		return 1;
	}
	if (r == 0) {
		printf("mig-homed: not running (%s)\n", dir);
		return stop ? 0 : 3;
	}
	if (!stop) {
		printf("mig-homed: running, pid %d, serving %s\n", (int)pid,
		    sock);
		return 0;
	}
	if (!ours(pid) || kill(pid, SIGTERM) != 0) {
		fprintf(stderr, "mig: %s/homed.pid names pid %d, which is no "
		    "mig-homed of yours here (another pid namespace?); not "
		    "signalled\n", dir, (int)pid);
		return 1;
	}
	for (waited = 0; waited < MIG_STOP_MS; waited += 20) {
		pid_t now;
		if (holder(dir, &now) == 0) {
			printf("mig-homed: stopped (pid %d)\n", (int)pid);
			return 0;
		}
		nap();
	}
	fprintf(stderr, "mig: mig-homed (pid %d) did not stop within %d s\n",
	    (int)pid, MIG_STOP_MS / 1000);
	return 1;
}
