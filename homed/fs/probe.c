/*
 * probe.c: can this host serve home's files (fs.h)? A forked child does
 * what a served view will do, step by step, and reports the first step
 * that failed; the parent turns that into a sentence, with the sysctls
 * and kernel version that usually explain it. Knobs are only read to
 * explain a failure: what decides is the attempt. The caller forks and
 * reaps the child (mig-homed as it does all its children), so nothing
 * here waits for it but mig__fs_probe_with.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core.h"
#include "fs.h"

enum stage {
	ST_UNSHARE = 1,     /* unshare(CLONE_NEWUSER | CLONE_NEWNS) */
	ST_MAP,             /* setgroups, uid_map, gid_map */
	ST_PRIVATE,         /* making the mount tree private */
	ST_OPEN,            /* opening the FUSE device read-write */
	ST_MOUNT,           /* mounting FUSE */
	ST_DONE,
};

struct report {
	int stage;          /* the step that failed, or ST_DONE */
	int err;            /* its errno */
};

/* Writes all of s to the file at path; 0 or an errno. Async-signal-safe:
 * it runs in the forked child. */
static int
put_file(const char *path, const char *s)
{
	size_t n = strlen(s);
	ssize_t w;
	int fd, e = 0;

	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return errno;
	w = write(fd, s, n);
	if (w < 0)
		e = errno;
	else if ((size_t)w != n)
		e = EIO;
	close(fd);
	return e;
}

/* Appends the decimal v to buf at *len (async-signal-safe). */
static void
put_uint(char *buf, size_t *len, unsigned v)
{
	char tmp[16];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		buf[(*len)++] = tmp[--n];
}

static void
put_str(char *buf, size_t *len, const char *s)
{
	while (*s != '\0')
		buf[(*len)++] = *s++;
}

/* The child: each step as the view will do it. Never returns. */
static void
child(int wfd, const char *dev, const char *mnt, const char *uid_map,
    const char *gid_map)
{
	struct report rep = { 0, 0 };
	char opts[128];
	size_t len = 0;
	int fd, e;

	/* A process that changed its ids (a daemon started by root, then
	 * dropping to the user) is not dumpable, which makes its /proc/self
	 * files root's and uid_map unwritable. This child may be dumpable. */
	(void)prctl(PR_SET_DUMPABLE, 1);
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
		rep.stage = ST_UNSHARE;
		rep.err = errno;
		goto out;
	}
	/* setgroups must be denied before an unprivileged gid_map; a
	 * kernel without the file (before 3.19) has no such rule. */
	e = put_file("/proc/self/setgroups", "deny");
	if (e == ENOENT)
		e = 0;
	if (e == 0)
		e = put_file("/proc/self/uid_map", uid_map);
	if (e == 0)
		e = put_file("/proc/self/gid_map", gid_map);
	if (e != 0) {
		rep.stage = ST_MAP;
		rep.err = e;
		goto out;
	}
	/* The type "none", not NULL: the kernel ignores it here, but
	 * valgrind checks it as a string. */
	if (mount(NULL, "/", "none", MS_REC | MS_PRIVATE, NULL) != 0) {
		rep.stage = ST_PRIVATE;
		rep.err = errno;
		goto out;
	}
	if ((fd = open(dev, O_RDWR | O_CLOEXEC)) < 0) {
		rep.stage = ST_OPEN;
		rep.err = errno;
		goto out;
	}
	/* The options a view mounts with (tests/fs/fuse_ns.c has the same):
	 * uid and gid 0 are the namespace's, the user outside. */
	put_str(opts, &len, "fd=");
	put_uint(opts, &len, (unsigned)fd);
	put_str(opts, &len, ",rootmode=40000,user_id=0,group_id=0");
	opts[len] = '\0';
	if (mount("mig-probe", mnt, "fuse.mig-probe", MS_NOSUID | MS_NODEV,
	    opts) != 0) {
		rep.stage = ST_MOUNT;
		rep.err = errno;
		goto out;
	}
	/* Nobody serves it: it must go before anyone looks. It would go
	 * with this namespace anyway. */
	(void)umount2(mnt, MNT_DETACH);
	rep.stage = ST_DONE;
 out:
	(void)!write(wfd, &rep, sizeof(rep));
	_exit(0);
}

/* The first line of file dir/name, or "" when it cannot be read. */
static void
knob(const char *dir, const char *name, char *buf, size_t size)
{
	char path[512];
	char *text = NULL;
	size_t len = 0;

	buf[0] = '\0';
	if (mig_path(path, sizeof(path), dir, name) != 0 ||
	    mig__slurp(path, 64, &text, &len) != 0)
		return;
	snprintf(buf, size, "%.*s", (int)strcspn(text, "\n"), text);
	free(text);
}

/* A user-namespace failure explained by a knob, if one is set so. */
static int
explain_userns(const char *sys, char *why, size_t size)
{
	char v[32];

	knob(sys, "kernel/apparmor_restrict_unprivileged_userns", v, sizeof(v));
	if (strcmp(v, "1") == 0) {
		snprintf(why, size, "AppArmor restricts unprivileged user "
		    "namespaces (kernel.apparmor_restrict_unprivileged_userns=1)");
		return 1;
	}
	knob(sys, "kernel/unprivileged_userns_clone", v, sizeof(v));
	if (strcmp(v, "0") == 0) {
		snprintf(why, size, "unprivileged user namespaces are disabled "
		    "(kernel.unprivileged_userns_clone=0)");
		return 1;
	}
	knob(sys, "user/max_user_namespaces", v, sizeof(v));
	if (strcmp(v, "0") == 0) {
		snprintf(why, size, "user namespaces are disabled "
		    "(user.max_user_namespaces=0)");
		return 1;
	}
	return 0;
}

/* 1 if the running kernel is older than major.minor. */
static int
kernel_older(int major, int minor, char *release, size_t size)
{
	struct utsname u;
	int ma = 0, mi = 0;

	release[0] = '\0';
	if (uname(&u) != 0)
		return 0;
	snprintf(release, size, "%s", u.release);
	if (sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return 0;
	return ma < major || (ma == major && mi < minor);
}

static void
explain(const struct mig_fs_probe_opts *o, const struct report *rep,
    struct mig_fs_probe *out)
{
	char *why = out->why;
	size_t size = sizeof(out->why);
	char rel[65];
	int e = rep->err;

	switch (rep->stage) {
	case ST_UNSHARE:
		if (!explain_userns(o->sysctl, why, size))
			snprintf(why, size, "cannot create a user namespace: %s",
			    strerror(e));
		break;
	case ST_MAP:
	case ST_PRIVATE:
		if ((e == EPERM || e == EACCES) &&
		    explain_userns(o->sysctl, why, size))
			break;
		snprintf(why, size, "cannot set up a user namespace (%s): %s",
		    rep->stage == ST_MAP ? "uid_map" : "private mounts",
		    strerror(e));
		break;
	case ST_OPEN:
		if (e == ENOENT || e == ENODEV || e == ENXIO)
			snprintf(why, size, "no %s (is the fuse module loaded?)",
			    o->fuse_dev);
		else if (e == EACCES || e == EPERM)
			snprintf(why, size, "%s is not readable and writable by "
			    "this user", o->fuse_dev);
		else
			snprintf(why, size, "cannot open %s: %s", o->fuse_dev,
			    strerror(e));
		break;
	case ST_MOUNT:
		if (kernel_older(4, 18, rel, sizeof(rel)))
			snprintf(why, size, "kernel %s is older than 4.18: no "
			    "FUSE mounts in user namespaces", rel);
		else if ((e == EPERM || e == EACCES) &&
		    explain_userns(o->sysctl, why, size))
			break;
		else
			snprintf(why, size, "cannot mount FUSE in a user "
			    "namespace: %s", strerror(e));
		break;
	default:
		snprintf(why, size, "the probe failed (no report)");
		break;
	}
}

int
mig__fs_probe_start(const struct mig_fs_probe_opts *given,
    pid_t (*forkfn)(void), struct mig_fs_probe_run *run)
{
	char uid_map[64], gid_map[64];
	int p[2] = { -1, -1 }, r = MIG_EINTERNAL;
	pid_t pid;

	run->o.fuse_dev = "/dev/fuse";
	run->o.sysctl = "/proc/sys";
	run->o.mnt = "/tmp";
	run->pid = -1;
	run->fd = -1;
	if (given != NULL) {
		if (given->fuse_dev != NULL)
			run->o.fuse_dev = given->fuse_dev;
		if (given->sysctl != NULL)
			run->o.sysctl = given->sysctl;
		if (given->mnt != NULL)
			run->o.mnt = given->mnt;
	}
	/* Everything the child needs is made before the fork: it may only
	 * make system calls (the parent may have threads). */
	snprintf(uid_map, sizeof(uid_map), "0 %u 1\n", (unsigned)geteuid());
	snprintf(gid_map, sizeof(gid_map), "0 %u 1\n", (unsigned)getegid());
	/* Non-blocking: once the child has ended, a read says at once
	 * whether its report came (a small write never waits). */
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) {
		r = MIG__ERR(errno);
		goto out;
	}
	if ((pid = forkfn()) < 0) {
		r = MIG__ERR(errno);
		goto out;
	}
	if (pid == 0) {
		close(p[0]);
		child(p[1], run->o.fuse_dev, run->o.mnt, uid_map, gid_map);
	}
	run->pid = pid;
	run->fd = p[0];
	p[0] = -1;
	r = 0;
 out:
	if (p[0] >= 0)
		mig__close(p[0]);
	if (p[1] >= 0)
		mig__close(p[1]);
	return r;
}

void
mig__fs_probe_finish(struct mig_fs_probe_run *run, struct mig_fs_probe *out)
{
	struct report rep = { 0, 0 };
	ssize_t got;

	memset(out, 0, sizeof(*out));
	/* The child has ended: its report is in the pipe, or never came. */
	do {
		got = read(run->fd, &rep, sizeof(rep));
	} while (got < 0 && errno == EINTR);
	if (got != (ssize_t)sizeof(rep))
		rep.stage = 0; /* the child died before it could say */
	if (rep.stage == ST_DONE)
		out->served = 1;
	else
		explain(&run->o, &rep, out);
	mig__close(run->fd);
	run->fd = -1;
	run->pid = -1;
}

int
mig__fs_probe_with(const struct mig_fs_probe_opts *given,
    struct mig_fs_probe *out)
{
	struct mig_fs_probe_run run;
	int r, st;

	memset(out, 0, sizeof(*out));
	if ((r = mig__fs_probe_start(given, fork, &run)) != 0)
		return r;
	while (waitpid(run.pid, &st, 0) < 0 && errno == EINTR)
		;
	mig__fs_probe_finish(&run, out);
	return 0;
}

int
mig__fs_probe(struct mig_fs_probe *out)
{
	return mig__fs_probe_with(NULL, out);
}
