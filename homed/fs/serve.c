/*
 * serve.c: the fs role's home half. A host that runs one of our jobs in
 * a served view (view.c there) asks for the files of this host by path
 * (MIG_M_FS_REQ, ops in fs.h) and gets one MIG_M_FS_REP per request, in
 * order. Reads answer with attributes and, for a file being opened, its
 * hash (hashdb.c computes it once per version of a file); contents go by
 * hash and offset. Writes are done here too (write.c), by this daemon,
 * with this host's clock. prime.c tells a host what a job will need
 * before its EXEC; lanes.c, below both, keeps each link's lane and what
 * each host said.
 *
 * Hashing a file not hashed yet (the first open of cc1 reads tens of
 * MB) runs on libuv's thread pool; the link's later requests wait for
 * it, so each link's answers keep the order of its requests. The other
 * calls run on the loop, each bounded by a chunk or a page.
 *
 * A malformed request fails its link, with a log line.
 *
 * Who may ask (docs/security.md, "Served files"): only a link over which
 * this home placed a job, to a host that said it serves (MIG_M_FS_MODE);
 * any other link's requests are refused with EACCES and one log line.
 * Nothing under /proc, /sys or /dev is answered (the view has the host's
 * own there), and only regular files outside the kernel's file systems
 * are opened or fetched: /proc/self/mem is this daemon's memory, with
 * the session keys of its other links. A FETCH is answered only for the
 * hash this home computed for the file as it is now.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "home.h"

/* An OPEN or FETCH whose file is hashed on the thread pool. */
struct hashwork {
	uv_work_t req;
	struct fs_home *h;
	struct lane *lane;
	uint16_t op;
	uint32_t stream;
	uint8_t want[MIG_HASH_BYTES]; /* FETCH: the hash asked for */
	uint64_t off;        /* FETCH */
	uint32_t len;        /* FETCH */
	int fd;
	struct stat st;      /* before, then as hashed */
	uint8_t key[MIG_HASH_BYTES];
	struct mig_hashdb_done done;
	int r;
};

#define HASHDB_MAX 65536
/* What a READDIR answer may hold, under MIG_FRAME_MAX. */
#define DIR_REPLY_MAX (MIG_FRAME_MAX - 4096)
/* An op's answer comes later (h->later). */
#define LATER (-2)

/* An op on a request that parsed (mig__fs_req_parse): 0, an errno for
 * the answer, or LATER. */
typedef int op_fn(struct fs_home *h, struct link *l,
    const struct mig_fs_req *q, struct mig_buf *out);

static int
op_lstat(struct fs_home *h, struct link *l, const struct mig_fs_req *q,
    struct mig_buf *out)
{
	return mig__fs_put_lstat(q->path, out);
}

static int
op_write(struct fs_home *h, struct link *l, const struct mig_fs_req *q,
    struct mig_buf *out)
{
	return mig__fs_write(h->puts, l, q, out);
}

static int
op_readdir(struct fs_home *h, struct link *l, const struct mig_fs_req *q,
    struct mig_buf *out)
{
	uint32_t n = 0, i = 0, eof = 1;
	struct dirent *de;
	size_t at;
	DIR *dir;
	int e = 0;

	if ((dir = opendir(q->path)) == NULL)
		return errno;
	at = out->len;
	if (proto_put_u32(out, 0) != 0) {
		e = ENOMEM;
		goto out;
	}
	while ((de = readdir(dir)) != NULL) {
		if (i++ < q->first)
			continue;
		if (out->len + strlen(de->d_name) + 32 > DIR_REPLY_MAX) {
			eof = 0;
			break;
		}
		if (proto_put_str(out, de->d_name) != 0 ||
		    proto_put_u32(out, de->d_type) != 0 ||
		    proto_put_u64(out, de->d_ino) != 0) {
			e = ENOMEM;
			goto out;
		}
		n++;
	}
	for (int k = 0; k < 4; k++)
		out->data[at + k] = (uint8_t)(n >> (8 * k));
	if (proto_put_u32(out, eof) != 0)
		e = ENOMEM;
 out:
	closedir(dir);
	return e;
}

static int
op_readlink(struct fs_home *h, struct link *l, const struct mig_fs_req *q,
    struct mig_buf *out)
{
	char target[PATH_MAX];
	ssize_t n;

	if ((n = readlink(q->path, target, sizeof(target) - 1)) == -1)
		return errno;
	return proto_put_bytes(out, target, (size_t)n) != 0 ? ENOMEM : 0;
}

static int put_opened(struct mig_buf *out, int fd,
    const uint8_t key[MIG_HASH_BYTES]);
static int put_fetched(struct mig_buf *out, int fd,
    const uint8_t key[MIG_HASH_BYTES], const uint8_t want[MIG_HASH_BYTES],
    uint64_t off, uint32_t len);

/* The kernel's file systems, where a path (also one that reaches them
 * through a symbolic link) names no file of the user's. */
static int
kernel_fs(int fd)
{
	static const long types[] = { PROC_SUPER_MAGIC, SYSFS_MAGIC,
		DEBUGFS_MAGIC, TRACEFS_MAGIC, SECURITYFS_MAGIC, BPF_FS_MAGIC,
		CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, DEVPTS_SUPER_MAGIC };
	struct statfs sf;

	if (fstatfs(fd, &sf) == -1)
		return 1;
	for (size_t i = 0; i < sizeof(types) / sizeof(*types); i++)
		if ((long)sf.f_type == types[i])
			return 1;
	return 0;
}

/* Whether canonical path is under /proc, /sys or /dev: the view has the
 * host's own there and never asks (view.c binds them). */
static int
kernel_path(const char *path)
{
	static const char *const dirs[] = { "/proc/", "/sys/", "/dev/" };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(*dirs); i++)
		if (strncmp(path, dirs[i], strlen(dirs[i])) == 0)
			return 1;
	return 0;
}

/* Opens path for OPEN or FETCH: a regular file, not a symbolic link, on
 * none of the kernel's file systems. 0 or an errno. */
static int
open_served(const char *path, int *fdp, struct stat *st)
{
	int fd, e = 0;

	*fdp = -1;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return errno;
	if (fstat(fd, st) == -1)
		e = errno;
	else if (!S_ISREG(st->st_mode))
		e = EINVAL;
	else if (kernel_fs(fd))
		e = EACCES;
	if (e != 0) {
		mig__close(fd);
		return e;
	}
	*fdp = fd;
	return 0;
}

/* The file on fd is hashed on the thread pool; the op answers after. */
static int
hash_later(struct fs_home *h, const struct mig_fs_req *q, int fd,
    const struct stat *st)
{
	if ((h->later = calloc(1, sizeof(*h->later))) == NULL)
		return ENOMEM;
	h->later->op = q->op;
	h->later->fd = fd;
	h->later->st = *st;
	if (q->op == MIG_FS_FETCH) {
		memcpy(h->later->want, q->data, MIG_HASH_BYTES);
		h->later->off = q->off;
		h->later->len = q->len;
	}
	return LATER;
}

static int
op_open(struct fs_home *h, struct link *l, const struct mig_fs_req *q,
    struct mig_buf *out)
{
	uint8_t key[MIG_HASH_BYTES];
	struct stat st;
	int fd = -1, e;

	if ((e = open_served(q->path, &fd, &st)) != 0)
		return e;
	if (mig__hashdb_peek(h->db, &st, key) != 0) {
		if ((e = hash_later(h, q, fd, &st)) == LATER)
			return LATER;
	} else {
		e = put_opened(out, fd, key);
	}
	mig__close(fd);
	return e;
}

/* OPEN's answer: the attributes of the version hashed (a change since is
 * a new version, which the host's next open sees) and its hash. */
static int
put_opened(struct mig_buf *out, int fd, const uint8_t key[MIG_HASH_BYTES])
{
	struct stat st;

	if (fstat(fd, &st) == -1)
		return errno;
	if (mig__fs_put_attr(out, &st, getuid(), getgid()) != 0 ||
	    proto_put_bytes(out, key, MIG_HASH_BYTES) != 0)
		return ENOMEM;
	return 0;
}

/* FETCH's answer: len bytes at off of the file on fd, whose hash is
 * key, if that is the hash asked for (want); ESTALE if the file changed
 * since. The host checks the content against want as well. */
static int
put_fetched(struct mig_buf *out, int fd, const uint8_t key[MIG_HASH_BYTES],
    const uint8_t want[MIG_HASH_BYTES], uint64_t off, uint32_t len)
{
	size_t at = out->len;
	ssize_t n;

	if (memcmp(key, want, MIG_HASH_BYTES) != 0)
		return ESTALE;
	if (proto_put_u32(out, 0) != 0 || mig_buf_reserve(out, len) != 0)
		return ENOMEM;
	if ((n = pread(fd, out->data + out->len, len, (off_t)off)) == -1)
		return errno;
	out->len += (size_t)n;
	for (int k = 0; k < 4; k++)
		out->data[at + k] = (uint8_t)((uint32_t)n >> (8 * k));
	return 0;
}

static int
op_fetch(struct fs_home *h, struct link *l, const struct mig_fs_req *q,
    struct mig_buf *out)
{
	uint8_t key[MIG_HASH_BYTES];
	struct stat st;
	int fd = -1, e;

	if ((e = open_served(q->path, &fd, &st)) != 0)
		return e;
	/* A hash not kept (the file changed within the clock's tick, or
	 * the table let it go) is computed again, off the loop. */
	if (mig__hashdb_peek(h->db, &st, key) != 0) {
		if ((e = hash_later(h, q, fd, &st)) == LATER)
			return LATER;
	} else {
		e = put_fetched(out, fd, key, q->data, q->off, q->len);
	}
	mig__close(fd);
	return e;
}

/* PUT_BATCH: each file put as PUT_BEGIN to PUT_COMMIT would, with the
 * same refusal of the kernel's files; one errno (and attributes) per
 * file, in order. */
static int
op_put_batch(struct fs_home *h, struct link *l, const struct mig_fs_req *q,
    struct mig_buf *out)
{
	const struct mig_fs_putfile *f;
	size_t at;
	int e;

	if (proto_put_u32(out, (uint32_t)q->nfiles) != 0)
		return ENOMEM;
	mig__log(MIG_LOG_DEBUG, "link %s: a batch of %zu files", l->desc,
	    q->nfiles);
	for (size_t i = 0; i < q->nfiles; i++) {
		f = &q->files[i];
		at = out->len;
		if (proto_put_u32(out, 0) != 0)
			return ENOMEM;
		e = kernel_path(f->path) ? EACCES :
		    mig__fs_put_whole(f->path, f->mode, f->data, f->ndata, out);
		if (e != 0) {
			out->len = at;
			if (proto_put_u32(out, (uint32_t)e) != 0)
				return ENOMEM;
		} else {
			mig__log(MIG_LOG_DEBUG, "link %s: put %s", l->desc,
			    f->path);
		}
	}
	return 0;
}

static op_fn *const ops[MIG_FS__COUNT] = {
	[MIG_FS_LSTAT] = op_lstat,
	[MIG_FS_READDIR] = op_readdir,
	[MIG_FS_READLINK] = op_readlink,
	[MIG_FS_OPEN] = op_open,
	[MIG_FS_FETCH] = op_fetch,
	[MIG_FS_MKDIR] = op_write,
	[MIG_FS_UNLINK] = op_write,
	[MIG_FS_RMDIR] = op_write,
	[MIG_FS_RENAME] = op_write,
	[MIG_FS_SYMLINK] = op_write,
	[MIG_FS_LINK] = op_write,
	[MIG_FS_CREATE] = op_write,
	[MIG_FS_SETATTR] = op_write,
	[MIG_FS_PUT_BEGIN] = op_write,
	[MIG_FS_PUT_DATA] = op_write,
	[MIG_FS_PUT_COMMIT] = op_write,
	[MIG_FS_PUT_BATCH] = op_put_batch,
};

static void
send_answer(struct link *l, uint16_t op, uint32_t stream, struct mig_buf *out,
    int e)
{
	if (e != 0) {
		out->len = 0;
		proto_put_u32(out, (uint32_t)e);
	}
	mig__link_send(l, MIG_M_FS_REP, op, stream, out->data, out->len);
}

static void
work_hash(uv_work_t *req)
{
	struct hashwork *w = req->data;

	w->r = mig__hashdb_compute(w->h->db, w->fd, &w->st, w->key, &w->done);
}

static void serve(struct fs_home *h, struct lane *ln,
    const struct mig_frame *f);

static void
after_hash(uv_work_t *req, int status)
{
	struct hashwork *w = req->data;
	struct fs_home *h = w->h;
	struct lane *ln = w->lane;
	struct mig_buf out = { NULL, 0, 0 };
	struct mig_frame f;
	int e;

	if (w->r == 0)
		mig__hashdb_keep(h->db, &w->st, w->key, &w->done);
	if (ln->link != NULL) {
		if (proto_put_u32(&out, 0) != 0)
			e = ENOMEM;
		else if (w->r != 0)
			e = w->r < 0 && w->r > -4096 ? -w->r : EIO;
		else if (w->op == MIG_FS_FETCH)
			e = put_fetched(&out, w->fd, w->key, w->want, w->off,
			    w->len);
		else
			e = put_opened(&out, w->fd, w->key);
		send_answer(ln->link, w->op, w->stream, &out, e);
	}
	mig_buf_free(&out);
	mig__close(w->fd);
	free(w);
	ln->busy = 0;
	if (ln->link == NULL) {
		mig__lane_free(h, ln);
		return;
	}
	/* The requests that waited, in order, until one waits again. */
	while (!ln->busy && ln->link != NULL && ln->held.len > 0 &&
	    mig_frame_decode(ln->held.data, ln->held.len, &f) == 0) {
		serve(h, ln, &f);
		mig_buf_consume(&ln->held, MIG_FRAME_HDR + f.len);
	}
}

/* What the view looks up or opens is what its jobs need; what it makes
 * and removes tells learn.c which of those the kernel may still hold. */
static void
learn_from(struct link *l, const struct mig_fs_req *q)
{
	switch (q->op) {
	case MIG_FS_LSTAT:
	case MIG_FS_READLINK:
	case MIG_FS_OPEN:
		mig__learn_seen(l->d, l, q->path, LEARN_USED);
		break;
	case MIG_FS_CREATE:
	case MIG_FS_MKDIR:
	case MIG_FS_SYMLINK:
		mig__learn_seen(l->d, l, q->path, LEARN_MADE);
		break;
	case MIG_FS_LINK:
		mig__learn_seen(l->d, l, q->to, LEARN_MADE);
		break;
	case MIG_FS_UNLINK:
	case MIG_FS_RMDIR:
		mig__learn_seen(l->d, l, q->path, LEARN_GONE);
		break;
	case MIG_FS_RENAME:
		/* Exchanged, both names stay. */
		mig__learn_seen(l->d, l, q->path,
		    (q->flags & RENAME_EXCHANGE) ? LEARN_NONE : LEARN_GONE);
		break;
	default:
		mig__learn_seen(l->d, l, NULL, LEARN_NONE);
		break;
	}
}

static void
serve(struct fs_home *h, struct lane *ln, const struct mig_frame *f)
{
	struct link *l = ln->link;
	struct mig_buf out = { NULL, 0, 0 };
	struct mig_fs_req q;
	int e, kernel;

	if (mig__fs_req_parse(f->flags, f->payload, f->len, &q) != 0) {
		/* Counted all the same (mig__fs_mark). */
		mig__learn_seen(l->d, l, NULL, LEARN_NONE);
		mig__log(MIG_LOG_WARN, "link %s: malformed fs request (op %u)",
		    l->desc, f->flags);
		mig__link_fail(l, MIG_EPROTO, "malformed fs request");
		return;
	}
	mig__log(MIG_LOG_DEBUG, "link %s: fs request %u %s", l->desc,
	    f->flags, q.path != NULL ? q.path : "");
	kernel = (q.path != NULL && kernel_path(q.path)) ||
	    (q.to != NULL && kernel_path(q.to));
	if (kernel)
		mig__learn_seen(l->d, l, NULL, LEARN_NONE);
	else
		learn_from(l, &q);
	if (proto_put_u32(&out, 0) != 0) {
		mig__link_fail(l, MIG__ERR(ENOMEM), "out of memory");
		mig__fs_req_free(&q);
		return;
	}
	if (kernel) {
		if (!(ln->warned & 2))
			mig__log(MIG_LOG_WARN, "link %s: refusing %s: the "
			    "kernel's files are not served", l->desc, q.path);
		ln->warned |= 2;
		e = EACCES;
	} else {
		e = ops[f->flags](h, l, &q, &out);
	}
	if (e == LATER) {
		h->later->h = h;
		h->later->lane = ln;
		h->later->stream = f->stream;
		h->later->req.data = h->later;
		ln->busy = 1;
		uv_queue_work(l->d->loop, &h->later->req, work_hash,
		    after_hash);
		h->later = NULL;
	} else {
		send_answer(l, f->flags, f->stream, &out, e);
	}
	mig_buf_free(&out);
	mig__fs_req_free(&q);
}

static void
on_fs_req(struct link *l, const struct mig_frame *f)
{
	struct fs_home *h = l->d->fs_home;
	struct mig_buf out = { NULL, 0, 0 };
	struct lane *ln;

	/* A link of protocol 4 has no PUT_BATCH, as a build of 4 has not. */
	if (f->flags == 0 || f->flags >= MIG_FS__COUNT || h == NULL ||
	    (f->flags == MIG_FS_PUT_BATCH && l->proto < MIG_PROTO_BATCH)) {
		mig__link_fail(l, MIG_EPROTO, "fs request with unknown op %u",
		    f->flags);
		return;
	}
	if ((ln = mig__lane_of(h, l)) == NULL) {
		mig__link_fail(l, MIG__ERR(ENOMEM), "out of memory");
		return;
	}
	/* A host sends its FS_MODE at link up, before any request. */
	if (!ln->placed || !mig__fs_serves(h, l->peer)) {
		if (!(ln->warned & 1))
			mig__log(MIG_LOG_WARN, "link %s: refusing its fs "
			    "requests: no job of ours runs there in a served "
			    "view", l->desc);
		ln->warned |= 1;
		send_answer(l, f->flags, f->stream, &out, EACCES);
		mig_buf_free(&out);
		return;
	}
	if (!ln->busy)
		serve(h, ln, f);
	else if (mig_frame_put(&ln->held, f->type, f->flags, f->stream,
	    f->payload, f->len) != 0)
		mig__link_fail(l, MIG__ERR(ENOMEM), "out of memory");
}

/* A host that goes away leaves no temporary files behind. */
static void
on_link_down(struct link *l, int code, const char *why)
{
	struct fs_home *h = l->d->fs_home;
	struct lane *ln, *lnext;

	mig__fs_puts_link_down(h->puts, l);
	/* A lane whose hash still runs goes when it is done. */
	TAILQ_FOREACH_SAFE(ln, &h->lanes, entry, lnext)
		if (ln->link == l) {
			ln->link = NULL;
			if (!ln->busy)
				mig__lane_free(h, ln);
		}
	mig__learn_link_down(l->d, l);
}

void
mig__fs_home_init(struct homed *d)
{
	static const struct watcher w = { .link_down = on_link_down };
	struct fs_home *h;

	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->puts = mig__fs_puts_new()) == NULL ||
	    mig__hashdb_new(HASHDB_MAX, NULL, &h->db) != 0)
		mig__die(1, "out of memory");
	TAILQ_INIT(&h->lanes);
	h->d = d;
	d->fs_home = h;
	mig__on_link_frame(d, MIG_M_FS_REQ, on_fs_req);
	mig__on_link_frame(d, MIG_M_FS_MODE, mig__on_fs_mode);
	mig__on_link_frame(d, MIG_M_FS_TALLY, mig__on_fs_tally);
	mig__watch(d, &w);
}

void
mig__fs_home_free(struct homed *d)
{
	struct fs_home *h = d->fs_home;

	if (h == NULL)
		return;
	mig__fs_puts_free(h->puts);
	/* The loop has run out: no hash is under way. */
	while (!TAILQ_EMPTY(&h->lanes))
		mig__lane_free(h, TAILQ_FIRST(&h->lanes));
	mig__hashdb_free(h->db);
	mig__learn_free(d);
	free(h->files);
	free(h);
	d->fs_home = NULL;
}
