/*
 * absent.c: the names a served view told the kernel are absent. A
 * compile looks up each header in every folder of its include path
 * before the one that has it, so most of a warm job's lookups are of
 * names that do not exist. The kernel keeps such an answer (a negative
 * entry) for VIEW_TIMEOUT when the view says so, and this table holds
 * what it was told, up to ABSENT_MAX names (past that, absent names are
 * answered with a plain error, which the kernel does not keep).
 *
 * At each served job's arrival every name here that the job's prime
 * does not confirm absent is dropped from the kernel (mig__absent_stale,
 * with the other invalidations of inval.c): a name made at home since
 * the kernel was told is seen. The prime holds the names the job's
 * program looked up in its recent runs, so a compile's include search is
 * answered by the kernel alone. A name the view itself makes is the
 * kernel's own business (its entry turns positive), and leaves the
 * table here (mig__absent_drop); a folder the view renames takes its
 * names with it (mig__absent_rename), as the kernel's entries go along,
 * and two folders the view exchanges trade theirs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view.h"

#define ABSENT_MAX 65536

struct absent {
	struct absent *next;
	char *path;
};

static size_t
bucket(const char *path)
{
	return mig__path_hash(path) % NODE_BUCKETS;
}

static struct absent **
find(struct view *v, const char *path)
{
	struct absent **ap;

	for (ap = &v->absent[bucket(path)]; *ap != NULL; ap = &(*ap)->next)
		if (strcmp((*ap)->path, path) == 0)
			break;
	return ap;
}

static void
unlink_free(struct view *v, struct absent **ap)
{
	struct absent *a = *ap;

	*ap = a->next;
	free(a->path);
	free(a);
	v->nabsent--;
}

int
mig__absent_add(struct view *v, const char *path)
{
	struct absent *a;
	size_t b;

	if (*find(v, path) != NULL)
		return 1;
	if (v->nabsent >= ABSENT_MAX || (a = malloc(sizeof(*a))) == NULL)
		return 0;
	if ((a->path = strdup(path)) == NULL) {
		free(a);
		return 0;
	}
	b = bucket(path);
	a->next = v->absent[b];
	v->absent[b] = a;
	v->nabsent++;
	return 1;
}

void
mig__absent_drop(struct view *v, const char *path)
{
	struct absent **ap;

	if (v->nabsent > 0 && *(ap = find(v, path)) != NULL)
		unlink_free(v, ap);
}

/* Whether path is from or under it. */
static int
under(const char *path, const char *from, size_t fl)
{
	return strncmp(path, from, fl) == 0 &&
	    (path[fl] == '\0' || path[fl] == '/');
}

void
mig__absent_rename(struct view *v, const char *from, const char *to,
    int exchange)
{
	struct absent *moved = NULL, *a, **ap;
	size_t fl = strlen(from), tl = strlen(to);
	char *p;
	int r;

	for (size_t b = 0; b < NODE_BUCKETS && v->nabsent > 0; b++)
		for (ap = &v->absent[b]; (a = *ap) != NULL;) {
			if (!under(a->path, from, fl) &&
			    !(exchange && under(a->path, to, tl))) {
				ap = &a->next;
				continue;
			}
			*ap = a->next;
			a->next = moved;
			moved = a;
		}
	while ((a = moved) != NULL) {
		moved = a->next;
		v->nabsent--;
		/* One that cannot be renamed is left to the kernel's
		 * timeout: mig__absent_stale could not drop it either. An
		 * exchange's names trade places. */
		if (under(a->path, from, fl))
			r = asprintf(&p, "%s%s", to, a->path + fl);
		else
			r = asprintf(&p, "%s%s", from, a->path + tl);
		if (r != -1) {
			mig__absent_add(v, p);
			free(p);
		}
		free(a->path);
		free(a);
	}
}

int
mig__absent_stale(struct view *v, struct inval *iv)
{
	struct absent **ap, *a;
	struct known *k;
	struct node *p;
	char *slash;
	int r;

	for (size_t b = 0; b < NODE_BUCKETS && v->nabsent > 0; b++)
		for (ap = &v->absent[b]; (a = *ap) != NULL;) {
			k = mig__known_get(v, a->path);
			if (k != NULL && k->err == ENOENT) {
				ap = &a->next;
				continue;
			}
			/* The kernel holds it under its folder's node; with
			 * no node there, it holds no entry either. */
			slash = strrchr(a->path, '/');
			*slash = '\0';
			p = mig__node_by_path(v, a->path[0] != '\0' ? a->path :
			    "/");
			*slash = '/';
			if (p != NULL && p->nlookup > 0 && (r =
			    mig__inval_add(iv, 0, p->id, slash + 1, 0)) != 0)
				return r;
			unlink_free(v, ap);
		}
	return 0;
}

void
mig__absent_free(struct view *v)
{
	for (size_t b = 0; b < NODE_BUCKETS && v->nabsent > 0; b++)
		while (v->absent[b] != NULL)
			unlink_free(v, &v->absent[b]);
}
