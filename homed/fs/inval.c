/*
 * inval.c: what the kernel caches of a served view, forgotten at each
 * served job's arrival. The kernel keeps entries and attributes for
 * VIEW_TIMEOUT and a file's pages while its content is unchanged
 * (fuse.c, files.c). When a job arrives, home is asked about each name
 * the kernel holds that the job's prime does not cover
 * (mig__nodes_check, here with the rest of the checks); then
 * every node whose attributes the kernel holds in another version than
 * home's now is invalidated, with its pages, and every entry whose name
 * is gone or of another kind is dropped (mig__nodes_stale). The job
 * starts only once the kernel has taken every invalidation: correctness
 * waits on answers and on the kernel, never on a timer. An entry that
 * still leads to its node is kept: dropping it would unhash a folder a
 * running job may have as its cwd (its getcwd would fail).
 *
 * The notifications are written on libuv's thread pool, not on the loop:
 * the kernel takes the folder's lock to drop an entry and a page's lock
 * to drop pages, and a FUSE request waiting for the loop's answer may
 * hold either (libfuse's fuse_lowlevel_notify_inval_entry warns of this
 * deadlock). The loop goes on answering meanwhile.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "view.h"

struct inval *
mig__inval_new(struct view *v)
{
	struct inval *iv = calloc(1, sizeof(*iv));

	if (iv != NULL) {
		iv->v = v;
		iv->work.data = iv;
	}
	return iv;
}

void
mig__inval_free(struct inval *iv)
{
	if (iv == NULL)
		return;
	for (size_t i = 0; i < iv->n; i++)
		free(iv->items[i].name);
	free(iv->items);
	free(iv);
}

int
mig__inval_add(struct inval *iv, uint64_t ino, uint64_t parent,
    const char *name, int pages)
{
	struct inval_item *it;
	size_t cap;

	if (iv->n == iv->cap) {
		cap = iv->cap ? 2 * iv->cap : 64;
		if ((it = realloc(iv->items, cap * sizeof(*it))) == NULL)
			return ENOMEM;
		iv->items = it;
		iv->cap = cap;
	}
	it = &iv->items[iv->n];
	it->ino = ino;
	it->parent = parent;
	it->pages = pages;
	it->name = NULL;
	if (name != NULL && (it->name = strdup(name)) == NULL)
		return ENOMEM;
	iv->n++;
	return 0;
}

/* On the thread pool. A node or entry the kernel no longer has answers
 * ENOENT: nothing to forget. */
static void
inval_work(uv_work_t *w)
{
	struct inval *iv = w->data;
	struct fuse_session *se = iv->v->se;

	for (size_t i = 0; i < iv->n; i++) {
		struct inval_item *it = &iv->items[i];

		if (it->ino != 0)
			fuse_lowlevel_notify_inval_inode(se, it->ino,
			    it->pages ? 0 : -1, 0);
		if (it->parent != 0 && it->name != NULL)
			fuse_lowlevel_notify_inval_entry(se, it->parent,
			    it->name, strlen(it->name));
	}
}

static void
inval_done(uv_work_t *w, int status)
{
	struct inval *iv = w->data;
	struct view *v = iv->v;

	v->invals--;
	if (v->state == VIEW_READY)
		iv->fn(iv->arg, v, NULL);
	else
		iv->fn(iv->arg, NULL, v->why[0] != '\0' ? v->why :
		    "the served view failed");
	mig__inval_free(iv);
	mig__view_inval_done(v);
}

void
mig__inval_run(struct inval *iv)
{
	struct view *v = iv->v;

	if (iv->n == 0) {
		iv->fn(iv->arg, v, NULL);
		mig__inval_free(iv);
		return;
	}
	v->invals++;
	v->handles++;
	uv_queue_work(v->d->loop, &iv->work, inval_work, inval_done);
}

void
mig__inval_go(struct inval *iv)
{
	struct view *v = iv->v;

	if (v->ending || v->state != VIEW_READY) {
		iv->fn(iv->arg, NULL, v->why[0] != '\0' ? v->why :
		    "the served view failed");
		mig__inval_free(iv);
	} else if (mig__nodes_stale(v, iv) != 0) {
		iv->fn(iv->arg, NULL, "out of memory");
		mig__inval_free(iv);
	} else {
		mig__inval_run(iv);
	}
}

void
mig__inval_attr(struct view *v, uint64_t ino)
{
	if (v->se != NULL && v->state == VIEW_READY)
		fuse_lowlevel_notify_inval_inode(v->se, ino, -1, 0);
}

/* ---- what the kernel holds, checked ---- */

static void
check_end(struct inval *iv)
{
	if (--iv->asking == 0)
		mig__inval_go(iv);
}

/* Home's lstat of a name the kernel holds. The verdict is kept in the
 * node too: the view's own changes may drop what it knows of the path
 * before the job's check ends (mig__known_drop, a rename's clear). */
static void
done_check(struct freq *q, int err, struct mig_fs_rep *a)
{
	struct inval *iv = q->arg;
	struct node *n = mig__node_by_path(q->v, q->path);

	if (err == 0)
		mig__known_attr(q->v, q->path, 0, &a->attr);
	else if (err == ENOENT || err == ENOTDIR)
		mig__known_attr(q->v, q->path, err, NULL);
	if (n != NULL && (err != 0 ||
	    ((a->attr.st_mode ^ n->attr.st_mode) & S_IFMT) != 0))
		n->gone = 1;
	mig__freq_free(q);
	check_end(iv);
}

void
mig__nodes_check(struct view *v, struct inval *iv)
{
	struct mig_buf b = { NULL, 0, 0 };
	struct known *k;
	struct freq *q;
	struct node *n;

	/* Held while the table is walked: an answer that comes at once
	 * must not end the check. */
	iv->asking = 1;
	for (size_t i = 0; i < NODE_BUCKETS; i++)
		for (n = v->by_id[i]; n != NULL; n = n->next_id) {
			if (n->id == FUSE_ROOT_ID || n->nlookup == 0 ||
			    n->detached || mig__view_pinned(v, n->path))
				continue;
			if ((k = mig__known_get(v, n->path)) != NULL) {
				if (k->err != 0 || ((k->attr.st_mode ^
				    n->attr.st_mode) & S_IFMT) != 0)
					n->gone = 1;
				continue;
			}
			b.len = 0;
			if ((q = mig__freq_new(v, NULL)) == NULL ||
			    (q->path = strdup(n->path)) == NULL ||
			    proto_put_str(&b, q->path) != 0) {
				/* Unknown: its entry is dropped. */
				mig__freq_free(q);
				continue;
			}
			q->arg = iv;
			q->done = done_check;
			iv->asking++;
			mig__view_ask(v, q, MIG_FS_LSTAT, &b);
		}
	mig_buf_free(&b);
	check_end(iv);
}

int
mig__nodes_stale(struct view *v, struct inval *iv)
{
	struct node *n;
	struct known *k;
	const char *name;
	uint64_t parent;
	char *buf;
	int same, pages, r;

	for (size_t b = 0; b < NODE_BUCKETS; b++)
		for (n = v->by_id[b]; n != NULL; n = n->next_id) {
			same = n->has_told && n->wfd < 0 && !n->detached &&
			    mig__known_same(v, n->path, &n->told);
			if (same)
				continue;
			/* Its pages may be another version's: the next open
			 * drops them too. A link's target is its page. */
			pages = S_ISREG(n->attr.st_mode) && n->wfd < 0;
			if (pages)
				n->has_key = 0;
			pages = pages || S_ISLNK(n->attr.st_mode);
			parent = 0;
			name = NULL;
			buf = NULL;
			/* The name still leads to a node of this kind
			 * (mig__node_at keeps it): the entry holds, the
			 * attributes do not.
			 * A name not known now was checked at home
			 * (mig__nodes_check, n->gone) and changed in the view
			 * since, which the kernel saw. The kernel detaches the
			 * mounts under an entry it drops: the view's own mount
			 * points keep theirs. */
			k = mig__known_get(v, n->path);
			if (n->id != FUSE_ROOT_ID && n->nlookup > 0 &&
			    !n->detached && !mig__view_pinned(v, n->path) &&
			    (n->gone || (k != NULL && (k->err != 0 ||
			    ((k->attr.st_mode ^ n->attr.st_mode) & S_IFMT) != 0)))) {
				n->gone = 0;
				if ((buf = strdup(n->path)) == NULL)
					return ENOMEM;
				mig__node_entry(v, n, buf, &parent, &name);
				/* An ancestor's entry, when the folder is not in
				 * the table: it must not hold a mount either. */
				if (name != NULL) {
					char *p = strndup(n->path, (size_t)(name -
					    buf) + strlen(name));
					if (p == NULL) {
						free(buf);
						return ENOMEM;
					}
					if (mig__view_pinned(v, p)) {
						parent = 0;
						name = NULL;
					}
					free(p);
				}
			}
			r = mig__inval_add(iv, n->id, parent, name, pages);
			free(buf);
			if (r != 0)
				return r;
		}
	return mig__absent_stale(v, iv);
}
