/*
 * cache.h: the object cache's table and folder, shared by cache.c (the
 * table, open, get) and cacheput.c (objects put, on top of it). Private
 * to those two; everyone else uses fs.h.
 */
#ifndef MIG_CACHE_H
#define MIG_CACHE_H

#include <limits.h>
#include <pthread.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "fs.h"

struct entry {
	uint8_t key[MIG_HASH_BYTES];
	uint64_t size;
	struct timespec used;       /* the file's mtime, at open (for order) */
	unsigned holds;             /* gets not yet released */
	int verified;               /* hash checked by this process, of: */
	struct stat seen;           /* the file as checked (or since used) */
	struct entry *next;         /* hash bucket chain */
	TAILQ_ENTRY(entry) lru;     /* first: least recently used */
};

TAILQ_HEAD(lru_head, entry);

struct mig_cache {
	char dir[PATH_MAX];
	int dfd;                    /* dir, opened O_NOFOLLOW and checked */
	int tfd;                    /* its tmp/, the same */
	uint64_t cap;               /* bytes */
	pthread_mutex_t lock;       /* everything below */
	struct entry **tab;
	size_t nbuckets;            /* a power of two */
	struct lru_head lru;
	struct mig_cache_stats st;
};

/* The entry for key, or NULL. Called with the lock held (all below). */
struct entry *mig__cache_find(struct mig_cache *c,
    const uint8_t key[MIG_HASH_BYTES]);
/* Adds e (not in the table yet) as the most recently used. */
void mig__cache_insert(struct mig_cache *c, struct entry *e);
/* e was used now. */
void mig__cache_touch(struct mig_cache *c, struct entry *e);
/* Removes least recently used objects until the cap is met, sparing held
 * ones and keep. */
void mig__cache_evict(struct mig_cache *c, const struct entry *keep);
/* Opens the subfolder of key's object (xx/, made first with make) into
 * *subp; hex is the object's name there. */
int mig__cache_object_at(const struct mig_cache *c,
    const uint8_t key[MIG_HASH_BYTES], int make, int *subp,
    char hex[MIG_HASH_HEX]);

#endif
