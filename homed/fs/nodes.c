/*
 * nodes.c: a served view's table of nodes, the files and folders the
 * kernel knows, by FUSE node id and by path at home (both hashed). A
 * rename moves every node under the old path, an exchange swaps the two
 * names' nodes, a removal takes the node out of the path index (it is
 * detached: the kernel may still hold it open). The FUSE operations
 * (fuse.c), the write-back (writeback.c) and the coherence checks
 * (inval.c) find their nodes here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "view.h"

static size_t
hash_path(const char *p)
{
	return mig__path_hash(p) % NODE_BUCKETS;
}

struct node *
mig__node_get(struct view *v, uint64_t id)
{
	struct node *n;

	for (n = v->by_id[id % NODE_BUCKETS]; n != NULL; n = n->next_id)
		if (n->id == id)
			return n;
	return NULL;
}

struct node *
mig__node_by_path(struct view *v, const char *path)
{
	struct node *n;

	for (n = v->by_path[hash_path(path)]; n != NULL; n = n->next_path)
		if (strcmp(n->path, path) == 0)
			return n;
	return NULL;
}

static void
path_link(struct view *v, struct node *n)
{
	size_t b = hash_path(n->path);

	n->next_path = v->by_path[b];
	v->by_path[b] = n;
	n->detached = 0;
}

void
mig__node_detach(struct view *v, struct node *n)
{
	struct node **pp;

	if (n->detached)
		return;
	for (pp = &v->by_path[hash_path(n->path)]; *pp != NULL;
	    pp = &(*pp)->next_path)
		if (*pp == n) {
			*pp = n->next_path;
			break;
		}
	n->detached = 1;
}

static struct node *
node_add(struct view *v, const char *path, uint64_t id)
{
	struct node *n = calloc(1, sizeof(*n));
	size_t b;

	if (n == NULL || (n->path = strdup(path)) == NULL) {
		free(n);
		return NULL;
	}
	n->id = id != 0 ? id : v->next_node++;
	n->wfd = -1;
	TAILQ_INIT(&n->flushes);
	b = n->id % NODE_BUCKETS;
	n->next_id = v->by_id[b];
	v->by_id[b] = n;
	path_link(v, n);
	v->nodes++;
	return n;
}

void
mig__node_free(struct view *v, struct node *n)
{
	struct node **pp;

	mig__node_detach(v, n);
	if (n->created)
		TAILQ_REMOVE(&v->created, n, created_entry);
	for (pp = &v->by_id[n->id % NODE_BUCKETS]; *pp != NULL;
	    pp = &(*pp)->next_id)
		if (*pp == n) {
			*pp = n->next_id;
			break;
		}
	mig__close(n->wfd);
	free(n->path);
	free(n);
	v->nodes--;
}

void
mig__nodes_init(struct view *v)
{
	struct node *root;

	v->next_node = FUSE_ROOT_ID + 1;
	if ((root = node_add(v, "/", FUSE_ROOT_ID)) == NULL)
		mig__die(1, "out of memory");
	root->nlookup = 1;
}

void
mig__nodes_free(struct view *v)
{
	struct node *n;

	/* Opens still waiting for an object fail (and nothing that answers
	 * later finds them). */
	mig__fetches_free(v);

	for (size_t b = 0; b < NODE_BUCKETS; b++)
		while ((n = v->by_id[b]) != NULL)
			mig__node_free(v, n);
}

/* The kernel's entry for n, as (folder node, name) in *parent and
 * *name (within buf, a copy of n->path), or the entry of n's nearest
 * ancestor the table holds (dropping that drops n's too). */
void
mig__node_entry(struct view *v, struct node *n, char *buf, uint64_t *parent,
    const char **name)
{
	struct node *p;
	char *cut;

	*parent = 0;
	*name = NULL;
	while ((cut = strrchr(buf, '/')) != NULL) {
		*cut = '\0';
		*name = cut + 1;
		p = mig__node_by_path(v, buf[0] != '\0' ? buf : "/");
		if (p != NULL) {
			*parent = p->id;
			return;
		}
		if (buf[0] == '\0')
			break;
	}
	*name = NULL;
}

/* Whether path is base or under it (bl: base's length). */
static int
path_under(const char *path, const char *base, size_t bl)
{
	return strncmp(path, base, bl) == 0 &&
	    (path[bl] == '\0' || path[bl] == '/');
}

/*
 * A renamed path: every node at or under from moves to to. A plain
 * rename replaces what was at to: that node goes from the index. An
 * exchange (RENAME_EXCHANGE) swaps the two: the nodes at or under to move
 * to from, so the kernel's inode of each name keeps the content it names
 * (what a node caches, its attributes, its pages' key, its local content,
 * belongs to the file, which moved with it).
 */
void
mig__nodes_rename(struct view *v, const char *from, const char *to,
    int exchange)
{
	size_t fl = strlen(from), tl = strlen(to), cap = 0, k = 0;
	struct node *n, **moved = NULL, **m;
	const char *base, *dest;
	char *p;

	if (!exchange && (n = mig__node_by_path(v, to)) != NULL)
		mig__node_detach(v, n);
	for (size_t b = 0; b < NODE_BUCKETS; b++)
		for (n = v->by_path[b]; n != NULL; n = n->next_path)
			if (path_under(n->path, from, fl) ||
			    (exchange && path_under(n->path, to, tl))) {
				if (k == cap) {
					cap = cap ? 2 * cap : 16;
					if ((m = realloc(moved, cap *
					    sizeof(*m))) == NULL)
						goto out;
					moved = m;
				}
				moved[k++] = n;
			}
	/* All leave the index before any comes back: an exchange's two
	 * sets trade places. */
	for (size_t i = 0; i < k; i++)
		mig__node_detach(v, moved[i]);
	for (size_t i = 0; i < k; i++) {
		n = moved[i];
		/* The kernel refuses an exchange of a folder with what is
		 * under it: a node is under one of the two only. */
		if (path_under(n->path, from, fl)) {
			base = from;
			dest = to;
		} else {
			base = to;
			dest = from;
		}
		if (asprintf(&p, "%s%s", dest, n->path + strlen(base)) == -1)
			continue; /* stays detached */
		free(n->path);
		n->path = p;
		path_link(v, n);
	}
 out:
	free(moved);
}

int
mig__node_join(const struct node *parent, const char *name, char **out)
{
	*out = NULL;
	if (strlen(parent->path) + strlen(name) + 2 > PATH_MAX)
		return ENAMETOOLONG;
	if (asprintf(out, "%s/%s", strcmp(parent->path, "/") == 0 ? "" :
	    parent->path, name) == -1) {
		*out = NULL;
		return ENOMEM;
	}
	return 0;
}

/* What the kernel is told of n: home's attributes, and the size and
 * mtime of its local content while the view writes it. n->told keeps
 * home's part, which a prime may confirm. */
void
mig__node_attr(struct node *n, struct stat *st)
{
	struct stat ls;

	*st = n->attr;
	n->told = n->attr;
	n->has_told = n->wfd < 0;
	if (n->wfd >= 0 && fstat(n->wfd, &ls) == 0) {
		st->st_size = ls.st_size;
		st->st_blocks = ls.st_blocks;
		st->st_mtim = ls.st_mtim;
	}
}

/* The node at path, now with attributes *st, looked up once more; NULL
 * when out of memory. */
struct node *
mig__node_at(struct view *v, const char *path, const struct stat *st)
{
	struct node *n = mig__node_by_path(v, path);

	/* Another kind of file there now: a new node, as the kernel must
	 * not see one node change its type. */
	if (n != NULL && (n->attr.st_mode & S_IFMT) != 0 &&
	    ((n->attr.st_mode ^ st->st_mode) & S_IFMT) != 0) {
		mig__node_detach(v, n);
		n = NULL;
	}
	if (n == NULL && (n = node_add(v, path, 0)) == NULL)
		return NULL;
	mig__absent_drop(v, path);
	/* Written here: the local content's attributes win
	 * (mig__node_attr). */
	n->attr = *st;
	n->gone = 0;
	n->nlookup++;
	return n;
}
