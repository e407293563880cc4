/*
 * ask.c: a FUSE request's trip to home. A request about a node or a name
 * in a folder becomes a freq with the path at home (mig__freq_path,
 * mig__freq_entry), a payload, and an ask (mig__freq_send, through
 * mig__view_ask); the answers that make or find a node reply with an
 * entry (mig__done_entry). A request that cannot be made is answered
 * here (ENOMEM, ESTALE), so callers only go on with a freq in hand.
 * Each ask is numbered and waits on the view's list until home's answer
 * (MIG_M_FS_REP, mig__on_fs_rep) comes back with its number, or the
 * view ends (view.c fails what is left).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "view.h"

struct freq *
mig__freq_path(struct view *v, fuse_req_t req, struct node *parent,
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

/* Builds a mig__freq_payload of a path and more; on failure answers ENOMEM. */
int
mig__freq_payload(struct freq *q, struct mig_buf *b, const char *path)
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
struct freq *
mig__freq_entry(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct view *v = fuse_req_userdata(req);
	struct node *p = mig__node_get(v, parent);

	if (p == NULL) {
		fuse_reply_err(req, ESTALE);
		return NULL;
	}
	return mig__freq_path(v, req, p, name);
}

/* Sends q (op, mig__freq_payload b) if b was built whole (failed is 0), else
 * answers ENOMEM; b is freed either way. */
void
mig__freq_send(struct view *v, struct freq *q, uint16_t op, struct mig_buf *b,
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

void
mig__reply_entry(struct freq *q, struct node *n)
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
void
mig__reply_absent(struct freq *q, int err)
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
struct node *
mig__entry_node(struct freq *q, const struct stat *st)
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

void
mig__done_entry(struct freq *q, int err, struct mig_fs_rep *a)
{
	struct node *n;

	if (q->op == MIG_FS_LSTAT && err == ENOENT)
		mig__known_attr(q->v, q->path, err, NULL);
	if (q->op == MIG_FS_LSTAT && err != 0)
		mig__reply_absent(q, err);
	else if (err != 0)
		fuse_reply_err(q->req, err);
	else if ((n = mig__entry_node(q, &a->attr)) != NULL)
		mig__reply_entry(q, n);
	mig__freq_free(q);
}

void
mig__freq_ask(struct view *v, struct freq *q, uint16_t op,
    void (*done)(struct freq *, int, struct mig_fs_rep *))
{
	struct mig_buf b = { NULL, 0, 0 };

	q->done = done;
	if (mig__freq_payload(q, &b, q->path) != 0)
		return;
	mig__freq_send(v, q, op, &b, 0);
}

struct freq *
mig__freq_new(struct view *v, fuse_req_t req)
{
	struct freq *q = calloc(1, sizeof(*q));

	if (q == NULL)
		return NULL;
	q->v = v;
	q->req = req;
	return q;
}

void
mig__freq_free(struct freq *q)
{
	if (q == NULL)
		return;
	free(q->path);
	free(q->path2);
	free(q);
}

void
mig__view_ask(struct view *v, struct freq *q, uint16_t op,
    const struct mig_buf *p)
{
	if (v->link == NULL || v->ending) {
		q->done(q, EIO, NULL);
		return;
	}
	if (++v->next_seq == 0)
		v->next_seq = 1;
	q->seq = v->next_seq;
	q->op = op;
	TAILQ_INSERT_TAIL(&v->reqs, q, entry);
	if (mig__link_send(v->link, MIG_M_FS_REQ, op, q->seq,
	    p != NULL ? p->data : NULL, p != NULL ? p->len : 0) != 0) {
		TAILQ_REMOVE(&v->reqs, q, entry);
		q->done(q, EIO, NULL);
	}
}

void
mig__view_tally(struct view *v)
{
	struct mig_buf b = { NULL, 0, 0 };

	if (v->link == NULL || (v->fetched == v->told_fetched &&
	    v->seeded == v->told_seeded))
		return;
	if (proto_put_u64(&b, v->fetched) == 0 &&
	    proto_put_u64(&b, v->seeded) == 0) {
		mig__link_send(v->link, MIG_M_FS_TALLY, 0, 0, b.data, b.len);
		v->told_fetched = v->fetched;
		v->told_seeded = v->seeded;
	}
	mig_buf_free(&b);
}

/* Something home sent did not parse: the link fails, with a log line. */
void
mig__view_bad(struct view *v, const char *what)
{
	if (v->link != NULL)
		mig__link_fail(v->link, MIG_EPROTO, "malformed fs answer (%s)",
		    what);
}

/* What a malformed answer to each op is called in the log. */
static const char *const answer_name[MIG_FS__COUNT] = {
	[MIG_FS_LSTAT] = "lstat", [MIG_FS_READDIR] = "readdir",
	[MIG_FS_READLINK] = "readlink", [MIG_FS_OPEN] = "open",
	[MIG_FS_FETCH] = "fetch", [MIG_FS_MKDIR] = "mkdir",
	[MIG_FS_UNLINK] = "unlink", [MIG_FS_RMDIR] = "rmdir",
	[MIG_FS_RENAME] = "rename", [MIG_FS_SYMLINK] = "symlink",
	[MIG_FS_LINK] = "link", [MIG_FS_CREATE] = "create",
	[MIG_FS_SETATTR] = "setattr", [MIG_FS_PUT_BEGIN] = "put begin",
	[MIG_FS_PUT_DATA] = "put data", [MIG_FS_PUT_COMMIT] = "put commit",
	[MIG_FS_PUT_BATCH] = "put batch",
};

/* An answer from home, to the request in flight with its number and op. */
void
mig__on_fs_rep(struct link *l, const struct mig_frame *f)
{
	struct view *v = mig__view_find(l->d, l);
	struct mig_fs_rep a;
	struct freq *q;
	int r;

	if (v == NULL) {
		mig__link_fail(l, MIG_EPROTO, "fs answer without a view");
		return;
	}
	TAILQ_FOREACH(q, &v->reqs, entry)
		if (q->seq == f->stream)
			break;
	if (q == NULL || q->op != f->flags) {
		mig__log(MIG_LOG_WARN, "link %s: fs answer %u (op %u) matches "
		    "no request", l->desc, f->stream, f->flags);
		mig__link_fail(l, MIG_EPROTO, "malformed fs answer");
		return;
	}
	TAILQ_REMOVE(&v->reqs, q, entry);
	if ((r = mig__fs_rep_parse(q->op, l->proto, f->payload, f->len,
	    getuid(), getgid(), &a)) != 0) {
		if (r == MIG_EPROTO)
			mig__view_bad(v, answer_name[q->op]);
		q->done(q, r == MIG_EPROTO ? EIO : ENOMEM, NULL);
		return;
	}
	if (a.err != 0) {
		q->done(q, a.err < 4096 ? (int)a.err : EIO, NULL);
	} else if (a.has_folder) {
		/* The change drops what the view knew of the folder (done);
		 * then the folder's state after it is known. */
		char folder[PATH_MAX];
		int e = mig__path_folder(q->path, folder, sizeof(folder));
		q->done(q, 0, &a);
		if (e == 0)
			mig__known_attr(v, folder, a.folder_err < 4096 ?
			    (int)a.folder_err : EIO, &a.folder);
	} else {
		q->done(q, 0, &a);
	}
	mig__fs_rep_free(&a);
}
