/*
 * keeper.c: the served view's namespaces and mounts, made by its keeper
 * (view.c forks it, mig__view_keeper): a new user namespace (the user
 * mapped to itself) and mount namespace, the FUSE file system mounted on
 * an empty folder of the runtime dir, the proven mounts bound in, and
 * this host's own /proc, /sys, /dev and /run, and the runtime dir itself
 * (the jobs' shim talks to the daemon), mounted over home's. It reports
 * each step on its socket and lives until the daemon holds the
 * namespaces. Which paths are those mount points (mig__view_pinned) is
 * known here too.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "view.h"

static int
put_file(const char *path, const char *s)
{
	size_t n = strlen(s);
	int fd = open(path, O_WRONLY | O_CLOEXEC), e = 0;

	if (fd < 0)
		return errno;
	if (write(fd, s, n) != (ssize_t)n)
		e = errno != 0 ? errno : EIO;
	close(fd);
	return e;
}

static void
keeper_say(int sock, const struct keeper_report *rep, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { (void *)rep, sizeof(*rep) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (fd >= 0) {
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	(void)!sendmsg(sock, &mh, MSG_NOSIGNAL);
}

static void __attribute__((noreturn))
keeper_fail(int sock, int e, const char *what)
{
	struct keeper_report rep;

	memset(&rep, 0, sizeof(rep));
	rep.err = e != 0 ? e : EIO;
	snprintf(rep.msg, sizeof(rep.msg), "%s: %s", what, strerror(rep.err));
	keeper_say(sock, &rep, -1);
	_exit(1);
}

/* The host's folders the keeper binds over home's in the view. */
static const char *const host[] = { "/proc", "/dev", "/sys", "/run" };

/* Whether path is above or at mount point m. */
static int
holds_mount(const char *path, const char *m)
{
	size_t n = strlen(path);

	return strncmp(path, m, n) == 0 && (m[n] == '\0' || m[n] == '/');
}

int
mig__view_pinned(const struct view *v, const char *path)
{
	for (size_t i = 0; i < sizeof(host) / sizeof(*host); i++)
		if (holds_mount(path, host[i]))
			return 1;
	return holds_mount(path, v->d->rundir);
}

/*
 * The FUSE device is opened here, inside the new user namespace: the
 * kernel mounts FUSE only with a device opened in the namespace that
 * mounts it. Its fd goes to the daemon, which serves it.
 */
void
mig__view_keeper(const char *root, const char *rundir,
    const struct mig_plan *plan, int sock)
{
	char map[64], opts[192], dst[PATH_MAX + 16];
	struct keeper_report rep;
	uid_t uid = getuid();
	gid_t gid = getgid();
	struct stat st;
	char byte;
	int e, fd;

	/* The daemon is not dumpable (main.c), which makes a child's
	 * /proc/self files root's, its uid_map unwritable and its ns files
	 * closed to the daemon (on_ctl opens them). The keeper is
	 * dumpable: it lives only until the daemon holds its namespaces. */
	(void)prctl(PR_SET_DUMPABLE, 1);
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) == -1)
		keeper_fail(sock, errno, "unshare(user, mount)");
	if ((e = put_file("/proc/self/setgroups", "deny")) != 0 && e != ENOENT)
		keeper_fail(sock, e, "setgroups deny");
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
	if ((e = put_file("/proc/self/uid_map", map)) != 0)
		keeper_fail(sock, e, "uid_map");
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
	if ((e = put_file("/proc/self/gid_map", map)) != 0)
		keeper_fail(sock, e, "gid_map");
	/* The type "none", not NULL: the kernel ignores it here, but
	 * valgrind checks it as a string. */
	if (mount(NULL, "/", "none", MS_REC | MS_PRIVATE, NULL) == -1)
		keeper_fail(sock, errno, "making mounts private");
	if ((fd = open("/dev/fuse", O_RDWR | O_CLOEXEC)) == -1)
		keeper_fail(sock, errno, "opening /dev/fuse");
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=%u,"
	    "group_id=%u,default_permissions", fd, (unsigned)uid,
	    (unsigned)gid);
	if (mount("mig-view", root, "fuse.mig", MS_NOSUID | MS_NODEV,
	    opts) == -1)
		keeper_fail(sock, errno, "mounting the view");
	memset(&rep, 0, sizeof(rep));
	rep.stage = 1;
	keeper_say(sock, &rep, fd);
	close(fd);
	/* From here on, every path under root is a question to home, which
	 * the daemon answers from its loop, but where this host's own
	 * mounts are proven home's: those are bound in (proof.c). */
	if (mig__plan_apply(plan, root, rep.msg, sizeof(rep.msg)) != 0) {
		rep.err = EIO;
		keeper_say(sock, &rep, -1);
		_exit(1);
	}
	for (size_t i = 0; i < sizeof(host) / sizeof(*host); i++) {
		snprintf(dst, sizeof(dst), "%s%s", root, host[i]);
		if (mount(host[i], dst, "none", MS_BIND | MS_REC, NULL) == -1 &&
		    i < 2)
			keeper_fail(sock, errno, host[i]);
	}
	/* The runtime dir (the daemon's socket, for the jobs' shim), where
	 * home has that folder too; in /run it is there already. */
	snprintf(dst, sizeof(dst), "%s%s", root, rundir);
	if (strncmp(rundir, "/run/", 5) != 0 && stat(dst, &st) == 0 &&
	    S_ISDIR(st.st_mode))
		mount(rundir, dst, "none", MS_BIND, NULL);
	memset(&rep, 0, sizeof(rep));
	rep.stage = 2;
	keeper_say(sock, &rep, -1);
	/* Until the daemon holds the namespaces (it closes its end). */
	while (read(sock, &byte, 1) == -1 && errno == EINTR)
		;
	_exit(0);
}
