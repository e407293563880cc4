/*
 * writeback.c: a file written in a served view goes home. Its content is
 * in the node's local file (wfd); a put sends it whole (PUT_BEGIN, a
 * window of PUT_DATA chunks, PUT_COMMIT), at a FLUSH or fsync of a file
 * that existed, and at its job's end for a file the view made
 * (mig__nodes_settle; on protocol 5 a job's small files go together, in
 * one PUT_BATCH). What went home goes into the object cache too,
 * on the thread pool. A job's end waits here until the files it made are
 * home (mig__view_settle); the view's end tells those still waiting that
 * they are not (mig__settles_end).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "view.h"

/* A put st waited for ended; the last one ends st. */
static void
settle_put(struct view *v, struct settle *st)
{
	if (--st->pending > 0)
		return;
	TAILQ_REMOVE(&v->settles, st, entry);
	/* What the view fetched and seeded reaches home before the EXIT. */
	mig__view_tally(v);
	st->fn(st->arg, !v->ending);
	free(st);
}

static void
put_end(struct view *v, struct node *n, int err)
{
	struct settle *st;
	struct freq *q;

	n->putting = 0;
	if (err == 0 && n->dirty && (!TAILQ_EMPTY(&n->flushes) ||
	    n->settle != NULL) && !v->ending) {
		mig__put_start(v, n);
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
			mig__node_free(v, n);
	}
	if (st != NULL)
		settle_put(v, st);
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

	/* Written again meanwhile: the put finds the hash wrong, and
	 * nothing is kept. */
	if (mig__hash_fd(c->fd, key, NULL) == 0 && !mig__cache_has(cache, key))
		(void)mig__cache_put_fd(cache, key, c->fd);
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

/* n's put ended: home has it with attributes *attr (err 0), or not. */
static void
put_committed(struct view *v, struct node *n, int err,
    const struct stat *attr)
{
	if (err == 0) {
		mig__known_drop(v, n->path);
		n->attr = *attr;
		/* Home stamped it: the kernel asks again. */
		mig__inval_attr(v, n->id);
		if (!n->dirty)
			cache_written(v, n);
	}
	put_end(v, n, err);
}

static void
done_put_commit(struct freq *q, int err, struct mig_fs_rep *a)
{
	struct node *n = q->node;
	struct view *v = q->v;

	if (n->put_err != 0)
		err = n->put_err;
	n->put_err = 0;
	mig__freq_free(q);
	put_committed(v, n, err, err == 0 ? &a->attr : NULL);
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

void
mig__put_start(struct view *v, struct node *n)
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
	mig__view_ask(v, q, MIG_FS_PUT_BEGIN, &b);
	mig_buf_free(&b);
}

/*
 * A job's small files in one PUT_BATCH (protocol 5 on): each file of at
 * most MIG_FS_BATCH_FILE bytes, read whole here, up to
 * MIG_FS_BATCH_FILES files or BATCH_BYTES of payload a request. Home
 * puts each as a PUT_BEGIN to PUT_COMMIT would and answers each; a file
 * that does not fit, or a link of protocol 4, takes that path instead.
 */
#define BATCH_BYTES (768u << 10)

struct batch {
	struct mig_buf b;     /* u32 n, then the files */
	struct node *nodes[MIG_FS_BATCH_FILES];
	uint32_t n;
	char *data;           /* a file's content, as read */
};

static void
done_put_batch(struct freq *q, int err, struct mig_fs_rep *a)
{
	struct node **nodes = q->arg;
	struct view *v = q->v;
	uint32_t n = q->u32;
	int e;

	if (err == 0 && a->nputs != n) {
		mig__view_bad(v, "put batch");
		err = EIO;
	}
	mig__freq_free(q);
	for (uint32_t i = 0; i < n; i++) {
		e = err != 0 ? err : a->puts[i].err < 4096 ?
		    (int)a->puts[i].err : EIO;
		put_committed(v, nodes[i], e, e == 0 ? &a->puts[i].attr :
		    NULL);
	}
	free(nodes);
}

/* Sends the batch, if it holds a file, and empties it. */
static void
batch_send(struct view *v, struct batch *bt)
{
	struct node **nodes = NULL;
	struct freq *q = NULL;

	if (bt->n == 0)
		return;
	for (int k = 0; k < 4; k++)
		bt->b.data[k] = (uint8_t)(bt->n >> (8 * k));
	if ((q = mig__freq_new(v, NULL)) == NULL ||
	    (nodes = malloc(bt->n * sizeof(*nodes))) == NULL) {
		mig__freq_free(q);
		for (uint32_t i = 0; i < bt->n; i++)
			put_end(v, bt->nodes[i], ENOMEM);
	} else {
		memcpy(nodes, bt->nodes, bt->n * sizeof(*nodes));
		q->arg = nodes;
		q->u32 = bt->n;
		q->done = done_put_batch;
		mig__view_ask(v, q, MIG_FS_PUT_BATCH, &bt->b);
	}
	bt->n = 0;
	bt->b.len = 0;
}

/* Adds n to the batch (sending it first when n would not fit): 0, or -1
 * when n goes by the put of PUT_BEGIN to PUT_COMMIT (too big, or
 * unreadable here). */
static int
batch_add(struct view *v, struct batch *bt, struct node *n)
{
	uint32_t mode = (uint32_t)(n->attr.st_mode & 07777);
	size_t at;
	ssize_t r;

	if (n->detached || n->wfd < 0 || !TAILQ_EMPTY(&n->flushes) ||
	    v->link == NULL || v->link->proto < MIG_PROTO_BATCH)
		return -1;
	if (bt->data == NULL &&
	    (bt->data = malloc(MIG_FS_BATCH_FILE + 1)) == NULL)
		return -1;
	if ((r = pread(n->wfd, bt->data, MIG_FS_BATCH_FILE + 1, 0)) < 0 ||
	    r > (ssize_t)MIG_FS_BATCH_FILE)
		return -1;
	if (bt->n == MIG_FS_BATCH_FILES ||
	    bt->b.len + strlen(n->path) + (size_t)r + 12 > BATCH_BYTES)
		batch_send(v, bt);
	at = bt->b.len;
	if ((at == 0 && proto_put_u32(&bt->b, 0) != 0) ||
	    proto_put_str(&bt->b, n->path) != 0 ||
	    proto_put_u32(&bt->b, mode) != 0 ||
	    proto_put_bytes(&bt->b, bt->data, (size_t)r) != 0) {
		/* Out of memory: the batch as it was, n its own way. */
		bt->b.len = at;
		return -1;
	}
	n->putting = 1;
	n->dirty = 0;
	bt->nodes[bt->n++] = n;
	return 0;
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
	struct batch bt;
	struct node *n, *next;

	memset(&bt, 0, sizeof(bt));

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
					mig__node_free(v, n);
			}
			continue;
		}
		n->settle = st;
		st->pending++;
		if (!n->putting && batch_add(v, &bt, n) != 0)
			mig__put_start(v, n);
	}
	batch_send(v, &bt);
	mig_buf_free(&bt.b);
	free(bt.data);
}

/* The view ends: every job's end that waits is told its files are not
 * all home. */
void
mig__settles_end(struct view *v)
{
	struct settle *st;
	struct node *n;

	for (size_t b = 0; b < NODE_BUCKETS; b++)
		for (n = v->by_id[b]; n != NULL; n = n->next_id)
			n->settle = NULL;
	while ((st = TAILQ_FIRST(&v->settles)) != NULL) {
		TAILQ_REMOVE(&v->settles, st, entry);
		st->fn(st->arg, 0);
		free(st);
	}
}

pid_t
mig__view_job_of(pid_t pid)
{
	pid_t self = getpid(), parent;
	char path[64], buf[512], *p;
	ssize_t r;
	int fd;

	/* A job's tree is shallow; the bound only stops a loop. */
	for (int depth = 0; depth < 256 && pid > 1; depth++) {
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			return 0;
		r = read(fd, buf, sizeof(buf) - 1);
		mig__close(fd);
		if (r <= 0)
			return 0;
		buf[r] = '\0';
		/* "PID (COMM) STATE PPID ...": COMM may hold anything. */
		if ((p = strrchr(buf, ')')) == NULL ||
		    sscanf(p + 1, " %*c %d", &parent) != 1)
			return 0;
		if (parent == self)
			return pid;
		pid = parent;
	}
	return 0;
}

void
mig__view_settle(struct homed *d, struct link *l, pid_t job,
    void (*fn)(void *arg, int ok), void *arg)
{
	struct view *v = mig__view_find(d, l);
	struct settle *st;

	if (v == NULL || v->ending) {
		fn(arg, v == NULL);
		return;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		fn(arg, 1);
		return;
	}
	st->job = job;
	st->fn = fn;
	st->arg = arg;
	TAILQ_INSERT_TAIL(&v->settles, st, entry);
	/* Neighbours' requests count too, as in home's count. */
	mig__log(MIG_LOG_DEBUG, "served view: %llu FUSE requests since the "
	    "last job's end", (unsigned long long)(v->fuse_reqs - v->fuse_logged));
	v->fuse_logged = v->fuse_reqs;
	/* Held while the puts start: none that ends at once is the last. */
	st->pending = 1;
	mig__nodes_settle(v, st);
	settle_put(v, st);
}

int
mig__view_tmpfile(struct view *v)
{
	const char *dir = v->d->fs_host->tmpdir;
	char path[PATH_MAX];
	int fd;

	if ((fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) >= 0)
		return fd;
	snprintf(path, sizeof(path), "%s/.view-XXXXXX", dir);
	if ((fd = mkostemp(path, O_CLOEXEC)) >= 0)
		unlink(path);
	return fd;
}
