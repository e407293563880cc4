/*
 * fuse.c: the FUSE operations of a served view, answered from the loop
 * (view.c reads the requests). The kernel names files by node id; this
 * file keeps each node's path at home and asks home by path (fs.h's
 * ops), replying when home answers. Contents come by hash: home names a
 * file's hash at open, the host fetches it into its object cache only
 * when missing, and reads are served from the cached object. A file
 * written in the view lives in a local temporary file until the job's
 * close (FLUSH) sends it home whole; the close returns once home has it.
 *
 * The kernel keeps entries and attributes for VIEW_TIMEOUT, and a file's
 * pages across opens while its content's hash is the one its pages came
 * from; at each job's arrival whatever the job's prime does not confirm
 * is invalidated (mig__nodes_stale, inval.c). Absent names are entries
 * the kernel keeps too (absent.c), and links' targets are its pages. A
 * file made in the view belongs to the job whose process made it, and
 * goes home when that job ends (mig__nodes_settle). What the view knows
 * (known.c: sampled by home when the latest job was placed, or answered
 * since) is answered here; anything else is a question to home.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "view.h"

/* An open file: a cached object (read) or the node's local file. */
struct fh {
	int kind;             /* FH_OBJECT or FH_LOCAL */
	int fd;               /* FH_OBJECT: the cached object */
	uint8_t key[MIG_HASH_BYTES];
	struct node *n;
};
#define FH_OBJECT 1
#define FH_LOCAL 2

/* A folder's entries, read whole from home at its first readdir. */
struct dirl {
	struct mig_fs_dirent *v;
	size_t n, cap;
	int loaded;
};

/* An object on its way into the cache; opens wait on it. */
struct fetch {
	TAILQ_ENTRY(fetch) entry;
	uint8_t key[MIG_HASH_BYTES];
	char *path;
	uint64_t size, off;
	struct mig_cache_writer *w;
	int getting;          /* looked for in the cache, off the loop */
	TAILQ_HEAD(, freq) waiters;
};

/* ---- nodes ---- */

static size_t
hash_path(const char *p)
{
	return mig__path_hash(p) % NODE_BUCKETS;
}

static struct node *
node_get(struct view *v, uint64_t id)
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

static void
path_unlink(struct view *v, struct node *n)
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

static void
node_free(struct view *v, struct node *n)
{
	struct node **pp;

	path_unlink(v, n);
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
			node_free(v, n);
}

/* The kernel's entry for n, as (folder node, name) in *parent and
 * *name (within buf, a copy of n->path), or the entry of n's nearest
 * ancestor the table holds (dropping that drops n's too). */
static void
node_entry(struct view *v, struct node *n, char *buf, uint64_t *parent,
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

static void
check_end(struct inval *iv)
{
	if (--iv->asking == 0)
		mig__inval_go(iv);
}

/* Home's lstat of a name the kernel holds. The verdict is kept in the
 * node too: the view's own changes may drop what it knows of the path
 * before the job's check ends (mig__known_drop, a rename's clear). */
static void
done_check(struct freq *q, int err, struct mig_fs_rep *a)
{
	struct inval *iv = q->arg;
	struct node *n = mig__node_by_path(q->v, q->path);

	if (err == 0)
		mig__known_attr(q->v, q->path, 0, &a->attr);
	else if (err == ENOENT || err == ENOTDIR)
		mig__known_attr(q->v, q->path, err, NULL);
	if (n != NULL && (err != 0 ||
	    ((a->attr.st_mode ^ n->attr.st_mode) & S_IFMT) != 0))
		n->gone = 1;
	mig__freq_free(q);
	check_end(iv);
}

void
mig__nodes_check(struct view *v, struct inval *iv)
{
	struct mig_buf b = { NULL, 0, 0 };
	struct known *k;
	struct freq *q;
	struct node *n;

	/* Held while the table is walked: an answer that comes at once
	 * must not end the check. */
	iv->asking = 1;
	for (size_t i = 0; i < NODE_BUCKETS; i++)
		for (n = v->by_id[i]; n != NULL; n = n->next_id) {
			if (n->id == FUSE_ROOT_ID || n->nlookup == 0 ||
			    n->detached || mig__view_pinned(v, n->path))
				continue;
			if ((k = mig__known_get(v, n->path)) != NULL) {
				if (k->err != 0 || ((k->attr.st_mode ^
				    n->attr.st_mode) & S_IFMT) != 0)
					n->gone = 1;
				continue;
			}
			b.len = 0;
			if ((q = mig__freq_new(v, NULL)) == NULL ||
			    (q->path = strdup(n->path)) == NULL ||
			    proto_put_str(&b, q->path) != 0) {
				/* Unknown: its entry is dropped. */
				mig__freq_free(q);
				continue;
			}
			q->arg = iv;
			q->done = done_check;
			iv->asking++;
			mig__view_ask(v, q, MIG_FS_LSTAT, &b);
		}
	mig_buf_free(&b);
	check_end(iv);
}

int
mig__nodes_stale(struct view *v, struct inval *iv)
{
	struct node *n;
	struct known *k;
	const char *name;
	uint64_t parent;
	char *buf;
	int same, pages, r;

	for (size_t b = 0; b < NODE_BUCKETS; b++)
		for (n = v->by_id[b]; n != NULL; n = n->next_id) {
			same = n->has_told && n->wfd < 0 && !n->detached &&
			    mig__known_same(v, n->path, &n->told);
			if (same)
				continue;
			/* Its pages may be another version's: the next open
			 * drops them too. A link's target is its page. */
			pages = S_ISREG(n->attr.st_mode) && n->wfd < 0;
			if (pages)
				n->has_key = 0;
			pages = pages || S_ISLNK(n->attr.st_mode);
			parent = 0;
			name = NULL;
			buf = NULL;
			/* The name still leads to a node of this kind (node_at
			 * keeps it): the entry holds, the attributes do not.
			 * A name not known now was checked at home
			 * (mig__nodes_check, n->gone) and changed in the view
			 * since, which the kernel saw. The kernel detaches the
			 * mounts under an entry it drops: the view's own mount
			 * points keep theirs. */
			k = mig__known_get(v, n->path);
			if (n->id != FUSE_ROOT_ID && n->nlookup > 0 &&
			    !n->detached && !mig__view_pinned(v, n->path) &&
			    (n->gone || (k != NULL && (k->err != 0 ||
			    ((k->attr.st_mode ^ n->attr.st_mode) & S_IFMT) != 0)))) {
				n->gone = 0;
				if ((buf = strdup(n->path)) == NULL)
					return ENOMEM;
				node_entry(v, n, buf, &parent, &name);
				/* An ancestor's entry, when the folder is not in
				 * the table: it must not hold a mount either. */
				if (name != NULL) {
					char *p = strndup(n->path, (size_t)(name -
					    buf) + strlen(name));
					if (p == NULL) {
						free(buf);
						return ENOMEM;
					}
					if (mig__view_pinned(v, p)) {
						parent = 0;
						name = NULL;
					}
					free(p);
				}
			}
			r = mig__inval_add(iv, n->id, parent, name, pages);
			free(buf);
			if (r != 0)
				return r;
		}
	return mig__absent_stale(v, iv);
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
static void
nodes_rename(struct view *v, const char *from, const char *to, int exchange)
{
	size_t fl = strlen(from), tl = strlen(to), cap = 0, k = 0;
	struct node *n, **moved = NULL, **m;
	const char *base, *dest;
	char *p;

	if (!exchange && (n = mig__node_by_path(v, to)) != NULL)
		path_unlink(v, n);
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
		path_unlink(v, moved[i]);
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

static int
join(const struct node *parent, const char *name, char **out)
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
static void
node_attr(struct node *n, struct stat *st)
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

/* ---- requests and answers ---- */

static struct freq *
freq_path(struct view *v, fuse_req_t req, struct node *parent,
    const char *name)
{
	struct freq *q = mig__freq_new(v, req);
	int e;

	if (q == NULL) {
		fuse_reply_err(req, ENOMEM);
		return NULL;
	}
	if (name == NULL) {
		if ((q->path = strdup(parent->path)) == NULL)
			e = ENOMEM;
		else
			e = 0;
	} else {
		e = join(parent, name, &q->path);
	}
	if (e != 0) {
		fuse_reply_err(req, e);
		mig__freq_free(q);
		return NULL;
	}
	q->node = parent;
	return q;
}

/* Builds a payload of a path and more; on failure answers ENOMEM. */
static int
payload(struct freq *q, struct mig_buf *b, const char *path)
{
	if (path != NULL && proto_put_str(b, path) != 0) {
		mig_buf_free(b);
		if (q->req != NULL)
			fuse_reply_err(q->req, ENOMEM);
		mig__freq_free(q);
		return -1;
	}
	return 0;
}

/* A request about name in folder parent; NULL when it is answered
 * already (the folder is gone, or memory is). */
static struct freq *
freq_entry(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct view *v = fuse_req_userdata(req);
	struct node *p = node_get(v, parent);

	if (p == NULL) {
		fuse_reply_err(req, ESTALE);
		return NULL;
	}
	return freq_path(v, req, p, name);
}

/* Sends q (op, payload b) if b was built whole (failed is 0), else
 * answers ENOMEM; b is freed either way. */
static void
send_ask(struct view *v, struct freq *q, uint16_t op, struct mig_buf *b,
    int failed)
{
	if (failed) {
		if (q->req != NULL)
			fuse_reply_err(q->req, ENOMEM);
		mig__freq_free(q);
	} else {
		mig__view_ask(v, q, op, b);
	}
	mig_buf_free(b);
}

static void
reply_entry(struct freq *q, struct node *n)
{
	struct fuse_entry_param e;

	memset(&e, 0, sizeof(e));
	e.ino = n->id;
	e.attr_timeout = e.entry_timeout = VIEW_TIMEOUT;
	node_attr(n, &e.attr);
	fuse_reply_entry(q->req, &e);
}

/* A lookup of a name that is not there (err): an absent name is an
 * entry the kernel keeps (absent.c), anything else an error. */
static void
reply_absent(struct freq *q, int err)
{
	struct fuse_entry_param e;

	if (err != ENOENT || !mig__absent_add(q->v, q->path)) {
		fuse_reply_err(q->req, err);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.entry_timeout = VIEW_TIMEOUT;
	fuse_reply_entry(q->req, &e);
}

/* The node at path, now with attributes *st, looked up once more; NULL
 * when out of memory. */
static struct node *
node_at(struct view *v, const char *path, const struct stat *st)
{
	struct node *n = mig__node_by_path(v, path);

	/* Another kind of file there now: a new node, as the kernel must
	 * not see one node change its type. */
	if (n != NULL && (n->attr.st_mode & S_IFMT) != 0 &&
	    ((n->attr.st_mode ^ st->st_mode) & S_IFMT) != 0) {
		path_unlink(v, n);
		n = NULL;
	}
	if (n == NULL && (n = node_add(v, path, 0)) == NULL)
		return NULL;
	mig__absent_drop(v, path);
	/* Written here: the local content's attributes win (node_attr). */
	n->attr = *st;
	n->gone = 0;
	n->nlookup++;
	return n;
}

/* The node at q->path, with attributes *st; NULL on failure (the
 * request has been answered). A change the view made drops what the
 * view knew of the path and its folder. */
static struct node *
entry_node(struct freq *q, const struct stat *st)
{
	struct view *v = q->v;
	struct node *n;

	if (q->op == MIG_FS_LSTAT)
		mig__known_attr(v, q->path, 0, st);
	else
		mig__known_drop(v, q->path);
	if ((n = node_at(v, q->path, st)) == NULL) {
		fuse_reply_err(q->req, ENOMEM);
		return NULL;
	}
	return n;
}

static void
done_entry(struct freq *q, int err, struct mig_fs_rep *a)
{
	struct node *n;

	if (q->op == MIG_FS_LSTAT && err == ENOENT)
		mig__known_attr(q->v, q->path, err, NULL);
	if (q->op == MIG_FS_LSTAT && err != 0)
		reply_absent(q, err);
	else if (err != 0)
		fuse_reply_err(q->req, err);
	else if ((n = entry_node(q, &a->attr)) != NULL)
		reply_entry(q, n);
	mig__freq_free(q);
}

static void
ask_path(struct view *v, struct freq *q, uint16_t op,
    void (*done)(struct freq *, int, struct mig_fs_rep *))
{
	struct mig_buf b = { NULL, 0, 0 };

	q->done = done;
	if (payload(q, &b, q->path) != 0)
		return;
	send_ask(v, q, op, &b, 0);
}

static void
op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct view *v = fuse_req_userdata(req);
	struct node *n;
	struct known *k;
	struct freq *q;

	if ((q = freq_entry(req, parent, name)) == NULL)
		return;
	if ((k = mig__known_get(v, q->path)) == NULL) {
		ask_path(v, q, MIG_FS_LSTAT, done_entry);
		return;
	}
	if (k->err != 0)
		reply_absent(q, k->err);
	else if ((n = node_at(v, q->path, &k->attr)) == NULL)
		fuse_reply_err(req, ENOMEM);
	else
		reply_entry(q, n);
	mig__freq_free(q);
}

/* The answer to a getattr, or to a setattr: the attributes now. */
static void
done_getattr(struct freq *q, int err, struct mig_fs_rep *a)
{
	struct stat st;

	if (err != 0) {
		fuse_reply_err(q->req, err);
	} else {
		if (q->op == MIG_FS_LSTAT)
			mig__known_attr(q->v, q->path, 0, &a->attr);
		else
			mig__known_drop(q->v, q->path);
		q->node->attr = a->attr;
		node_attr(q->node, &st);
		fuse_reply_attr(q->req, &st, VIEW_TIMEOUT);
	}
	mig__freq_free(q);
}

static void
op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct view *v = fuse_req_userdata(req);
	struct node *n = node_get(v, ino);
	struct known *k;
	struct freq *q;
	struct stat st;

	if (n == NULL) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	/* Written here, or gone at home: what we know is the truth. */
	if (n->wfd >= 0 || n->detached) {
		node_attr(n, &st);
		fuse_reply_attr(req, &st, VIEW_TIMEOUT);
		return;
	}
	if ((k = mig__known_get(v, n->path)) != NULL && k->err == 0 &&
	    ((k->attr.st_mode ^ n->attr.st_mode) & S_IFMT) == 0) {
		n->attr = k->attr;
		node_attr(n, &st);
		fuse_reply_attr(req, &st, VIEW_TIMEOUT);
		return;
	}
	if ((q = freq_path(v, req, n, NULL)) != NULL) {
		q->node = n;
		ask_path(v, q, MIG_FS_LSTAT, done_getattr);
	}
}

static void
op_forget_one(struct view *v, fuse_ino_t ino, uint64_t nlookup)
{
	struct node *n = node_get(v, ino);

	if (n == NULL || n->id == FUSE_ROOT_ID)
		return;
	n->nlookup = nlookup >= n->nlookup ? 0 : n->nlookup - nlookup;
	if (n->nlookup == 0 && n->refs == 0 && !n->putting && !n->created)
		node_free(v, n);
}

static void
op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	op_forget_one(fuse_req_userdata(req), ino, nlookup);
	fuse_reply_none(req);
}

static void
op_forget_multi(fuse_req_t req, size_t count,
    struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		op_forget_one(fuse_req_userdata(req), forgets[i].ino,
		    forgets[i].nlookup);
	fuse_reply_none(req);
}

static void
done_readlink(struct freq *q, int err, struct mig_fs_rep *a)
{
	if (err != 0) {
		fuse_reply_err(q->req, err);
	} else {
		mig__known_target(q->v, q->path, a->target);
		fuse_reply_readlink(q->req, a->target);
	}
	mig__freq_free(q);
}

static void
op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct view *v = fuse_req_userdata(req);
	struct node *n = node_get(v, ino);
	struct known *k;
	struct freq *q;

	if (n == NULL) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	if ((k = mig__known_get(v, n->path)) != NULL && k->target != NULL) {
		fuse_reply_readlink(req, k->target);
		return;
	}
	if ((q = freq_path(v, req, n, NULL)) != NULL)
		ask_path(v, q, MIG_FS_READLINK, done_readlink);
}

/* ---- folders ---- */

static void
dirl_clear(struct dirl *dl)
{
	for (size_t i = 0; i < dl->n; i++)
		free(dl->v[i].name);
	dl->n = 0;
	dl->loaded = 0;
}

static void
op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dirl *dl = calloc(1, sizeof(*dl));

	if (dl == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fi->fh = (uintptr_t)dl;
	fuse_reply_open(req, fi);
}

static void
op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dirl *dl = (struct dirl *)(uintptr_t)fi->fh;

	if (dl != NULL) {
		dirl_clear(dl);
		free(dl->v);
		free(dl);
	}
	fuse_reply_err(req, 0);
}

static void
dir_serve(fuse_req_t req, struct dirl *dl, size_t size, off_t off)
{
	char *buf = malloc(size > 0 ? size : 1);
	size_t used = 0, ent;
	struct stat st;

	if (buf == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	memset(&st, 0, sizeof(st));
	for (size_t i = (size_t)off; i < dl->n; i++) {
		st.st_ino = (ino_t)dl->v[i].ino;
		st.st_mode = (mode_t)((dl->v[i].type & 0xf) << 12);
		ent = fuse_add_direntry(req, buf + used, size - used,
		    dl->v[i].name, &st, (off_t)(i + 1));
		if (ent > size - used)
			break;
		used += ent;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

/* Moves a page's entries to the end of dl; 0 or ENOMEM. */
static int
dirl_add(struct dirl *dl, struct mig_fs_rep *a)
{
	size_t cap = dl->cap ? dl->cap : 64;
	struct mig_fs_dirent *nv;

	if (a->nents == 0)
		return 0;
	while (cap < dl->n + a->nents)
		cap *= 2;
	if (cap != dl->cap) {
		if ((nv = realloc(dl->v, cap * sizeof(*nv))) == NULL)
			return ENOMEM;
		dl->v = nv;
		dl->cap = cap;
	}
	memcpy(dl->v + dl->n, a->ents, a->nents * sizeof(*dl->v));
	dl->n += a->nents;
	/* The names are dl's now. */
	a->nents = 0;
	return 0;
}

static void
done_readdir(struct freq *q, int err, struct mig_fs_rep *a)
{
	struct dirl *dl = q->arg;
	struct mig_buf b = { NULL, 0, 0 };

	if (err == 0)
		err = dirl_add(dl, a);
	if (err != 0) {
		fuse_reply_err(q->req, err);
		goto out;
	}
	if (!a->eof) {
		/* The next page, for the same FUSE request. */
		if (proto_put_str(&b, q->path) != 0 ||
		    proto_put_u32(&b, (uint32_t)dl->n) != 0) {
			fuse_reply_err(q->req, ENOMEM);
			goto out;
		}
		mig__view_ask(q->v, q, MIG_FS_READDIR, &b);
		mig_buf_free(&b);
		return;
	}
	dl->loaded = 1;
	dir_serve(q->req, dl, (size_t)q->u64, (off_t)q->u32);
 out:
	mig_buf_free(&b);
	mig__freq_free(q);
}

static void
op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	struct view *v = fuse_req_userdata(req);
	struct dirl *dl = (struct dirl *)(uintptr_t)fi->fh;
	struct node *n = node_get(v, ino);
	struct mig_buf b = { NULL, 0, 0 };
	struct freq *q;

	if (n == NULL || dl == NULL) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	/* From the start (again, after a rewinddir): read it afresh. */
	if (off == 0)
		dirl_clear(dl);
	if (dl->loaded) {
		dir_serve(req, dl, size, off);
		return;
	}
	if ((q = freq_path(v, req, n, NULL)) == NULL)
		return;
	q->arg = dl;
	q->u64 = size;
	q->u32 = (uint32_t)off;
	q->done = done_readdir;
	if (payload(q, &b, q->path) != 0)
		return;
	send_ask(v, q, MIG_FS_READDIR, &b,
	    proto_put_u32(&b, 0) != 0);
}

/* ---- objects: file contents by hash ---- */

static void opened(struct freq *q, int err, int fd);
static void fetch_end(struct view *v, struct fetch *f, int err);

static void fetch_next(struct view *v, struct fetch *f);

static void
fetch_end(struct view *v, struct fetch *f, int err)
{
	struct freq *q;
	int fd, r;

	TAILQ_REMOVE(&v->fetches, f, entry);
	if (f->w != NULL) {
		if (err == 0) {
			if ((r = mig__cache_commit(f->w)) != 0) {
				mig__log(MIG_LOG_WARN, "%s changed at home while "
				    "fetched (%s)", f->path, mig_strerror(r));
				err = EIO;
			}
		} else {
			mig__cache_abort(f->w);
		}
		f->w = NULL;
	}
	while ((q = TAILQ_FIRST(&f->waiters)) != NULL) {
		TAILQ_REMOVE(&f->waiters, q, entry);
		if (err == 0 &&
		    (r = mig__cache_get(v->d->fs_host->cache, f->key, &fd)) != 0)
			opened(q, EIO, -1);
		else
			opened(q, err, err == 0 ? fd : -1);
	}
	free(f->path);
	free(f);
}

static void
done_fetch(struct freq *q, int err, struct mig_fs_rep *a)
{
	struct fetch *f = q->arg;
	struct view *v = q->v;

	mig__freq_free(q);
	if (err != 0) {
		fetch_end(v, f, err);
		return;
	}
	if (a->ndata > 0 && mig__cache_write(f->w, a->data, a->ndata) != 0) {
		fetch_end(v, f, EIO);
		return;
	}
	f->off += a->ndata;
	if (a->ndata == 0 || f->off >= f->size)
		fetch_end(v, f, 0);
	else
		fetch_next(v, f);
}

static void
fetch_next(struct view *v, struct fetch *f)
{
	struct mig_buf b = { NULL, 0, 0 };
	uint64_t left = f->size - f->off;
	struct freq *q;

	if ((q = mig__freq_new(v, NULL)) == NULL) {
		fetch_end(v, f, ENOMEM);
		return;
	}
	q->arg = f;
	q->done = done_fetch;
	if (proto_put_str(&b, f->path) != 0 ||
	    proto_put_bytes(&b, f->key, sizeof(f->key)) != 0 ||
	    proto_put_u64(&b, f->off) != 0 ||
	    proto_put_u32(&b, left > MIG_FS_CHUNK ? MIG_FS_CHUNK :
	    (uint32_t)left) != 0) {
		mig_buf_free(&b);
		mig__freq_free(q);
		fetch_end(v, f, ENOMEM);
		return;
	}
	send_ask(v, q, MIG_FS_FETCH, &b, 0);
}

/* Past this size an object is looked for in the cache on the thread
 * pool: the first use of one the cache holds from before the daemon
 * started hashes it whole (cache.c), about a millisecond a MiB. */
#define GET_ON_LOOP_MAX (1 << 20)

/* An object looked for in the cache on the thread pool. */
struct wget {
	struct vwork w;
	uint8_t key[MIG_HASH_BYTES];
	int fd;
	int r;
};

static void
get_work(struct vwork *w)
{
	struct wget *g = (struct wget *)w;

	g->r = mig__cache_get(w->d->fs_host->cache, g->key, &g->fd);
}

/* Starts the fetch f from home: it is not in the cache. */
static void
fetch_begin(struct view *v, struct fetch *f)
{
	if (mig__cache_begin(v->d->fs_host->cache, f->key, &f->w) != 0)
		fetch_end(v, f, EIO);
	else if (f->size == 0)
		fetch_end(v, f, 0);
	else
		fetch_next(v, f);
}

static void
get_done(struct vwork *w, struct view *v)
{
	struct wget *g = (struct wget *)w;
	struct fetch *f = NULL;
	struct freq *q;

	if (v != NULL)
		TAILQ_FOREACH(f, &v->fetches, entry)
			if (f->getting &&
			    memcmp(f->key, g->key, sizeof(f->key)) == 0)
				break;
	if (f == NULL) {
		/* The view ended, and its opens with it. */
		if (g->r == 0) {
			mig__close(g->fd);
			mig__cache_release(w->d->fs_host->cache, g->key);
		}
	} else if (g->r == 0) {
		q = TAILQ_FIRST(&f->waiters);
		TAILQ_REMOVE(&f->waiters, q, entry);
		opened(q, 0, g->fd);
		/* Checked now: the other waiters get theirs at once. */
		fetch_end(v, f, 0);
	} else if (g->r == MIG__ERR(ENOENT)) {
		f->getting = 0;
		fetch_begin(v, f);
	} else {
		fetch_end(v, f, EIO);
	}
	free(g);
}

/* Gets the object q->key (of size bytes, at q->path) into the cache and
 * calls opened(q, ...) with an fd on it. */
static void
object_get(struct view *v, struct freq *q, uint64_t size)
{
	struct mig_cache *c = v->d->fs_host->cache;
	struct fetch *f;
	struct wget *g;
	int fd;

	if (size <= GET_ON_LOOP_MAX && mig__cache_get(c, q->key, &fd) == 0) {
		opened(q, 0, fd);
		return;
	}
	TAILQ_FOREACH(f, &v->fetches, entry)
		if (memcmp(f->key, q->key, sizeof(f->key)) == 0) {
			TAILQ_INSERT_TAIL(&f->waiters, q, entry);
			return;
		}
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->path = strdup(q->path)) == NULL) {
		free(f);
		opened(q, ENOMEM, -1);
		return;
	}
	memcpy(f->key, q->key, sizeof(f->key));
	f->size = size;
	TAILQ_INIT(&f->waiters);
	TAILQ_INSERT_TAIL(&f->waiters, q, entry);
	TAILQ_INSERT_TAIL(&v->fetches, f, entry);
	if (size <= GET_ON_LOOP_MAX) {
		fetch_begin(v, f);
		return;
	}
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		fetch_end(v, f, ENOMEM);
		return;
	}
	memcpy(g->key, f->key, sizeof(g->key));
	g->fd = -1;
	f->getting = 1;
	mig__pool_queue(v, &g->w, get_work, get_done);
}

void
mig__fetches_free(struct view *v)
{
	struct fetch *f;

	while ((f = TAILQ_FIRST(&v->fetches)) != NULL)
		fetch_end(v, f, EIO);
}

/* ---- open, read, write, close ---- */

static int
wants_write(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY;
}

static void
reply_open_local(struct freq *q, struct node *n)
{
	struct fh *h = calloc(1, sizeof(*h));

	if (h == NULL) {
		fuse_reply_err(q->req, ENOMEM);
		return;
	}
	h->kind = FH_LOCAL;
	h->fd = -1;
	h->n = n;
	n->refs++;
	/* Written here: the pages are no longer those of n->key. */
	n->has_key = 0;
	q->fi.fh = (uintptr_t)h;
	q->fi.keep_cache = 0;
	q->fi.direct_io = 0;
	fuse_reply_open(q->req, &q->fi);
}

/* An open for write's local copy of home's content, made on the thread
 * pool: it takes as long as the file is big. */
struct wcopy {
	struct vwork w;
	struct freq *q;       /* the open; its view and node are looked up */
	uint64_t node;
	int src;              /* the cached object */
	int dst;              /* the new local file */
	int err;
};

static void
copy_work(struct vwork *w)
{
	struct wcopy *c = (struct wcopy *)w;
	char buf[65536];
	ssize_t r;
	off_t off = 0;

	while ((r = pread(c->src, buf, sizeof(buf), off)) > 0) {
		if (pwrite(c->dst, buf, (size_t)r, off) != r) {
			c->err = errno != 0 ? errno : EIO;
			return;
		}
		off += r;
	}
	if (r < 0)
		c->err = errno;
}

static void
copy_done(struct vwork *w, struct view *v)
{
	struct wcopy *c = (struct wcopy *)w;
	struct freq *q = c->q;
	struct node *n = NULL;

	mig__close(c->src);
	mig__cache_release(w->d->fs_host->cache, q->key);
	/* The view is gone, its FUSE session with it: nobody waits. */
	if (v == NULL)
		goto out;
	if ((n = node_get(v, c->node)) == NULL && c->err == 0)
		c->err = ESTALE;
	if (c->err != 0) {
		fuse_reply_err(q->req, c->err);
		goto out;
	}
	/* Another open made its copy first, and writes may have gone to
	 * it since: that one stays. */
	if (n->wfd < 0) {
		n->wfd = c->dst;
		c->dst = -1;
	}
	reply_open_local(q, n);
 out:
	mig__close(c->dst);
	mig__freq_free(q);
	free(c);
}

/* The object for an open is in the cache (fd), or could not be had. */
static void
opened(struct freq *q, int err, int fd)
{
	struct node *n = q->node;
	struct wcopy *c;
	struct fh *h;

	if (err != 0) {
		fuse_reply_err(q->req, err);
		goto out;
	}
	if (!wants_write(q->fi.flags)) {
		if ((h = calloc(1, sizeof(*h))) == NULL) {
			mig__close(fd);
			mig__cache_release(q->v->d->fs_host->cache, q->key);
			fuse_reply_err(q->req, ENOMEM);
			goto out;
		}
		h->kind = FH_OBJECT;
		h->fd = fd;
		memcpy(h->key, q->key, sizeof(h->key));
		h->n = n;
		q->fi.fh = (uintptr_t)h;
		/* The same content as the pages the kernel has of n. */
		q->fi.keep_cache = n->has_key && n->wfd < 0 &&
		    memcmp(n->key, q->key, sizeof(n->key)) == 0;
		memcpy(n->key, q->key, sizeof(n->key));
		n->has_key = n->wfd < 0;
		fuse_reply_open(q->req, &q->fi);
		goto out;
	}
	/* Written in the view: a local copy of home's content. */
	if (n->wfd < 0) {
		if ((c = calloc(1, sizeof(*c))) == NULL)
			err = ENOMEM;
		else if ((c->dst = mig__view_tmpfile(q->v)) < 0)
			err = errno;
		if (err == 0) {
			c->q = q;
			c->node = n->id;
			c->src = fd;
			mig__pool_queue(q->v, &c->w, copy_work, copy_done);
			return;
		}
		free(c);
	}
	mig__close(fd);
	mig__cache_release(q->v->d->fs_host->cache, q->key);
	if (err != 0)
		fuse_reply_err(q->req, err);
	else
		reply_open_local(q, n);
 out:
	mig__freq_free(q);
}

static void
done_open(struct freq *q, int err, struct mig_fs_rep *a)
{
	if (err != 0) {
		fuse_reply_err(q->req, err);
		mig__freq_free(q);
		return;
	}
	mig__known_key(q->v, q->path, &a->attr, a->key);
	q->node->attr = a->attr;
	memcpy(q->key, a->key, sizeof(q->key));
	object_get(q->v, q, (uint64_t)a->attr.st_size);
}

static void
op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct view *v = fuse_req_userdata(req);
	struct node *n = node_get(v, ino);
	struct known *k;
	struct freq *q;

	if (n == NULL) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	if ((q = freq_path(v, req, n, NULL)) == NULL)
		return;
	q->node = n;
	q->fi = *fi;
	if (n->wfd < 0 && wants_write(fi->flags) && (fi->flags & O_TRUNC)) {
		if ((n->wfd = mig__view_tmpfile(v)) < 0) {
			fuse_reply_err(req, errno);
			mig__freq_free(q);
			return;
		}
		n->dirty = 1;
	}
	if (n->wfd >= 0) {
		if (wants_write(fi->flags) && (fi->flags & O_TRUNC) &&
		    ftruncate(n->wfd, 0) == 0)
			n->dirty = 1;
		reply_open_local(q, n);
		mig__freq_free(q);
		return;
	}
	if ((k = mig__known_get(v, n->path)) != NULL && k->has_key &&
	    S_ISREG(k->attr.st_mode)) {
		n->attr = k->attr;
		memcpy(q->key, k->key, sizeof(q->key));
		object_get(v, q, (uint64_t)k->attr.st_size);
		return;
	}
	ask_path(v, q, MIG_FS_OPEN, done_open);
}

static void
op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	struct fh *h = (struct fh *)(uintptr_t)fi->fh;
	int fd = h->kind == FH_OBJECT ? h->fd : h->n->wfd;
	char *buf = malloc(size > 0 ? size : 1);
	ssize_t r;

	if (buf == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if ((r = pread(fd, buf, size, off)) < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_buf(req, buf, (size_t)r);
	free(buf);
}

static void
op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
    off_t off, struct fuse_file_info *fi)
{
	struct fh *h = (struct fh *)(uintptr_t)fi->fh;
	ssize_t r;

	if (h->kind != FH_LOCAL || h->n->wfd < 0) {
		fuse_reply_err(req, EBADF);
		return;
	}
	if ((r = pwrite(h->n->wfd, buf, size, off)) < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	h->n->dirty = 1;
	fuse_reply_write(req, (size_t)r);
}

/* ---- a written file goes home ---- */

static void put_start(struct view *v, struct node *n);

static void
put_end(struct view *v, struct node *n, int err)
{
	struct settle *st;
	struct freq *q;

	n->putting = 0;
	if (err == 0 && n->dirty && (!TAILQ_EMPTY(&n->flushes) ||
	    n->settle != NULL) && !v->ending) {
		put_start(v, n);
		return;
	}
	if (err != 0)
		mig__log(MIG_LOG_WARN, "%s: not written home: %s", n->path,
		    strerror(err));
	while ((q = TAILQ_FIRST(&n->flushes)) != NULL) {
		TAILQ_REMOVE(&n->flushes, q, entry);
		fuse_reply_err(q->req, err);
		mig__freq_free(q);
	}
	st = n->settle;
	n->settle = NULL;
	if (n->refs == 0 && !n->created) {
		mig__close(n->wfd);
		n->wfd = -1;
		if (n->nlookup == 0)
			node_free(v, n);
	}
	if (st != NULL)
		mig__view_settle_put(v, st);
}

/* Past this size a file written home is not also cached here: hashing
 * and copying it would hold a thread of the pool (which the view's
 * invalidations and copies share) for long, for a file that a later job
 * fetches only if it reads it. */
#define CACHE_WRITTEN_MAX (64 << 20)

/* A file written home, going into the cache on the thread pool. */
struct wcache {
	struct vwork w;
	int fd;               /* a dup of the node's local file */
};

static void
cache_work(struct vwork *w)
{
	struct wcache *c = (struct wcache *)w;
	struct mig_cache *cache = w->d->fs_host->cache;
	uint8_t key[MIG_HASH_BYTES];
	struct mig_cache_writer *cw;
	char buf[65536];
	ssize_t r;
	off_t off = 0;

	if (mig__hash_fd(c->fd, key, NULL) != 0 || mig__cache_has(cache, key) ||
	    mig__cache_begin(cache, key, &cw) != 0)
		return;
	while ((r = pread(c->fd, buf, sizeof(buf), off)) > 0) {
		if (mig__cache_write(cw, buf, (size_t)r) != 0) {
			mig__cache_abort(cw);
			return;
		}
		off += r;
	}
	/* Written again meanwhile: the commit finds the hash wrong, and
	 * nothing is kept. */
	if (r < 0)
		mig__cache_abort(cw);
	else
		mig__cache_commit(cw);
}

static void
cache_done(struct vwork *w, struct view *v)
{
	struct wcache *c = (struct wcache *)w;

	mig__close(c->fd);
	free(c);
}

/* What was just written home goes into the cache too, so the next job
 * that reads it (the assembler, the linker) fetches nothing. */
static void
cache_written(struct view *v, struct node *n)
{
	struct wcache *c;

	if (n->attr.st_size > CACHE_WRITTEN_MAX ||
	    (c = calloc(1, sizeof(*c))) == NULL)
		return;
	if ((c->fd = fcntl(n->wfd, F_DUPFD_CLOEXEC, 0)) < 0) {
		free(c);
		return;
	}
	mig__pool_queue(v, &c->w, cache_work, cache_done);
}

static void
done_put_commit(struct freq *q, int err, struct mig_fs_rep *a)
{
	struct node *n = q->node;
	struct view *v = q->v;

	if (n->put_err != 0)
		err = n->put_err;
	n->put_err = 0;
	if (err == 0) {
		mig__known_drop(v, n->path);
		n->attr = a->attr;
		/* Home stamped it: the kernel asks again. */
		mig__inval_attr(v, n->id);
		if (!n->dirty)
			cache_written(v, n);
	}
	mig__freq_free(q);
	put_end(v, n, err);
}

/* PUT_DATA frames unanswered at once, per put: a big file goes out a
 * window at a time, each answer sending the next chunk, so the loop
 * never holds more than this (the link's ping goes on meanwhile). */
#define PUT_WINDOW 8

static void put_more(struct view *v, struct node *n);

/* PUT_DATA: a failure stops the data, and the commit fails with it. */
static void
done_put_data(struct freq *q, int err, struct mig_fs_rep *a)
{
	struct node *n = q->node;
	struct view *v = q->v;

	mig__freq_free(q);
	if (err != 0 && n->put_err == 0)
		n->put_err = err;
	n->put_inflight--;
	if (!n->put_sending)
		put_more(v, n);
}

static void
put_more(struct view *v, struct node *n)
{
	struct mig_buf b = { NULL, 0, 0 };
	char *buf = NULL;
	struct freq *d;
	ssize_t r;

	n->put_sending = 1;
	while (!n->put_all_sent && n->put_inflight < PUT_WINDOW) {
		if (n->put_err != 0)
			break;
		if (buf == NULL && (buf = malloc(MIG_FS_CHUNK)) == NULL) {
			n->put_err = ENOMEM;
			break;
		}
		if ((r = pread(n->wfd, buf, MIG_FS_CHUNK, n->put_off)) <= 0) {
			if (r < 0)
				n->put_err = errno;
			break;
		}
		b.len = 0;
		if ((d = mig__freq_new(v, NULL)) == NULL ||
		    proto_put_u32(&b, n->put_id) != 0 ||
		    proto_put_bytes(&b, buf, (size_t)r) != 0) {
			mig__freq_free(d);
			n->put_err = ENOMEM;
			break;
		}
		d->node = n;
		d->done = done_put_data;
		n->put_inflight++;
		n->put_off += r;
		mig__view_ask(v, d, MIG_FS_PUT_DATA, &b);
	}
	/* At the end of the file, or on an error: no more data. */
	if (!n->put_all_sent && n->put_inflight < PUT_WINDOW)
		n->put_all_sent = 1;
	free(buf);
	n->put_sending = 0;
	if (!n->put_all_sent || n->put_inflight > 0)
		goto out;
	/* Everything answered: commit (home fails it if a chunk failed,
	 * and an error here fails it with that error). */
	b.len = 0;
	if ((d = mig__freq_new(v, NULL)) == NULL ||
	    proto_put_u32(&b, n->put_id) != 0) {
		mig__freq_free(d);
		mig_buf_free(&b);
		n->put_err = 0;
		put_end(v, n, ENOMEM);
		return;
	}
	d->node = n;
	d->done = done_put_commit;
	mig__view_ask(v, d, MIG_FS_PUT_COMMIT, &b);
 out:
	mig_buf_free(&b);
}

static void
done_put_begin(struct freq *q, int err, struct mig_fs_rep *a)
{
	struct node *n = q->node;
	struct view *v = q->v;

	mig__freq_free(q);
	if (err != 0) {
		put_end(v, n, err);
		return;
	}
	n->put_id = a->handle;
	n->put_off = 0;
	n->put_inflight = 0;
	n->put_all_sent = 0;
	n->put_err = 0;
	put_more(v, n);
}

static void
put_start(struct view *v, struct node *n)
{
	struct mig_buf b = { NULL, 0, 0 };
	struct freq *q;

	if (n->detached) {
		/* Removed meanwhile: nothing to write home. */
		n->dirty = 0;
		put_end(v, n, 0);
		return;
	}
	if ((q = mig__freq_new(v, NULL)) == NULL ||
	    proto_put_str(&b, n->path) != 0 ||
	    proto_put_u32(&b, (uint32_t)(n->attr.st_mode & 07777)) != 0) {
		mig__freq_free(q);
		mig_buf_free(&b);
		put_end(v, n, ENOMEM);
		return;
	}
	n->putting = 1;
	n->dirty = 0;
	q->node = n;
	q->done = done_put_begin;
	send_ask(v, q, MIG_FS_PUT_BEGIN, &b, 0);
}

static void
flush(fuse_req_t req, struct fuse_file_info *fi, int now)
{
	struct view *v = fuse_req_userdata(req);
	struct fh *h = (struct fh *)(uintptr_t)fi->fh;
	struct node *n = h->n;
	struct freq *q;

	/* A file made in the view goes home when a job ends (a temporary
	 * one removed by then never does), unless fsync asks now. */
	if (h->kind != FH_LOCAL || (!n->dirty && !n->putting) ||
	    (n->created && !now)) {
		fuse_reply_err(req, 0);
		return;
	}
	if ((q = mig__freq_new(v, req)) == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	TAILQ_INSERT_TAIL(&n->flushes, q, entry);
	if (!n->putting)
		put_start(v, n);
}

static void
op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	flush(req, fi, 0);
}

static void
op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
    struct fuse_file_info *fi)
{
	flush(req, fi, 1);
}

static void
op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct view *v = fuse_req_userdata(req);
	struct fh *h = (struct fh *)(uintptr_t)fi->fh;
	struct node *n = h->n;

	if (h->kind == FH_OBJECT) {
		mig__close(h->fd);
		mig__cache_release(v->d->fs_host->cache, h->key);
	} else if (--n->refs == 0 && !n->putting && !n->created) {
		if (n->dirty && !v->ending) {
			put_start(v, n); /* written through a mapping */
		} else {
			mig__close(n->wfd);
			n->wfd = -1;
			if (n->nlookup == 0)
				node_free(v, n);
		}
	}
	free(h);
	fuse_reply_err(req, 0);
}

/* Whether n's job is st's, or one that ended or cannot be told. */
static int
settles_with(const struct node *n, const struct settle *st)
{
	return n->owner == st->job || n->owner == 0 ||
	    (kill(n->owner, 0) == -1 && errno == ESRCH);
}

void
mig__nodes_settle(struct view *v, struct settle *st)
{
	struct node *n, *next;

	for (n = TAILQ_FIRST(&v->created); n != NULL; n = next) {
		next = TAILQ_NEXT(n, created_entry);
		if (!settles_with(n, st))
			continue;
		TAILQ_REMOVE(&v->created, n, created_entry);
		n->created = 0;
		if (n->detached || (!n->dirty && !n->putting)) {
			/* Removed (a temporary file), or home has it all. */
			n->dirty = 0;
			if (n->refs == 0 && !n->putting) {
				mig__close(n->wfd);
				n->wfd = -1;
				if (n->nlookup == 0)
					node_free(v, n);
			}
			continue;
		}
		n->settle = st;
		st->pending++;
		if (!n->putting)
			put_start(v, n);
	}
}

/* ---- changes, done at home ---- */

static void
done_create(struct freq *q, int err, struct mig_fs_rep *a)
{
	struct fuse_entry_param e;
	struct node *n;
	struct fh *h;

	if (err != 0) {
		fuse_reply_err(q->req, err);
		goto out;
	}
	if ((n = entry_node(q, &a->attr)) == NULL)
		goto out;
	if (n->wfd < 0 && (n->wfd = mig__view_tmpfile(q->v)) < 0) {
		fuse_reply_err(q->req, errno);
		goto out;
	}
	if (!n->created) {
		n->created = 1;
		n->owner = mig__view_job_of(fuse_req_ctx(q->req)->pid);
		TAILQ_INSERT_TAIL(&q->v->created, n, created_entry);
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		fuse_reply_err(q->req, ENOMEM);
		goto out;
	}
	h->kind = FH_LOCAL;
	h->fd = -1;
	h->n = n;
	n->refs++;
	memset(&e, 0, sizeof(e));
	e.ino = n->id;
	e.attr_timeout = e.entry_timeout = VIEW_TIMEOUT;
	node_attr(n, &e.attr);
	q->fi.fh = (uintptr_t)h;
	fuse_reply_create(q->req, &e, &q->fi);
 out:
	mig__freq_free(q);
}

static void
ask_create(fuse_req_t req, fuse_ino_t parent, const char *name,
    mode_t mode, uint32_t excl, struct fuse_file_info *fi,
    void (*done)(struct freq *, int, struct mig_fs_rep *))
{
	struct view *v = fuse_req_userdata(req);
	struct mig_buf b = { NULL, 0, 0 };
	struct freq *q;

	if ((q = freq_entry(req, parent, name)) == NULL)
		return;
	if (fi != NULL)
		q->fi = *fi;
	q->done = done;
	if (payload(q, &b, q->path) != 0)
		return;
	send_ask(v, q, MIG_FS_CREATE, &b,
	    proto_put_u32(&b, (uint32_t)mode) != 0 ||
	    proto_put_u32(&b, excl) != 0);
}

static void
op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
    struct fuse_file_info *fi)
{
	ask_create(req, parent, name, mode & 07777, (fi->flags & O_EXCL) != 0,
	    fi, done_create);
}

static void
op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
    dev_t rdev)
{
	if (!S_ISREG(mode)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	ask_create(req, parent, name, mode & 07777, 1, NULL, done_entry);
}

static void
op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct view *v = fuse_req_userdata(req);
	struct mig_buf b = { NULL, 0, 0 };
	struct freq *q;

	if ((q = freq_entry(req, parent, name)) == NULL)
		return;
	q->done = done_entry;
	if (payload(q, &b, q->path) != 0)
		return;
	send_ask(v, q, MIG_FS_MKDIR, &b,
	    proto_put_u32(&b, (uint32_t)(mode & 07777)) != 0);
}

static void
op_symlink(fuse_req_t req, const char *target, fuse_ino_t parent,
    const char *name)
{
	struct view *v = fuse_req_userdata(req);
	struct mig_buf b = { NULL, 0, 0 };
	struct freq *q;

	if ((q = freq_entry(req, parent, name)) == NULL)
		return;
	q->done = done_entry;
	if (payload(q, &b, target) != 0 || payload(q, &b, q->path) != 0)
		return;
	send_ask(v, q, MIG_FS_SYMLINK, &b, 0);
}

static void
op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
    const char *newname)
{
	struct view *v = fuse_req_userdata(req);
	struct node *n = node_get(v, ino), *p = node_get(v, newparent);
	struct mig_buf b = { NULL, 0, 0 };
	struct freq *q;

	if (n == NULL || p == NULL) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	if ((q = freq_path(v, req, p, newname)) == NULL)
		return;
	q->done = done_entry;
	if (payload(q, &b, n->path) != 0 || payload(q, &b, q->path) != 0)
		return;
	send_ask(v, q, MIG_FS_LINK, &b, 0);
}

static void
done_remove(struct freq *q, int err, struct mig_fs_rep *a)
{
	struct node *n;

	if (err == 0)
		mig__known_drop(q->v, q->path);
	if (err == 0 && (n = mig__node_by_path(q->v, q->path)) != NULL) {
		path_unlink(q->v, n);
		n->attr.st_nlink = n->attr.st_nlink > 0 ?
		    n->attr.st_nlink - 1 : 0;
	}
	fuse_reply_err(q->req, err);
	mig__freq_free(q);
}

static void
remove_(fuse_req_t req, fuse_ino_t parent, const char *name, uint16_t op)
{
	struct view *v = fuse_req_userdata(req);
	struct freq *q;

	if ((q = freq_entry(req, parent, name)) != NULL)
		ask_path(v, q, op, done_remove);
}

static void
op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_(req, parent, name, MIG_FS_UNLINK);
}

static void
op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_(req, parent, name, MIG_FS_RMDIR);
}

static void
done_rename(struct freq *q, int err, struct mig_fs_rep *a)
{
	int exchange = (q->u32 & RENAME_EXCHANGE) != 0;

	/* Whole folders may have moved: the view asks home again. */
	if (err == 0) {
		nodes_rename(q->v, q->path, q->path2, exchange);
		mig__absent_drop(q->v, q->path2);
		mig__absent_rename(q->v, q->path, q->path2, exchange);
		mig__known_clear(q->v);
	}
	fuse_reply_err(q->req, err);
	mig__freq_free(q);
}

static void
op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
    fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	struct view *v = fuse_req_userdata(req);
	struct node *p = node_get(v, parent), *np = node_get(v, newparent);
	struct mig_buf b = { NULL, 0, 0 };
	struct freq *q;
	int e;

	if (p == NULL || np == NULL) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	if ((q = freq_path(v, req, p, name)) == NULL)
		return;
	if ((e = join(np, newname, &q->path2)) != 0) {
		fuse_reply_err(req, e);
		mig__freq_free(q);
		return;
	}
	q->done = done_rename;
	q->u32 = flags;
	if (payload(q, &b, q->path) != 0 || payload(q, &b, q->path2) != 0)
		return;
	send_ask(v, q, MIG_FS_RENAME, &b,
	    proto_put_u32(&b, flags) != 0);
}

static void
op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
    struct fuse_file_info *fi)
{
	struct view *v = fuse_req_userdata(req);
	struct node *n = node_get(v, ino);
	struct mig_buf b = { NULL, 0, 0 };
	uint32_t what = 0;
	struct freq *q;
	struct stat st;

	if (n == NULL) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	if (((to_set & FUSE_SET_ATTR_UID) && attr->st_uid != n->attr.st_uid) ||
	    ((to_set & FUSE_SET_ATTR_GID) && attr->st_gid != n->attr.st_gid)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		n->has_key = 0;
		if (n->wfd >= 0) {
			/* Written here: the local content is the truth. */
			if (ftruncate(n->wfd, attr->st_size) == -1) {
				fuse_reply_err(req, errno);
				return;
			}
			n->dirty = 1;
		} else {
			what |= MIG_FS_SET_SIZE;
		}
	}
	if (to_set & FUSE_SET_ATTR_MODE)
		what |= MIG_FS_SET_MODE;
	if (to_set & FUSE_SET_ATTR_ATIME)
		what |= MIG_FS_SET_ATIME;
	if (to_set & FUSE_SET_ATTR_MTIME)
		what |= MIG_FS_SET_MTIME;
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		what |= MIG_FS_SET_ATIME | MIG_FS_SET_ATIME_NOW;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		what |= MIG_FS_SET_MTIME | MIG_FS_SET_MTIME_NOW;
	if (what == 0 || n->detached) {
		if (to_set & FUSE_SET_ATTR_MODE)
			n->attr.st_mode = (n->attr.st_mode & S_IFMT) |
			    (attr->st_mode & 07777);
		node_attr(n, &st);
		fuse_reply_attr(req, &st, VIEW_TIMEOUT);
		return;
	}
	if ((q = freq_path(v, req, n, NULL)) == NULL)
		return;
	q->node = n;
	q->done = done_getattr;
	if (payload(q, &b, q->path) != 0)
		return;
	send_ask(v, q, MIG_FS_SETATTR, &b,
	    proto_put_u32(&b, what) != 0 ||
	    proto_put_u32(&b, (uint32_t)(attr->st_mode & 07777)) != 0 ||
	    proto_put_u64(&b, (uint64_t)attr->st_size) != 0 ||
	    proto_put_u64(&b, (uint64_t)attr->st_atim.tv_sec) != 0 ||
	    proto_put_u32(&b, (uint32_t)attr->st_atim.tv_nsec % 1000000000u) != 0 ||
	    proto_put_u64(&b, (uint64_t)attr->st_mtim.tv_sec) != 0 ||
	    proto_put_u32(&b, (uint32_t)attr->st_mtim.tv_nsec % 1000000000u) != 0);
}

static void
op_init(void *userdata, struct fuse_conn_info *conn)
{
	/* Plain reads and writes through our buffers. */
	conn->want &= ~(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE |
	    FUSE_CAP_SPLICE_MOVE);
	/* The kernel keeps a link's target as its page (mig__nodes_stale
	 * drops it with the node). */
	if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
		conn->want |= FUSE_CAP_CACHE_SYMLINKS;
}

const struct fuse_lowlevel_ops mig__view_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.releasedir = op_releasedir,
	.create = op_create,
};
