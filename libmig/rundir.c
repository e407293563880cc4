/*
 * rundir.c: whether a runtime folder and the daemon behind its socket
 * are the user's own (docs/security.md, "Other local users"). In
 * /tmp anyone may make /tmp/mig-UID first and listen there as the
 * user's daemon; every client checks, before it sends a byte, that the
 * folder is the user's,
 * mode 0700 and no symlink, and that the peer on the socket runs as the
 * user. The daemon checks its folder the same way before it listens,
 * and the folders of its object cache and its state in the same spirit
 * (mig__dir_make): the user's, open to nobody else's writes. With no
 * folder named in the environment, /run/user/UID/mig is used when
 * /run/user/UID passes the same check (mig__runtime_dir_in).
 *
 * Compiled into libmigcore and into libmig.so: libc only, no heap, and
 * no message unless the caller gives a buffer for one.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "rundir.h"

/* Returns r, with the sentence in why when there is one to fill. */
static int __attribute__((format(printf, 4, 5)))
say(char *why, size_t size, int r, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && size > 0) {
		va_start(ap, fmt);
		vsnprintf(why, size, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* Folder dir, whose lstat or fstat is st: ours, and mode 0700 when
 * private, else not writable by group or others. */
static int
judge(const struct stat *st, const char *dir, int private, char *why,
    size_t size)
{
	uid_t me = geteuid();

	if (S_ISLNK(st->st_mode))
		return say(why, size, MIG_EUNSAFE,
		    "%s is a symbolic link, not a folder of your own", dir);
	if (!S_ISDIR(st->st_mode))
		return say(why, size, MIG_EUNSAFE, "%s is not a folder", dir);
	if (st->st_uid != me)
		return say(why, size, MIG_EUNSAFE,
		    "%s belongs to uid %u, not to you (uid %u)", dir,
		    (unsigned)st->st_uid, (unsigned)me);
	if (private && (st->st_mode & 07777) != 0700)
		return say(why, size, MIG_EUNSAFE,
		    "%s has mode %04o, not 0700", dir,
		    (unsigned)(st->st_mode & 07777));
	if (!private && (st->st_mode & 022) != 0)
		return say(why, size, MIG_EUNSAFE,
		    "%s has mode %04o: others may write to it", dir,
		    (unsigned)(st->st_mode & 07777));
	return 0;
}

static int
check(const char *dir, int private, char *why, size_t size)
{
	struct stat st;

	if (lstat(dir, &st) == -1)
		return why == NULL ? MIG__ERR(errno) : say(why, size,
		    MIG__ERR(errno), "%s: %s", dir, strerror(errno));
	return judge(&st, dir, private, why, size);
}

int
mig__rundir_check(const char *dir, char *why, size_t size)
{
	return check(dir, 1, why, size);
}

int
mig__dir_check(const char *dir, char *why, size_t size)
{
	return check(dir, 0, why, size);
}

int
mig__dir_fd_check(int fd, const char *name, char *why, size_t size)
{
	struct stat st;

	if (fstat(fd, &st) == -1)
		return why == NULL ? MIG__ERR(errno) : say(why, size,
		    MIG__ERR(errno), "%s: %s", name, strerror(errno));
	return judge(&st, name, 0, why, size);
}

int
mig__dir_make(const char *dir, char *why, size_t size)
{
	char buf[4096];
	struct stat st;
	char *p, *slash;

	if (strlen(dir) >= sizeof(buf) || dir[0] != '/')
		return say(why, size, MIG_ETOOBIG, "%s: not an absolute path "
		    "that fits", dir);
	strcpy(buf, dir);
	for (p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		if (p[-1] != '/') {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, 0700) == -1 && errno != EEXIST)
				return why == NULL ? MIG__ERR(errno) : say(why,
				    size, MIG__ERR(errno), "cannot create %s: %s",
				    buf, strerror(errno));
			*p = c;
		}
		if (*p == '\0')
			break;
	}
	/* The parent, as dir's path reaches it. */
	while ((slash = strrchr(buf, '/')) != NULL && slash[1] == '\0' &&
	    slash > buf)
		*slash = '\0';
	slash = strrchr(buf, '/');
	if (slash == buf)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (stat(buf, &st) == -1)
		return why == NULL ? MIG__ERR(errno) : say(why, size,
		    MIG__ERR(errno), "%s: %s", buf, strerror(errno));
	if (st.st_uid != geteuid() && st.st_uid != 0)
		return say(why, size, MIG_EUNSAFE, "%s belongs to uid %u, "
		    "who could swap %s", buf, (unsigned)st.st_uid, dir);
	if ((st.st_mode & 022) != 0 && !(st.st_mode & S_ISVTX))
		return say(why, size, MIG_EUNSAFE, "%s has mode %04o: others "
		    "could swap %s", buf, (unsigned)(st.st_mode & 07777), dir);
	return check(dir, 0, why, size);
}

int
mig__runtime_dir_in(char *buf, size_t size, const char *base)
{
	char dir[4096];
	unsigned uid = (unsigned)getuid();
	int n;

	n = snprintf(dir, sizeof(dir), "%s/%u", base, uid);
	if (n > 0 && (size_t)n < sizeof(dir) &&
	    mig__dir_check(dir, NULL, 0) == 0)
		n = snprintf(buf, size, "%s/mig", dir);
	else
		n = snprintf(buf, size, "/tmp/mig-%u", uid);
	return n < 0 || (size_t)n >= size ? MIG_ETOOBIG : 0;
}

int
mig__sock_dir_check(const char *sock, char *why, size_t size)
{
	char dir[4096];
	const char *slash = strrchr(sock, '/');
	size_t n;

	if (slash == NULL)
		return mig__rundir_check(".", why, size);
	n = slash == sock ? 1 : (size_t)(slash - sock);
	if (n >= sizeof(dir))
		return say(why, size, MIG_ETOOBIG, "%s: path too long", sock);
	memcpy(dir, sock, n);
	dir[n] = '\0';
	return mig__rundir_check(dir, why, size);
}

int
mig__peer_check(int fd, const char *sock, char *why, size_t size)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	uid_t me = geteuid();

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
		return why == NULL ? MIG__ERR(errno) : say(why, size,
		    MIG__ERR(errno), "%s: cannot tell who listens: %s", sock,
		    strerror(errno));
	if (len != sizeof(cred) || cred.uid != me)
		return say(why, size, MIG_EUNSAFE,
		    "%s is served by uid %u, not by you (uid %u)", sock,
		    (unsigned)cred.uid, (unsigned)me);
	return 0;
}

int
mig__sock_connect(const char *path, int *fdp, char *err, size_t errsize)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	int fd, r;

	if ((r = mig__sock_dir_check(path, err, errsize)) != 0)
		return r;
	if (len >= sizeof(sun.sun_path))
		return MIG_ETOOBIG;
	memcpy(sun.sun_path, path, len + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return MIG__ERR(errno);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		r = MIG__ERR(errno);
		close(fd);
		return r;
	}
	if ((r = mig__peer_check(fd, path, err, errsize)) != 0) {
		close(fd);
		return r;
	}
	*fdp = fd;
	return 0;
}
