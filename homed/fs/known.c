/*
 * known.c: what a view knows of home's paths without asking, on a host.
 * It holds what home sent with the latest job's EXEC (MIG_M_FS_PRIME:
 * the paths that job's program used in recent runs, sampled when home
 * placed it) and the answers home gave since. Each served job's arrival
 * empties it first (mig__view_want), so a job is answered from nothing
 * older than its own placement: every change home made before it was
 * placed is seen; a job whose arrival comes after that of a job placed
 * later keeps the table as it is, all of it newer than its placement
 * (view.c, view_placed). Jobs already running see newer answers, never
 * older ones. The view's own changes drop what they touch
 * (mig__known_drop), so the next question goes home.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "view.h"

/* Past this many entries the table starts again from nothing. */
#define KNOWN_MAX 65536

static size_t
bucket(const char *path)
{
	return mig__path_hash(path) % NODE_BUCKETS;
}

static void
known_free(struct known *k)
{
	free(k->path);
	free(k->target);
	free(k);
}

void
mig__known_clear(struct view *v)
{
	struct known *k;

	for (size_t b = 0; b < NODE_BUCKETS; b++)
		while ((k = v->known[b]) != NULL) {
			v->known[b] = k->next;
			known_free(k);
		}
	v->nknown = 0;
}

struct known *
mig__known_get(struct view *v, const char *path)
{
	struct known *k;

	for (k = v->known[bucket(path)]; k != NULL; k = k->next)
		if (strcmp(k->path, path) == 0)
			return k;
	return NULL;
}

static void
known_remove(struct view *v, const char *path)
{
	struct known **kp, *k;

	for (kp = &v->known[bucket(path)]; (k = *kp) != NULL; kp = &k->next)
		if (strcmp(k->path, path) == 0) {
			*kp = k->next;
			known_free(k);
			v->nknown--;
			return;
		}
}

/* The entry for path, emptied; NULL when out of memory. */
static struct known *
known_new(struct view *v, const char *path)
{
	struct known *k;
	size_t b;

	known_remove(v, path);
	if (v->nknown >= KNOWN_MAX)
		mig__known_clear(v);
	if ((k = calloc(1, sizeof(*k))) == NULL ||
	    (k->path = strdup(path)) == NULL) {
		free(k);
		return NULL;
	}
	b = bucket(path);
	k->next = v->known[b];
	v->known[b] = k;
	v->nknown++;
	return k;
}

static int
same_version(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_mode == b->st_mode &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

int
mig__known_same(struct view *v, const char *path, const struct stat *st)
{
	struct known *k = mig__known_get(v, path);

	return k != NULL && k->err == 0 && same_version(&k->attr, st);
}

void
mig__known_attr(struct view *v, const char *path, int err,
    const struct stat *st)
{
	struct known *k = mig__known_get(v, path);

	/* The same version of the file: its hash and target still hold. */
	if (k != NULL && err == 0 && k->err == 0 && same_version(&k->attr, st)) {
		k->attr = *st;
		return;
	}
	if ((k = known_new(v, path)) == NULL)
		return;
	k->err = err;
	if (err == 0)
		k->attr = *st;
}

void
mig__known_key(struct view *v, const char *path, const struct stat *st,
    const uint8_t key[MIG_HASH_BYTES])
{
	struct known *k;

	mig__known_attr(v, path, 0, st);
	if ((k = mig__known_get(v, path)) != NULL) {
		memcpy(k->key, key, MIG_HASH_BYTES);
		k->has_key = 1;
	}
}

void
mig__known_target(struct view *v, const char *path, const char *target)
{
	struct known *k = mig__known_get(v, path);

	if (k != NULL && k->err == 0 && S_ISLNK(k->attr.st_mode) &&
	    k->target == NULL)
		k->target = strdup(target);
}

void
mig__known_drop(struct view *v, const char *path)
{
	char parent[PATH_MAX];

	known_remove(v, path);
	if (mig__path_folder(path, parent, sizeof(parent)) == 0)
		known_remove(v, parent);
}

int
mig__known_prime(struct view *v, const uint8_t *p, size_t len)
{
	struct mig_rd rd;
	struct known *k;
	const uint8_t *b;
	uint32_t n, err, what;
	struct stat st;
	char *path = NULL;
	size_t bn;
	int r = MIG_EPROTO;

	proto_rd_init(&rd, p, len);
	if (proto_get_u32(&rd, &n) != 0)
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		if (proto_get_str(&rd, &path) != 0 || path[0] != '/' ||
		    proto_get_u32(&rd, &err) != 0 || err >= 4096)
			goto out;
		what = 0;
		if (err == 0 && (mig__fs_get_attr(&rd, &st, getuid(),
		    getgid()) != 0 || proto_get_u32(&rd, &what) != 0))
			goto out;
		if ((k = known_new(v, path)) == NULL) {
			r = MIG__ERR(ENOMEM);
			goto out;
		}
		k->err = (int)err;
		if (err == 0)
			k->attr = st;
		if (what & MIG_FS_PRIME_HASH) {
			if (proto_get_bytes(&rd, &b, &bn) != 0 ||
			    bn != MIG_HASH_BYTES)
				goto out;
			memcpy(k->key, b, bn);
			k->has_key = 1;
		}
		if (what & MIG_FS_PRIME_TARGET) {
			if (proto_get_bytes(&rd, &b, &bn) != 0 ||
			    bn >= PATH_MAX || memchr(b, 0, bn) != NULL)
				goto out;
			if ((k->target = strndup((const char *)b, bn)) == NULL) {
				r = MIG__ERR(ENOMEM);
				goto out;
			}
		}
		free(path);
		path = NULL;
	}
	r = proto_rd_done(&rd);
 out:
	free(path);
	return r;
}
