/*
 * wire.c: the served view's requests, as home reads them, its answers,
 * as a host reads them, and the attributes of a served file, as home
 * sends them and the host reads them (fs.h). Files of home's user are
 * marked as such rather than sent by number, since the user's uid on a
 * host may differ.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "mig/proto.h"

/* Whether absolute path p is "/" or names each folder once: no empty,
 * "." or ".." component, no '/' at the end. A view asks only such paths;
 * home's checks of where a path leads (serve.c) rely on it. */
static int
canonical(const char *p)
{
	size_t n;

	if (strcmp(p, "/") == 0)
		return 1;
	for (; *p == '/'; p += 1 + n) {
		n = strcspn(p + 1, "/");
		if (n == 0 || (n == 1 && p[1] == '.') ||
		    (n == 2 && p[1] == '.' && p[2] == '.'))
			return 0;
	}
	return 1;
}

int
mig__path_folder(const char *path, char *buf, size_t size)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL)
		return EINVAL;
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= size)
		return ENAMETOOLONG;
	memcpy(buf, path, n);
	buf[n] = '\0';
	return 0;
}

/* A path from a request: absolute, canonical, NUL-free, under PATH_MAX. */
static int
get_path(struct mig_rd *rd, char **p)
{
	int r;

	if ((r = proto_get_str(rd, p)) != 0)
		return r;
	if ((*p)[0] != '/' || strlen(*p) >= PATH_MAX || !canonical(*p)) {
		free(*p);
		*p = NULL;
		return MIG_EPROTO;
	}
	return 0;
}

/* PUT_BATCH's files: 1 to MIG_FS_BATCH_FILES, each of a clean path and
 * at most MIG_FS_BATCH_FILE bytes. */
static int
get_batch(struct mig_rd *rd, struct mig_fs_req *q)
{
	struct mig_fs_putfile *f;
	uint32_t n;
	int r;

	if ((r = proto_get_u32(rd, &n)) != 0)
		return r;
	if (n == 0 || n > MIG_FS_BATCH_FILES)
		return MIG_EPROTO;
	if ((q->files = calloc(n, sizeof(*q->files))) == NULL)
		return MIG__ERR(ENOMEM);
	for (uint32_t i = 0; i < n; i++) {
		f = &q->files[i];
		if ((r = get_path(rd, &f->path)) != 0)
			return r;
		q->nfiles++;
		if ((r = proto_get_u32(rd, &f->mode)) != 0 ||
		    (r = proto_get_bytes(rd, &f->data, &f->ndata)) != 0)
			return r;
		if (f->ndata > MIG_FS_BATCH_FILE)
			return MIG_EPROTO;
	}
	return 0;
}

/* The fields of each op, in the order of the table in fs.h. */
static int
get_fields(struct mig_rd *rd, struct mig_fs_req *q)
{
	int r;

	switch (q->op) {
	case MIG_FS_LSTAT:
	case MIG_FS_READLINK:
	case MIG_FS_OPEN:
	case MIG_FS_UNLINK:
	case MIG_FS_RMDIR:
		return get_path(rd, &q->path);
	case MIG_FS_READDIR:
		if ((r = get_path(rd, &q->path)) != 0)
			return r;
		return proto_get_u32(rd, &q->first);
	case MIG_FS_FETCH:
		if ((r = get_path(rd, &q->path)) != 0 ||
		    (r = proto_get_bytes(rd, &q->data, &q->ndata)) != 0 ||
		    (r = proto_get_u64(rd, &q->off)) != 0 ||
		    (r = proto_get_u32(rd, &q->len)) != 0)
			return r;
		return q->ndata != MIG_HASH_BYTES || q->len > MIG_FS_CHUNK ||
		    q->off > INT64_MAX ? MIG_EPROTO : 0;
	case MIG_FS_MKDIR:
	case MIG_FS_PUT_BEGIN:
		if ((r = get_path(rd, &q->path)) != 0)
			return r;
		return proto_get_u32(rd, &q->mode);
	case MIG_FS_RENAME:
		if ((r = get_path(rd, &q->path)) != 0 ||
		    (r = get_path(rd, &q->to)) != 0)
			return r;
		return proto_get_u32(rd, &q->flags);
	case MIG_FS_SYMLINK:
		/* The target is any string, relative or not. */
		if ((r = proto_get_str(rd, &q->target)) != 0)
			return r;
		return get_path(rd, &q->path);
	case MIG_FS_LINK:
		if ((r = get_path(rd, &q->path)) != 0)
			return r;
		return get_path(rd, &q->to);
	case MIG_FS_CREATE:
		if ((r = get_path(rd, &q->path)) != 0 ||
		    (r = proto_get_u32(rd, &q->mode)) != 0)
			return r;
		return proto_get_u32(rd, &q->excl);
	case MIG_FS_SETATTR:
		if ((r = get_path(rd, &q->path)) != 0 ||
		    (r = proto_get_u32(rd, &q->what)) != 0 ||
		    (r = proto_get_u32(rd, &q->mode)) != 0 ||
		    (r = proto_get_u64(rd, &q->size)) != 0 ||
		    (r = proto_get_u64(rd, &q->asec)) != 0 ||
		    (r = proto_get_u32(rd, &q->ansec)) != 0 ||
		    (r = proto_get_u64(rd, &q->msec)) != 0 ||
		    (r = proto_get_u32(rd, &q->mnsec)) != 0)
			return r;
		return q->size > INT64_MAX || q->ansec >= 1000000000u ||
		    q->mnsec >= 1000000000u ? MIG_EPROTO : 0;
	case MIG_FS_PUT_DATA:
		if ((r = proto_get_u32(rd, &q->handle)) != 0)
			return r;
		return proto_get_bytes(rd, &q->data, &q->ndata);
	case MIG_FS_PUT_COMMIT:
		return proto_get_u32(rd, &q->handle);
	case MIG_FS_PUT_BATCH:
		return get_batch(rd, q);
	default:
		return MIG_EPROTO;
	}
}

int
mig__fs_req_parse(uint16_t op, const uint8_t *p, size_t n,
    struct mig_fs_req *q)
{
	struct mig_rd rd;
	int r;

	memset(q, 0, sizeof(*q));
	q->op = op;
	proto_rd_init(&rd, p, n);
	if ((r = get_fields(&rd, q)) != 0 || (r = proto_rd_done(&rd)) != 0) {
		mig__fs_req_free(q);
		return r;
	}
	return 0;
}

void
mig__fs_req_free(struct mig_fs_req *q)
{
	if (q == NULL)
		return;
	free(q->path);
	free(q->to);
	free(q->target);
	for (size_t i = 0; i < q->nfiles; i++)
		free(q->files[i].path);
	free(q->files);
	memset(q, 0, sizeof(*q));
}

/* READDIR's entries and eof. */
static int
get_dir(struct mig_rd *rd, struct mig_fs_rep *a)
{
	struct mig_fs_dirent *e;
	uint32_t n;
	int r;

	if ((r = proto_get_u32(rd, &n)) != 0)
		return r;
	/* Each entry takes at least 16 bytes: a count larger than the bytes
	 * left is malformed, whatever the allocator would say. */
	if (n > (rd->len - rd->off) / 16)
		return MIG_EPROTO;
	if (n > 0 && (a->ents = calloc(n, sizeof(*a->ents))) == NULL)
		return MIG__ERR(ENOMEM);
	for (uint32_t i = 0; i < n; i++) {
		e = &a->ents[i];
		if ((r = proto_get_str(rd, &e->name)) != 0)
			return r;
		a->nents++;
		if ((r = proto_get_u32(rd, &e->type)) != 0 ||
		    (r = proto_get_u64(rd, &e->ino)) != 0)
			return r;
		if (strchr(e->name, '/') != NULL)
			return MIG_EPROTO;
	}
	return proto_get_u32(rd, &a->eof);
}

/* PUT_BATCH's answer: each file's errno, and attributes when 0. */
static int
get_puts(struct mig_rd *rd, struct mig_fs_rep *a, uid_t uid, gid_t gid)
{
	struct mig_fs_putrep *p;
	uint32_t n;
	int r;

	if ((r = proto_get_u32(rd, &n)) != 0)
		return r;
	if (n == 0 || n > MIG_FS_BATCH_FILES)
		return MIG_EPROTO;
	if ((a->puts = calloc(n, sizeof(*a->puts))) == NULL)
		return MIG__ERR(ENOMEM);
	a->nputs = n;
	for (uint32_t i = 0; i < n; i++) {
		p = &a->puts[i];
		if ((r = proto_get_u32(rd, &p->err)) != 0)
			return r;
		if (p->err == 0 &&
		    (r = mig__fs_get_attr(rd, &p->attr, uid, gid)) != 0)
			return r;
	}
	return 0;
}

int
mig__fs_op_folder(uint16_t op, uint32_t proto)
{
	if (proto < MIG_PROTO_FOLDER)
		return 0;
	switch (op) {
	case MIG_FS_MKDIR:
	case MIG_FS_UNLINK:
	case MIG_FS_RMDIR:
	case MIG_FS_SYMLINK:
	case MIG_FS_LINK:
	case MIG_FS_CREATE:
		return 1;
	}
	return 0;
}

/* A change's answer over protocol 6: the attributes (when the op has
 * them), then the folder's errno and, when 0, its attributes. */
static int
get_change(struct mig_rd *rd, struct mig_fs_rep *a, uid_t uid, gid_t gid)
{
	int r;

	if (a->op != MIG_FS_UNLINK && a->op != MIG_FS_RMDIR &&
	    (r = mig__fs_get_attr(rd, &a->attr, uid, gid)) != 0)
		return r;
	a->has_folder = 1;
	if ((r = proto_get_u32(rd, &a->folder_err)) != 0)
		return r;
	if (a->folder_err == 0 &&
	    (r = mig__fs_get_attr(rd, &a->folder, uid, gid)) != 0)
		return r;
	return proto_rd_done(rd);
}

/* What follows a 0 errno, in the order of the table in fs.h (op is
 * one of them). */
static int
get_answer(struct mig_rd *rd, struct mig_fs_rep *a, uint32_t proto,
    uid_t uid, gid_t gid)
{
	size_t n;
	int r;

	if (mig__fs_op_folder(a->op, proto))
		return get_change(rd, a, uid, gid);
	switch (a->op) {
	case MIG_FS_LSTAT:
	case MIG_FS_MKDIR:
	case MIG_FS_SYMLINK:
	case MIG_FS_LINK:
	case MIG_FS_CREATE:
	case MIG_FS_SETATTR:
	case MIG_FS_PUT_COMMIT:
		/* Not checked for an end: the host never did. */
		return mig__fs_get_attr(rd, &a->attr, uid, gid);
	case MIG_FS_PUT_DATA:
		/* Only a failure matters; the commit says it. */
		return 0;
	case MIG_FS_READDIR:
		if ((r = get_dir(rd, a)) != 0)
			return r;
		break;
	case MIG_FS_READLINK:
		if ((r = proto_get_str(rd, &a->target)) != 0)
			return r;
		if (strlen(a->target) >= PATH_MAX)
			return MIG_EPROTO;
		break;
	case MIG_FS_OPEN:
		if ((r = mig__fs_get_attr(rd, &a->attr, uid, gid)) != 0 ||
		    (r = proto_get_bytes(rd, &a->key, &n)) != 0)
			return r;
		if (n != MIG_HASH_BYTES)
			return MIG_EPROTO;
		break;
	case MIG_FS_FETCH:
		if ((r = proto_get_bytes(rd, &a->data, &a->ndata)) != 0)
			return r;
		if (a->ndata > MIG_FS_CHUNK)
			return MIG_EPROTO;
		break;
	case MIG_FS_PUT_BEGIN:
		if ((r = proto_get_u32(rd, &a->handle)) != 0)
			return r;
		break;
	case MIG_FS_PUT_BATCH:
		if ((r = get_puts(rd, a, uid, gid)) != 0)
			return r;
		break;
	case MIG_FS_UNLINK:
	case MIG_FS_RMDIR:
	case MIG_FS_RENAME:
		break;
	}
	return proto_rd_done(rd);
}

int
mig__fs_rep_parse(uint16_t op, uint32_t proto, const uint8_t *p,
    size_t n, uid_t uid, gid_t gid, struct mig_fs_rep *a)
{
	struct mig_rd rd;
	int r;

	memset(a, 0, sizeof(*a));
	a->op = op;
	proto_rd_init(&rd, p, n);
	if (op == 0 || op >= MIG_FS__COUNT)
		r = MIG_EPROTO;
	else if ((r = proto_get_u32(&rd, &a->err)) == 0)
		r = a->err != 0 ? proto_rd_done(&rd) :
		    get_answer(&rd, a, proto, uid, gid);
	if (r != 0)
		mig__fs_rep_free(a);
	return r;
}

void
mig__fs_rep_free(struct mig_fs_rep *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->nents; i++)
		free(a->ents[i].name);
	free(a->ents);
	free(a->target);
	free(a->puts);
	memset(a, 0, sizeof(*a));
}

static uint64_t
mix_ino(dev_t dev, ino_t ino)
{
	return (uint64_t)ino ^ ((uint64_t)dev * 0x9e3779b97f4a7c15ull);
}

int
mig__fs_put_attr(struct mig_buf *b, const struct stat *st, uid_t uid,
    gid_t gid)
{
	const struct timespec *t[3] = { &st->st_atim, &st->st_mtim,
		&st->st_ctim };
	uint32_t own = (st->st_uid == uid) | (st->st_gid == gid) << 1;
	int r;

	if ((r = proto_put_u32(b, (uint32_t)st->st_mode)) != 0 ||
	    (r = proto_put_u32(b, (uint32_t)st->st_nlink)) != 0 ||
	    (r = proto_put_u32(b, (uint32_t)st->st_uid)) != 0 ||
	    (r = proto_put_u32(b, (uint32_t)st->st_gid)) != 0 ||
	    (r = proto_put_u32(b, own)) != 0 ||
	    (r = proto_put_u64(b, (uint64_t)st->st_size)) != 0 ||
	    (r = proto_put_u64(b, (uint64_t)st->st_blocks)) != 0 ||
	    (r = proto_put_u64(b, mix_ino(st->st_dev, st->st_ino))) != 0 ||
	    (r = proto_put_u64(b, (uint64_t)st->st_rdev)) != 0)
		return r;
	for (int i = 0; i < 3; i++)
		if ((r = proto_put_u64(b, (uint64_t)t[i]->tv_sec)) != 0 ||
		    (r = proto_put_u32(b, (uint32_t)t[i]->tv_nsec)) != 0)
			return r;
	return 0;
}

int
mig__fs_get_attr(struct mig_rd *r, struct stat *st, uid_t uid, gid_t gid)
{
	struct timespec *t[3] = { &st->st_atim, &st->st_mtim, &st->st_ctim };
	uint32_t mode, nlink, u, g, own;
	uint64_t size, blocks, ino, rdev, sec;
	uint32_t nsec;

	memset(st, 0, sizeof(*st));
	if (proto_get_u32(r, &mode) != 0 || proto_get_u32(r, &nlink) != 0 ||
	    proto_get_u32(r, &u) != 0 || proto_get_u32(r, &g) != 0 ||
	    proto_get_u32(r, &own) != 0 || proto_get_u64(r, &size) != 0 ||
	    proto_get_u64(r, &blocks) != 0 || proto_get_u64(r, &ino) != 0 ||
	    proto_get_u64(r, &rdev) != 0)
		return MIG_EPROTO;
	for (int i = 0; i < 3; i++) {
		if (proto_get_u64(r, &sec) != 0 || proto_get_u32(r, &nsec) != 0 ||
		    nsec >= 1000000000u)
			return MIG_EPROTO;
		t[i]->tv_sec = (time_t)sec;
		t[i]->tv_nsec = (long)nsec;
	}
	if (size > INT64_MAX)
		return MIG_EPROTO;
	st->st_mode = (mode_t)mode;
	st->st_nlink = (nlink_t)nlink;
	st->st_uid = (own & 1) ? uid : (uid_t)u;
	st->st_gid = (own & 2) ? gid : (gid_t)g;
	st->st_size = (off_t)size;
	st->st_blocks = (blkcnt_t)blocks;
	st->st_ino = (ino_t)ino;
	st->st_rdev = (dev_t)rdev;
	st->st_blksize = 4096;
	return 0;
}
