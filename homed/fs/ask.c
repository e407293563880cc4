/*
 * ask.c: a FUSE request's trip to home. A request about a node or a name
 * in a folder becomes a freq with the path at home (mig__freq_path,
 * mig__freq_entry), a payload, and an ask (mig__freq_send, through
 * mig__view_ask); the answers that make or find a node reply with an
 * entry (mig__done_entry). A request that cannot be made is answered
 * here (ENOMEM, ESTALE), so callers only go on with a freq in hand.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
