/*
 * hashdb.c: the home's "hash once per (dev, inode, size, mtime, ctime)"
 * table (fs.h). Entries are found by (dev, inode); the other fields say
 * whether the hash kept there still holds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core.h"
#include "fs.h"
#include "mig/proto.h"

/* A file that keeps changing while it is hashed gets this many tries. */
#define HASH_TRIES 3

/* The saved form's first words (mig__hashdb_save). */
#define SAVED_MAGIC 0x4847494du /* "MIGH" */
#define SAVED_VERSION 1u

struct hentry {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim;
	struct timespec ctim;
	uint8_t hash[MIG_HASH_BYTES];
	struct hentry *next;        /* bucket chain */
	TAILQ_ENTRY(hentry) lru;    /* first: least recently used */
};

struct mig_hashdb {
	size_t max;                 /* entries at most */
	mig_hashfn fn;
	struct hentry **tab;
	size_t nbuckets;            /* a power of two */
	TAILQ_HEAD(, hentry) lru;
	struct mig_hashdb_stats st;
};

static size_t
bucket(const struct mig_hashdb *db, dev_t dev, ino_t ino)
{
	uint64_t v = (uint64_t)ino * 0x9e3779b97f4a7c15ULL ^ (uint64_t)dev;

	return (size_t)(v >> 17 ^ v) & (db->nbuckets - 1);
}

static struct hentry *
find(struct mig_hashdb *db, dev_t dev, ino_t ino)
{
	struct hentry *e;

	for (e = db->tab[bucket(db, dev, ino)]; e != NULL; e = e->next)
		if (e->dev == dev && e->ino == ino)
			return e;
	return NULL;
}

static void
remove_entry(struct mig_hashdb *db, struct hentry *e)
{
	struct hentry **pp;

	for (pp = &db->tab[bucket(db, e->dev, e->ino)]; *pp != NULL;
	    pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	}
	TAILQ_REMOVE(&db->lru, e, lru);
	db->st.entries--;
	free(e);
}

static int
ts_eq(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static int
ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	    (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static int
same_file_state(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size && ts_eq(&a->st_mtim, &b->st_mtim) &&
	    ts_eq(&a->st_ctim, &b->st_ctim);
}

static int
default_fn(int fd, uint8_t out[MIG_HASH_BYTES], uint64_t *sizep)
{
	return mig__hash_fd(fd, out, sizep);
}

int
mig__hashdb_new(size_t max, mig_hashfn fn, struct mig_hashdb **dbp)
{
	struct mig_hashdb *db = NULL;
	int r = MIG_EINTERNAL;

	*dbp = NULL;
	if (max == 0) {
		r = MIG__ERR(EINVAL);
		goto out;
	}
	if (sodium_init() < 0)
		goto out;
	if ((db = calloc(1, sizeof(*db))) == NULL) {
		r = MIG__ERR(ENOMEM);
		goto out;
	}
	db->max = max;
	db->fn = fn != NULL ? fn : default_fn;
	/* Chains of about two at most when full. */
	for (db->nbuckets = 16; db->nbuckets < max / 2; db->nbuckets *= 2)
		;
	TAILQ_INIT(&db->lru);
	if ((db->tab = calloc(db->nbuckets, sizeof(*db->tab))) == NULL) {
		r = MIG__ERR(ENOMEM);
		goto out;
	}
	*dbp = db;
	db = NULL;
	r = 0;
 out:
	mig__hashdb_free(db);
	return r;
}

void
mig__hashdb_free(struct mig_hashdb *db)
{
	struct hentry *e;

	if (db == NULL)
		return;
	while ((e = TAILQ_FIRST(&db->lru)) != NULL) {
		TAILQ_REMOVE(&db->lru, e, lru);
		free(e);
	}
	free(db->tab);
	free(db);
}

/* Keeps hash for the file state st, as the most recently used entry. */
static void
remember(struct mig_hashdb *db, const struct stat *st,
    const uint8_t hash[MIG_HASH_BYTES])
{
	struct hentry *e;
	size_t b;

	if ((e = find(db, st->st_dev, st->st_ino)) == NULL) {
		if (db->st.entries >= db->max) {
			remove_entry(db, TAILQ_FIRST(&db->lru));
			db->st.evicted++;
		}
		if ((e = calloc(1, sizeof(*e))) == NULL)
			return; /* only a later rehash lost */
		e->dev = st->st_dev;
		e->ino = st->st_ino;
		b = bucket(db, e->dev, e->ino);
		e->next = db->tab[b];
		db->tab[b] = e;
		TAILQ_INSERT_TAIL(&db->lru, e, lru);
		db->st.entries++;
	} else {
		TAILQ_REMOVE(&db->lru, e, lru);
		TAILQ_INSERT_TAIL(&db->lru, e, lru);
	}
	e->size = st->st_size;
	e->mtim = st->st_mtim;
	e->ctim = st->st_ctim;
	memcpy(e->hash, hash, MIG_HASH_BYTES);
}

int
mig__hashdb_peek(struct mig_hashdb *db, const struct stat *st,
    uint8_t out[MIG_HASH_BYTES])
{
	struct hentry *e = find(db, st->st_dev, st->st_ino);

	if (e == NULL || e->size != st->st_size ||
	    !ts_eq(&e->mtim, &st->st_mtim) || !ts_eq(&e->ctim, &st->st_ctim))
		return MIG__ERR(ENOENT);
	TAILQ_REMOVE(&db->lru, e, lru);
	TAILQ_INSERT_TAIL(&db->lru, e, lru);
	memcpy(out, e->hash, MIG_HASH_BYTES);
	db->st.hits++;
	return 0;
}

int
mig__hashdb_compute(struct mig_hashdb *db, int fd, struct stat *st,
    uint8_t out[MIG_HASH_BYTES], struct mig_hashdb_done *done)
{
	struct timespec start;
	struct stat after;
	uint64_t size;
	int r;

	memset(done, 0, sizeof(*done));
	for (;;) {
		if (done->computed == HASH_TRIES)
			return MIG__ERR(EAGAIN);
		/* The clock that stamps files (timestamps come from the coarse
		 * clock), read before the first byte is. */
		clock_gettime(CLOCK_REALTIME_COARSE, &start);
		done->computed++;
		if ((r = db->fn(fd, out, &size)) != 0)
			return r;
		if (fstat(fd, &after) != 0)
			return MIG__ERR(errno);
		if (same_file_state(st, &after) &&
		    size == (uint64_t)after.st_size)
			break;
		*st = after;
	}
	/* Changed in the current tick: a second change in the same tick
	 * would keep every field as it is now, so nothing is kept. */
	done->keep = ts_before(&after.st_ctim, &start);
	return 0;
}

void
mig__hashdb_keep(struct mig_hashdb *db, const struct stat *st,
    const uint8_t hash[MIG_HASH_BYTES], const struct mig_hashdb_done *done)
{
	struct hentry *e;

	db->st.computed += done->computed;
	if (done->keep)
		remember(db, st, hash);
	else if ((e = find(db, st->st_dev, st->st_ino)) != NULL)
		remove_entry(db, e);
}

int
mig__hashdb_fd(struct mig_hashdb *db, int fd, const struct stat *st,
    uint8_t out[MIG_HASH_BYTES])
{
	struct mig_hashdb_done done;
	struct stat before;
	int r;

	if (st == NULL) {
		if (fstat(fd, &before) != 0)
			return MIG__ERR(errno);
	} else {
		before = *st;
	}
	if (!S_ISREG(before.st_mode))
		return MIG__ERR(EINVAL);
	if (mig__hashdb_peek(db, &before, out) == 0)
		return 0;
	r = mig__hashdb_compute(db, fd, &before, out, &done);
	db->st.computed += r != 0 ? done.computed : 0;
	if (r == 0)
		mig__hashdb_keep(db, &before, out, &done);
	return r;
}

int
mig__hashdb_path(struct mig_hashdb *db, const char *path,
    uint8_t out[MIG_HASH_BYTES])
{
	struct stat st;
	int fd, r;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return MIG__ERR(errno);
	if (fstat(fd, &st) != 0)
		r = MIG__ERR(errno);
	else
		r = mig__hashdb_fd(db, fd, &st, out);
	mig__close(fd);
	return r;
}

void
mig__hashdb_stats(const struct mig_hashdb *db, struct mig_hashdb_stats *st)
{
	*st = db->st;
}

int
mig__hashdb_save(const struct mig_hashdb *db, struct mig_buf *b)
{
	const struct hentry *e;
	int r;

	r = proto_put_u32(b, SAVED_MAGIC);
	r = r ? r : proto_put_u32(b, SAVED_VERSION);
	r = r ? r : proto_put_u32(b, (uint32_t)db->st.entries);
	/* Least recently used first: loaded in this order, the order of
	 * use survives. */
	TAILQ_FOREACH(e, &db->lru, lru) {
		r = r ? r : proto_put_u64(b, (uint64_t)e->dev);
		r = r ? r : proto_put_u64(b, (uint64_t)e->ino);
		r = r ? r : proto_put_u64(b, (uint64_t)e->size);
		r = r ? r : proto_put_u64(b, (uint64_t)e->mtim.tv_sec);
		r = r ? r : proto_put_u32(b, (uint32_t)e->mtim.tv_nsec);
		r = r ? r : proto_put_u64(b, (uint64_t)e->ctim.tv_sec);
		r = r ? r : proto_put_u32(b, (uint32_t)e->ctim.tv_nsec);
		r = r ? r : proto_put_bytes(b, e->hash, MIG_HASH_BYTES);
	}
	return r;
}

int
mig__hashdb_load(struct mig_hashdb *db, const uint8_t *p, size_t len)
{
	struct mig_rd rd;
	uint32_t magic, version, n, mns, cns;
	uint64_t dev, ino, size, ms, cs;
	const uint8_t *hash;
	size_t hlen;
	struct stat st;

	proto_rd_init(&rd, p, len);
	if (proto_get_u32(&rd, &magic) != 0 || magic != SAVED_MAGIC ||
	    proto_get_u32(&rd, &version) != 0 || version != SAVED_VERSION ||
	    proto_get_u32(&rd, &n) != 0)
		return MIG_EPROTO;
	for (uint32_t i = 0; i < n; i++) {
		if (proto_get_u64(&rd, &dev) != 0 ||
		    proto_get_u64(&rd, &ino) != 0 ||
		    proto_get_u64(&rd, &size) != 0 ||
		    proto_get_u64(&rd, &ms) != 0 ||
		    proto_get_u32(&rd, &mns) != 0 ||
		    proto_get_u64(&rd, &cs) != 0 ||
		    proto_get_u32(&rd, &cns) != 0 ||
		    proto_get_bytes(&rd, &hash, &hlen) != 0 ||
		    hlen != MIG_HASH_BYTES || size > INT64_MAX ||
		    mns >= 1000000000u || cns >= 1000000000u)
			return MIG_EPROTO;
		memset(&st, 0, sizeof(st));
		st.st_dev = (dev_t)dev;
		st.st_ino = (ino_t)ino;
		st.st_size = (off_t)size;
		st.st_mtim.tv_sec = (time_t)ms;
		st.st_mtim.tv_nsec = (long)mns;
		st.st_ctim.tv_sec = (time_t)cs;
		st.st_ctim.tv_nsec = (long)cns;
		remember(db, &st, hash);
	}
	return proto_rd_done(&rd);
}
