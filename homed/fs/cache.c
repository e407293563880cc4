/*
 * cache.c: the host's persistent, bounded, content-addressed object
 * cache (fs.h says what it promises): its table, its folder opened and
 * read, and objects got; cacheput.c, on top, puts them. The files are
 * the truth: the table here is rebuilt from them at every open and only
 * remembers what this process saw, which objects it has checked, and
 * which are held.
 *
 * An object runs in a job: the folder must be the user's alone
 * (mig__dir_make, docs/security.md). It is opened once, without following
 * a symbolic link, and every file is reached from its fd, each subfolder
 * and object again without following one and checked with fstat. An
 * object checked once is checked again when its file is no longer the
 * one checked (inode, size, mtime or ctime).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cache.h"
#include "core.h"
#include "rundir.h"

/* ---- the table ---- */

static size_t
bucket(const struct mig_cache *c, const uint8_t key[MIG_HASH_BYTES])
{
	uint64_t v;

	memcpy(&v, key, sizeof(v)); /* a hash already: any 8 bytes will do */
	return (size_t)(v & (c->nbuckets - 1));
}

struct entry *
mig__cache_find(struct mig_cache *c, const uint8_t key[MIG_HASH_BYTES])
{
	struct entry *e;

	for (e = c->tab[bucket(c, key)]; e != NULL; e = e->next)
		if (memcmp(e->key, key, MIG_HASH_BYTES) == 0)
			return e;
	return NULL;
}

static int
grow(struct mig_cache *c)
{
	size_t n = c->nbuckets * 2, i;
	struct entry **tab, *e, *next;
	struct entry **old = c->tab;
	size_t oldn = c->nbuckets;

	if ((tab = calloc(n, sizeof(*tab))) == NULL)
		return MIG__ERR(ENOMEM);
	c->tab = tab;
	c->nbuckets = n;
	for (i = 0; i < oldn; i++) {
		for (e = old[i]; e != NULL; e = next) {
			next = e->next;
			e->next = tab[bucket(c, e->key)];
			tab[bucket(c, e->key)] = e;
		}
	}
	free(old);
	return 0;
}

/* Adds e (not in the table yet) as the most recently used. */
void
mig__cache_insert(struct mig_cache *c, struct entry *e)
{
	size_t b;

	if (c->st.objects >= c->nbuckets)
		(void)grow(c); /* a longer chain is slower, not wrong */
	b = bucket(c, e->key);
	e->next = c->tab[b];
	c->tab[b] = e;
	TAILQ_INSERT_TAIL(&c->lru, e, lru);
	c->st.objects++;
	c->st.bytes += e->size;
}

static void
unlink_entry(struct mig_cache *c, struct entry *e)
{
	struct entry **pp;

	for (pp = &c->tab[bucket(c, e->key)]; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	}
	TAILQ_REMOVE(&c->lru, e, lru);
	c->st.objects--;
	c->st.bytes -= e->size;
}

void
mig__cache_touch(struct mig_cache *c, struct entry *e)
{
	TAILQ_REMOVE(&c->lru, e, lru);
	TAILQ_INSERT_TAIL(&c->lru, e, lru);
}

/* ---- files, each reached from the folder's fd ---- */

/* Opens folder name in dfd (made first, with make) if it is the user's
 * and nobody else may write to it. */
static int
open_dir_at(int dfd, const char *name, int make, int *fdp)
{
	int fd, r;

	*fdp = -1;
	if (make && mkdirat(dfd, name, 0700) != 0 && errno != EEXIST)
		return MIG__ERR(errno);
	if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0)
		return MIG__ERR(errno);
	if ((r = mig__dir_fd_check(fd, name, NULL, 0)) != 0) {
		mig__close(fd);
		return r;
	}
	*fdp = fd;
	return 0;
}

/* Opens the subfolder of key's object (xx/) into *subp; hex is the
 * object's name there. */
int
mig__cache_object_at(const struct mig_cache *c,
    const uint8_t key[MIG_HASH_BYTES], int make, int *subp, char hex[MIG_HASH_HEX])
{
	char sub[3];

	mig__hash_hex(key, hex);
	memcpy(sub, hex, 2);
	sub[2] = '\0';
	return open_dir_at(c->dfd, sub, make, subp);
}

/* Whether a and b are the same file, unchanged. */
static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Removes the entry's file and the entry. Called with the lock held. */
static void
drop(struct mig_cache *c, struct entry *e)
{
	char hex[MIG_HASH_HEX];
	int sub;

	if (mig__cache_object_at(c, e->key, 0, &sub, hex) == 0) {
		(void)unlinkat(sub, hex, 0);
		mig__close(sub);
	}
	unlink_entry(c, e);
	free(e);
}

/* Removes least recently used objects until the cap is met, sparing held
 * ones and keep. Called with the lock held. */
void
mig__cache_evict(struct mig_cache *c, const struct entry *keep)
{
	struct entry *e, *next;

	for (e = TAILQ_FIRST(&c->lru); e != NULL && c->st.bytes > c->cap;
	    e = next) {
		next = TAILQ_NEXT(e, lru);
		if (e == keep || e->holds > 0)
			continue;
		drop(c, e);
		c->st.evicted++;
	}
}

/* ---- open and close ---- */

int
mig__cache_default_dir(char *buf, size_t size)
{
	const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int n;

	/* The XDG spec ignores relative paths; so do we. */
	if (x != NULL && x[0] == '/')
		n = snprintf(buf, size, "%s/mig/objects", x);
	else if (home != NULL && home[0] == '/')
		n = snprintf(buf, size, "%s/.cache/mig/objects", home);
	else
		return MIG_ECONFIG;
	return n < 0 || (size_t)n >= size ? MIG_ETOOBIG : 0;
}

/* Removes temporary files that no writer holds: a writer keeps an flock
 * on its file, so only a crashed writer's leftovers go. */
static void
sweep_tmp(int tfd)
{
	DIR *d;
	struct dirent *de;
	int fd;

	if ((fd = openat(tfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		mig__close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		fd = openat(dirfd(d), de->d_name,
		    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			(void)unlinkat(dirfd(d), de->d_name, 0);
		mig__close(fd);
	}
	closedir(d);
}

static int
scan_subdir(struct mig_cache *c, int dfd, const char *sub,
    struct entry ***vp, size_t *np, size_t *capp)
{
	DIR *d;
	struct dirent *de;
	struct stat sb;
	uint8_t key[MIG_HASH_BYTES];
	struct entry *e;
	int fd, r = 0;

	/* A subfolder that is not the user's alone is left alone. */
	if ((r = open_dir_at(dfd, sub, 0, &fd)) != 0)
		return r == MIG__ERR(ENOENT) || r == MIG__ERR(ENOTDIR) ||
		    r == MIG__ERR(ELOOP) || r == MIG_EUNSAFE ? 0 : r;
	if ((d = fdopendir(fd)) == NULL) {
		r = MIG__ERR(errno);
		mig__close(fd);
		return r;
	}
	while ((de = readdir(d)) != NULL) {
		if (mig__hash_unhex(de->d_name, key) != 0 ||
		    strncmp(de->d_name, sub, 2) != 0)
			continue; /* not an object of ours: left alone */
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(sb.st_mode))
			continue;
		if (*np == *capp) {
			size_t ncap = *capp ? *capp * 2 : 256;
			struct entry **nv = reallocarray(*vp, ncap, sizeof(**vp));
			if (nv == NULL) {
				r = MIG__ERR(ENOMEM);
				break;
			}
			*vp = nv;
			*capp = ncap;
		}
		if ((e = calloc(1, sizeof(*e))) == NULL) {
			r = MIG__ERR(ENOMEM);
			break;
		}
		memcpy(e->key, key, sizeof(key));
		e->size = (uint64_t)sb.st_size;
		e->used = sb.st_mtim;
		(*vp)[(*np)++] = e;
	}
	closedir(d);
	return r;
}

static int
by_use(const void *a, const void *b)
{
	const struct entry *x = *(struct entry *const *)a;
	const struct entry *y = *(struct entry *const *)b;

	if (x->used.tv_sec != y->used.tv_sec)
		return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
	if (x->used.tv_nsec != y->used.tv_nsec)
		return x->used.tv_nsec < y->used.tv_nsec ? -1 : 1;
	return memcmp(x->key, y->key, MIG_HASH_BYTES);
}

int
mig__cache_open(const char *dir, uint64_t cap, struct mig_cache **cp,
    char *why, size_t size)
{
	struct mig_cache *c = NULL;
	struct entry **v = NULL;
	size_t n = 0, vcap = 0, i;
	char sub[3];
	int r = MIG_EINTERNAL;

	*cp = NULL;
	if (sodium_init() < 0)
		goto out;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		r = MIG__ERR(ENOMEM);
		goto out;
	}
	c->dfd = c->tfd = -1;
	pthread_mutex_init(&c->lock, NULL);
	TAILQ_INIT(&c->lru);
	c->cap = cap;
	c->nbuckets = 256;
	if ((c->tab = calloc(c->nbuckets, sizeof(*c->tab))) == NULL) {
		r = MIG__ERR(ENOMEM);
		goto out;
	}
	if (strlcpy(c->dir, dir, sizeof(c->dir)) >= sizeof(c->dir)) {
		r = MIG_ETOOBIG;
		goto out;
	}
	if ((r = mig__dir_make(dir, why, size)) != 0)
		goto out;
	if ((c->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0) {
		r = MIG__ERR(errno);
		goto out;
	}
	if ((r = mig__dir_fd_check(c->dfd, dir, why, size)) != 0)
		goto out;
	if ((r = open_dir_at(c->dfd, "tmp", 1, &c->tfd)) != 0) {
		if (why != NULL)
			snprintf(why, size, "%s/tmp: %s", dir, mig_strerror(r));
		goto out;
	}
	sweep_tmp(c->tfd);
	for (i = 0; i < 256; i++) {
		snprintf(sub, sizeof(sub), "%02zx", i);
		if ((r = scan_subdir(c, c->dfd, sub, &v, &n, &vcap)) != 0)
			goto out;
	}
	/* The files' mtimes are their last use: oldest first in the list. */
	if (n > 0)
		qsort(v, n, sizeof(*v), by_use);
	for (i = 0; i < n; i++) {
		mig__cache_insert(c, v[i]);
		v[i] = NULL;
	}
	mig__cache_evict(c, NULL);
	*cp = c;
	c = NULL;
	r = 0;
 out:
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	mig__cache_close(c);
	return r;
}

void
mig__cache_close(struct mig_cache *c)
{
	struct entry *e;
	int saved = errno;

	if (c == NULL)
		return;
	while ((e = TAILQ_FIRST(&c->lru)) != NULL) {
		TAILQ_REMOVE(&c->lru, e, lru);
		free(e);
	}
	free(c->tab);
	if (c->dfd >= 0)
		close(c->dfd);
	if (c->tfd >= 0)
		close(c->tfd);
	pthread_mutex_destroy(&c->lock);
	free(c);
	errno = saved;
}

/* ---- get ---- */

int
mig__cache_has(struct mig_cache *c, const uint8_t key[MIG_HASH_BYTES])
{
	int has;

	pthread_mutex_lock(&c->lock);
	has = mig__cache_find(c, key) != NULL;
	pthread_mutex_unlock(&c->lock);
	return has;
}

void
mig__cache_release(struct mig_cache *c, const uint8_t key[MIG_HASH_BYTES])
{
	struct entry *e;

	pthread_mutex_lock(&c->lock);
	if ((e = mig__cache_find(c, key)) != NULL && e->holds > 0) {
		e->holds--;
		if (e->holds == 0)
			/* held objects may have kept us over */
			mig__cache_evict(c, NULL);
	}
	pthread_mutex_unlock(&c->lock);
}

/* The object hex in sub is bad: remove it, but only if it is still the
 * file that was checked, fd (a concurrent put may have renamed a good one
 * in), or, without fd, if it is no regular file. Its entry goes. */
static void
drop_bad(struct mig_cache *c, const uint8_t key[MIG_HASH_BYTES], int fd,
    int sub, const char *hex, int corrupt)
{
	struct stat a, b;
	struct entry *e;

	pthread_mutex_lock(&c->lock);
	if (sub >= 0 && fstatat(sub, hex, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
	    (fd >= 0 ? fstat(fd, &a) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino : !S_ISREG(b.st_mode)))
		(void)unlinkat(sub, hex, 0);
	if ((e = mig__cache_find(c, key)) != NULL) {
		unlink_entry(c, e);
		free(e);
	}
	if (corrupt)
		c->st.corrupt++;
	pthread_mutex_unlock(&c->lock);
}

int
mig__cache_get(struct mig_cache *c, const uint8_t key[MIG_HASH_BYTES],
    int *fdp)
{
	char hex[MIG_HASH_HEX];
	uint8_t got[MIG_HASH_BYTES];
	uint64_t size = 0, want = 0;
	struct stat seen, sb;
	struct entry *e;
	int fd = -1, sub = -1, verified = 0, held = 0, r = MIG_EINTERNAL;

	*fdp = -1;
	pthread_mutex_lock(&c->lock);
	if ((e = mig__cache_find(c, key)) != NULL) {
		e->holds++;
		mig__cache_touch(c, e);
		verified = e->verified;
		seen = e->seen;
		want = e->size;
	}
	pthread_mutex_unlock(&c->lock);
	if (e == NULL) {
		r = MIG__ERR(ENOENT);
		goto out;
	}
	held = 1;
	/* Gone, or not the user's own regular file: no such object. */
	if (mig__cache_object_at(c, key, 0, &sub, hex) != 0 ||
	    (fd = openat(sub, hex, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK)) < 0 || fstat(fd, &sb) != 0 ||
	    !S_ISREG(sb.st_mode) || sb.st_uid != geteuid() ||
	    (sb.st_mode & 022) != 0) {
		drop_bad(c, key, fd, sub, hex, fd >= 0);
		held = 0;
		r = MIG__ERR(ENOENT);
		goto out;
	}
	/* Another file, or changed, since it was checked: checked again. */
	if (!verified || !same_file(&seen, &sb)) {
		/* Hashing happens without the lock: other objects stay
		 * usable while a big one is read. */
		if ((r = mig__hash_fd(fd, got, &size)) != 0)
			goto out;
		if (size != want || sodium_memcmp(got, key, MIG_HASH_BYTES) != 0) {
			drop_bad(c, key, fd, sub, hex, 1);
			held = 0; /* the entry is gone, and its holds with it */
			r = MIG__ERR(ENOENT);
			goto out;
		}
	}
	/* The use time that orders eviction after a restart; the file as
	 * it is then is the one checked. */
	(void)futimens(fd, NULL);
	if (fstat(fd, &sb) != 0) {
		r = MIG__ERR(errno);
		goto out;
	}
	pthread_mutex_lock(&c->lock);
	if ((e = mig__cache_find(c, key)) != NULL) {
		e->verified = 1;
		e->seen = sb;
	}
	pthread_mutex_unlock(&c->lock);
	*fdp = fd;
	fd = -1;
	held = 0;
	r = 0;
 out:
	if (fd >= 0)
		mig__close(fd);
	mig__close(sub);
	if (held)
		mig__cache_release(c, key);
	return r;
}

void
mig__cache_stats(struct mig_cache *c, struct mig_cache_stats *st)
{
	pthread_mutex_lock(&c->lock);
	*st = c->st;
	pthread_mutex_unlock(&c->lock);
}

int
mig__cache_note_read(struct mig_cache *c, const char *name, size_t max,
    uint8_t **pp, size_t *np)
{
	struct stat sb;
	uint8_t *p = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, r = 0;

	*pp = NULL;
	*np = 0;
	/* As an object: the user's own regular file, nobody else's to
	 * write, never reached through a symbolic link. */
	if ((fd = openat(c->dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK)) < 0)
		return MIG__ERR(errno);
	if (fstat(fd, &sb) != 0) {
		r = MIG__ERR(errno);
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_uid != geteuid() ||
	    (sb.st_mode & 022) != 0) {
		r = MIG_EUNSAFE;
		goto out;
	}
	if ((uint64_t)sb.st_size > max) {
		r = MIG_ETOOBIG;
		goto out;
	}
	if ((p = malloc(sb.st_size > 0 ? (size_t)sb.st_size : 1)) == NULL) {
		r = MIG__ERR(ENOMEM);
		goto out;
	}
	while (got < (size_t)sb.st_size &&
	    (n = pread(fd, p + got, (size_t)sb.st_size - got, (off_t)got)) > 0)
		got += (size_t)n;
	*pp = p;
	*np = got;
	p = NULL;
 out:
	free(p);
	mig__close(fd);
	return r;
}
