/*
 * fuse_ns.c: served mode's mechanism, proven on this kernel. Unprivileged,
 * a child enters a new user + mount namespace, mounts a libfuse3
 * low-level file system that serves one file from memory, and a reader in
 * the same namespaces reads it back byte for byte.
 *
 * The recipe, as a view in mig-homed will follow it:
 *   1. unshare(CLONE_NEWUSER | CLONE_NEWNS), then write "deny" to
 *      /proc/self/setgroups (required before an unprivileged gid_map),
 *      "0 UID 1" to uid_map and "0 GID 1" to gid_map: root inside is the
 *      user outside, and nobody else exists there.
 *   2. mount --make-rprivate /: nothing mounted here leaks out (a mount
 *      namespace owned by a new user namespace gets slave mounts anyway).
 *   3. open /dev/fuse O_RDWR and mount(2) it ourselves, type "fuse.mig",
 *      MS_NOSUID | MS_NODEV, options
 *      "fd=N,rootmode=40000,user_id=0,group_id=0,default_permissions":
 *      user_id/group_id are the namespace's ids (the user), and
 *      default_permissions makes the kernel apply the served modes.
 *      allow_other is not needed: every process in the view is that user.
 *      fsname is the mount source ("mig-view" in /proc/self/mountinfo).
 *   4. hand the fd to libfuse as the mountpoint "/dev/fd/N"
 *      (fuse_session_mount); libfuse then never runs fusermount3.
 *   5. processes that setns() into the view (here: a forked reader) see
 *      the files; when the mount goes (umount2(MNT_DETACH) or the last
 *      process of the namespace ends) the session loop returns.
 *
 * Run as root, it first makes a private 0666 node for the FUSE device
 * and drops to nobody, so the test is the unprivileged case even in CI.
 * Exit 0: read back identical; 77: served mode unavailable here (the
 * probe's reason is printed); anything else: failure.
 */
#define FUSE_USE_VERSION 35

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

#include "fs.h"

#define SKIP 77
#define NOBODY 65534
#define FILE_INO 2
#define FILE_NAME "hello.c"
#define FILE_SIZE (300 * 1024 + 17) /* several reads, an odd tail */

static char content[FILE_SIZE];

static void
make_content(void)
{
	uint32_t x = 2463534242u;

	for (size_t i = 0; i < sizeof(content); i++) {
		x ^= x << 13; /* xorshift32: the same bytes every run */
		x ^= x >> 17;
		x ^= x << 5;
		content[i] = (char)x;
	}
}

/* ---- the file system: "/" with one read-only file ---- */

static void
fill_attr(fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_uid = getuid(); /* the namespace's ids: 0 */
	st->st_gid = getgid();
	if (ino == FUSE_ROOT_ID) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	} else {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = FILE_SIZE;
	}
}

static void
op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;

	if (parent != FUSE_ROOT_ID || strcmp(name, FILE_NAME) != 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = FILE_INO;
	e.attr_timeout = 1.0;
	e.entry_timeout = 1.0;
	fill_attr(FILE_INO, &e.attr);
	fuse_reply_entry(req, &e);
}

static void
op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;

	if (ino != FUSE_ROOT_ID && ino != FILE_INO) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fill_attr(ino, &st);
	fuse_reply_attr(req, &st, 1.0);
}

static void
op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	static const char *names[] = { ".", "..", FILE_NAME };
	static const fuse_ino_t inos[] = { FUSE_ROOT_ID, FUSE_ROOT_ID, FILE_INO };
	char buf[512];
	size_t used = 0, n;
	struct stat st;

	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	for (off_t i = off; i < 3; i++) {
		fill_attr(inos[i], &st);
		n = fuse_add_direntry(req, buf + used, sizeof(buf) - used,
		    names[i], &st, i + 1);
		if (n > sizeof(buf) - used || used + n > size)
			break;
		used += n;
	}
	fuse_reply_buf(req, buf, used);
}

static void
op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (ino != FILE_INO)
		fuse_reply_err(req, EISDIR);
	else if ((fi->flags & O_ACCMODE) != O_RDONLY)
		fuse_reply_err(req, EACCES);
	else
		fuse_reply_open(req, fi);
}

static void
op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	if (off >= FILE_SIZE) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > (size_t)(FILE_SIZE - off))
		size = (size_t)(FILE_SIZE - off);
	fuse_reply_buf(req, content + off, size);
}

static const struct fuse_lowlevel_ops ops = {
	.lookup = op_lookup,
	.getattr = op_getattr,
	.readdir = op_readdir,
	.open = op_open,
	.read = op_read,
};

/* ---- the namespaces ---- */

static int
put_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

static int
enter_namespaces(uid_t uid, gid_t gid)
{
	char map[64];

	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
		perror("fuse_ns: unshare");
		return -1;
	}
	if (put_file("/proc/self/setgroups", "deny") != 0 && errno != ENOENT) {
		perror("fuse_ns: setgroups");
		return -1;
	}
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
	if (put_file("/proc/self/uid_map", map) != 0) {
		perror("fuse_ns: uid_map");
		return -1;
	}
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
	if (put_file("/proc/self/gid_map", map) != 0) {
		perror("fuse_ns: gid_map");
		return -1;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
		perror("fuse_ns: make-rprivate");
		return -1;
	}
	return 0;
}

/* The reader: another process of the namespace, as a job would be. */
static int
reader(const char *mnt)
{
	char path[PATH_MAX], *got;
	struct stat st;
	size_t n = 0;
	ssize_t r;
	int fd, bad = 0;

	snprintf(path, sizeof(path), "%s/%s", mnt, FILE_NAME);
	if (stat(path, &st) != 0) {
		perror("fuse_ns: reader: stat");
		return 1;
	}
	if (st.st_size != FILE_SIZE || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 0777) != 0444 || st.st_uid != 0) {
		fprintf(stderr, "fuse_ns: reader: bad attributes: size %lld "
		    "mode %o uid %u\n", (long long)st.st_size, st.st_mode,
		    (unsigned)st.st_uid);
		bad = 1;
	}
	if ((fd = open(path, O_RDWR)) >= 0 || errno != EACCES) {
		fprintf(stderr, "fuse_ns: reader: a read-only file opened "
		    "for writing\n");
		bad = 1;
	}
	if (fd >= 0)
		close(fd);
	if ((fd = open(path, O_RDONLY)) < 0) {
		perror("fuse_ns: reader: open");
		return 1;
	}
	if ((got = malloc(FILE_SIZE + 1)) == NULL)
		return 1;
	while ((r = read(fd, got + n, FILE_SIZE + 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	if (r < 0) {
		perror("fuse_ns: reader: read");
		bad = 1;
	}
	if (n != FILE_SIZE || memcmp(got, content, FILE_SIZE) != 0) {
		fprintf(stderr, "fuse_ns: reader: read %zu bytes, content %s\n",
		    n, n == FILE_SIZE ? "differs" : "short");
		bad = 1;
	} else {
		printf("fuse_ns: read %zu bytes back from %s, identical\n", n,
		    path);
	}
	free(got);
	snprintf(path, sizeof(path), "%s/missing", mnt);
	if (stat(path, &st) == 0 || errno != ENOENT) {
		fprintf(stderr, "fuse_ns: reader: missing file found\n");
		bad = 1;
	}
	return bad;
}

/* In the new namespaces: mount, serve until the reader unmounts. */
static int
server(const char *dev, const char *mnt)
{
	char opts[160], fdpath[32];
	char *argv[] = { "fuse_ns", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);
	struct fuse_session *se;
	int fd, status, rc = 1;
	pid_t rpid;

	if ((fd = open(dev, O_RDWR | O_CLOEXEC)) < 0) {
		perror("fuse_ns: open FUSE device");
		return 1;
	}
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,"
	    "group_id=0,default_permissions", fd);
	if (mount("mig-view", mnt, "fuse.mig", MS_NOSUID | MS_NODEV, opts) != 0) {
		perror("fuse_ns: mount fuse");
		return 1;
	}
	if ((se = fuse_session_new(&args, &ops, sizeof(ops), NULL)) == NULL) {
		fprintf(stderr, "fuse_ns: fuse_session_new failed\n");
		return 1;
	}
	snprintf(fdpath, sizeof(fdpath), "/dev/fd/%d", fd);
	if (fuse_session_mount(se, fdpath) != 0) {
		fprintf(stderr, "fuse_ns: fuse_session_mount %s failed\n", fdpath);
		fuse_session_destroy(se);
		return 1;
	}
	if ((rpid = fork()) < 0) {
		perror("fuse_ns: fork reader");
		umount2(mnt, MNT_DETACH);
		fuse_session_destroy(se);
		return 1;
	}
	if (rpid == 0) {
		int bad = reader(mnt);
		/* Ends the server's loop: the connection goes with the
		 * mount. */
		if (umount2(mnt, MNT_DETACH) != 0) {
			perror("fuse_ns: reader: umount");
			bad = 1;
		}
		_exit(bad);
	}
	if (fuse_session_loop(se) < 0)
		fprintf(stderr, "fuse_ns: session loop failed\n");
	fuse_session_destroy(se);
	if (waitpid(rpid, &status, 0) == rpid && WIFEXITED(status))
		rc = WEXITSTATUS(status);
	return rc;
}

/* Everything after the drop to nobody: probe, then namespace and mount. */
static int
run(const char *node)
{
	char mnt[] = "/tmp/mig-fuse-mnt.XXXXXX";
	struct mig_fs_probe_opts po = { .fuse_dev = node };
	struct mig_fs_probe pr;
	int status, rc = 1;
	pid_t pid;

	if (mig__fs_probe_with(&po, &pr) != 0) {
		fprintf(stderr, "fuse_ns: the probe could not run\n");
		return 1;
	}
	if (!pr.served) {
		printf("fuse_ns: skipped: served mode is not available here: "
		    "%s\n", pr.why);
		return SKIP;
	}
	printf("fuse_ns: uid %u, probe: served mode available\n",
	    (unsigned)getuid());
	if (mkdtemp(mnt) == NULL) {
		perror("fuse_ns: mkdtemp");
		return 1;
	}
	if ((pid = fork()) == 0) {
		if (enter_namespaces(getuid(), getgid()) != 0)
			_exit(1);
		_exit(server(node, mnt));
	}
	if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status))
		rc = WEXITSTATUS(status);
	rmdir(mnt);
	if (rc == 0)
		printf("fuse_ns: ok\n");
	return rc;
}

int
main(void)
{
	char dir[] = "/tmp/mig-fuse-dev.XXXXXX", node[PATH_MAX];
	struct stat sb;
	int status, rc = 1;
	pid_t pid;

	setvbuf(stdout, NULL, _IONBF, 0);
	make_content();
	/* A guard against a hang, not a measure: a working run takes well
	 * under a second. */
	alarm(120);
	if (geteuid() != 0 || stat("/dev/fuse", &sb) != 0)
		return run("/dev/fuse");

	/* Root: a node of our own for the FUSE device, open to all, rather
	 * than a chmod of /dev/fuse that every process on the machine would
	 * see; the test itself runs as nobody, and root cleans up. */
	if (mkdtemp(dir) == NULL) {
		perror("fuse_ns: mkdtemp");
		return 1;
	}
	snprintf(node, sizeof(node), "%s/fuse", dir);
	if (chmod(dir, 0755) != 0 ||
	    mknod(node, S_IFCHR | 0666, sb.st_rdev) != 0 ||
	    chmod(node, 0666) != 0) {
		perror("fuse_ns: private FUSE node");
		goto out;
	}
	if ((pid = fork()) == 0) {
		if (setgroups(0, NULL) != 0 ||
		    setresgid(NOBODY, NOBODY, NOBODY) != 0 ||
		    setresuid(NOBODY, NOBODY, NOBODY) != 0) {
			perror("fuse_ns: dropping to nobody");
			_exit(1);
		}
		/* Changed ids made us undumpable, and /proc/self root's. */
		prctl(PR_SET_DUMPABLE, 1);
		_exit(run(node));
	}
	if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status))
		rc = WEXITSTATUS(status);
 out:
	unlink(node);
	rmdir(dir);
	return rc;
}
