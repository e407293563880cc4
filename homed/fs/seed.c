/*
 * seed.c: content seeding (fs.h). Home names a file's hash; a file of
 * this host's own with that hash stands in for fetching it: the file at
 * the same path here, else one of the same size in the folders this host
 * indexes. The path only says where to look: a candidate's content is
 * used when its hash is the key, and it reaches the object cache through
 * a writer that hashes it again as it copies (cacheput.c), so neither a
 * path, nor a size, nor the table's word is ever trusted alone.
 *
 * The hashes of this host's files are kept by (dev, inode, size, mtime,
 * ctime) in a hashdb (hashdb.c), saved beside the objects
 * (mig__cache_note_write), so a file is read once per version, across
 * restarts too. The index is the indexed folders' regular files by size,
 * made by a walk (lstat only, no file read); a file is hashed only when
 * its size is asked for.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "core.h"
#include "fs.h"
#include "mig/proto.h"

/* Hashes the table keeps, and its saved file's name and bound. */
#define SEED_TABLE_MAX 65536
#define SEED_NOTE "hashes"
#define SEED_NOTE_MAX (16u << 20)
/* Candidates of one size looked at per find, and of those, hashed. */
#define SEED_CANDIDATES 64
#define SEED_HASHES 8
/* Files the index holds at most: past it the walk stops, and says so. */
#define SEED_INDEX_MAX (1u << 21)

struct ient {
	uint64_t size;
	size_t off;                 /* its path, in names */
};

struct index {
	struct ient *v;             /* sorted by size */
	size_t n, cap;
	char *names;                /* NUL-terminated paths, one after another */
	size_t len, room;
};

struct mig_seeds {
	pthread_mutex_t lock;       /* everything below */
	char *dirs;                 /* ':'-joined, "" for none */
	struct mig_hashdb *db;
	int dirty;                  /* db changed since saved */
	struct index ix;
	struct mig_seed_stats st;
};

static void
index_free(struct index *ix)
{
	free(ix->v);
	free(ix->names);
	memset(ix, 0, sizeof(*ix));
}

int
mig__seeds_new(const char *dirs, mig_hashfn fn, struct mig_seeds **sp)
{
	struct mig_seeds *s;
	int r;

	*sp = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return MIG__ERR(ENOMEM);
	if ((s->dirs = strdup(dirs)) == NULL) {
		free(s);
		return MIG__ERR(ENOMEM);
	}
	if ((r = mig__hashdb_new(SEED_TABLE_MAX, fn, &s->db)) != 0) {
		free(s->dirs);
		free(s);
		return r;
	}
	pthread_mutex_init(&s->lock, NULL);
	*sp = s;
	return 0;
}

void
mig__seeds_free(struct mig_seeds *s)
{
	if (s == NULL)
		return;
	mig__hashdb_free(s->db);
	index_free(&s->ix);
	pthread_mutex_destroy(&s->lock);
	free(s->dirs);
	free(s);
}

int
mig__seeds_load(struct mig_seeds *s, struct mig_cache *c)
{
	uint8_t *p;
	size_t n;
	int r;

	if ((r = mig__cache_note_read(c, SEED_NOTE, SEED_NOTE_MAX, &p, &n)) != 0)
		return r == MIG__ERR(ENOENT) ? 0 : r;
	pthread_mutex_lock(&s->lock);
	r = mig__hashdb_load(s->db, p, n);
	pthread_mutex_unlock(&s->lock);
	free(p);
	return r;
}

int
mig__seeds_save(struct mig_seeds *s, struct mig_cache *c)
{
	struct mig_buf b = { NULL, 0, 0 };
	int r = 0;

	pthread_mutex_lock(&s->lock);
	if (s->dirty && (r = mig__hashdb_save(s->db, &b)) == 0)
		s->dirty = 0;
	pthread_mutex_unlock(&s->lock);
	if (r == 0 && b.len > 0 &&
	    (r = mig__cache_note_write(c, SEED_NOTE, b.data, b.len)) != 0) {
		pthread_mutex_lock(&s->lock);
		s->dirty = 1;
		pthread_mutex_unlock(&s->lock);
	}
	mig_buf_free(&b);
	return r;
}

int
mig__seeds_dirty(struct mig_seeds *s)
{
	int dirty;

	pthread_mutex_lock(&s->lock);
	dirty = s->dirty;
	pthread_mutex_unlock(&s->lock);
	return dirty;
}

/* ---- the index ---- */

static int
index_add(struct index *ix, const char *path, uint64_t size)
{
	size_t need = strlen(path) + 1;

	if (ix->n == ix->cap) {
		size_t cap = ix->cap ? ix->cap * 2 : 4096;
		struct ient *v = reallocarray(ix->v, cap, sizeof(*v));
		if (v == NULL)
			return MIG__ERR(ENOMEM);
		ix->v = v;
		ix->cap = cap;
	}
	if (ix->len + need > ix->room) {
		size_t room = ix->room ? ix->room * 2 : 65536;
		char *names;
		while (room < ix->len + need)
			room *= 2;
		if ((names = realloc(ix->names, room)) == NULL)
			return MIG__ERR(ENOMEM);
		ix->names = names;
		ix->room = room;
	}
	memcpy(ix->names + ix->len, path, need);
	ix->v[ix->n].size = size;
	ix->v[ix->n].off = ix->len;
	ix->n++;
	ix->len += need;
	return 0;
}

/* The folders under dir (a path of PATH_MAX), depth first, without
 * following a symbolic link: every regular file that is not empty. */
static int
walk(struct index *ix, char *dir, size_t len, int *full)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int r = 0, fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0)
		return 0; /* gone, or not ours to read: nothing there */
	if ((d = fdopendir(fd)) == NULL) {
		mig__close(fd);
		return 0;
	}
	while (r == 0 && (de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (len + 1 + n >= PATH_MAX)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		snprintf(dir + len, PATH_MAX - len, "%s%s",
		    len == 1 ? "" : "/", de->d_name);
		if (S_ISDIR(st.st_mode)) {
			r = walk(ix, dir, strlen(dir), full);
		} else if (S_ISREG(st.st_mode) && st.st_size > 0) {
			if (ix->n >= SEED_INDEX_MAX) {
				*full = 1;
				r = MIG_ETOOBIG;
			} else {
				r = index_add(ix, dir, (uint64_t)st.st_size);
			}
		}
		dir[len] = '\0';
	}
	closedir(d);
	return r;
}

static int
by_size(const void *a, const void *b)
{
	const struct ient *x = a, *y = b;

	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

int
mig__seeds_index(struct mig_seeds *s)
{
	struct index ix = { 0 };
	char dir[PATH_MAX];
	const char *c, *end;
	int r = 0, full = 0;

	/* The folders were checked when the hosts file was read. */
	for (c = s->dirs; r == 0 && *c != '\0'; c = end + (*end == ':')) {
		end = c + strcspn(c, ":");
		if ((size_t)(end - c) >= sizeof(dir))
			continue;
		memcpy(dir, c, (size_t)(end - c));
		dir[end - c] = '\0';
		r = walk(&ix, dir, strlen(dir), &full);
	}
	if (r != 0 && !full) {
		index_free(&ix);
		return r;
	}
	if (ix.n > 0) {
		struct ient *v = reallocarray(ix.v, ix.n, sizeof(*ix.v));
		char *names = realloc(ix.names, ix.len);
		/* Only what it holds is kept (the walk doubled its room). */
		if (v != NULL) {
			ix.v = v;
			ix.cap = ix.n;
		}
		if (names != NULL) {
			ix.names = names;
			ix.room = ix.len;
		}
		qsort(ix.v, ix.n, sizeof(*ix.v), by_size);
	}
	pthread_mutex_lock(&s->lock);
	index_free(&s->ix);
	s->ix = ix;
	s->st.indexed = ix.n;
	s->st.index_full = full;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* The paths of the index's files of size, but skip, into v (at most
 * max, each the caller's to free); how many. Called with the lock held. */
static size_t
of_size(struct index *ix, uint64_t size, const char *skip, char **v,
    size_t max)
{
	size_t lo = 0, hi = ix->n, n = 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ix->v[mid].size < size)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < ix->n && ix->v[lo].size == size && n < max; lo++) {
		const char *p = ix->names + ix->v[lo].off;
		if (strcmp(p, skip) != 0 && (v[n] = strdup(p)) != NULL)
			n++;
	}
	return n;
}

/* ---- a find ---- */

/* Opens path for reading if it is a regular file of size bytes: first
 * as a path only (O_PATH, no symbolic link at its end), so nothing else
 * (a device, a FIFO another user made where a folder of the path leads)
 * is ever opened for reading; then that very file again. */
static int
open_regular(const char *path, uint64_t size, int *fdp, struct stat *st)
{
	char self[40];
	int pfd, fd = -1;

	*fdp = -1;
	if ((pfd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return MIG__ERR(ENOENT);
	if (fstat(pfd, st) == 0 && S_ISREG(st->st_mode) &&
	    (uint64_t)st->st_size == size) {
		snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
		fd = open(self, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	}
	mig__close(pfd);
	if (fd < 0)
		return MIG__ERR(ENOENT);
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) ||
	    (uint64_t)st->st_size != size) {
		mig__close(fd);
		return MIG__ERR(ENOENT);
	}
	*fdp = fd;
	return 0;
}

/* Candidate path: 0 when its content, whose hash is key, is in c now;
 * MIG__ERR(ENOENT) when it is not that content (or not there);
 * *hashes counts the hashes computed. */
static int
try_one(struct mig_seeds *s, struct mig_cache *c, const char *path,
    uint64_t size, const uint8_t key[MIG_HASH_BYTES], unsigned *hashes)
{
	uint8_t got[MIG_HASH_BYTES];
	struct mig_hashdb_done done;
	struct stat st;
	int fd, r, known;

	if (open_regular(path, size, &fd, &st) != 0)
		return MIG__ERR(ENOENT);
	pthread_mutex_lock(&s->lock);
	known = mig__hashdb_peek(s->db, &st, got) == 0;
	pthread_mutex_unlock(&s->lock);
	if (!known) {
		if (*hashes >= SEED_HASHES) {
			r = MIG__ERR(ENOENT);
			goto out;
		}
		(*hashes)++;
		/* Off the table's lock: other finds go on meanwhile. */
		if ((r = mig__hashdb_compute(s->db, fd, &st, got, &done)) != 0) {
			r = MIG__ERR(ENOENT);
			goto out;
		}
		pthread_mutex_lock(&s->lock);
		mig__hashdb_keep(s->db, &st, got, &done);
		s->dirty = 1;
		s->st.hashed += done.computed;
		pthread_mutex_unlock(&s->lock);
	}
	if (sodium_memcmp(got, key, MIG_HASH_BYTES) != 0 ||
	    (uint64_t)st.st_size != size) {
		r = MIG__ERR(ENOENT);
		goto out;
	}
	/* Changed since it was hashed: the writer's check says so, and
	 * then this candidate is not it. */
	r = mig__cache_put_fd(c, key, fd) == 0 ? 0 : MIG__ERR(ENOENT);
 out:
	mig__close(fd);
	return r;
}

int
mig__seeds_find(struct mig_seeds *s, struct mig_cache *c, const char *path,
    uint64_t size, const uint8_t key[MIG_HASH_BYTES])
{
	char *v[SEED_CANDIDATES];
	unsigned hashes = 0;
	size_t n;
	int r;

	pthread_mutex_lock(&s->lock);
	s->st.finds++;
	pthread_mutex_unlock(&s->lock);
	r = try_one(s, c, path, size, key, &hashes);
	if (r != 0) {
		pthread_mutex_lock(&s->lock);
		n = of_size(&s->ix, size, path, v, SEED_CANDIDATES);
		pthread_mutex_unlock(&s->lock);
		for (size_t i = 0; i < n; i++) {
			if (r != 0)
				r = try_one(s, c, v[i], size, key, &hashes);
			free(v[i]);
		}
	}
	pthread_mutex_lock(&s->lock);
	if (r == 0) {
		s->st.seeded++;
		s->st.seeded_bytes += size;
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

void
mig__seeds_stats(struct mig_seeds *s, struct mig_seed_stats *st)
{
	pthread_mutex_lock(&s->lock);
	*st = s->st;
	pthread_mutex_unlock(&s->lock);
}
