/*
 * cacheput.c: objects into the cache (fs.h): a writer fills a temporary
 * file in DIR/tmp/, hashing what it writes, and renames it into place
 * only when the hash is the key it was given. On cache.c's table.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "core.h"

/* What a put from a file reads at once (on the heap: pool threads have
 * small stacks). */
#define PUT_CHUNK (256u << 10)

struct mig_cache_writer {
	struct mig_cache *c;
	uint8_t key[MIG_HASH_BYTES];
	int fd;                     /* the temporary file, flock'ed */
	char tmp[32];               /* its name in tmp/ ("": none) */
	crypto_generichash_state hs;
	uint64_t size;
	int r;                      /* first failure of a write, kept */
};

/* A new temporary file in tmp/, flock'ed, its name into tmp: the flock
 * marks it as in use for sweep_tmp in other processes; one of them may
 * have swept it before we took the lock, which a link count of 0 tells:
 * then again, with a new name. */
static int
tmp_open(struct mig_cache *c, char tmp[32], int *fdp)
{
	uint8_t rnd[6];
	struct stat sb;
	int fd;

	*fdp = -1;
	for (int tries = 0; tries < 8; tries++) {
		randombytes_buf(rnd, sizeof(rnd));
		snprintf(tmp, 32, "put.%02x%02x%02x%02x%02x%02x", rnd[0],
		    rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
		if ((fd = openat(c->tfd, tmp, O_RDWR | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
			if (errno == EEXIST)
				continue;
			return MIG__ERR(errno);
		}
		if (flock(fd, LOCK_EX) != 0 || fstat(fd, &sb) != 0) {
			int r = MIG__ERR(errno);
			(void)unlinkat(c->tfd, tmp, 0);
			mig__close(fd);
			return r;
		}
		if (sb.st_nlink > 0) {
			*fdp = fd;
			return 0;
		}
		mig__close(fd);
	}
	return MIG__ERR(EAGAIN);
}

int
mig__cache_begin(struct mig_cache *c, const uint8_t key[MIG_HASH_BYTES],
    struct mig_cache_writer **wp)
{
	struct mig_cache_writer *w = NULL;
	int r = MIG_EINTERNAL;

	*wp = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		r = MIG__ERR(ENOMEM);
		goto out;
	}
	w->c = c;
	w->fd = -1;
	memcpy(w->key, key, MIG_HASH_BYTES);
	if ((r = tmp_open(c, w->tmp, &w->fd)) != 0) {
		w->tmp[0] = '\0';
		goto out;
	}
	crypto_generichash_init(&w->hs, NULL, 0, MIG_HASH_BYTES);
	*wp = w;
	w = NULL;
	r = 0;
 out:
	mig__cache_abort(w);
	return r;
}

int
mig__cache_write(struct mig_cache_writer *w, const void *p, size_t n)
{
	int r;

	if (w->r != 0)
		return w->r;
	if (w->size + n > w->c->cap || w->size + n < w->size)
		return w->r = MIG_ETOOBIG;
	if ((r = mig__write_full(w->fd, p, n)) != 0)
		return w->r = r;
	crypto_generichash_update(&w->hs, p, n);
	w->size += n;
	return 0;
}

void
mig__cache_abort(struct mig_cache_writer *w)
{
	int saved = errno;

	if (w == NULL)
		return;
	if (w->fd >= 0) {
		(void)unlinkat(w->c->tfd, w->tmp, 0);
		mig__close(w->fd);
	}
	free(w);
	errno = saved;
}

/*
 * No fsync before the rename: an object torn by a crash of the machine
 * is caught by the check at its first get after the restart, and the
 * cache is only ever a copy of what home has.
 */
int
mig__cache_commit(struct mig_cache_writer *w)
{
	struct mig_cache *c = w->c;
	uint8_t got[MIG_HASH_BYTES];
	char hex[MIG_HASH_HEX];
	struct entry *e, *fresh = NULL;
	int sub = -1, r = MIG_EINTERNAL;

	if ((r = w->r) != 0)
		goto out;
	crypto_generichash_final(&w->hs, got, MIG_HASH_BYTES);
	if (sodium_memcmp(got, w->key, MIG_HASH_BYTES) != 0) {
		r = MIG__ERR(EBADMSG);
		goto out;
	}
	if ((fresh = calloc(1, sizeof(*fresh))) == NULL) {
		r = MIG__ERR(ENOMEM);
		goto out;
	}
	memcpy(fresh->key, w->key, MIG_HASH_BYTES);
	fresh->size = w->size;
	fresh->verified = 1;
	/* Objects are never written in place: read-only, for all to see. */
	if (fchmod(w->fd, 0400) != 0 || futimens(w->fd, NULL) != 0) {
		r = MIG__ERR(errno);
		goto out;
	}
	if ((r = mig__cache_object_at(c, w->key, 1, &sub, hex)) != 0)
		goto out;
	/* Same key, same content: replacing a concurrent writer's object
	 * (or one a caller holds open) changes nothing anyone reads. */
	if (renameat(c->tfd, w->tmp, sub, hex) != 0) {
		r = MIG__ERR(errno);
		goto out;
	}
	w->tmp[0] = '\0';
	if (fstat(w->fd, &fresh->seen) != 0) {
		r = MIG__ERR(errno);
		goto out;
	}
	pthread_mutex_lock(&c->lock);
	if ((e = mig__cache_find(c, w->key)) != NULL) {
		e->verified = 1;
		e->seen = fresh->seen;
		mig__cache_touch(c, e);
	} else {
		mig__cache_insert(c, fresh);
		e = fresh;
		fresh = NULL;
	}
	mig__cache_evict(c, e);
	pthread_mutex_unlock(&c->lock);
	r = 0;
 out:
	free(fresh);
	if (w->tmp[0] != '\0')
		(void)unlinkat(c->tfd, w->tmp, 0);
	mig__close(w->fd);
	mig__close(sub);
	free(w);
	return r;
}

int
mig__cache_put(struct mig_cache *c, const uint8_t key[MIG_HASH_BYTES],
    const void *p, size_t n)
{
	struct mig_cache_writer *w;
	int r;

	if (n > c->cap)
		return MIG_ETOOBIG;
	if ((r = mig__cache_begin(c, key, &w)) != 0)
		return r;
	if ((r = mig__cache_write(w, p, n)) != 0) {
		mig__cache_abort(w);
		return r;
	}
	return mig__cache_commit(w);
}

int
mig__cache_put_fd(struct mig_cache *c, const uint8_t key[MIG_HASH_BYTES],
    int fd)
{
	struct mig_cache_writer *w;
	uint8_t *buf;
	ssize_t n;
	off_t off = 0;
	int r;

	if ((buf = malloc(PUT_CHUNK)) == NULL)
		return MIG__ERR(ENOMEM);
	if ((r = mig__cache_begin(c, key, &w)) != 0) {
		free(buf);
		return r;
	}
	while ((n = pread(fd, buf, PUT_CHUNK, off)) > 0) {
		if ((r = mig__cache_write(w, buf, (size_t)n)) != 0)
			break;
		off += n;
	}
	free(buf);
	if (r == 0 && n < 0)
		r = MIG__ERR(errno);
	if (r != 0) {
		mig__cache_abort(w);
		return r;
	}
	/* Written again meanwhile: the commit finds the hash wrong, and
	 * nothing is kept. */
	return mig__cache_commit(w);
}

int
mig__cache_note_write(struct mig_cache *c, const char *name, const void *p,
    size_t n)
{
	char tmp[32];
	int fd, r;

	if ((r = tmp_open(c, tmp, &fd)) != 0)
		return r;
	if ((r = mig__write_full(fd, p, n)) == 0 &&
	    renameat(c->tfd, tmp, c->dfd, name) != 0)
		r = MIG__ERR(errno);
	if (r != 0)
		(void)unlinkat(c->tfd, tmp, 0);
	mig__close(fd);
	return r;
}
