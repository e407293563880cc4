/*
 * netproof.c: the proof of a network file system's mount between two
 * machines (docs/design.md, "Proof"). Device numbers mean nothing across
 * machines, so a mount of NFS, CIFS, Ceph, Lustre, 9p, virtiofs, sshfs
 * and the like is proven by what both ends can check of the server's
 * files: the same file system type, source and root in mountinfo, the
 * same inode of its root (the server's inode numbers, except under FUSE,
 * which numbers inodes itself), and a token file that home writes in its
 * root and the host reads back: the same bytes, the same inode and the
 * same ctime. A host that mounts another export under the same name, or
 * a stale copy, reads another token or none. All of it blocks: off the
 * loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core.h"
#include "fs.h"

/* File systems whose files live on a server that other machines mount
 * too. */
static const char *const nettypes[] = {
	"nfs", "nfs4", "cifs", "smb3", "ceph", "lustre", "9p", "virtiofs",
	"glusterfs", "beegfs", "gpfs", "afs", "fuse.sshfs", "fuse.glusterfs",
	"fuse.ceph-fuse", "fuse.s3fs", "fuse.rclone",
};

int
mig__net_ident(const char *fstype, const char *source, const char *root,
    char **net)
{
	size_t i;

	*net = NULL;
	for (i = 0; i < sizeof(nettypes) / sizeof(*nettypes); i++)
		if (strcmp(fstype, nettypes[i]) == 0)
			break;
	if (i == sizeof(nettypes) / sizeof(*nettypes))
		return 0;
	if (strlen(fstype) + strlen(source) + strlen(root) + 3 > MIG_NET_MAX)
		return 0;
	if (asprintf(net, "%s %s %s", fstype, source, root) < 0) {
		*net = NULL;
		return MIG__ERR(ENOMEM);
	}
	return 0;
}

static int
is_fuse(const char *net)
{
	return strncmp(net, "fuse.", 5) == 0;
}

/* Opens path/name as a regular file of this user's, not a link. */
static int
open_token(const char *path, const char *name, int flags, struct stat *st)
{
	char file[PATH_MAX];
	int fd;

	if ((size_t)snprintf(file, sizeof(file), "%s/%s",
	    strcmp(path, "/") == 0 ? "" : path, name) >= sizeof(file))
		return -1;
	if ((fd = open(file, flags | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Whether the file at fd holds exactly token. */
static int
holds(int fd, const char *token)
{
	char buf[MIG_TOKEN_HEX + 2];
	ssize_t n;

	if (lseek(fd, 0, SEEK_SET) != 0)
		return 0;
	do
		n = read(fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	return n == MIG_TOKEN_HEX && memcmp(buf, token, MIG_TOKEN_HEX) == 0;
}

/* Writes token anew into path/name: a file of our own, renamed over.
 * Its mtime is a random second of the last 30 years: a file system that
 * shows the mtime, in whole seconds, as the ctime (sshfs) would
 * otherwise show a copy made in the same second with home's ctime. A
 * copy gets the time it was made; on a server that keeps real ctimes,
 * setting the mtime changes the ctime to now anyway. */
static int
write_token(const char *path, const char *name, const char *token)
{
	char tmp[PATH_MAX], file[PATH_MAX];
	const char *dir = strcmp(path, "/") == 0 ? "" : path;
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { 0, 0 } };
	int fd, ok;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/%s.XXXXXX", dir, name) >=
	    sizeof(tmp) ||
	    (size_t)snprintf(file, sizeof(file), "%s/%s", dir, name) >=
	    sizeof(file))
		return -1;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return -1;
	ts[1].tv_sec = time(NULL) - 86400 -
	    (time_t)randombytes_uniform(30 * 365 * 86400U);
	ok = write(fd, token, MIG_TOKEN_HEX) == MIG_TOKEN_HEX &&
	    fsync(fd) == 0 && futimens(fd, ts) == 0;
	close(fd);
	if (!ok || rename(tmp, file) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

void
mig__net_tokens(struct mig_mounts *ms, const char *tokname,
    const char *token)
{
	struct stat st;
	int fd;

	for (size_t i = 0; i < ms->n; i++) {
		struct mig_mount *m = &ms->m[i];

		if (m->net == NULL || !m->ok)
			continue;
		/* Kept while it holds our token: its ctime then stays what
		 * the hosts that proved it saw. */
		fd = open_token(m->path, tokname, O_RDONLY, &st);
		if (fd < 0 || !holds(fd, token) || st.st_uid != geteuid()) {
			if (fd >= 0)
				close(fd);
			if (write_token(m->path, tokname, token) != 0 ||
			    (fd = open_token(m->path, tokname, O_RDONLY,
			    &st)) < 0)
				continue;
		}
		close(fd);
		free(m->tokname);
		if ((m->tokname = strdup(tokname)) == NULL)
			continue;
		memcpy(m->token, token, MIG_TOKEN_HEX + 1);
		m->tino = (uint64_t)st.st_ino;
		m->tsec = (uint64_t)st.st_ctim.tv_sec;
		m->tnsec = (uint32_t)st.st_ctim.tv_nsec;
	}
}

void
mig__net_check(const struct mig_mount *h, struct mig_mount *here)
{
	struct stat st;
	int fd;

	here->tokok = 0;
	if (h->net == NULL || h->tokname == NULL || h->token[0] == '\0' ||
	    here->net == NULL || strcmp(h->net, here->net) != 0)
		return;
	if ((fd = open_token(here->path, h->tokname, O_RDONLY, &st)) < 0)
		return;
	here->tokok = holds(fd, h->token) &&
	    (uint64_t)st.st_ctim.tv_sec == h->tsec &&
	    (uint32_t)st.st_ctim.tv_nsec == h->tnsec &&
	    (is_fuse(h->net) || (uint64_t)st.st_ino == h->tino);
	close(fd);
}

int
mig__net_proven(const struct mig_mount *h, const struct mig_mount *here)
{
	return h->net != NULL && here->net != NULL &&
	    strcmp(h->net, here->net) == 0 && here->ok && here->tokok &&
	    (is_fuse(h->net) || here->ino == h->ino);
}
