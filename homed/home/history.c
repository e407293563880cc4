/*
 * history.c: run times per program. A program whose median run is too
 * short to win back the cost of placing it runs at home.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	d->history_dirty = 1;
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

/*
 * The history outlives the daemon: it is kept in the user's state
 * folder ($XDG_STATE_HOME/mig, else ~/.local/state/mig), one file per
 * host name (a shared home folder may serve several hosts), one line per
 * program: "prog runs next placed ms...". Written when it changed, at
 * most once a second and at the stop, through a temporary file.
 */
static int
history_path(struct homed *d)
{
	const char *x = getenv("XDG_STATE_HOME"), *h = getenv("HOME");
	char dir[PATH_MAX];
	int n;

	if (x != NULL && x[0] == '/')
		n = snprintf(dir, sizeof(dir), "%s/mig", x);
	else if (h != NULL && h[0] == '/')
		n = snprintf(dir, sizeof(dir), "%s/.local/state/mig", h);
	else
		return MIG_ECONFIG;
	if (n < 0 || (size_t)n >= sizeof(dir) ||
	    snprintf(d->history_path, sizeof(d->history_path), "%s/history-%s",
		dir, d->name) >= (int)sizeof(d->history_path)) {
		d->history_path[0] = '\0';
		return MIG_ETOOBIG;
	}
	return 0;
}

void
mig__history_load(struct homed *d)
{
	char line[512];
	FILE *f;

	if (history_path(d) != 0 ||
	    (f = fopen(d->history_path, "re")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		struct history h = { { 0 }, 0, 0, { 0 }, 0 }, *p;
		char *s = line, *end;
		int n = 0;
		if (sscanf(s, "%63s %u %u %u%n", h.prog, &h.n, &h.next,
		    &h.placed, &n) != 4 || h.n > MIG_HISTORY_RUNS ||
		    h.next >= MIG_HISTORY_RUNS)
			continue;
		s += n;
		for (uint32_t i = 0; i < h.n; i++, s = end)
			h.ms[i] = (uint32_t)strtoul(s, &end, 10);
		if ((p = history_find(d, h.prog, 1)) != NULL)
			*p = h;
	}
	fclose(f);
}

static int
mkdirs(char *path)
{
	for (char *p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) == -1 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return 0;
}

void
mig__history_save(struct homed *d)
{
	char tmp[PATH_MAX + 8];
	FILE *f;

	if (!d->history_dirty || d->history_path[0] == '\0')
		return;
	d->history_dirty = 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", d->history_path);
	if (mkdirs(tmp) != 0 || (f = fopen(tmp, "we")) == NULL) {
		mig__log(MIG_LOG_WARN, "cannot keep the history in %s: %s",
		    d->history_path, strerror(errno));
		return;
	}
	for (size_t i = 0; i < d->nhistory; i++) {
		const struct history *h = &d->history[i];
		fprintf(f, "%s %u %u %u", h->prog, h->n, h->next, h->placed);
		for (uint32_t k = 0; k < h->n; k++)
			fprintf(f, " %u", h->ms[k]);
		fputc('\n', f);
	}
	if (fclose(f) != 0 || rename(tmp, d->history_path) != 0) {
		mig__log(MIG_LOG_WARN, "cannot keep the history in %s: %s",
		    d->history_path, strerror(errno));
		unlink(tmp);
	}
}
