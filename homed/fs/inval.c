/*
 * inval.c: what the kernel caches of a served view, forgotten at each
 * served job's arrival. The kernel keeps entries and attributes for
 * VIEW_TIMEOUT and a file's pages while its content is unchanged
 * (fuse.c). When a job arrives, home is asked about each name the kernel
 * holds that the job's prime does not cover (mig__nodes_check); then
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
