/*
 * probe.h: what the shim's differential probes share. A probe prints one
 * "key value" line per thing it checks; run.sh runs it natively and
 * under mkident and compares the lines. Values that differ between two
 * native runs are printed as names: a pid equal to this process's real
 * one is SELF, and so on, where "real" comes from the kernel
 * (/proc/self/stat) or from libc itself, never through the shim.
 */
#ifndef PROBE_H
#define PROBE_H

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* libc's own definition of a function the shim wraps. */
static inline void *
libc_fn(const char *name)
{
	static void *libc;
	void *f;

	if (libc == NULL &&
	    (libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD)) == NULL) {
		fprintf(stderr, "probe: dlopen libc: %s\n", dlerror());
		exit(99);
	}
	if ((f = dlsym(libc, name)) == NULL) {
		fprintf(stderr, "probe: dlsym %s: %s\n", name, dlerror());
		exit(99);
	}
	return f;
}

/* This host's clock, as libc reads it. */
static inline long long
host_ns(clockid_t c)
{
	static int (*real)(clockid_t, struct timespec *);
	struct timespec ts;

	if (real == NULL)
		real = (int (*)(clockid_t, struct timespec *))libc_fn(
		    "clock_gettime");
	if (real(c, &ts) != 0)
		return -1;
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct real_ids {
	long pid, ppid, pgrp, sid;
};

/* The kernel's own view, from /proc/self/stat, read by system calls
 * (the shim shows a job its home pids there). */
static inline struct real_ids
real_ids(void)
{
	struct real_ids r = { -1, -1, -1, -1 };
	char buf[1024], *p;
	long fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/stat", O_RDONLY);
	long n = fd < 0 ? -1 : syscall(SYS_read, fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		syscall(SYS_close, fd);
	if (n <= 0) {
		fprintf(stderr, "probe: /proc/self/stat unreadable\n");
		exit(99);
	}
	buf[n] = '\0';
	r.pid = strtol(buf, NULL, 10);
	p = strrchr(buf, ')');
	if (p == NULL || sscanf(p + 2, "%*c %ld %ld %ld", &r.ppid, &r.pgrp,
	    &r.sid) != 3) {
		fprintf(stderr, "probe: /proc/self/stat unparsed\n");
		exit(99);
	}
	return r;
}

/* The ids of the probe's main process, to name pids by. */
static __attribute__((unused)) struct real_ids ids;

static inline const char *
pidname(long v)
{
	static char bufs[4][24];
	static int next;
	char *b;

	if (v == ids.pid)
		return "SELF";
	if (v == ids.ppid)
		return "PARENT";
	if (v == ids.pgrp)
		return "PGRP";
	if (v == ids.sid)
		return "SESSION";
	b = bufs[next++ % 4];
	snprintf(b, sizeof(bufs[0]), "%ld", v);
	return b;
}

/* A result and, when it failed, errno by name. */
static inline const char *
res(long r)
{
	static char bufs[4][64];
	static int next;
	char *b = bufs[next++ % 4];
	const char *e;

	if (r != -1) {
		snprintf(b, sizeof(bufs[0]), "%ld", r);
		return b;
	}
	e = strerrorname_np(errno);
	snprintf(b, sizeof(bufs[0]), "-1 %s", e ? e : "?");
	return b;
}

/* An error number, as pthread and posix_spawn return them. */
static inline const char *
err(int e)
{
	const char *n = e == 0 ? "0" : strerrorname_np(e);
	return n ? n : "?";
}

#define say(key, ...)                                                  \
	do {                                                           \
		printf("%s ", key);                                    \
		printf(__VA_ARGS__);                                   \
		printf("\n");                                          \
		fflush(stdout);                                        \
	} while (0)

#endif
