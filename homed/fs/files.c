/*
 * files.c: a served view's files opened, read, written and closed. A
 * file opened to read is served from its cached object (fetch.c); one
 * opened to write, or made here, from the node's local file, which for a
 * file home has starts as a copy of its content, made on the thread
 * pool. Closes and fsyncs of written files wait for the put home
 * (writeback.c). The view keeps its open files: those the kernel never
 * released (the view ended first) go with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "view.h"

/* An open file: a cached object (read) or the node's local file. */
struct fh {
	TAILQ_ENTRY(fh) entry; /* the view's fhs */
	int kind;             /* FH_OBJECT or FH_LOCAL */
	int fd;               /* FH_OBJECT: the cached object */
	uint8_t key[MIG_HASH_BYTES];
	struct node *n;
};

#define FH_OBJECT 1
#define FH_LOCAL 2

static int
wants_write(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY;
}

/* A new open file of v's, on node n. */
static struct fh *
fh_new(struct view *v, int kind, struct node *n)
{
	struct fh *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->kind = kind;
	h->fd = -1;
	h->n = n;
	TAILQ_INSERT_TAIL(&v->fhs, h, entry);
	return h;
}

static void
fh_free(struct view *v, struct fh *h)
{
	if (h->kind == FH_OBJECT) {
		mig__close(h->fd);
		mig__cache_release(v->d->fs_host->cache, h->key);
	}
	TAILQ_REMOVE(&v->fhs, h, entry);
	free(h);
}

/* The kernel is done with h (its release), or never had it. */
static void
fh_release(struct view *v, struct fh *h)
{
	struct node *n = h->n;

	if (h->kind == FH_LOCAL && --n->refs == 0 && !n->putting &&
	    !n->created) {
		if (n->dirty && !v->ending) {
			mig__put_start(v, n); /* written through a mapping */
		} else {
			mig__close(n->wfd);
			n->wfd = -1;
			if (n->nlookup == 0)
				mig__node_free(v, n);
		}
	}
	fh_free(v, h);
}

/* The view ends: the files the kernel never released (their release
 * no longer comes) go with it, before its nodes. */
void
mig__fhs_free(struct view *v)
{
	while (!TAILQ_EMPTY(&v->fhs))
		fh_free(v, TAILQ_FIRST(&v->fhs));
}

/* An open's answer with h; when the kernel did not take it (the open
 * was cut short, or the view is gone), no release of h comes. */
static void
reply_fh(struct freq *q, struct fh *h)
{
	q->fi.fh = (uintptr_t)h;
	if (fuse_reply_open(q->req, &q->fi) != 0)
		fh_release(q->v, h);
}

static void
reply_open_local(struct freq *q, struct node *n)
{
	struct fh *h = fh_new(q->v, FH_LOCAL, n);

	if (h == NULL) {
		fuse_reply_err(q->req, ENOMEM);
		return;
	}
	n->refs++;
	/* Written here: the pages are no longer those of n->key. */
	n->has_key = 0;
	q->fi.keep_cache = 0;
	q->fi.direct_io = 0;
	reply_fh(q, h);
}

/* An open for write's local copy of home's content, made on the thread
 * pool: it takes as long as the file is big. */
struct wcopy {
	struct vwork w;
	struct freq *q;       /* the open; its view and node are looked up */
	uint64_t node;
	int src;              /* the cached object */
	int dst;              /* the new local file */
	int err;
};

static void
copy_work(struct vwork *w)
{
	struct wcopy *c = (struct wcopy *)w;
	char buf[65536];
	ssize_t r;
	off_t off = 0;

	while ((r = pread(c->src, buf, sizeof(buf), off)) > 0) {
		if (pwrite(c->dst, buf, (size_t)r, off) != r) {
			c->err = errno != 0 ? errno : EIO;
			return;
		}
		off += r;
	}
	if (r < 0)
		c->err = errno;
}

static void
copy_done(struct vwork *w, struct view *v)
{
	struct wcopy *c = (struct wcopy *)w;
	struct freq *q = c->q;
	struct node *n = NULL;

	mig__close(c->src);
	mig__cache_release(w->d->fs_host->cache, q->key);
	/* The view is gone, its FUSE session with it: nobody waits. */
	if (v == NULL)
		goto out;
	if ((n = mig__node_get(v, c->node)) == NULL && c->err == 0)
		c->err = ESTALE;
	if (c->err != 0) {
		fuse_reply_err(q->req, c->err);
		goto out;
	}
	/* Another open made its copy first, and writes may have gone to
	 * it since: that one stays. */
	if (n->wfd < 0) {
		n->wfd = c->dst;
		c->dst = -1;
	}
	reply_open_local(q, n);
 out:
	mig__close(c->dst);
	mig__freq_free(q);
	free(c);
}

/* The object for an open is in the cache (fd), or could not be had. */
static void
opened(struct freq *q, int err, int fd)
{
	struct node *n = q->node;
	struct wcopy *c;
	struct fh *h;

	if (err != 0) {
		fuse_reply_err(q->req, err);
		goto out;
	}
	if (!wants_write(q->fi.flags)) {
		if ((h = fh_new(q->v, FH_OBJECT, n)) == NULL) {
			mig__close(fd);
			mig__cache_release(q->v->d->fs_host->cache, q->key);
			fuse_reply_err(q->req, ENOMEM);
			goto out;
		}
		h->fd = fd;
		memcpy(h->key, q->key, sizeof(h->key));
		/* The same content as the pages the kernel has of n. */
		q->fi.keep_cache = n->has_key && n->wfd < 0 &&
		    memcmp(n->key, q->key, sizeof(n->key)) == 0;
		memcpy(n->key, q->key, sizeof(n->key));
		n->has_key = n->wfd < 0;
		reply_fh(q, h);
		goto out;
	}
	/* Written in the view: a local copy of home's content. */
	if (n->wfd < 0) {
		if ((c = calloc(1, sizeof(*c))) == NULL)
			err = ENOMEM;
		else if ((c->dst = mig__view_tmpfile(q->v)) < 0)
			err = errno;
		if (err == 0) {
			c->q = q;
			c->node = n->id;
			c->src = fd;
			mig__pool_queue(q->v, &c->w, copy_work, copy_done);
			return;
		}
		free(c);
	}
	mig__close(fd);
	mig__cache_release(q->v->d->fs_host->cache, q->key);
	if (err != 0)
		fuse_reply_err(q->req, err);
	else
		reply_open_local(q, n);
 out:
	mig__freq_free(q);
}

static void
done_open(struct freq *q, int err, struct mig_fs_rep *a)
{
	if (err != 0) {
		fuse_reply_err(q->req, err);
		mig__freq_free(q);
		return;
	}
	mig__known_key(q->v, q->path, &a->attr, a->key);
	q->node->attr = a->attr;
	memcpy(q->key, a->key, sizeof(q->key));
	mig__object_get(q->v, q, (uint64_t)a->attr.st_size, opened);
}

void
mig__op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct view *v = fuse_req_userdata(req);
	struct node *n = mig__node_get(v, ino);
	struct known *k;
	struct freq *q;

	if (n == NULL) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	if ((q = mig__freq_path(v, req, n, NULL)) == NULL)
		return;
	q->node = n;
	q->fi = *fi;
	if (n->wfd < 0 && wants_write(fi->flags) && (fi->flags & O_TRUNC)) {
		if ((n->wfd = mig__view_tmpfile(v)) < 0) {
			fuse_reply_err(req, errno);
			mig__freq_free(q);
			return;
		}
		n->dirty = 1;
	}
	if (n->wfd >= 0) {
		if (wants_write(fi->flags) && (fi->flags & O_TRUNC) &&
		    ftruncate(n->wfd, 0) == 0)
			n->dirty = 1;
		reply_open_local(q, n);
		mig__freq_free(q);
		return;
	}
	if ((k = mig__known_get(v, n->path)) != NULL && k->has_key &&
	    S_ISREG(k->attr.st_mode)) {
		n->attr = k->attr;
		memcpy(q->key, k->key, sizeof(q->key));
		mig__object_get(v, q, (uint64_t)k->attr.st_size, opened);
		return;
	}
	mig__freq_ask(v, q, MIG_FS_OPEN, done_open);
}

void
mig__op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	struct fh *h = (struct fh *)(uintptr_t)fi->fh;
	int fd = h->kind == FH_OBJECT ? h->fd : h->n->wfd;
	char *buf = malloc(size > 0 ? size : 1);
	ssize_t r;

	if (buf == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if ((r = pread(fd, buf, size, off)) < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_buf(req, buf, (size_t)r);
	free(buf);
}

void
mig__op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
    off_t off, struct fuse_file_info *fi)
{
	struct fh *h = (struct fh *)(uintptr_t)fi->fh;
	ssize_t r;

	if (h->kind != FH_LOCAL || h->n->wfd < 0) {
		fuse_reply_err(req, EBADF);
		return;
	}
	if ((r = pwrite(h->n->wfd, buf, size, off)) < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	h->n->dirty = 1;
	fuse_reply_write(req, (size_t)r);
}

static void
flush(fuse_req_t req, struct fuse_file_info *fi, int now)
{
	struct view *v = fuse_req_userdata(req);
	struct fh *h = (struct fh *)(uintptr_t)fi->fh;
	struct node *n = h->n;
	struct freq *q;

	/* A file made in the view goes home when a job ends (a temporary
	 * one removed by then never does), unless fsync asks now. */
	if (h->kind != FH_LOCAL || (!n->dirty && !n->putting) ||
	    (n->created && !now)) {
		fuse_reply_err(req, 0);
		return;
	}
	if ((q = mig__freq_new(v, req)) == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	TAILQ_INSERT_TAIL(&n->flushes, q, entry);
	if (!n->putting)
		mig__put_start(v, n);
}

void
mig__op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	flush(req, fi, 0);
}

void
mig__op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
    struct fuse_file_info *fi)
{
	flush(req, fi, 1);
}

void
mig__op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fh_release(fuse_req_userdata(req), (struct fh *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

static void
done_create(struct freq *q, int err, struct mig_fs_rep *a)
{
	struct fuse_entry_param e;
	struct node *n;
	struct fh *h;

	if (err != 0) {
		fuse_reply_err(q->req, err);
		goto out;
	}
	if ((n = mig__entry_node(q, &a->attr)) == NULL)
		goto out;
	if (n->wfd < 0 && (n->wfd = mig__view_tmpfile(q->v)) < 0) {
		fuse_reply_err(q->req, errno);
		goto out;
	}
	if (!n->created) {
		n->created = 1;
		n->owner = mig__view_job_of(fuse_req_ctx(q->req)->pid);
		TAILQ_INSERT_TAIL(&q->v->created, n, created_entry);
	}
	if ((h = fh_new(q->v, FH_LOCAL, n)) == NULL) {
		fuse_reply_err(q->req, ENOMEM);
		goto out;
	}
	n->refs++;
	memset(&e, 0, sizeof(e));
	e.ino = n->id;
	e.attr_timeout = e.entry_timeout = VIEW_TIMEOUT;
	mig__node_attr(n, &e.attr);
	q->fi.fh = (uintptr_t)h;
	if (fuse_reply_create(q->req, &e, &q->fi) != 0)
		fh_release(q->v, h);
 out:
	mig__freq_free(q);
}

static void
ask_create(fuse_req_t req, fuse_ino_t parent, const char *name,
    mode_t mode, uint32_t excl, struct fuse_file_info *fi,
    void (*done)(struct freq *, int, struct mig_fs_rep *))
{
	struct view *v = fuse_req_userdata(req);
	struct mig_buf b = { NULL, 0, 0 };
	struct freq *q;

	if ((q = mig__freq_entry(req, parent, name)) == NULL)
		return;
	if (fi != NULL)
		q->fi = *fi;
	q->done = done;
	if (mig__freq_payload(q, &b, q->path) != 0)
		return;
	mig__freq_send(v, q, MIG_FS_CREATE, &b,
	    proto_put_u32(&b, (uint32_t)mode) != 0 ||
	    proto_put_u32(&b, excl) != 0);
}

void
mig__op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
    struct fuse_file_info *fi)
{
	ask_create(req, parent, name, mode & 07777, (fi->flags & O_EXCL) != 0,
	    fi, done_create);
}

void
mig__op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
    dev_t rdev)
{
	if (!S_ISREG(mode)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	ask_create(req, parent, name, mode & 07777, 1, NULL, mig__done_entry);
}
