/*
 * plan.c: the binds that make a view home's tree (docs/design.md,
 * "Proof"): from a proof (proof.c), which folders of the view are the
 * host's own mounts and which are served, and, in the view's keeper,
 * the mounts that make it so.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "core.h"
#include "fs.h"

void
mig__plan_free(struct mig_plan *pl)
{
	if (pl == NULL)
		return;
	for (size_t i = 0; i < pl->n; i++)
		free(pl->step[i].path);
	free(pl->step);
	memset(pl, 0, sizeof(*pl));
}

void
mig__plan_text(const struct mig_plan *pl, char *buf, size_t size)
{
	size_t n = (size_t)snprintf(buf, size, "served");
	const char *sep = "; this host's own ";

	for (size_t i = 0; i < pl->n && n < size; i++) {
		if (!pl->step[i].host)
			continue;
		n += (size_t)snprintf(buf + n, size - n, "%s%s", sep,
		    pl->step[i].path);
		sep = " ";
	}
}

static int
plan_add(struct mig_plan *pl, const char *path, int host)
{
	struct mig_plan_step *nv;

	if ((nv = realloc(pl->step, (pl->n + 1) * sizeof(*nv))) == NULL)
		return MIG__ERR(ENOMEM);
	pl->step = nv;
	if ((nv[pl->n].path = strdup(path)) == NULL)
		return MIG__ERR(ENOMEM);
	nv[pl->n].host = host;
	pl->n++;
	return 0;
}

static int
by_step(const void *a, const void *b)
{
	return strcmp(((const struct mig_plan_step *)a)->path,
	    ((const struct mig_plan_step *)b)->path);
}

/*
 * Every node (home's mounts, and the host's mounts home lacks) has a
 * source in the view: the host's own mount (a proven mount of home's) or
 * the served tree (any other). A node takes a step when its source
 * differs from its parent's; the steps run parents first. A step of the
 * host's binds the host's mount with every mount below it (a user
 * namespace may not bind a mount without the mounts locked below it):
 * those below are nodes too, and each one served takes its own step.
 */
int
mig__proof_plan(const struct mig_mounts *home, const struct mig_proof *pf,
    struct mig_plan *pl)
{
	struct mig_plan all = { NULL, 0, 0 };
	int r = 0;

	memset(pl, 0, sizeof(*pl));
	for (size_t i = 0; i < home->n && r == 0; i++)
		r = plan_add(&all, home->m[i].path, pf->proven[i]);
	for (size_t i = 0; i < pf->nextra && r == 0; i++)
		r = plan_add(&all, pf->extra[i], 0);
	if (r != 0)
		goto out;
	if (all.n > 0)
		qsort(all.step, all.n, sizeof(*all.step), by_step);
	for (size_t i = 0; i < all.n && r == 0; i++) {
		int parent = 0; /* the served tree under everything */
		size_t plen = 0;
		for (size_t j = 0; j < i; j++)
			if (mig__path_under(all.step[i].path,
			    all.step[j].path) &&
			    strlen(all.step[j].path) >= plen &&
			    strcmp(all.step[i].path, all.step[j].path) != 0) {
				plen = strlen(all.step[j].path);
				parent = all.step[j].host;
			}
		if (all.step[i].host != parent)
			r = plan_add(pl, all.step[i].path, all.step[i].host);
	}
 out:
	mig__plan_free(&all);
	if (r != 0)
		mig__plan_free(pl);
	return r;
}

int
mig__plan_apply(const struct mig_plan *pl, const char *root, char *err,
    size_t errsize)
{
	char dst[PATH_MAX * 2], src[64];
	int *fds = NULL, r = -1;
	size_t i;

	if (pl->n == 0)
		return 0;
	if ((fds = calloc(pl->n, sizeof(*fds))) == NULL) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	/* The served folders first, while every path is still served. */
	for (i = 0; i < pl->n; i++) {
		fds[i] = -1;
		if (pl->step[i].host)
			continue;
		snprintf(dst, sizeof(dst), "%s%s", root, pl->step[i].path);
		if ((fds[i] = open(dst, O_PATH | O_CLOEXEC)) < 0) {
			snprintf(err, errsize, "served %s: %s",
			    pl->step[i].path, strerror(errno));
			goto out;
		}
	}
	for (i = 0; i < pl->n; i++) {
		const char *from = pl->step[i].path;
		snprintf(dst, sizeof(dst), "%s%s", root,
		    strcmp(pl->step[i].path, "/") == 0 ? "" : pl->step[i].path);
		if (!pl->step[i].host) {
			snprintf(src, sizeof(src), "/proc/self/fd/%d", fds[i]);
			from = src;
		}
		/* The type "none", not NULL: the kernel ignores it here, but
		 * valgrind checks it as a string. */
		if (mount(from, dst, "none", MS_BIND | (pl->step[i].host ?
		    MS_REC : 0), NULL) == -1) {
			snprintf(err, errsize, "%s %s: %s", pl->step[i].host ?
			    "binding this host's" : "serving", pl->step[i].path,
			    strerror(errno));
			goto out;
		}
	}
	r = 0;
 out:
	for (i = 0; i < pl->n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	return r;
}
