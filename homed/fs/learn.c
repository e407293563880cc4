/*
 * learn.c: learned access sets, at home. Every path a host's view asks
 * this home about (serve.c calls mig__learn_seen) goes into a ring kept
 * per link; when a job placed over that link ends, the paths asked for
 * while it ran join its program's set (mig__fs_learn). Jobs running side
 * by side on one host share a view, so a set may hold a neighbour's
 * paths too: that costs a few lstats at the next placement, never a
 * wrong answer, since what a host is told (serve.c, mig__fs_prime) is
 * sampled when the job is placed.
 *
 * A set keeps the paths of the latest run first, then the older ones it
 * had, up to SET_MAX; the least recently placed program's set goes first
 * when there are SETS_MAX of them. A path the view removed while the job
 * ran, and did not make or ask about again, leaves the set: the kernel
 * forgets the entry of a name it unlinks, so no prime has to confirm it
 * (mig__nodes_check asks only about what the kernel holds). Without
 * that, a compiler's set would gather every temporary file it ever made
 * (gcc's /tmp/cc*.s), each lstat'ed at every placement.
 */
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "homed.h"

#define RING 8192        /* paths remembered per link */
#define SET_MAX 4096     /* paths per program */
#define SETS_MAX 64      /* programs */

struct aset {
	char prog[64];
	char **paths;
	size_t n;
	uint64_t used;       /* d->fs_learn->clock when last placed or grown */
};

/* What one link's view asked for: request k's path in ring[k % RING]. */
struct seen {
	TAILQ_ENTRY(seen) entry;
	struct link *link;
	uint64_t nreq;       /* requests so far */
	char *ring[RING];    /* NULL: a request without a path to learn */
	uint8_t kind[RING];  /* what it did to ring[k], enum learn_kind */
};

struct fs_learn {
	TAILQ_HEAD(, seen) seen;
	struct aset sets[SETS_MAX];
	size_t nsets;
	uint64_t clock;
};

static struct fs_learn *
learn_of(struct homed *d)
{
	if (d->fs_learn == NULL) {
		if ((d->fs_learn = calloc(1, sizeof(*d->fs_learn))) == NULL)
			mig__die(1, "out of memory");
		TAILQ_INIT(&d->fs_learn->seen);
	}
	return d->fs_learn;
}

static struct seen *
seen_find(struct homed *d, struct link *l, int add)
{
	struct fs_learn *fl = learn_of(d);
	struct seen *s;

	TAILQ_FOREACH(s, &fl->seen, entry)
		if (s->link == l)
			return s;
	if (!add || (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->link = l;
	TAILQ_INSERT_TAIL(&fl->seen, s, entry);
	return s;
}

static void
seen_free(struct fs_learn *fl, struct seen *s)
{
	TAILQ_REMOVE(&fl->seen, s, entry);
	for (size_t i = 0; i < RING; i++)
		free(s->ring[i]);
	free(s);
}

void
mig__learn_seen(struct homed *d, struct link *l, const char *path,
    enum learn_kind kind)
{
	struct seen *s = seen_find(d, l, 1);
	size_t k;

	if (s == NULL)
		return;
	k = s->nreq++ % RING;
	free(s->ring[k]);
	s->ring[k] = path != NULL && kind != LEARN_NONE ? strdup(path) : NULL;
	s->kind[k] = (uint8_t)kind;
}

uint64_t
mig__fs_mark(struct homed *d, struct link *l)
{
	struct seen *s = seen_find(d, l, 0);

	return s != NULL ? s->nreq : 0;
}

static struct aset *
set_find(struct fs_learn *fl, const char *prog, int add)
{
	struct aset *a = NULL;

	for (size_t i = 0; i < fl->nsets; i++)
		if (strcmp(fl->sets[i].prog, prog) == 0)
			return &fl->sets[i];
	if (!add)
		return NULL;
	if (fl->nsets < SETS_MAX) {
		a = &fl->sets[fl->nsets++];
	} else {
		a = &fl->sets[0];
		for (size_t i = 1; i < fl->nsets; i++)
			if (fl->sets[i].used < a->used)
				a = &fl->sets[i];
		for (size_t i = 0; i < a->n; i++)
			free(a->paths[i]);
		free(a->paths);
	}
	memset(a, 0, sizeof(*a));
	strlcpy(a->prog, prog, sizeof(a->prog));
	return a;
}

char *const *
mig__learn_set(struct homed *d, const char *prog, size_t *n)
{
	struct fs_learn *fl = learn_of(d);
	struct aset *a = set_find(fl, prog, 0);

	*n = 0;
	if (a == NULL)
		return NULL;
	a->used = ++fl->clock;
	*n = a->n;
	return a->paths;
}

/* p's slot in idx, an open-addressing table of mask + 1 slots holding
 * indices into v plus one (0: empty): the one that leads to p, else the
 * empty one where p goes. */
static uint32_t *
slot_of(char *const *v, uint32_t *idx, size_t mask, const char *p)
{
	size_t b = mig__path_hash(p) & mask;

	for (; idx[b] != 0; b = (b + 1) & mask)
		if (strcmp(v[idx[b] - 1], p) == 0)
			break;
	return &idx[b];
}

/* Adds p to v (taking it) unless idx says it is there; idx has 2 *
 * SET_MAX slots. */
static void
set_add(char **v, size_t *n, uint32_t *idx, char *p)
{
	uint32_t *at = slot_of(v, idx, 2 * SET_MAX - 1, p);

	if (*at != 0 || *n == SET_MAX) {
		free(p);
		return;
	}
	v[*n] = p;
	*at = (uint32_t)++*n;
}

/* What the window [from, to) of s did last to each path it names:
 * paths[i] (the ring's own strings) and kind[i], with an index of mask +
 * 1 slots. */
struct window {
	char **paths;
	uint8_t *kind;
	uint32_t *idx;
	size_t n, mask;
};

static int
window_read(struct window *w, const struct seen *s, uint64_t from,
    uint64_t to)
{
	size_t slots = 2;
	uint32_t *at;

	while (slots < 2 * (size_t)(to - from))
		slots *= 2;
	memset(w, 0, sizeof(*w));
	w->mask = slots - 1;
	if ((w->paths = calloc((size_t)(to - from), sizeof(*w->paths))) ==
	    NULL || (w->kind = calloc((size_t)(to - from), 1)) == NULL ||
	    (w->idx = calloc(slots, sizeof(*w->idx))) == NULL)
		return -1;
	for (uint64_t k = from; k < to; k++) {
		if (s->ring[k % RING] == NULL)
			continue;
		at = slot_of(w->paths, w->idx, w->mask, s->ring[k % RING]);
		if (*at == 0) {
			w->paths[w->n] = s->ring[k % RING];
			*at = (uint32_t)++w->n;
		}
		w->kind[*at - 1] = s->kind[k % RING];
	}
	return 0;
}

/* Whether the window's last word on p is that the view removed it. */
static int
window_gone(const struct window *w, const char *p)
{
	uint32_t at = *slot_of(w->paths, w->idx, w->mask, p);

	return at != 0 && w->kind[at - 1] == LEARN_GONE;
}

static void
window_free(struct window *w)
{
	free(w->paths);
	free(w->kind);
	free(w->idx);
}

uint64_t
mig__fs_learn(struct homed *d, struct link *l, const char *prog,
    uint64_t mark)
{
	struct fs_learn *fl = learn_of(d);
	struct seen *s = seen_find(d, l, 0);
	struct window w = { NULL, NULL, NULL, 0, 0 };
	uint32_t *idx = NULL;
	struct aset *a;
	char **v = NULL, *p;
	uint64_t from, k;
	size_t n = 0;

	if (s == NULL || s->nreq <= mark)
		return 0;
	from = s->nreq - mark > RING ? s->nreq - RING : mark;
	if ((a = set_find(fl, prog, 1)) == NULL ||
	    (v = calloc(SET_MAX, sizeof(*v))) == NULL ||
	    (idx = calloc(2 * SET_MAX, sizeof(*idx))) == NULL ||
	    window_read(&w, s, from, s->nreq) != 0)
		goto out;
	for (k = from; k < s->nreq; k++)
		if (s->kind[k % RING] == LEARN_USED &&
		    !window_gone(&w, s->ring[k % RING]) &&
		    (p = strdup(s->ring[k % RING])) != NULL)
			set_add(v, &n, idx, p);
	for (size_t i = 0; i < a->n; i++) {
		if (window_gone(&w, a->paths[i]))
			free(a->paths[i]);
		else
			set_add(v, &n, idx, a->paths[i]);
		a->paths[i] = NULL;
	}
	free(a->paths);
	a->paths = v;
	a->n = n;
	a->used = ++fl->clock;
	v = NULL;
 out:
	window_free(&w);
	free(v);
	free(idx);
	return s->nreq - mark;
}

void
mig__learn_link_down(struct homed *d, struct link *l)
{
	struct seen *s = seen_find(d, l, 0);

	if (s != NULL)
		seen_free(d->fs_learn, s);
}

void
mig__learn_free(struct homed *d)
{
	struct fs_learn *fl = d->fs_learn;

	if (fl == NULL)
		return;
	while (!TAILQ_EMPTY(&fl->seen))
		seen_free(fl, TAILQ_FIRST(&fl->seen));
	for (size_t i = 0; i < fl->nsets; i++) {
		for (size_t k = 0; k < fl->sets[i].n; k++)
			free(fl->sets[i].paths[k]);
		free(fl->sets[i].paths);
	}
	free(fl);
	d->fs_learn = NULL;
}
