/*
 * fetch.c: a file's content by hash. Home names a file's hash at open;
 * the host fetches the object into its cache only when missing, in
 * FETCH chunks, one fetch per object however many opens wait for it, and
 * hands each open an fd on the cached object (q->got). An object over
 * GET_ON_LOOP_MAX is looked for in the cache on the thread pool.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "view.h"

/* An object on its way into the cache; opens wait on it. */
struct fetch {
	TAILQ_ENTRY(fetch) entry;
	uint8_t key[MIG_HASH_BYTES];
	char *path;
	uint64_t size, off;
	struct mig_cache_writer *w;
	int getting;          /* looked for in the cache, off the loop */
	TAILQ_HEAD(, freq) waiters;
};

static void fetch_next(struct view *v, struct fetch *f);

static void
fetch_end(struct view *v, struct fetch *f, int err)
{
	struct freq *q;
	int fd, r;

	TAILQ_REMOVE(&v->fetches, f, entry);
	if (f->w != NULL) {
		if (err == 0) {
			if ((r = mig__cache_commit(f->w)) != 0) {
				mig__log(MIG_LOG_WARN, "%s changed at home while "
				    "fetched (%s)", f->path, mig_strerror(r));
				err = EIO;
			}
		} else {
			mig__cache_abort(f->w);
		}
		f->w = NULL;
	}
	while ((q = TAILQ_FIRST(&f->waiters)) != NULL) {
		TAILQ_REMOVE(&f->waiters, q, entry);
		if (err == 0 &&
		    (r = mig__cache_get(v->d->fs_host->cache, f->key, &fd)) != 0)
			q->got(q, EIO, -1);
		else
			q->got(q, err, err == 0 ? fd : -1);
	}
	free(f->path);
	free(f);
}

static void
done_fetch(struct freq *q, int err, struct mig_fs_rep *a)
{
	struct fetch *f = q->arg;
	struct view *v = q->v;

	mig__freq_free(q);
	if (err != 0) {
		fetch_end(v, f, err);
		return;
	}
	if (a->ndata > 0 && mig__cache_write(f->w, a->data, a->ndata) != 0) {
		fetch_end(v, f, EIO);
		return;
	}
	f->off += a->ndata;
	if (a->ndata == 0 || f->off >= f->size)
		fetch_end(v, f, 0);
	else
		fetch_next(v, f);
}

static void
fetch_next(struct view *v, struct fetch *f)
{
	struct mig_buf b = { NULL, 0, 0 };
	uint64_t left = f->size - f->off;
	struct freq *q;

	if ((q = mig__freq_new(v, NULL)) == NULL) {
		fetch_end(v, f, ENOMEM);
		return;
	}
	q->arg = f;
	q->done = done_fetch;
	if (proto_put_str(&b, f->path) != 0 ||
	    proto_put_bytes(&b, f->key, sizeof(f->key)) != 0 ||
	    proto_put_u64(&b, f->off) != 0 ||
	    proto_put_u32(&b, left > MIG_FS_CHUNK ? MIG_FS_CHUNK :
	    (uint32_t)left) != 0) {
		mig_buf_free(&b);
		mig__freq_free(q);
		fetch_end(v, f, ENOMEM);
		return;
	}
	mig__view_ask(v, q, MIG_FS_FETCH, &b);
	mig_buf_free(&b);
}

/* Past this size an object is looked for in the cache on the thread
 * pool: the first use of one the cache holds from before the daemon
 * started hashes it whole (cache.c), about a millisecond a MiB. */
#define GET_ON_LOOP_MAX (1 << 20)

/* An object looked for in the cache on the thread pool. */
struct wget {
	struct vwork w;
	uint8_t key[MIG_HASH_BYTES];
	int fd;
	int r;
};

static void
get_work(struct vwork *w)
{
	struct wget *g = (struct wget *)w;

	g->r = mig__cache_get(w->d->fs_host->cache, g->key, &g->fd);
}

/* Starts the fetch f from home: it is not in the cache. */
static void
fetch_begin(struct view *v, struct fetch *f)
{
	if (mig__cache_begin(v->d->fs_host->cache, f->key, &f->w) != 0)
		fetch_end(v, f, EIO);
	else if (f->size == 0)
		fetch_end(v, f, 0);
	else
		fetch_next(v, f);
}

static void
get_done(struct vwork *w, struct view *v)
{
	struct wget *g = (struct wget *)w;
	struct fetch *f = NULL;
	struct freq *q;

	if (v != NULL)
		TAILQ_FOREACH(f, &v->fetches, entry)
			if (f->getting &&
			    memcmp(f->key, g->key, sizeof(f->key)) == 0)
				break;
	if (f == NULL) {
		/* The view ended, and its opens with it. */
		if (g->r == 0) {
			mig__close(g->fd);
			mig__cache_release(w->d->fs_host->cache, g->key);
		}
	} else if (g->r == 0) {
		q = TAILQ_FIRST(&f->waiters);
		TAILQ_REMOVE(&f->waiters, q, entry);
		q->got(q, 0, g->fd);
		/* Checked now: the other waiters get theirs at once. */
		fetch_end(v, f, 0);
	} else if (g->r == MIG__ERR(ENOENT)) {
		f->getting = 0;
		fetch_begin(v, f);
	} else {
		fetch_end(v, f, EIO);
	}
	free(g);
}

void
mig__object_get(struct view *v, struct freq *q, uint64_t size,
    void (*got)(struct freq *q, int err, int fd))
{
	struct mig_cache *c = v->d->fs_host->cache;
	struct fetch *f;
	struct wget *g;
	int fd;

	q->got = got;

	if (size <= GET_ON_LOOP_MAX && mig__cache_get(c, q->key, &fd) == 0) {
		q->got(q, 0, fd);
		return;
	}
	TAILQ_FOREACH(f, &v->fetches, entry)
		if (memcmp(f->key, q->key, sizeof(f->key)) == 0) {
			TAILQ_INSERT_TAIL(&f->waiters, q, entry);
			return;
		}
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->path = strdup(q->path)) == NULL) {
		free(f);
		q->got(q, ENOMEM, -1);
		return;
	}
	memcpy(f->key, q->key, sizeof(f->key));
	f->size = size;
	TAILQ_INIT(&f->waiters);
	TAILQ_INSERT_TAIL(&f->waiters, q, entry);
	TAILQ_INSERT_TAIL(&v->fetches, f, entry);
	if (size <= GET_ON_LOOP_MAX) {
		fetch_begin(v, f);
		return;
	}
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		fetch_end(v, f, ENOMEM);
		return;
	}
	memcpy(g->key, f->key, sizeof(g->key));
	g->fd = -1;
	f->getting = 1;
	mig__pool_queue(v, &g->w, get_work, get_done);
}

void
mig__fetches_free(struct view *v)
{
	struct fetch *f;

	while ((f = TAILQ_FIRST(&v->fetches)) != NULL)
		fetch_end(v, f, EIO);
}
