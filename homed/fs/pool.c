/*
 * pool.c: a served view's long work, on libuv's thread pool. Copying or
 * hashing a whole file (a local copy for a write, a file written home
 * going into the cache, an object checked at its first use) takes as
 * long as the file is big; the loop must go on answering FUSE requests,
 * home's answers and the links' pings meanwhile. The work runs off the
 * loop and its end comes back to the loop, where the view is looked up
 * again by its id: it may have ended meanwhile (its link went), which is
 * a normal case, not an error.
 */
#include "view.h"

struct view *
mig__view_by_id(struct homed *d, uint64_t id)
{
	struct view *v;

	if (d->fs_host == NULL)
		return NULL;
	TAILQ_FOREACH(v, &d->fs_host->views, entry)
		if (v->id == id)
			return v;
	return NULL;
}

struct view *
mig__view_find(struct homed *d, struct link *l)
{
	struct view *v;

	if (d->fs_host == NULL)
		return NULL;
	TAILQ_FOREACH(v, &d->fs_host->views, entry)
		if (v->link == l)
			return v;
	return NULL;
}

static void
pool_work(uv_work_t *req)
{
	struct vwork *w = req->data;

	w->fn(w);
}

static void
pool_done(uv_work_t *req, int status)
{
	struct vwork *w = req->data;

	w->done(w, mig__view_by_id(w->d, w->view));
}

void
mig__pool_queue(struct view *v, struct vwork *w,
    void (*fn)(struct vwork *w),
    void (*done)(struct vwork *w, struct view *v))
{
	w->d = v->d;
	w->view = v->id;
	w->fn = fn;
	w->done = done;
	w->req.data = w;
	if (uv_queue_work(v->d->loop, &w->req, pool_work, pool_done) != 0) {
		/* Only an invalid argument fails it: run it here rather
		 * than lose the request that waits on it. */
		fn(w);
		done(w, v);
	}
}
