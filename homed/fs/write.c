/*
 * write.c: the fs role's writes at home (serve.c answers the rest). A
 * host's view changes home's files by path: MKDIR, CREATE, UNLINK,
 * RMDIR, RENAME, SYMLINK, LINK and SETATTR are done here, by this daemon,
 * with this host's clock. A file written in the view arrives whole
 * (PUT_BEGIN, PUT_DATA..., PUT_COMMIT; or, small, in a PUT_BATCH,
 * mig__fs_put_whole) into a temporary file in its folder, which is
 * renamed into place with its mode; a host that goes away leaves none
 * behind (mig__fs_puts_link_down). A small file whose place holds an
 * empty file of ours (a job's new file) is written in place instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"
#include "homed.h"

/* A file on its way in: its temporary name and where it goes. */
struct put {
	TAILQ_ENTRY(put) entry;
	struct link *link;
	uint32_t id;
	int fd;
	uint32_t mode;
	char *tmp, *path;
};

/* The files on their way in, of all links. */
struct fs_puts {
	uint32_t next_put;
	TAILQ_HEAD(, put) puts;
};

int
mig__fs_put_lstat(const char *path, struct mig_buf *out)
{
	struct stat st;

	if (lstat(path, &st) == -1)
		return errno;
	return mig__fs_put_attr(out, &st, getuid(), getgid()) == 0 ? 0 :
								     ENOMEM;
}

static int
op_unlink(struct fs_puts *h, struct link *l, const struct mig_fs_req *q,
    struct mig_buf *out)
{
	return unlink(q->path) == -1 ? errno : 0;
}

static int
op_rmdir(struct fs_puts *h, struct link *l, const struct mig_fs_req *q,
    struct mig_buf *out)
{
	return rmdir(q->path) == -1 ? errno : 0;
}

static int
op_mkdir(struct fs_puts *h, struct link *l, const struct mig_fs_req *q,
    struct mig_buf *out)
{
	mode_t old;
	int e = 0;

	/* The job's umask is in mode already; ours must not add to it. */
	old = umask(0);
	if (mkdir(q->path, (mode_t)q->mode & 07777) == -1)
		e = errno;
	umask(old);
	return e != 0 ? e : mig__fs_put_lstat(q->path, out);
}

static int
op_create(struct fs_puts *h, struct link *l, const struct mig_fs_req *q,
    struct mig_buf *out)
{
	mode_t old;
	int fd, e = 0;

	old = umask(0);
	fd = open(q->path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK | (q->excl ? O_EXCL : 0), (mode_t)q->mode & 07777);
	if (fd == -1)
		e = errno;
	umask(old);
	mig__close(fd);
	return e != 0 ? e : mig__fs_put_lstat(q->path, out);
}

static int
op_rename(struct fs_puts *h, struct link *l, const struct mig_fs_req *q,
    struct mig_buf *out)
{
	if (renameat2(AT_FDCWD, q->path, AT_FDCWD, q->to, q->flags) == -1)
		return errno;
	return 0;
}

static int
op_symlink(struct fs_puts *h, struct link *l, const struct mig_fs_req *q,
    struct mig_buf *out)
{
	if (symlink(q->target, q->path) == -1)
		return errno;
	return mig__fs_put_lstat(q->path, out);
}

static int
op_link(struct fs_puts *h, struct link *l, const struct mig_fs_req *q,
    struct mig_buf *out)
{
	if (link(q->path, q->to) == -1)
		return errno;
	return mig__fs_put_lstat(q->to, out);
}

static int
op_setattr(struct fs_puts *h, struct link *l, const struct mig_fs_req *q,
    struct mig_buf *out)
{
	const char *path = q->path;
	uint32_t what = q->what;
	struct timespec ts[2];

	if ((what & MIG_FS_SET_MODE) &&
	    chmod(path, (mode_t)q->mode & 07777) == -1)
		return errno;
	if ((what & MIG_FS_SET_SIZE) && truncate(path, (off_t)q->size) == -1)
		return errno;
	if (what & (MIG_FS_SET_ATIME | MIG_FS_SET_MTIME)) {
		ts[0].tv_sec = (time_t)q->asec;
		ts[0].tv_nsec = (what & MIG_FS_SET_ATIME_NOW) ? UTIME_NOW :
		    (what & MIG_FS_SET_ATIME) ? (long)q->ansec : UTIME_OMIT;
		ts[1].tv_sec = (time_t)q->msec;
		ts[1].tv_nsec = (what & MIG_FS_SET_MTIME_NOW) ? UTIME_NOW :
		    (what & MIG_FS_SET_MTIME) ? (long)q->mnsec : UTIME_OMIT;
		if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) == -1)
			return errno;
	}
	return mig__fs_put_lstat(path, out);
}

static void
put_free(struct fs_puts *h, struct put *p, int keep)
{
	TAILQ_REMOVE(&h->puts, p, entry);
	mig__close(p->fd);
	if (!keep)
		unlink(p->tmp);
	free(p->tmp);
	free(p->path);
	free(p);
}

static struct put *
put_find(struct fs_puts *h, struct link *l, uint32_t id)
{
	struct put *p;

	TAILQ_FOREACH(p, &h->puts, entry)
		if (p->link == l && p->id == id)
			return p;
	return NULL;
}

/* A temporary file beside path, .NAME.mig-XXXXXX, in the same folder so
 * that the rename into place is atomic; mkstemp makes it 0600, and it
 * gets its mode at the commit. 0 with *tmp (the caller's) and *fdp, or
 * an errno. */
static int
tmp_beside(const char *path, char **tmp, int *fdp)
{
	const char *slash = strrchr(path, '/');
	int e;

	if (asprintf(tmp, "%.*s/.%s.mig-XXXXXX", (int)(slash - path), path,
	    slash + 1) == -1) {
		*tmp = NULL;
		return ENOMEM;
	}
	if ((*fdp = mkostemp(*tmp, O_CLOEXEC)) == -1) {
		e = errno;
		free(*tmp);
		*tmp = NULL;
		return e;
	}
	return 0;
}

static int
op_put_begin(struct fs_puts *h, struct link *l, const struct mig_fs_req *q,
    struct mig_buf *out)
{
	struct put *p = NULL;
	char *path;
	int e = 0;

	if ((path = strdup(q->path)) == NULL)
		return ENOMEM;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		e = ENOMEM;
		goto out;
	}
	if ((e = tmp_beside(path, &p->tmp, &p->fd)) != 0)
		goto out;
	if (++h->next_put == 0)
		h->next_put = 1;
	p->id = h->next_put;
	p->link = l;
	p->mode = q->mode & 07777;
	p->path = path;
	path = NULL;
	if (proto_put_u32(out, p->id) != 0) {
		e = ENOMEM;
		TAILQ_INSERT_TAIL(&h->puts, p, entry);
		put_free(h, p, 0);
		p = NULL;
		goto out;
	}
	TAILQ_INSERT_TAIL(&h->puts, p, entry);
	p = NULL;
 out:
	if (p != NULL) {
		free(p->tmp);
		free(p);
	}
	free(path);
	return e;
}

static int
op_put_data(struct fs_puts *h, struct link *l, const struct mig_fs_req *q,
    struct mig_buf *out)
{
	struct put *p;
	size_t done = 0;
	ssize_t w;

	if ((p = put_find(h, l, q->handle)) == NULL)
		return EBADF;
	while (done < q->ndata) {
		if ((w = write(p->fd, q->data + done, q->ndata - done)) == -1) {
			int e = errno;
			put_free(h, p, 0);
			return e;
		}
		done += (size_t)w;
	}
	return 0;
}

static int
op_put_commit(struct fs_puts *h, struct link *l, const struct mig_fs_req *q,
    struct mig_buf *out)
{
	struct put *p;
	int e = 0;

	if ((p = put_find(h, l, q->handle)) == NULL)
		return EBADF;
	if (fchmod(p->fd, (mode_t)p->mode) == -1 ||
	    rename(p->tmp, p->path) == -1) {
		e = errno;
		put_free(h, p, 0);
		return e;
	}
	mig__log(MIG_LOG_DEBUG, "link %s: put %s", l->desc, p->path);
	e = mig__fs_put_lstat(p->path, out);
	put_free(h, p, 1);
	return e;
}

/* The empty file at path, ours alone, open for writing; else -1. A job's
 * new file is one (CREATE made it empty at home): its content goes into
 * it in place, as the job's program would have written it here, without
 * a second file made and renamed over it. A file with content, another
 * name, or another owner is replaced whole by a rename, so no reader at
 * home ever sees it half old, half new. */
static int
open_empty(const char *path)
{
	struct stat st;
	int fd;

	fd = open(path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0 &&
	    st.st_nlink == 1 && st.st_uid == geteuid())
		return fd;
	mig__close(fd);
	return -1;
}

int
mig__fs_put_whole(const char *path, uint32_t mode, const uint8_t *data,
    size_t n, struct mig_buf *out)
{
	size_t done = 0;
	char *tmp = NULL;
	ssize_t w;
	int fd, e = 0;

	if ((fd = open_empty(path)) == -1 &&
	    (e = tmp_beside(path, &tmp, &fd)) != 0)
		return e;
	while (e == 0 && done < n) {
		if ((w = write(fd, data + done, n - done)) == -1)
			e = errno;
		else
			done += (size_t)w;
	}
	if (e == 0 && (fchmod(fd, (mode_t)(mode & 07777)) == -1 ||
	    (tmp != NULL && rename(tmp, path) == -1)))
		e = errno;
	mig__close(fd);
	if (e != 0 && tmp != NULL)
		unlink(tmp);
	free(tmp);
	return e != 0 ? e : mig__fs_put_lstat(path, out);
}

typedef int write_fn(struct fs_puts *h, struct link *l,
    const struct mig_fs_req *q, struct mig_buf *out);

static write_fn *const writes[MIG_FS__COUNT] = {
	[MIG_FS_MKDIR] = op_mkdir,
	[MIG_FS_UNLINK] = op_unlink,
	[MIG_FS_RMDIR] = op_rmdir,
	[MIG_FS_RENAME] = op_rename,
	[MIG_FS_SYMLINK] = op_symlink,
	[MIG_FS_LINK] = op_link,
	[MIG_FS_CREATE] = op_create,
	[MIG_FS_SETATTR] = op_setattr,
	[MIG_FS_PUT_BEGIN] = op_put_begin,
	[MIG_FS_PUT_DATA] = op_put_data,
	[MIG_FS_PUT_COMMIT] = op_put_commit,
};

/* Over protocol 6, a change's answer ends with its folder's state: the
 * kernel on the host asks for it after each change, and the view then
 * knows it (wire.c). */
static int
put_folder(const char *path, struct mig_buf *out)
{
	char dir[PATH_MAX];
	struct stat st;
	int e;

	if ((e = mig__path_folder(path, dir, sizeof(dir))) == 0 &&
	    lstat(dir, &st) == -1)
		e = errno;
	if (proto_put_u32(out, (uint32_t)e) != 0 ||
	    (e == 0 && mig__fs_put_attr(out, &st, getuid(), getgid()) != 0))
		return ENOMEM;
	return 0;
}

int
mig__fs_write(struct fs_puts *h, struct link *l, const struct mig_fs_req *q,
    struct mig_buf *out)
{
	int e;

	if (q->op >= MIG_FS__COUNT || writes[q->op] == NULL)
		return EINVAL;
	if ((e = writes[q->op](h, l, q, out)) != 0 ||
	    !mig__fs_op_folder(q->op, l->proto))
		return e;
	return put_folder(q->op == MIG_FS_LINK ? q->to : q->path, out);
}

struct fs_puts *
mig__fs_puts_new(void)
{
	struct fs_puts *h = calloc(1, sizeof(*h));

	if (h != NULL)
		TAILQ_INIT(&h->puts);
	return h;
}

void
mig__fs_puts_link_down(struct fs_puts *h, struct link *l)
{
	struct put *p, *next;

	TAILQ_FOREACH_SAFE(p, &h->puts, entry, next)
		if (p->link == l)
			put_free(h, p, 0);
}

void
mig__fs_puts_free(struct fs_puts *h)
{
	if (h == NULL)
		return;
	while (!TAILQ_EMPTY(&h->puts))
		put_free(h, TAILQ_FIRST(&h->puts), 0);
	free(h);
}
