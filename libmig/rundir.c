/*
 * rundir.c: whether a runtime folder and the daemon behind its socket
 * are the user's own (docs/security.md, "Other local users"). In
 * /tmp anyone may make /tmp/mig-UID first and listen there as the
 * user's daemon; every client checks, before it sends a byte, that the
 * folder is the user's,
 * mode 0700 and no symlink, and that the peer on the socket runs as the
 * user. The daemon checks its folder the same way before it listens.
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

int
mig__rundir_check(const char *dir, char *why, size_t size)
{
	uid_t me = geteuid();
	struct stat st;

	if (lstat(dir, &st) == -1)
		return why == NULL ? MIG__ERR(errno) : say(why, size,
		    MIG__ERR(errno), "%s: %s", dir, strerror(errno));
	if (S_ISLNK(st.st_mode))
		return say(why, size, MIG_EUNSAFE,
		    "%s is a symbolic link, not a folder of your own", dir);
	if (!S_ISDIR(st.st_mode))
		return say(why, size, MIG_EUNSAFE, "%s is not a folder", dir);
	if (st.st_uid != me)
		return say(why, size, MIG_EUNSAFE,
		    "%s belongs to uid %u, not to you (uid %u)", dir,
		    (unsigned)st.st_uid, (unsigned)me);
	if ((st.st_mode & 07777) != 0700)
		return say(why, size, MIG_EUNSAFE,
		    "%s has mode %04o, not 0700", dir,
		    (unsigned)(st.st_mode & 07777));
	return 0;
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
