/*
 * fuzz_fsrep.c: what home answers a host's served view (MIG_M_FS_REP),
 * as the host reads it: mig__fs_rep_parse, the step view.c runs before
 * any of fuse.c's callbacks sees an answer. The input's first byte is
 * the op of the request answered (its high bit: over protocol 6, where a
 * change's answer ends with its folder's state; else over 5), the rest
 * the answer's payload.
 *
 * An answer that parses holds what fs.h's table says: names without a
 * '/', a target under PATH_MAX, a key, data and entries inside the
 * payload, and nothing an op does not carry. Written out again from its
 * fields (home's mig__fs_put_attr for the attributes) it is the payload
 * it was read from, byte for byte, once the owner fields are as the
 * host's user sees them; where the host reads no further than the
 * attributes or the errno, it is the payload's start. One that does not
 * parse holds nothing.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "fuzz.h"
#include "fs.h"
#include "mig/proto.h"

/* The host's user, whom home's own files become. */
#define UID 1000
#define GID 100

/* Bytes of an attr before its u32 uid, gid and own; bytes of an attr. */
#define ATTR_UID 8
#define ATTR_BYTES 88

static int
has_attr(uint16_t op)
{
	return op != MIG_FS_READDIR && op != MIG_FS_READLINK &&
	    op != MIG_FS_FETCH && op != MIG_FS_UNLINK && op != MIG_FS_RMDIR &&
	    op != MIG_FS_RENAME && op != MIG_FS_PUT_BEGIN &&
	    op != MIG_FS_PUT_DATA && op != MIG_FS_PUT_BATCH;
}

/* The host reads these answers only up to their attributes or errno. */
static int
open_ended(uint16_t op, uint32_t proto)
{
	return !mig__fs_op_folder(op, proto) &&
	    ((has_attr(op) && op != MIG_FS_OPEN) || op == MIG_FS_PUT_DATA);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
set32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The uid, gid and own of the attr at p as home would send them for the
 * attributes the host made of them: an owner marked as home's user is
 * the host's, and a number that is the host's user is marked. */
static void
own_as_host(uint8_t *p)
{
	uint32_t own = get32(p + 8);
	uint32_t u = own & 1 ? UID : get32(p);
	uint32_t g = own & 2 ? GID : get32(p + 4);

	set32(p, u);
	set32(p + 4, g);
	set32(p + 8, (u == UID) | (g == GID) << 1);
}

/* The answer's fields as a payload, in the order of fs.h's table. */
static int
put_rep(struct mig_buf *b, const struct mig_fs_rep *a)
{
	int r;

	if ((r = proto_put_u32(b, a->err)) != 0 || a->err != 0)
		return r;
	if (has_attr(a->op) &&
	    (r = mig__fs_put_attr(b, &a->attr, UID, GID)) != 0)
		return r;
	if (a->has_folder)
		return proto_put_u32(b, a->folder_err) ||
		    (a->folder_err == 0 &&
		    mig__fs_put_attr(b, &a->folder, UID, GID));
	switch (a->op) {
	case MIG_FS_READDIR:
		if ((r = proto_put_u32(b, (uint32_t)a->nents)) != 0)
			return r;
		for (size_t i = 0; i < a->nents; i++)
			if ((r = proto_put_str(b, a->ents[i].name)) != 0 ||
			    (r = proto_put_u32(b, a->ents[i].type)) != 0 ||
			    (r = proto_put_u64(b, a->ents[i].ino)) != 0)
				return r;
		return proto_put_u32(b, a->eof);
	case MIG_FS_READLINK:
		return proto_put_str(b, a->target);
	case MIG_FS_OPEN:
		return proto_put_bytes(b, a->key, MIG_HASH_BYTES);
	case MIG_FS_FETCH:
		return proto_put_bytes(b, a->data, a->ndata);
	case MIG_FS_PUT_BEGIN:
		return proto_put_u32(b, a->handle);
	case MIG_FS_PUT_BATCH:
		r = proto_put_u32(b, (uint32_t)a->nputs);
		for (size_t i = 0; i < a->nputs; i++)
			r = r || proto_put_u32(b, a->puts[i].err) ||
			    (a->puts[i].err == 0 &&
			    mig__fs_put_attr(b, &a->puts[i].attr, UID, GID));
		return r;
	default:
		return 0;
	}
}

static void
check_inside(const uint8_t *q, size_t len, const uint8_t *p, size_t n)
{
	CHECK(q != NULL && q >= p && len <= n && (size_t)(q - p) <= n - len);
}

/* The attributes, as mig__fs_get_attr leaves them. */
static void
check_attr(const struct stat *st)
{
	CHECK(st->st_size >= 0 && st->st_blksize == 4096 && st->st_dev == 0);
	CHECK(st->st_atim.tv_nsec < 1000000000 &&
	    st->st_mtim.tv_nsec < 1000000000 &&
	    st->st_ctim.tv_nsec < 1000000000);
}

/* What an answer with a 0 errno carries, checked, then cleared. */
static void
check_fields(struct mig_fs_rep *c, uint32_t proto, const uint8_t *p,
    size_t n)
{
	if (has_attr(c->op)) {
		check_attr(&c->attr);
		memset(&c->attr, 0, sizeof(c->attr));
	}
	/* A change's folder, over protocol 6 only. */
	CHECK(c->has_folder == mig__fs_op_folder(c->op, proto));
	if (c->has_folder && c->folder_err == 0)
		check_attr(&c->folder);
	c->has_folder = 0;
	c->folder_err = 0;
	memset(&c->folder, 0, sizeof(c->folder));
	switch (c->op) {
	case MIG_FS_OPEN:
		check_inside(c->key, MIG_HASH_BYTES, p, n);
		c->key = NULL;
		break;
	case MIG_FS_READLINK:
		CHECK(c->target != NULL && strlen(c->target) < PATH_MAX);
		c->target = NULL;
		break;
	case MIG_FS_FETCH:
		CHECK(c->ndata <= MIG_FS_CHUNK);
		check_inside(c->data, c->ndata, p, n);
		c->data = NULL;
		c->ndata = 0;
		break;
	case MIG_FS_READDIR:
		/* Past errno, count and eof: 16 bytes or more an entry. */
		CHECK(n >= 12 && c->nents <= (n - 12) / 16);
		CHECK((c->ents != NULL) == (c->nents > 0));
		for (size_t i = 0; i < c->nents; i++)
			CHECK(c->ents[i].name != NULL &&
			    strchr(c->ents[i].name, '/') == NULL &&
			    strlen(c->ents[i].name) < n);
		c->ents = NULL;
		c->nents = 0;
		c->eof = 0;
		break;
	case MIG_FS_PUT_BEGIN:
		c->handle = 0;
		break;
	case MIG_FS_PUT_BATCH:
		/* One answer a file, 1 to MIG_FS_BATCH_FILES of them. */
		CHECK(c->puts != NULL && c->nputs > 0 &&
		    c->nputs <= MIG_FS_BATCH_FILES);
		for (size_t i = 0; i < c->nputs; i++)
			if (c->puts[i].err == 0)
				check_attr(&c->puts[i].attr);
		c->puts = NULL;
		c->nputs = 0;
		break;
	}
}

static void
answer(uint16_t op, uint32_t proto, const uint8_t *p, size_t n)
{
	static const struct mig_fs_rep zero;
	struct mig_buf b = { NULL, 0, 0 };
	struct mig_fs_rep a, c;
	uint8_t *want;
	int r = mig__fs_rep_parse(op, proto, p, n, UID, GID, &a);

	if (r != 0) {
		CHECK(r == MIG_EPROTO || r == MIG__ERR(ENOMEM));
		CHECK(memcmp(&a, &zero, sizeof(a)) == 0);
		return;
	}
	CHECK(a.op == op && op > 0 && op < MIG_FS__COUNT);
	/* Past an errno, nothing; else what the op carries, and no more. */
	memcpy(&c, &a, sizeof(c));
	if (a.err != 0)
		CHECK(n == 4);
	else
		check_fields(&c, proto, p, n);
	c.op = 0;
	c.err = 0;
	CHECK(memcmp(&c, &zero, sizeof(c)) == 0);

	CHECK(put_rep(&b, &a) == 0);
	want = malloc(b.len ? b.len : 1);
	CHECK(want != NULL && b.len <= n);
	memcpy(want, p, b.len);
	if (a.err == 0 && has_attr(op))
		own_as_host(want + 4 + ATTR_UID);
	/* A change's folder: after errno and attr (if any), its errno. */
	if (a.err == 0 && a.has_folder && a.folder_err == 0)
		own_as_host(want + 4 + (has_attr(op) ? ATTR_BYTES : 0) + 4 +
		    ATTR_UID);
	/* A batch's: after errno and count, each file's errno and attr. */
	for (size_t i = 0, at = 8; a.err == 0 && i < a.nputs; i++) {
		if (a.puts[i].err == 0)
			own_as_host(want + at + 4 + ATTR_UID);
		at += a.puts[i].err == 0 ? 4 + ATTR_BYTES : 4;
	}
	if (a.err != 0 || !open_ended(op, proto))
		CHECK(b.len == n);
	CHECK(b.len == 0 || memcmp(b.data, want, b.len) == 0);
	free(want);
	mig_buf_free(&b);
	mig__fs_rep_free(&a);
	CHECK(memcmp(&a, &zero, sizeof(a)) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *p;

	if (size == 0)
		return 0;
	/* The payload alone, so a read past it is caught. */
	p = malloc(size - 1 ? size - 1 : 1);
	CHECK(p != NULL);
	if (size > 1)
		memcpy(p, data + 1, size - 1);
	answer(data[0] & 0x7f, data[0] & 0x80 ? MIG_PROTO_FOLDER :
	    MIG_PROTO_FOLDER - 1, p, size - 1);
	free(p);
	return 0;
}
