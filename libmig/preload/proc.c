/*
 * proc.c: /proc as a placed process expects it. The job's processes
 * have home pids (pid.c), so a program that looks itself up in /proc
 * asks for /proc/HOMEPID: ps ("lookup self"), pgrep leaving itself out,
 * top, anything reading /proc/$$/... So a path that names a home pid of
 * the job, "/proc/PID" or "/proc/PID/...", is turned into the host
 * pid's, and a listing of /proc names the job's processes by their home
 * pids, and so do the pid fields of their stat and status files (read
 * whole at open, rewritten, and handed over as a memfd), so ps, pgrep
 * and top agree with getpid() and leave themselves out as they should.
 * The host's other processes are shown as they are: ps in a job lists
 * this host's processes, as over ssh. Without an identity page every
 * wrapper passes straight through.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "preload.h"

static int (*real_openat)(int, const char *, int, ...);
static FILE *(*real_fopen)(const char *, const char *);
static int (*real_fstatat)(int, const char *, struct stat *, int);
static int (*real_faccessat)(int, const char *, int, int);
static ssize_t (*real_readlinkat)(int, const char *, char *, size_t);
static int (*real_statx)(int, const char *, int, unsigned, struct statx *);
static DIR *(*real_opendir)(const char *);
static struct dirent *(*real_readdir)(DIR *);
static int (*real_closedir)(DIR *);

void
mig__proc_init(void)
{
	MIG_REAL(real_openat, "openat");
	MIG_REAL(real_fopen, "fopen");
	MIG_REAL(real_fstatat, "fstatat");
	MIG_REAL(real_faccessat, "faccessat");
	MIG_REAL(real_readlinkat, "readlinkat");
	MIG_REAL(real_statx, "statx");
	MIG_REAL(real_opendir, "opendir");
	MIG_REAL(real_readdir, "readdir");
	MIG_REAL(real_closedir, "closedir");
}

/* The leading number of s, and where it ends; 0 when there is none. */
static pid_t
leading_pid(const char *s, const char **end)
{
	long v = 0;

	for (*end = s; **end >= '0' && **end <= '9'; (*end)++)
		if ((v = v * 10 + (**end - '0')) > 0x7fffffff)
			return 0;
	return (pid_t)v;
}

/* path, or the same path of the host pid in buf when it names a home
 * pid of the job's under /proc. */
static const char *
host_path(const char *path, char buf[PATH_MAX])
{
	const char *rest;
	pid_t pid, host;

	if (mig__ident == NULL || path == NULL ||
	    strncmp(path, "/proc/", 6) != 0)
		return path;
	if ((pid = leading_pid(path + 6, &rest)) <= 0 ||
	    (*rest != '\0' && *rest != '/'))
		return path;
	if ((host = mig__pid_host_of(pid)) == pid ||
	    snprintf(buf, PATH_MAX, "/proc/%d%s", (int)host, rest) >=
		PATH_MAX)
		return path;
	return buf;
}

enum { NOT_IDS, STAT, STATUS };

/* Whether path (a host path) is the stat or status file of one of the
 * job's processes. */
static int
ids_file(const char *path)
{
	const char *rest;
	pid_t pid;

	if (mig__ident == NULL || strncmp(path, "/proc/", 6) != 0)
		return NOT_IDS;
	/* Our own line in the page may come a little later than we do:
	 * self is ours however early. */
	if (strncmp(path + 6, "self/", 5) == 0)
		rest = path + 10;
	else if ((pid = leading_pid(path + 6, &rest)) <= 0 ||
	    (pid != (pid_t)syscall(SYS_getpid) &&
	    mig__pid_home_of(pid) == pid))
		return NOT_IDS;
	return strcmp(rest, "/stat") == 0 ? STAT :
	    strcmp(rest, "/status") == 0 ? STATUS : NOT_IDS;
}

/* "PID (COMM) STATE PPID PGRP SID ...": COMM may hold anything, so it
 * ends at the last parenthesis. */
static int
stat_ids(const char *in, char *out, size_t size)
{
	const char *open_ = strchr(in, '('), *close_ = strrchr(in, ')');
	pid_t ids[4];
	char state;
	int used;

	if (open_ == NULL || close_ == NULL || close_ < open_ ||
	    sscanf(in, "%d", &ids[0]) != 1 ||
	    sscanf(close_ + 1, " %c %d %d %d%n", &state, &ids[1], &ids[2],
		&ids[3], &used) != 4)
		return -1;
	mig__pid_ids_home(ids);
	return snprintf(out, size, "%d %.*s %c %d %d %d%s", (int)ids[0],
	    (int)(close_ + 1 - open_), open_, state, (int)ids[1], (int)ids[2],
	    (int)ids[3], close_ + 1 + used);
}

/* The status lines with a pid, and which of ids[] each shows. */
static const struct {
	const char *key;
	int id;
} status_keys[] = { { "Tgid:", 0 }, { "Pid:", 0 }, { "NStgid:", 0 },
	{ "NSpid:", 0 }, { "PPid:", 1 }, { "NSpgid:", 2 }, { "NSsid:", 3 } };

/* Which status_keys line starts at line, its value in *v; -1 if none
 * (or a list of several namespaces' ids, left as it is). */
static int
status_line(const char *line, pid_t *v)
{
	for (size_t k = 0; k < sizeof(status_keys) / sizeof(status_keys[0]);
	    k++) {
		size_t n = strlen(status_keys[k].key);
		char *end;
		if (strncmp(line, status_keys[k].key, n) != 0)
			continue;
		*v = (pid_t)strtol(line + n, &end, 10);
		return *end == '\n' ? (int)k : -1;
	}
	return -1;
}

static int
status_ids(const char *in, char *out, size_t size)
{
	pid_t ids[4] = { 0, 0, 0, 0 }, v;
	size_t used = 0;
	const char *line, *nl;
	int k, n;

	for (line = in; *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			return -1;
		if ((k = status_line(line, &v)) >= 0)
			ids[status_keys[k].id] = v;
	}
	mig__pid_ids_home(ids);
	for (line = in; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		if ((k = status_line(line, &v)) >= 0)
			n = snprintf(out + used, size - used, "%s\t%d\n",
			    status_keys[k].key, (int)ids[status_keys[k].id]);
		else
			n = snprintf(out + used, size - used, "%.*s",
			    (int)(nl + 1 - line), line);
		if (n < 0 || (size_t)n >= size - used)
			return -1;
		used += (size_t)n;
	}
	return (int)used;
}

/* The file at path (kind STAT or STATUS) with the job's pids as home
 * pids, in a memfd at offset 0; -1 when it cannot be had. */
static int
ids_memfd(int dirfd, const char *path, int kind, int flags)
{
	char in[8192], out[8192];
	ssize_t got = 0, r;
	int fd, n;

	MIG_REAL(real_openat, "openat");
	if ((fd = real_openat(dirfd, path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while ((r = read(fd, in + got, sizeof(in) - 1 - (size_t)got)) > 0)
		got += r;
	close(fd);
	if (r < 0)
		return -1;
	in[got] = '\0';
	n = kind == STAT ? stat_ids(in, out, sizeof(out)) :
			   status_ids(in, out, sizeof(out));
	if (n < 0 || (size_t)n >= sizeof(out) ||
	    (fd = memfd_create("mig-proc", (flags & O_CLOEXEC) ?
		MFD_CLOEXEC : 0)) == -1)
		return -1;
	if (write(fd, out, (size_t)n) != n || lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
mig__openat(int dirfd, const char *path, int flags, mode_t mode)
{
	char buf[PATH_MAX];
	int kind, fd;

	MIG_REAL(real_openat, "openat");
	path = host_path(path, buf);
	if (path != NULL && (flags & O_ACCMODE) == O_RDONLY &&
	    (kind = ids_file(path)) != NOT_IDS &&
	    (fd = ids_memfd(dirfd, path, kind, flags)) != -1)
		return fd;
	return real_openat(dirfd, path, flags, mode);
}

FILE *
mig__fopen(const char *path, const char *mode)
{
	char buf[PATH_MAX];
	int kind, fd;
	FILE *f;

	MIG_REAL(real_fopen, "fopen");
	path = host_path(path, buf);
	if (path != NULL && strcmp(mode, "r") == 0 &&
	    (kind = ids_file(path)) != NOT_IDS &&
	    (fd = ids_memfd(AT_FDCWD, path, kind, 0)) != -1) {
		if ((f = fdopen(fd, mode)) != NULL)
			return f;
		close(fd);
	}
	return real_fopen(path, mode);
}

int
mig__fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	char buf[PATH_MAX];

	MIG_REAL(real_fstatat, "fstatat");
	return real_fstatat(dirfd, host_path(path, buf), st, flags);
}

int
mig__faccessat(int dirfd, const char *path, int how, int flags)
{
	char buf[PATH_MAX];

	MIG_REAL(real_faccessat, "faccessat");
	return real_faccessat(dirfd, host_path(path, buf), how, flags);
}

int
mig__statx(int dirfd, const char *path, int flags, unsigned mask,
    struct statx *st)
{
	char buf[PATH_MAX];

	MIG_REAL(real_statx, "statx");
	return real_statx(dirfd, host_path(path, buf), flags, mask, st);
}

ssize_t
mig__readlinkat(int dirfd, const char *path, char *out, size_t size)
{
	char buf[PATH_MAX];

	MIG_REAL(real_readlinkat, "readlinkat");
	return real_readlinkat(dirfd, host_path(path, buf), out, size);
}

/* The listings of /proc itself that are open, to rename entries in. */
#define MIG_PROC_DIRS 16
static DIR *listings[MIG_PROC_DIRS];

DIR *
mig__opendir(const char *path)
{
	static int said;
	char buf[PATH_MAX];
	DIR *d;

	MIG_REAL(real_opendir, "opendir");
	d = real_opendir(host_path(path, buf));
	if (d == NULL || mig__ident == NULL ||
	    (strcmp(path, "/proc") != 0 && strcmp(path, "/proc/") != 0))
		return d;
	for (int i = 0; i < MIG_PROC_DIRS; i++) {
		DIR *none = NULL;
		if (__atomic_compare_exchange_n(&listings[i], &none, d, 0,
		    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			return d;
	}
	/* This listing names processes by their host pids. */
	mig__full_once(&said, "mig: more than 16 listings of /proc "
	    "open at once (MIG_PROC_DIRS): the others show host pids\n");
	return d;
}

static int
listing(DIR *d)
{
	for (int i = 0; i < MIG_PROC_DIRS; i++)
		if (__atomic_load_n(&listings[i], __ATOMIC_ACQUIRE) == d)
			return i;
	return -1;
}

/* A renamed entry, per thread (readdir's own is per stream). */
static __thread struct dirent renamed;

struct dirent *
mig__readdir(DIR *d)
{
	struct dirent *e;
	const char *rest;
	pid_t pid, home;

	MIG_REAL(real_readdir, "readdir");
	for (;;) {
		if ((e = real_readdir(d)) == NULL || listing(d) < 0)
			return e;
		if ((pid = leading_pid(e->d_name, &rest)) <= 0 ||
		    *rest != '\0')
			return e;
		home = mig__pid_home_of(pid);
		/* A process here whose number is a home pid of the job's
		 * (home's own, when home is this machine) is hidden: that
		 * path names the job's process now. */
		if (home != pid || mig__pid_host_of(pid) == pid)
			break;
	}
	if (home == pid)
		return e;
	/* Field by field: the kernel's record may be shorter than a
	 * struct dirent. */
	renamed.d_ino = e->d_ino;
	renamed.d_off = e->d_off;
	renamed.d_type = e->d_type;
	renamed.d_reclen = sizeof(renamed);
	snprintf(renamed.d_name, sizeof(renamed.d_name), "%d", (int)home);
	return &renamed;
}

int
mig__closedir(DIR *d)
{
	int i;

	MIG_REAL(real_closedir, "closedir");
	if ((i = listing(d)) >= 0)
		__atomic_store_n(&listings[i], NULL, __ATOMIC_RELEASE);
	return real_closedir(d);
}
