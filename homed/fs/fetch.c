/*
 * fetch.c: a file's content by hash. Home names a file's hash at open;
 * the host gets the object into its cache only when missing, one fetch
 * per object however many opens wait for it, and hands each open an fd
 * on the cached object (q->got). An object over GET_ON_LOOP_MAX is
 * looked for in the cache on the thread pool. A missing object is first
 * looked for among this host's own files (content seeding, seed.c, on
 * the thread pool), and only when none has it fetched from home in
 * FETCH chunks. The view counts the bytes had either way.
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
	int seeding;          /* looked for in this host's files, the same */
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
	v->fetched += a->ndata;
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

/* Starts the fetch f from home: neither the cache nor this host's own
 * files have it. */
static void
fetch_home(struct view *v, struct fetch *f)
{
	mig__log(MIG_LOG_DEBUG, "fetching %s from home (%llu bytes)", f->path,
	    (unsigned long long)f->size);
	if (mig__cache_begin(v->d->fs_host->cache, f->key, &f->w) != 0)
		fetch_end(v, f, EIO);
	else if (f->size == 0)
		fetch_end(v, f, 0);
	else
		fetch_next(v, f);
}

/* An object looked for among this host's own files, on the thread pool. */
struct wseed {
	struct vwork w;
	struct mig_seeds *seeds;
	struct mig_cache *cache;
	uint8_t key[MIG_HASH_BYTES];
	char *path;
	uint64_t size;
	int r;
};

static void
seed_work(struct vwork *w)
{
	struct wseed *s = (struct wseed *)w;

	s->r = mig__seeds_find(s->seeds, s->cache, s->path, s->size, s->key);
}

static void
save_work(struct vwork *w)
{
	struct fs_host *h = w->d->fs_host;
	int r;

	if ((r = mig__seeds_save(h->seeds, h->cache)) != 0)
		mig__log(MIG_LOG_WARN, "seeding: the table of this host's "
		    "hashes was not saved: %s", mig_strerror(r));
}

static void
save_done(struct vwork *w, struct view *v)
{
	struct fs_host *h = w->d->fs_host;

	h->seeds_saving = 0;
	h->seeds_saved = uv_now(w->d->loop);
	free(w);
}

/* Saves the table of this host's hashes when it changed, at most every
 * SAVE_EVERY ms (and at the daemon's stop). */
#define SAVE_EVERY 10000

static void
seeds_keep(struct view *v)
{
	struct fs_host *h = v->d->fs_host;
	struct vwork *w;

	if (h->seeds_saving || !mig__seeds_dirty(h->seeds) ||
	    (h->seeds_saved != 0 &&
	    uv_now(v->d->loop) - h->seeds_saved < SAVE_EVERY) ||
	    (w = calloc(1, sizeof(*w))) == NULL)
		return;
	h->seeds_saving = 1;
	mig__pool_queue(v, w, save_work, save_done);
}

static void
seed_done(struct vwork *w, struct view *v)
{
	struct wseed *s = (struct wseed *)w;
	struct fetch *f = NULL;

	if (v != NULL)
		TAILQ_FOREACH(f, &v->fetches, entry)
			if (f->seeding &&
			    memcmp(f->key, s->key, sizeof(f->key)) == 0)
				break;
	/* Else the view ended, and its opens with it. */
	if (f != NULL) {
		f->seeding = 0;
		if (s->r == 0) {
			v->seeded += f->size;
			fetch_end(v, f, 0);
		} else {
			fetch_home(v, f);
		}
	}
	if (v != NULL)
		seeds_keep(v);
	free(s->path);
	free(s);
}

/* Starts getting f, which the cache lacks: from this host's own files
 * when seeding is on, else from home. */
static void
fetch_begin(struct view *v, struct fetch *f)
{
	struct fs_host *h = v->d->fs_host;
	struct wseed *s;

	if (h->seeds == NULL || f->size == 0 ||
	    (s = calloc(1, sizeof(*s))) == NULL) {
		fetch_home(v, f);
		return;
	}
	if ((s->path = strdup(f->path)) == NULL) {
		free(s);
		fetch_home(v, f);
		return;
	}
	s->seeds = h->seeds;
	s->cache = h->cache;
	memcpy(s->key, f->key, sizeof(s->key));
	s->size = f->size;
	f->seeding = 1;
	mig__pool_queue(v, &s->w, seed_work, seed_done);
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

/* The walk of the indexed folders, and the table read the first time. */
struct wprep {
	struct vwork w;
	struct mig_seeds *seeds;
	struct mig_cache *cache;
	int load;
	int rload, rindex;
	struct mig_seed_stats st;
};

static void
prep_work(struct vwork *w)
{
	struct wprep *p = (struct wprep *)w;

	if (p->load)
		p->rload = mig__seeds_load(p->seeds, p->cache);
	p->rindex = mig__seeds_index(p->seeds);
	mig__seeds_stats(p->seeds, &p->st);
}

static void
prep_done(struct vwork *w, struct view *v)
{
	struct wprep *p = (struct wprep *)w;
	struct homed *d = w->d;

	d->fs_host->indexing = 0;
	if (p->rload != 0)
		mig__log(MIG_LOG_WARN, "seeding: the table of this host's "
		    "hashes was not read: %s", mig_strerror(p->rload));
	if (p->rindex != 0)
		mig__log(MIG_LOG_WARN, "seeding: %s not indexed: %s", d->seed,
		    mig_strerror(p->rindex));
	else if (p->st.index_full)
		mig__log(MIG_LOG_WARN, "seeding: index full: only the first "
		    "%llu files of %s are looked at",
		    (unsigned long long)p->st.indexed, d->seed);
	else
		mig__log(MIG_LOG_INFO, "seeding: index of %s made: %llu files",
		    d->seed, (unsigned long long)p->st.indexed);
	free(p);
}

void
mig__seeds_start(struct view *v)
{
	struct homed *d = v->d;
	struct fs_host *h = d->fs_host;
	struct wprep *p;
	int r, load = 0;

	if (strcmp(d->seed, MIG_SEED_OFF) == 0 || h->cache == NULL ||
	    h->indexing)
		return;
	if (h->seeds == NULL) {
		if ((r = mig__seeds_new(d->seed, NULL, &h->seeds)) != 0) {
			mig__log(MIG_LOG_WARN, "seeding is off: %s",
			    mig_strerror(r));
			return;
		}
		load = 1;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return;
	p->seeds = h->seeds;
	p->cache = h->cache;
	p->load = load;
	h->indexing = 1;
	mig__pool_queue(v, &p->w, prep_work, prep_done);
}

void
mig__seeds_stop(struct fs_host *h)
{
	int r;

	if (h->seeds == NULL)
		return;
	if (h->cache != NULL && (r = mig__seeds_save(h->seeds, h->cache)) != 0)
		mig__log(MIG_LOG_WARN, "seeding: the table of this host's "
		    "hashes was not saved: %s", mig_strerror(r));
	mig__seeds_free(h->seeds);
	h->seeds = NULL;
}
