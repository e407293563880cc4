/*
 * fuzz_fsreq.c: what a host can send home's fs role (homed/fs/serve.c).
 * The stream is cut into frames as a link cuts it (mig_frame_decode, up
 * to the first incomplete or malformed frame); each MIG_M_FS_REQ has its
 * payload read by mig__fs_req_parse, the step serve.c runs before any op
 * touches a file, with the op from the frame's flags. The ops themselves
 * act on home's own absolute paths (there is no served root to confine
 * them to), so they are not run here.
 *
 * A request that parses holds what fs.h's table says, with paths home
 * may act on (a PUT_BATCH's too, each file within its bounds), and written out again from its fields it is the payload it
 * was read from, byte for byte; one that does not holds nothing.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "fuzz.h"
#include "fs.h"
#include "mig/proto.h"

static void
check_path(const char *p)
{
	CHECK(p != NULL && p[0] == '/' && strlen(p) < PATH_MAX);
}

/* The request's fields as a payload, in the order of fs.h's table. */
static int
put_req(struct mig_buf *b, const struct mig_fs_req *q)
{
	int r = 0;

	switch (q->op) {
	case MIG_FS_SYMLINK:
		return proto_put_str(b, q->target) || proto_put_str(b, q->path);
	case MIG_FS_PUT_DATA:
		return proto_put_u32(b, q->handle) ||
		    proto_put_bytes(b, q->data, q->ndata);
	case MIG_FS_PUT_COMMIT:
		return proto_put_u32(b, q->handle);
	case MIG_FS_PUT_BATCH:
		r = proto_put_u32(b, (uint32_t)q->nfiles);
		for (size_t i = 0; i < q->nfiles; i++)
			r = r || proto_put_str(b, q->files[i].path) ||
			    proto_put_u32(b, q->files[i].mode) ||
			    proto_put_bytes(b, q->files[i].data,
			    q->files[i].ndata);
		return r;
	default:
		r = proto_put_str(b, q->path);
		break;
	}
	switch (q->op) {
	case MIG_FS_READDIR:
		return r || proto_put_u32(b, q->first);
	case MIG_FS_FETCH:
		return r || proto_put_bytes(b, q->data, q->ndata) ||
		    proto_put_u64(b, q->off) || proto_put_u32(b, q->len);
	case MIG_FS_MKDIR:
	case MIG_FS_PUT_BEGIN:
		return r || proto_put_u32(b, q->mode);
	case MIG_FS_RENAME:
		return r || proto_put_str(b, q->to) ||
		    proto_put_u32(b, q->flags);
	case MIG_FS_LINK:
		return r || proto_put_str(b, q->to);
	case MIG_FS_CREATE:
		return r || proto_put_u32(b, q->mode) ||
		    proto_put_u32(b, q->excl);
	case MIG_FS_SETATTR:
		return r || proto_put_u32(b, q->what) ||
		    proto_put_u32(b, q->mode) || proto_put_u64(b, q->size) ||
		    proto_put_u64(b, q->asec) || proto_put_u32(b, q->ansec) ||
		    proto_put_u64(b, q->msec) || proto_put_u32(b, q->mnsec);
	default:
		return r;
	}
}

static void
request(uint16_t op, const uint8_t *p, size_t n)
{
	static const struct mig_fs_req zero;
	struct mig_buf b = { NULL, 0, 0 };
	struct mig_fs_req q;
	int r = mig__fs_req_parse(op, p, n, &q);

	if (r != 0) {
		CHECK(r == MIG_EPROTO || r == MIG__ERR(ENOMEM));
		CHECK(memcmp(&q, &zero, sizeof(q)) == 0);
		return;
	}
	CHECK(q.op == op && op > 0 && op < MIG_FS__COUNT);
	if (op == MIG_FS_PUT_DATA || op == MIG_FS_PUT_COMMIT ||
	    op == MIG_FS_PUT_BATCH)
		CHECK(q.path == NULL);
	else
		check_path(q.path);
	/* A batch: 1 to MIG_FS_BATCH_FILES files, each small, inside. */
	CHECK((q.files != NULL) == (op == MIG_FS_PUT_BATCH));
	if (op == MIG_FS_PUT_BATCH)
		CHECK(q.nfiles > 0 && q.nfiles <= MIG_FS_BATCH_FILES);
	for (size_t i = 0; i < q.nfiles; i++) {
		check_path(q.files[i].path);
		CHECK(q.files[i].ndata <= MIG_FS_BATCH_FILE);
		CHECK(q.files[i].data >= p && q.files[i].ndata <= n &&
		    (size_t)(q.files[i].data - p) <= n - q.files[i].ndata);
	}
	if (op == MIG_FS_RENAME || op == MIG_FS_LINK)
		check_path(q.to);
	else
		CHECK(q.to == NULL);
	CHECK((q.target != NULL) == (op == MIG_FS_SYMLINK));
	CHECK(q.len <= MIG_FS_CHUNK && q.off <= INT64_MAX &&
	    q.size <= INT64_MAX);
	CHECK(q.ansec < 1000000000u && q.mnsec < 1000000000u);
	if (op == MIG_FS_FETCH)
		CHECK(q.ndata == MIG_HASH_BYTES);
	if (q.data != NULL)
		CHECK(q.data >= p && q.ndata <= n &&
		    (size_t)(q.data - p) <= n - q.ndata);
	CHECK(put_req(&b, &q) == 0);
	CHECK(b.len == n && (n == 0 || memcmp(b.data, p, n) == 0));
	mig_buf_free(&b);
	mig__fs_req_free(&q);
	CHECK(memcmp(&q, &zero, sizeof(q)) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mig_frame f;
	size_t off = 0;
	uint8_t *p;

	while (mig_frame_decode(data + off, size - off, &f) == 0) {
		off += MIG_FRAME_HDR + f.len;
		if (f.type != MIG_M_FS_REQ)
			continue;
		/* The payload alone, so a read past it is caught. */
		p = malloc(f.len ? f.len : 1);
		CHECK(p != NULL);
		if (f.len > 0)
			memcpy(p, f.payload, f.len);
		request(f.flags, p, f.len);
		free(p);
	}
	return 0;
}
