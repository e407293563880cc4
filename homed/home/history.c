/*
 * history.c: run times per program. A program whose median run is too
 * short to win back the cost of placing it runs at home.
 */
#include <errno.h>
#include <fcntl.h>
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

/*
 * A placed job's EXIT tells its run's time. A job run here tells it only
 * if its program's end was watched (a pidfd): unwatched (no pidfd_open,
 * as before Linux 5.3, under a seccomp filter or valgrind 3.19), it ends
 * with its stub's connection, at the program's exec, a few ms whatever
 * the program; three such runs would judge every program too short to
 * place, and it would run here from then on, adding more of them.
 */
int
mig__history_timed(enum job_state was, enum job_event ev, int watched)
{
	if (was == JOB_RUNNING)
		return ev == JEV_EXIT;
	return was == JOB_LOCAL && watched;
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
 * most once a second and at the stop, through a new temporary file
 * (mkostemp) renamed over it, so a symbolic link planted at either name
 * is never followed. A folder another user could write to
 * (mig__dir_make) is refused with one log line, and the history then
 * not kept.
 */
static int
history_path(struct homed *d, char *dir, size_t size)
{
	const char *x = getenv("XDG_STATE_HOME"), *h = getenv("HOME");
	int n;

	if (x != NULL && x[0] == '/')
		n = snprintf(dir, size, "%s/mig", x);
	else if (h != NULL && h[0] == '/')
		n = snprintf(dir, size, "%s/.local/state/mig", h);
	else
		return MIG_ECONFIG;
	if (n < 0 || (size_t)n >= size ||
	    snprintf(d->history_path, sizeof(d->history_path), "%s/history-%s",
		dir, d->name) >= (int)sizeof(d->history_path)) {
		d->history_path[0] = '\0';
		return MIG_ETOOBIG;
	}
	return 0;
}

/* Whether the history's folder dir is the user's alone; if not, the
 * history is not kept (history_path ""), which one line says. */
static int
safe_folder(struct homed *d, const char *dir)
{
	char why[PATH_MAX + 128];
	int r;

	if ((r = mig__dir_make(dir, why, sizeof(why))) == 0)
		return 1;
	mig__log(MIG_LOG_WARN, "not keeping the run history in %s: %s%s",
	    d->history_path, why, r == MIG_EUNSAFE ? " (set XDG_STATE_HOME "
	    "to a folder of your own)" : "");
	d->history_path[0] = '\0';
	return 0;
}

void
mig__history_load(struct homed *d)
{
	char line[512], dir[PATH_MAX];
	struct stat st;
	FILE *f;
	int fd;

	/* None yet: nothing to read, and the first save makes the folder. */
	if (history_path(d, dir, sizeof(dir)) != 0 || access(dir, F_OK) != 0 ||
	    !safe_folder(d, dir))
		return;
	if ((fd = open(d->history_path, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return;
	/* Only a file of the user's that nobody else may write to. */
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 022) != 0 ||
	    (f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return;
	}
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

void
mig__history_save(struct homed *d)
{
	char tmp[PATH_MAX + 8], dir[PATH_MAX];
	FILE *f;
	int fd;

	if (!d->history_dirty || d->history_path[0] == '\0')
		return;
	d->history_dirty = 0;
	strlcpy(dir, d->history_path, sizeof(dir));
	*strrchr(dir, '/') = '\0';
	if (!safe_folder(d, dir))
		return;
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", d->history_path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1 ||
	    (f = fdopen(fd, "w")) == NULL) {
		mig__log(MIG_LOG_WARN, "cannot keep the history in %s: %s",
		    d->history_path, strerror(errno));
		if (fd != -1) {
			close(fd);
			unlink(tmp);
		}
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
