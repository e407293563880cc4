/*
 * history.c: run times per program. A program whose median run is too
 * short to win back the cost of placing it runs at home.
 */
#include <stdlib.h>
#include <string.h>

#include "homed.h"

static struct history *
history_find(struct homed *d, const char *prog, int add)
{
	struct history *h;

	for (size_t i = 0; i < d->nhistory; i++)
		if (strcmp(d->history[i].prog, prog) == 0)
			return &d->history[i];
	if (!add)
		return NULL;
	h = reallocarray(d->history, d->nhistory + 1, sizeof(*h));
	if (h == NULL)
		return NULL;
	d->history = h;
	h = &d->history[d->nhistory++];
	memset(h, 0, sizeof(*h));
	strlcpy(h->prog, prog, sizeof(h->prog));
	return h;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

uint32_t
mig__history_median(const struct history *h)
{
	uint32_t v[MIG_HISTORY_RUNS];

	if (h->n == 0)
		return 0;
	memcpy(v, h->ms, h->n * sizeof(*v));
	qsort(v, h->n, sizeof(*v), cmp_u32);
	return v[h->n / 2];
}

void
mig__history_add(struct homed *d, const char *prog, uint64_t ms, int placed)
{
	struct history *h = history_find(d, prog, 1);

	if (h == NULL)
		return;
	h->ms[h->next] = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
	h->next = (h->next + 1) % MIG_HISTORY_RUNS;
	if (h->n < MIG_HISTORY_RUNS)
		h->n++;
	h->placed += placed != 0;
}

int
mig__history_short(struct homed *d, const char *prog)
{
	struct history *h = history_find(d, prog, 0);

	/* A few runs before judging: the first ones warm caches. */
	return h != NULL && h->n >= 3 &&
	    mig__history_median(h) < MIG_SHORT_RUN_MS;
}

void
mig__history_free(struct homed *d)
{
	free(d->history);
	d->history = NULL;
	d->nhistory = 0;
}
