/*
 * fuse.c: the FUSE operations of a served view, answered from the loop
 * (view.c reads the requests). The kernel names files by node id; this
 * file keeps each node's path at home and asks home by path (fs.h's
 * ops), replying when home answers. Contents come by hash: home names a
 * file's hash at open, the host fetches it into its object cache only
 * when missing, and reads are served from the cached object. A file
 * written in the view lives in a local temporary file until the job's
 * close (FLUSH) sends it home whole; the close returns once home has it.
 *
 * The kernel keeps entries and attributes for VIEW_TIMEOUT, and a file's
 * pages across opens while its content's hash is the one its pages came
 * from; at each job's arrival whatever the job's prime does not confirm
 * is invalidated (mig__nodes_stale, inval.c). Absent names are entries
 * the kernel keeps too (absent.c), and links' targets are its pages. A
 * file made in the view belongs to the job whose process made it, and
 * goes home when that job ends (mig__nodes_settle). What the view knows
 * (known.c: sampled by home when the latest job was placed, or answered
 * since) is answered here; anything else is a question to home.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "view.h"

/* An open file: a cached object (read) or the node's local file. */
struct fh {
	int kind;             /* FH_OBJECT or FH_LOCAL */
	int fd;               /* FH_OBJECT: the cached object */
	uint8_t key[MIG_HASH_BYTES];
	struct node *n;
};
#define FH_OBJECT 1
#define FH_LOCAL 2

/* A folder's entries, read whole from home at its first readdir. */
struct dirl {
	struct mig_fs_dirent *v;
	size_t n, cap;
	int loaded;
};

/* ---- requests and answers ---- */

static struct freq *
freq_path(struct view *v, fuse_req_t req, struct node *parent,
    const char *name)
{
	struct freq *q = mig__freq_new(v, req);
	int e;

	if (q == NULL) {
		fuse_reply_err(req, ENOMEM);
		return NULL;
	}
	if (name == NULL) {
		if ((q->path = strdup(parent->path)) == NULL)
			e = ENOMEM;
		else
			e = 0;
	} else {
		e = mig__node_join(parent, name, &q->path);
	}
	if (e != 0) {
		fuse_reply_err(req, e);
		mig__freq_free(q);
		return NULL;
	}
	q->node = parent;
	return q;
}

/* Builds a payload of a path and more; on failure answers ENOMEM. */
static int
payload(struct freq *q, struct mig_buf *b, const char *path)
{
	if (path != NULL && proto_put_str(b, path) != 0) {
		mig_buf_free(b);
		if (q->req != NULL)
			fuse_reply_err(q->req, ENOMEM);
		mig__freq_free(q);
		return -1;
	}
	return 0;
}

/* A request about name in folder parent; NULL when it is answered
 * already (the folder is gone, or memory is). */
static struct freq *
freq_entry(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct view *v = fuse_req_userdata(req);
	struct node *p = mig__node_get(v, parent);

	if (p == NULL) {
		fuse_reply_err(req, ESTALE);
		return NULL;
	}
	return freq_path(v, req, p, name);
}

/* Sends q (op, payload b) if b was built whole (failed is 0), else
 * answers ENOMEM; b is freed either way. */
static void
send_ask(struct view *v, struct freq *q, uint16_t op, struct mig_buf *b,
    int failed)
{
	if (failed) {
		if (q->req != NULL)
			fuse_reply_err(q->req, ENOMEM);
		mig__freq_free(q);
	} else {
		mig__view_ask(v, q, op, b);
	}
	mig_buf_free(b);
}

static void
reply_entry(struct freq *q, struct node *n)
{
	struct fuse_entry_param e;

	memset(&e, 0, sizeof(e));
	e.ino = n->id;
	e.attr_timeout = e.entry_timeout = VIEW_TIMEOUT;
	mig__node_attr(n, &e.attr);
	fuse_reply_entry(q->req, &e);
}

/* A lookup of a name that is not there (err): an absent name is an
 * entry the kernel keeps (absent.c), anything else an error. */
static void
reply_absent(struct freq *q, int err)
{
	struct fuse_entry_param e;

	if (err != ENOENT || !mig__absent_add(q->v, q->path)) {
		fuse_reply_err(q->req, err);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.entry_timeout = VIEW_TIMEOUT;
	fuse_reply_entry(q->req, &e);
}

/* The node at q->path, with attributes *st; NULL on failure (the
 * request has been answered). A change the view made drops what the
 * view knew of the path and its folder. */
static struct node *
entry_node(struct freq *q, const struct stat *st)
{
	struct view *v = q->v;
	struct node *n;

	if (q->op == MIG_FS_LSTAT)
		mig__known_attr(v, q->path, 0, st);
	else
		mig__known_drop(v, q->path);
	if ((n = mig__node_at(v, q->path, st)) == NULL) {
		fuse_reply_err(q->req, ENOMEM);
		return NULL;
	}
	return n;
}

static void
done_entry(struct freq *q, int err, struct mig_fs_rep *a)
{
	struct node *n;

	if (q->op == MIG_FS_LSTAT && err == ENOENT)
		mig__known_attr(q->v, q->path, err, NULL);
	if (q->op == MIG_FS_LSTAT && err != 0)
		reply_absent(q, err);
	else if (err != 0)
		fuse_reply_err(q->req, err);
	else if ((n = entry_node(q, &a->attr)) != NULL)
		reply_entry(q, n);
	mig__freq_free(q);
}

static void
ask_path(struct view *v, struct freq *q, uint16_t op,
    void (*done)(struct freq *, int, struct mig_fs_rep *))
{
	struct mig_buf b = { NULL, 0, 0 };

	q->done = done;
	if (payload(q, &b, q->path) != 0)
		return;
	send_ask(v, q, op, &b, 0);
}

static void
op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct view *v = fuse_req_userdata(req);
	struct node *n;
	struct known *k;
	struct freq *q;

	if ((q = freq_entry(req, parent, name)) == NULL)
		return;
	if ((k = mig__known_get(v, q->path)) == NULL) {
		ask_path(v, q, MIG_FS_LSTAT, done_entry);
		return;
	}
	if (k->err != 0)
		reply_absent(q, k->err);
	else if ((n = mig__node_at(v, q->path, &k->attr)) == NULL)
		fuse_reply_err(req, ENOMEM);
	else
		reply_entry(q, n);
	mig__freq_free(q);
}

/* The answer to a getattr, or to a setattr: the attributes now. */
static void
done_getattr(struct freq *q, int err, struct mig_fs_rep *a)
{
	struct stat st;

	if (err != 0) {
		fuse_reply_err(q->req, err);
	} else {
		if (q->op == MIG_FS_LSTAT)
			mig__known_attr(q->v, q->path, 0, &a->attr);
		else
			mig__known_drop(q->v, q->path);
		q->node->attr = a->attr;
		mig__node_attr(q->node, &st);
		fuse_reply_attr(q->req, &st, VIEW_TIMEOUT);
	}
	mig__freq_free(q);
}

static void
op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct view *v = fuse_req_userdata(req);
	struct node *n = mig__node_get(v, ino);
	struct known *k;
	struct freq *q;
	struct stat st;

	if (n == NULL) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	/* Written here, or gone at home: what we know is the truth. */
	if (n->wfd >= 0 || n->detached) {
		mig__node_attr(n, &st);
		fuse_reply_attr(req, &st, VIEW_TIMEOUT);
		return;
	}
	if ((k = mig__known_get(v, n->path)) != NULL && k->err == 0 &&
	    ((k->attr.st_mode ^ n->attr.st_mode) & S_IFMT) == 0) {
		n->attr = k->attr;
		mig__node_attr(n, &st);
		fuse_reply_attr(req, &st, VIEW_TIMEOUT);
		return;
	}
	if ((q = freq_path(v, req, n, NULL)) != NULL) {
		q->node = n;
		ask_path(v, q, MIG_FS_LSTAT, done_getattr);
	}
}

static void
op_forget_one(struct view *v, fuse_ino_t ino, uint64_t nlookup)
{
	struct node *n = mig__node_get(v, ino);

	if (n == NULL || n->id == FUSE_ROOT_ID)
		return;
	n->nlookup = nlookup >= n->nlookup ? 0 : n->nlookup - nlookup;
	if (n->nlookup == 0 && n->refs == 0 && !n->putting && !n->created)
		mig__node_free(v, n);
}

static void
op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	op_forget_one(fuse_req_userdata(req), ino, nlookup);
	fuse_reply_none(req);
}

static void
op_forget_multi(fuse_req_t req, size_t count,
    struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		op_forget_one(fuse_req_userdata(req), forgets[i].ino,
		    forgets[i].nlookup);
	fuse_reply_none(req);
}

static void
done_readlink(struct freq *q, int err, struct mig_fs_rep *a)
{
	if (err != 0) {
		fuse_reply_err(q->req, err);
	} else {
		mig__known_target(q->v, q->path, a->target);
		fuse_reply_readlink(q->req, a->target);
	}
	mig__freq_free(q);
}

static void
op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct view *v = fuse_req_userdata(req);
	struct node *n = mig__node_get(v, ino);
	struct known *k;
	struct freq *q;

	if (n == NULL) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	if ((k = mig__known_get(v, n->path)) != NULL && k->target != NULL) {
		fuse_reply_readlink(req, k->target);
		return;
	}
	if ((q = freq_path(v, req, n, NULL)) != NULL)
		ask_path(v, q, MIG_FS_READLINK, done_readlink);
}

/* ---- folders ---- */

static void
dirl_clear(struct dirl *dl)
{
	for (size_t i = 0; i < dl->n; i++)
		free(dl->v[i].name);
	dl->n = 0;
	dl->loaded = 0;
}

static void
op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dirl *dl = calloc(1, sizeof(*dl));

	if (dl == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fi->fh = (uintptr_t)dl;
	fuse_reply_open(req, fi);
}

static void
op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dirl *dl = (struct dirl *)(uintptr_t)fi->fh;

	if (dl != NULL) {
		dirl_clear(dl);
		free(dl->v);
		free(dl);
	}
	fuse_reply_err(req, 0);
}

static void
dir_serve(fuse_req_t req, struct dirl *dl, size_t size, off_t off)
{
	char *buf = malloc(size > 0 ? size : 1);
	size_t used = 0, ent;
	struct stat st;

	if (buf == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	memset(&st, 0, sizeof(st));
	for (size_t i = (size_t)off; i < dl->n; i++) {
		st.st_ino = (ino_t)dl->v[i].ino;
		st.st_mode = (mode_t)((dl->v[i].type & 0xf) << 12);
		ent = fuse_add_direntry(req, buf + used, size - used,
		    dl->v[i].name, &st, (off_t)(i + 1));
		if (ent > size - used)
			break;
		used += ent;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

/* Moves a page's entries to the end of dl; 0 or ENOMEM. */
static int
dirl_add(struct dirl *dl, struct mig_fs_rep *a)
{
	size_t cap = dl->cap ? dl->cap : 64;
	struct mig_fs_dirent *nv;

	if (a->nents == 0)
		return 0;
	while (cap < dl->n + a->nents)
		cap *= 2;
	if (cap != dl->cap) {
		if ((nv = realloc(dl->v, cap * sizeof(*nv))) == NULL)
			return ENOMEM;
		dl->v = nv;
		dl->cap = cap;
	}
	memcpy(dl->v + dl->n, a->ents, a->nents * sizeof(*dl->v));
	dl->n += a->nents;
	/* The names are dl's now. */
	a->nents = 0;
	return 0;
}

static void
done_readdir(struct freq *q, int err, struct mig_fs_rep *a)
{
	struct dirl *dl = q->arg;
	struct mig_buf b = { NULL, 0, 0 };

	if (err == 0)
		err = dirl_add(dl, a);
	if (err != 0) {
		fuse_reply_err(q->req, err);
		goto out;
	}
	if (!a->eof) {
		/* The next page, for the same FUSE request. */
		if (proto_put_str(&b, q->path) != 0 ||
		    proto_put_u32(&b, (uint32_t)dl->n) != 0) {
			fuse_reply_err(q->req, ENOMEM);
			goto out;
		}
		mig__view_ask(q->v, q, MIG_FS_READDIR, &b);
		mig_buf_free(&b);
		return;
	}
	dl->loaded = 1;
	dir_serve(q->req, dl, (size_t)q->u64, (off_t)q->u32);
 out:
	mig_buf_free(&b);
	mig__freq_free(q);
}

static void
op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	struct view *v = fuse_req_userdata(req);
	struct dirl *dl = (struct dirl *)(uintptr_t)fi->fh;
	struct node *n = mig__node_get(v, ino);
	struct mig_buf b = { NULL, 0, 0 };
	struct freq *q;

	if (n == NULL || dl == NULL) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	/* From the start (again, after a rewinddir): read it afresh. */
	if (off == 0)
		dirl_clear(dl);
	if (dl->loaded) {
		dir_serve(req, dl, size, off);
		return;
	}
	if ((q = freq_path(v, req, n, NULL)) == NULL)
		return;
	q->arg = dl;
	q->u64 = size;
	q->u32 = (uint32_t)off;
	q->done = done_readdir;
	if (payload(q, &b, q->path) != 0)
		return;
	send_ask(v, q, MIG_FS_READDIR, &b,
	    proto_put_u32(&b, 0) != 0);
}

/* ---- open, read, write, close ---- */

static int
wants_write(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY;
}

static void
reply_open_local(struct freq *q, struct node *n)
{
	struct fh *h = calloc(1, sizeof(*h));

	if (h == NULL) {
		fuse_reply_err(q->req, ENOMEM);
		return;
	}
	h->kind = FH_LOCAL;
	h->fd = -1;
	h->n = n;
	n->refs++;
	/* Written here: the pages are no longer those of n->key. */
	n->has_key = 0;
	q->fi.fh = (uintptr_t)h;
	q->fi.keep_cache = 0;
	q->fi.direct_io = 0;
	fuse_reply_open(q->req, &q->fi);
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
		if ((h = calloc(1, sizeof(*h))) == NULL) {
			mig__close(fd);
			mig__cache_release(q->v->d->fs_host->cache, q->key);
			fuse_reply_err(q->req, ENOMEM);
			goto out;
		}
		h->kind = FH_OBJECT;
		h->fd = fd;
		memcpy(h->key, q->key, sizeof(h->key));
		h->n = n;
		q->fi.fh = (uintptr_t)h;
		/* The same content as the pages the kernel has of n. */
		q->fi.keep_cache = n->has_key && n->wfd < 0 &&
		    memcmp(n->key, q->key, sizeof(n->key)) == 0;
		memcpy(n->key, q->key, sizeof(n->key));
		n->has_key = n->wfd < 0;
		fuse_reply_open(q->req, &q->fi);
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

static void
op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct view *v = fuse_req_userdata(req);
	struct node *n = mig__node_get(v, ino);
	struct known *k;
	struct freq *q;

	if (n == NULL) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	if ((q = freq_path(v, req, n, NULL)) == NULL)
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
	ask_path(v, q, MIG_FS_OPEN, done_open);
}

static void
op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
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

static void
op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
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

static void
op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	flush(req, fi, 0);
}

static void
op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
    struct fuse_file_info *fi)
{
	flush(req, fi, 1);
}

static void
op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct view *v = fuse_req_userdata(req);
	struct fh *h = (struct fh *)(uintptr_t)fi->fh;
	struct node *n = h->n;

	if (h->kind == FH_OBJECT) {
		mig__close(h->fd);
		mig__cache_release(v->d->fs_host->cache, h->key);
	} else if (--n->refs == 0 && !n->putting && !n->created) {
		if (n->dirty && !v->ending) {
			mig__put_start(v, n); /* written through a mapping */
		} else {
			mig__close(n->wfd);
			n->wfd = -1;
			if (n->nlookup == 0)
				mig__node_free(v, n);
		}
	}
	free(h);
	fuse_reply_err(req, 0);
}

/* ---- changes, done at home ---- */

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
	if ((n = entry_node(q, &a->attr)) == NULL)
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
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		fuse_reply_err(q->req, ENOMEM);
		goto out;
	}
	h->kind = FH_LOCAL;
	h->fd = -1;
	h->n = n;
	n->refs++;
	memset(&e, 0, sizeof(e));
	e.ino = n->id;
	e.attr_timeout = e.entry_timeout = VIEW_TIMEOUT;
	mig__node_attr(n, &e.attr);
	q->fi.fh = (uintptr_t)h;
	fuse_reply_create(q->req, &e, &q->fi);
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

	if ((q = freq_entry(req, parent, name)) == NULL)
		return;
	if (fi != NULL)
		q->fi = *fi;
	q->done = done;
	if (payload(q, &b, q->path) != 0)
		return;
	send_ask(v, q, MIG_FS_CREATE, &b,
	    proto_put_u32(&b, (uint32_t)mode) != 0 ||
	    proto_put_u32(&b, excl) != 0);
}

static void
op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
    struct fuse_file_info *fi)
{
	ask_create(req, parent, name, mode & 07777, (fi->flags & O_EXCL) != 0,
	    fi, done_create);
}

static void
op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
    dev_t rdev)
{
	if (!S_ISREG(mode)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	ask_create(req, parent, name, mode & 07777, 1, NULL, done_entry);
}

static void
op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct view *v = fuse_req_userdata(req);
	struct mig_buf b = { NULL, 0, 0 };
	struct freq *q;

	if ((q = freq_entry(req, parent, name)) == NULL)
		return;
	q->done = done_entry;
	if (payload(q, &b, q->path) != 0)
		return;
	send_ask(v, q, MIG_FS_MKDIR, &b,
	    proto_put_u32(&b, (uint32_t)(mode & 07777)) != 0);
}

static void
op_symlink(fuse_req_t req, const char *target, fuse_ino_t parent,
    const char *name)
{
	struct view *v = fuse_req_userdata(req);
	struct mig_buf b = { NULL, 0, 0 };
	struct freq *q;

	if ((q = freq_entry(req, parent, name)) == NULL)
		return;
	q->done = done_entry;
	if (payload(q, &b, target) != 0 || payload(q, &b, q->path) != 0)
		return;
	send_ask(v, q, MIG_FS_SYMLINK, &b, 0);
}

static void
op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
    const char *newname)
{
	struct view *v = fuse_req_userdata(req);
	struct node *n = mig__node_get(v, ino), *p = mig__node_get(v, newparent);
	struct mig_buf b = { NULL, 0, 0 };
	struct freq *q;

	if (n == NULL || p == NULL) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	if ((q = freq_path(v, req, p, newname)) == NULL)
		return;
	q->done = done_entry;
	if (payload(q, &b, n->path) != 0 || payload(q, &b, q->path) != 0)
		return;
	send_ask(v, q, MIG_FS_LINK, &b, 0);
}

static void
done_remove(struct freq *q, int err, struct mig_fs_rep *a)
{
	struct node *n;

	if (err == 0)
		mig__known_drop(q->v, q->path);
	if (err == 0 && (n = mig__node_by_path(q->v, q->path)) != NULL) {
		mig__node_detach(q->v, n);
		n->attr.st_nlink = n->attr.st_nlink > 0 ?
		    n->attr.st_nlink - 1 : 0;
	}
	fuse_reply_err(q->req, err);
	mig__freq_free(q);
}

static void
remove_(fuse_req_t req, fuse_ino_t parent, const char *name, uint16_t op)
{
	struct view *v = fuse_req_userdata(req);
	struct freq *q;

	if ((q = freq_entry(req, parent, name)) != NULL)
		ask_path(v, q, op, done_remove);
}

static void
op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_(req, parent, name, MIG_FS_UNLINK);
}

static void
op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_(req, parent, name, MIG_FS_RMDIR);
}

static void
done_rename(struct freq *q, int err, struct mig_fs_rep *a)
{
	int exchange = (q->u32 & RENAME_EXCHANGE) != 0;

	/* Whole folders may have moved: the view asks home again. */
	if (err == 0) {
		mig__nodes_rename(q->v, q->path, q->path2, exchange);
		mig__absent_drop(q->v, q->path2);
		mig__absent_rename(q->v, q->path, q->path2, exchange);
		mig__known_clear(q->v);
	}
	fuse_reply_err(q->req, err);
	mig__freq_free(q);
}

static void
op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
    fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	struct view *v = fuse_req_userdata(req);
	struct node *p = mig__node_get(v, parent), *np = mig__node_get(v, newparent);
	struct mig_buf b = { NULL, 0, 0 };
	struct freq *q;
	int e;

	if (p == NULL || np == NULL) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	if ((q = freq_path(v, req, p, name)) == NULL)
		return;
	if ((e = mig__node_join(np, newname, &q->path2)) != 0) {
		fuse_reply_err(req, e);
		mig__freq_free(q);
		return;
	}
	q->done = done_rename;
	q->u32 = flags;
	if (payload(q, &b, q->path) != 0 || payload(q, &b, q->path2) != 0)
		return;
	send_ask(v, q, MIG_FS_RENAME, &b,
	    proto_put_u32(&b, flags) != 0);
}

static void
op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
    struct fuse_file_info *fi)
{
	struct view *v = fuse_req_userdata(req);
	struct node *n = mig__node_get(v, ino);
	struct mig_buf b = { NULL, 0, 0 };
	uint32_t what = 0;
	struct freq *q;
	struct stat st;

	if (n == NULL) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	if (((to_set & FUSE_SET_ATTR_UID) && attr->st_uid != n->attr.st_uid) ||
	    ((to_set & FUSE_SET_ATTR_GID) && attr->st_gid != n->attr.st_gid)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		n->has_key = 0;
		if (n->wfd >= 0) {
			/* Written here: the local content is the truth. */
			if (ftruncate(n->wfd, attr->st_size) == -1) {
				fuse_reply_err(req, errno);
				return;
			}
			n->dirty = 1;
		} else {
			what |= MIG_FS_SET_SIZE;
		}
	}
	if (to_set & FUSE_SET_ATTR_MODE)
		what |= MIG_FS_SET_MODE;
	if (to_set & FUSE_SET_ATTR_ATIME)
		what |= MIG_FS_SET_ATIME;
	if (to_set & FUSE_SET_ATTR_MTIME)
		what |= MIG_FS_SET_MTIME;
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		what |= MIG_FS_SET_ATIME | MIG_FS_SET_ATIME_NOW;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		what |= MIG_FS_SET_MTIME | MIG_FS_SET_MTIME_NOW;
	if (what == 0 || n->detached) {
		if (to_set & FUSE_SET_ATTR_MODE)
			n->attr.st_mode = (n->attr.st_mode & S_IFMT) |
			    (attr->st_mode & 07777);
		mig__node_attr(n, &st);
		fuse_reply_attr(req, &st, VIEW_TIMEOUT);
		return;
	}
	if ((q = freq_path(v, req, n, NULL)) == NULL)
		return;
	q->node = n;
	q->done = done_getattr;
	if (payload(q, &b, q->path) != 0)
		return;
	send_ask(v, q, MIG_FS_SETATTR, &b,
	    proto_put_u32(&b, what) != 0 ||
	    proto_put_u32(&b, (uint32_t)(attr->st_mode & 07777)) != 0 ||
	    proto_put_u64(&b, (uint64_t)attr->st_size) != 0 ||
	    proto_put_u64(&b, (uint64_t)attr->st_atim.tv_sec) != 0 ||
	    proto_put_u32(&b, (uint32_t)attr->st_atim.tv_nsec % 1000000000u) != 0 ||
	    proto_put_u64(&b, (uint64_t)attr->st_mtim.tv_sec) != 0 ||
	    proto_put_u32(&b, (uint32_t)attr->st_mtim.tv_nsec % 1000000000u) != 0);
}

static void
op_init(void *userdata, struct fuse_conn_info *conn)
{
	/* Plain reads and writes through our buffers. */
	conn->want &= ~(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE |
	    FUSE_CAP_SPLICE_MOVE);
	/* The kernel keeps a link's target as its page (mig__nodes_stale
	 * drops it with the node). */
	if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
		conn->want |= FUSE_CAP_CACHE_SYMLINKS;
}

const struct fuse_lowlevel_ops mig__view_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.releasedir = op_releasedir,
	.create = op_create,
};
