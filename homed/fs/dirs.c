/*
 * dirs.c: a served view's folders. A folder's entries are read whole from
 * home at its first readdir (pages of READDIR) and served from there; a
 * rewind reads them afresh.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "view.h"

/* A folder's entries, read whole from home at its first readdir. */
struct dirl {
	TAILQ_ENTRY(dirl) entry; /* the view's dirls */
	struct mig_fs_dirent *v;
	size_t n, cap;
	int loaded;
};

static void
dirl_clear(struct dirl *dl)
{
	for (size_t i = 0; i < dl->n; i++)
		free(dl->v[i].name);
	dl->n = 0;
	dl->loaded = 0;
}

static void
dirl_free(struct view *v, struct dirl *dl)
{
	dirl_clear(dl);
	free(dl->v);
	TAILQ_REMOVE(&v->dirls, dl, entry);
	free(dl);
}

/* The view ends: the folders the kernel never released go with it. */
void
mig__dirls_free(struct view *v)
{
	while (!TAILQ_EMPTY(&v->dirls))
		dirl_free(v, TAILQ_FIRST(&v->dirls));
}

void
mig__op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct view *v = fuse_req_userdata(req);
	struct dirl *dl = calloc(1, sizeof(*dl));

	if (dl == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	TAILQ_INSERT_TAIL(&v->dirls, dl, entry);
	fi->fh = (uintptr_t)dl;
	/* Not taken (the open was cut short): no release comes. */
	if (fuse_reply_open(req, fi) != 0)
		dirl_free(v, dl);
}

void
mig__op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dirl *dl = (struct dirl *)(uintptr_t)fi->fh;

	if (dl != NULL)
		dirl_free(fuse_req_userdata(req), dl);
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

void
mig__op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
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
	if ((q = mig__freq_path(v, req, n, NULL)) == NULL)
		return;
	q->arg = dl;
	q->u64 = size;
	q->u32 = (uint32_t)off;
	q->done = done_readdir;
	if (mig__freq_payload(q, &b, q->path) != 0)
		return;
	mig__freq_send(v, q, MIG_FS_READDIR, &b,
	    proto_put_u32(&b, 0) != 0);
}
