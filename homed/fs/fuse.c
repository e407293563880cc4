/*
 * fuse.c: the FUSE operations of a served view, answered from the loop
 * (view.c reads the requests), and their table. The kernel names files
 * by node id (nodes.c keeps each node's path at home); an operation asks
 * home by path (ask.c, fs.h's ops) and replies when home answers. Here:
 * names and attributes (lookup, getattr, readlink, forget) and changes
 * done at home (mkdir, symlink, link, unlink, rmdir, rename, setattr);
 * files.c has open, read, write, close and create, dirs.c the folders.
 *
 * The kernel keeps entries and attributes for VIEW_TIMEOUT, and a file's
 * pages across opens while its content's hash is the one its pages came
 * from; at each job's arrival whatever the job's prime does not confirm
 * is invalidated (mig__nodes_stale, inval.c). Absent names are entries
 * the kernel keeps too (absent.c), and links' targets are its pages.
 * What the view knows (known.c: sampled by home when the latest job was
 * placed, or answered since) is answered here; anything else is a
 * question to home.
 */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "view.h"

static void
op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct view *v = fuse_req_userdata(req);
	struct node *n;
	struct known *k;
	struct freq *q;

	if ((q = mig__freq_entry(req, parent, name)) == NULL)
		return;
	if ((k = mig__known_get(v, q->path)) == NULL) {
		mig__freq_ask(v, q, MIG_FS_LSTAT, mig__done_entry);
		return;
	}
	if (k->err != 0)
		mig__reply_absent(q, k->err);
	else if ((n = mig__node_at(v, q->path, &k->attr)) == NULL)
		fuse_reply_err(req, ENOMEM);
	else
		mig__reply_entry(q, n);
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
	if ((q = mig__freq_path(v, req, n, NULL)) != NULL) {
		q->node = n;
		mig__freq_ask(v, q, MIG_FS_LSTAT, done_getattr);
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
	if ((q = mig__freq_path(v, req, n, NULL)) != NULL)
		mig__freq_ask(v, q, MIG_FS_READLINK, done_readlink);
}

/* ---- changes, done at home ---- */

static void
op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct view *v = fuse_req_userdata(req);
	struct mig_buf b = { NULL, 0, 0 };
	struct freq *q;

	if ((q = mig__freq_entry(req, parent, name)) == NULL)
		return;
	q->done = mig__done_entry;
	if (mig__freq_payload(q, &b, q->path) != 0)
		return;
	mig__freq_send(v, q, MIG_FS_MKDIR, &b,
	    proto_put_u32(&b, (uint32_t)(mode & 07777)) != 0);
}

static void
op_symlink(fuse_req_t req, const char *target, fuse_ino_t parent,
    const char *name)
{
	struct view *v = fuse_req_userdata(req);
	struct mig_buf b = { NULL, 0, 0 };
	struct freq *q;

	if ((q = mig__freq_entry(req, parent, name)) == NULL)
		return;
	q->done = mig__done_entry;
	if (mig__freq_payload(q, &b, target) != 0 ||
	    mig__freq_payload(q, &b, q->path) != 0)
		return;
	mig__freq_send(v, q, MIG_FS_SYMLINK, &b, 0);
}

static void
op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
    const char *newname)
{
	struct view *v = fuse_req_userdata(req);
	struct node *n = mig__node_get(v, ino);
	struct node *p = mig__node_get(v, newparent);
	struct mig_buf b = { NULL, 0, 0 };
	struct freq *q;

	if (n == NULL || p == NULL) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	if ((q = mig__freq_path(v, req, p, newname)) == NULL)
		return;
	q->done = mig__done_entry;
	if (mig__freq_payload(q, &b, n->path) != 0 ||
	    mig__freq_payload(q, &b, q->path) != 0)
		return;
	mig__freq_send(v, q, MIG_FS_LINK, &b, 0);
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

	if ((q = mig__freq_entry(req, parent, name)) != NULL)
		mig__freq_ask(v, q, op, done_remove);
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
	struct node *p = mig__node_get(v, parent);
	struct node *np = mig__node_get(v, newparent);
	struct mig_buf b = { NULL, 0, 0 };
	struct freq *q;
	int e;

	if (p == NULL || np == NULL) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	if ((q = mig__freq_path(v, req, p, name)) == NULL)
		return;
	if ((e = mig__node_join(np, newname, &q->path2)) != 0) {
		fuse_reply_err(req, e);
		mig__freq_free(q);
		return;
	}
	q->done = done_rename;
	q->u32 = flags;
	if (mig__freq_payload(q, &b, q->path) != 0 ||
	    mig__freq_payload(q, &b, q->path2) != 0)
		return;
	mig__freq_send(v, q, MIG_FS_RENAME, &b,
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
	if ((q = mig__freq_path(v, req, n, NULL)) == NULL)
		return;
	q->node = n;
	q->done = done_getattr;
	if (mig__freq_payload(q, &b, q->path) != 0)
		return;
	mig__freq_send(v, q, MIG_FS_SETATTR, &b,
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
	.mknod = mig__op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.open = mig__op_open,
	.read = mig__op_read,
	.write = mig__op_write,
	.flush = mig__op_flush,
	.release = mig__op_release,
	.fsync = mig__op_fsync,
	.opendir = mig__op_opendir,
	.readdir = mig__op_readdir,
	.releasedir = mig__op_releasedir,
	.create = mig__op_create,
};
