/*
 * wire.c: the served view's requests, as home reads them, and the
 * attributes of a served file, as home sends them and the host reads them
 * (fs.h). Files of home's user are marked as such rather than sent by
 * number, since the user's uid on a host may differ.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "mig/proto.h"

/* A path from a request: absolute, NUL-free, under PATH_MAX. */
static int
get_path(struct mig_rd *rd, char **p)
{
	int r;

	if ((r = proto_get_str(rd, p)) != 0)
		return r;
	if ((*p)[0] != '/' || strlen(*p) >= PATH_MAX) {
		free(*p);
		*p = NULL;
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
	memset(q, 0, sizeof(*q));
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
