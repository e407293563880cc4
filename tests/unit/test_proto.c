/* test_proto.c: frames, flat payloads and jobs (libmig/proto.c, job.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mig/mig.h"
#include "mig/proto.h"

/* A header written byte by byte, so the tests do not trust the encoder. */
static void
hdr(uint8_t *p, uint32_t len, uint16_t type, uint16_t flags, uint32_t stream)
{
	for (int i = 0; i < 4; i++) {
		p[i] = (uint8_t)(len >> (8 * i));
		p[8 + i] = (uint8_t)(stream >> (8 * i));
	}
	p[4] = (uint8_t)type;
	p[5] = (uint8_t)(type >> 8);
	p[6] = (uint8_t)flags;
	p[7] = (uint8_t)(flags >> 8);
}

static void
frame_put_and_decode(void **state)
{
	struct mig_buf b = { 0 };
	struct mig_frame f;
	static const uint8_t want[] = { 5, 0, 0, 0, MIG_M_OUTPUT, 0, 2, 0,
		0x04, 0x03, 0x02, 0x01, 'h', 'e', 'l', 'l', 'o' };

	assert_int_equal(mig_frame_put(&b, MIG_M_OUTPUT, 2, 0x01020304,
	    "hello", 5), 0);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	assert_int_equal(mig_frame_decode(b.data, b.len, &f), 0);
	assert_int_equal(f.len, 5);
	assert_int_equal(f.type, MIG_M_OUTPUT);
	assert_int_equal(f.flags, 2);
	assert_int_equal(f.stream, 0x01020304);
	assert_ptr_equal(f.payload, b.data + MIG_FRAME_HDR);
	mig_buf_free(&b);
}

static void
frame_empty_payload(void **state)
{
	struct mig_buf b = { 0 };
	struct mig_frame f;

	assert_int_equal(mig_frame_put(&b, MIG_M_OUTPUT_EOF, 1, 9, NULL, 0), 0);
	assert_int_equal(b.len, MIG_FRAME_HDR);
	assert_int_equal(mig_frame_decode(b.data, b.len, &f), 0);
	assert_int_equal(f.len, 0);
	assert_int_equal(f.type, MIG_M_OUTPUT_EOF);
	assert_int_equal(f.flags, 1);
	assert_int_equal(f.stream, 9);
	mig_buf_free(&b);
}

static void
decode_short_header(void **state)
{
	uint8_t p[MIG_FRAME_HDR];
	struct mig_frame f;

	hdr(p, 0, MIG_M_PING, 0, 0);
	for (size_t n = 0; n < MIG_FRAME_HDR; n++)
		assert_int_equal(mig_frame_decode(p, n, &f), MIG_EAGAIN);
	assert_int_equal(mig_frame_decode(p, MIG_FRAME_HDR, &f), 0);
}

static void
decode_types(void **state)
{
	uint8_t p[MIG_FRAME_HDR];
	struct mig_frame f;

	for (unsigned t = MIG_M_HELLO; t < MIG_M__COUNT; t++) {
		hdr(p, 0, (uint16_t)t, 0, 0);
		assert_int_equal(mig_frame_decode(p, sizeof(p), &f), 0);
		assert_int_equal(f.type, t);
	}
	hdr(p, 0, 0, 0, 0);
	assert_int_equal(mig_frame_decode(p, sizeof(p), &f), MIG_EPROTO);
	hdr(p, 0, MIG_M__COUNT, 0, 0);
	assert_int_equal(mig_frame_decode(p, sizeof(p), &f), MIG_EPROTO);
	hdr(p, 0, 0x0100 | MIG_M_OUTPUT, 0, 0);
	assert_int_equal(mig_frame_decode(p, sizeof(p), &f), MIG_EPROTO);
	hdr(p, 0, 0xffff, 0, 0);
	assert_int_equal(mig_frame_decode(p, sizeof(p), &f), MIG_EPROTO);
	/* The type is known from the header alone, before any payload. */
	hdr(p, 100, 0, 0, 0);
	assert_int_equal(mig_frame_decode(p, sizeof(p), &f), MIG_EPROTO);
}

static void
decode_too_big(void **state)
{
	uint8_t p[MIG_FRAME_HDR];
	struct mig_frame f;

	hdr(p, MIG_FRAME_MAX + 1, MIG_M_OUTPUT, 1, 1);
	assert_int_equal(mig_frame_decode(p, sizeof(p), &f), MIG_ETOOBIG);
	hdr(p, UINT32_MAX, MIG_M_OUTPUT, 1, 1);
	assert_int_equal(mig_frame_decode(p, sizeof(p), &f), MIG_ETOOBIG);
	/* The largest frame is fine; it just needs its bytes. */
	hdr(p, MIG_FRAME_MAX, MIG_M_OUTPUT, 1, 1);
	assert_int_equal(mig_frame_decode(p, sizeof(p), &f), MIG_EAGAIN);
}

static void
decode_truncated_payload(void **state)
{
	uint8_t p[MIG_FRAME_HDR + 40];
	struct mig_frame f;

	memset(p, 0xa5, sizeof(p));
	hdr(p, 32, MIG_M_OUTPUT, 1, 3);
	for (size_t n = MIG_FRAME_HDR; n < MIG_FRAME_HDR + 32; n++)
		assert_int_equal(mig_frame_decode(p, n, &f), MIG_EAGAIN);
	assert_int_equal(mig_frame_decode(p, MIG_FRAME_HDR + 32, &f), 0);
	assert_int_equal(f.len, 32);
	/* Bytes of the next frame after it do not change this one. */
	assert_int_equal(mig_frame_decode(p, sizeof(p), &f), 0);
	assert_int_equal(f.len, 32);
}

static void
decode_max_frame(void **state)
{
	struct mig_buf b = { 0 };
	struct mig_frame f;
	uint8_t *big = calloc(1, MIG_FRAME_MAX);

	assert_non_null(big);
	assert_int_equal(mig_frame_put(&b, MIG_M_OUTPUT, 1, 1, big,
	    MIG_FRAME_MAX), 0);
	assert_int_equal(mig_frame_decode(b.data, b.len - 1, &f), MIG_EAGAIN);
	assert_int_equal(mig_frame_decode(b.data, b.len, &f), 0);
	assert_int_equal(f.len, MIG_FRAME_MAX);
	assert_int_equal(mig_frame_put(&b, MIG_M_OUTPUT, 1, 1, big,
	    MIG_FRAME_MAX + 1), MIG_ETOOBIG);
	assert_int_equal(b.len, MIG_FRAME_HDR + MIG_FRAME_MAX);
	free(big);
	mig_buf_free(&b);
}

static void
decode_stream(void **state)
{
	struct mig_buf b = { 0 };
	struct mig_frame f;
	uint8_t ping[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	assert_int_equal(mig_frame_put(&b, MIG_M_OUTPUT, 1, 7, "abc", 3), 0);
	assert_int_equal(mig_frame_put(&b, MIG_M_OUTPUT_EOF, 1, 7, NULL, 0), 0);
	assert_int_equal(mig_frame_put(&b, MIG_M_PING, 0, 0, ping, 8), 0);

	assert_int_equal(mig_frame_decode(b.data, b.len, &f), 0);
	assert_int_equal(f.type, MIG_M_OUTPUT);
	assert_memory_equal(f.payload, "abc", 3);
	mig_buf_consume(&b, MIG_FRAME_HDR + f.len);

	assert_int_equal(mig_frame_decode(b.data, b.len, &f), 0);
	assert_int_equal(f.type, MIG_M_OUTPUT_EOF);
	assert_int_equal(f.len, 0);
	mig_buf_consume(&b, MIG_FRAME_HDR + f.len);

	assert_int_equal(mig_frame_decode(b.data, b.len, &f), 0);
	assert_int_equal(f.type, MIG_M_PING);
	assert_memory_equal(f.payload, ping, 8);
	mig_buf_consume(&b, MIG_FRAME_HDR + f.len);

	assert_int_equal(b.len, 0);
	assert_int_equal(mig_frame_decode(b.data, b.len, &f), MIG_EAGAIN);
	mig_buf_free(&b);
}

static void
begin_put_get(void **state)
{
	struct mig_buf b = { 0 };
	struct mig_frame f;
	struct mig_rd rd;
	char *argv[] = { "ls", "", "-l", NULL };
	char *empty[] = { NULL };
	const uint8_t *bp;
	size_t at, n;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	char *s, **v;

	assert_int_equal(mig_frame_put(&b, MIG_M_INPUT_ACK, 1, 1, "\0\0\0\0", 4), 0);
	assert_int_equal(mig_frame_begin(&b, MIG_M_ERROR, 0, 42, &at), 0);
	assert_int_equal(at, MIG_FRAME_HDR + 4);
	assert_int_equal(proto_put_u16(&b, 0xbeef), 0);
	assert_int_equal(proto_put_u32(&b, 0xdeadbeef), 0);
	assert_int_equal(proto_put_u64(&b, 0x0123456789abcdefull), 0);
	assert_int_equal(proto_put_bytes(&b, "x\0y", 3), 0);
	assert_int_equal(proto_put_str(&b, "héllo"), 0);
	assert_int_equal(proto_put_str(&b, ""), 0);
	assert_int_equal(proto_put_strv(&b, argv), 0);
	assert_int_equal(proto_put_strv(&b, empty), 0);
	assert_int_equal(mig_frame_end(&b, at), 0);

	assert_int_equal(mig_frame_decode(b.data + at, b.len - at, &f), 0);
	assert_int_equal(f.type, MIG_M_ERROR);
	assert_int_equal(f.stream, 42);
	assert_int_equal(f.len, b.len - at - MIG_FRAME_HDR);
	/* Little-endian on the wire, whatever the host. */
	assert_int_equal(f.payload[0], 0xef);
	assert_int_equal(f.payload[1], 0xbe);
	assert_int_equal(f.payload[2], 0xef);
	assert_int_equal(f.payload[5], 0xde);
	assert_int_equal(f.payload[6], 0xef);
	assert_int_equal(f.payload[13], 0x01);

	proto_rd_init(&rd, f.payload, f.len);
	assert_int_equal(proto_get_u16(&rd, &u16), 0);
	assert_int_equal(u16, 0xbeef);
	assert_int_equal(proto_get_u32(&rd, &u32), 0);
	assert_int_equal(u32, 0xdeadbeef);
	assert_int_equal(proto_get_u64(&rd, &u64), 0);
	assert_true(u64 == 0x0123456789abcdefull);
	assert_int_equal(proto_get_bytes(&rd, &bp, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(bp, "x\0y", 3);
	assert_int_equal(proto_get_str(&rd, &s), 0);
	assert_string_equal(s, "héllo");
	free(s);
	assert_int_equal(proto_get_str(&rd, &s), 0);
	assert_string_equal(s, "");
	free(s);
	assert_int_equal(proto_rd_done(&rd), MIG_EPROTO);
	assert_int_equal(proto_get_strv(&rd, &v), 0);
	assert_string_equal(v[0], "ls");
	assert_string_equal(v[1], "");
	assert_string_equal(v[2], "-l");
	assert_null(v[3]);
	mig_strv_free(v);
	assert_int_equal(proto_get_strv(&rd, &v), 0);
	assert_null(v[0]);
	mig_strv_free(v);
	assert_int_equal(proto_rd_done(&rd), 0);
	assert_int_equal(proto_get_u16(&rd, &u16), MIG_EPROTO);
	mig_buf_free(&b);
}

static void
frame_end_too_big(void **state)
{
	struct mig_buf b = { 0 };
	struct mig_frame f;
	size_t at;
	uint8_t *big = calloc(1, MIG_FRAME_MAX + 1);

	assert_non_null(big);
	assert_int_equal(mig_frame_put(&b, MIG_M_OUTPUT_EOF, 0, 5, NULL, 0), 0);
	assert_int_equal(mig_frame_begin(&b, MIG_M_OUTPUT, 1, 5, &at), 0);
	assert_int_equal(mig_buf_append(&b, big, MIG_FRAME_MAX + 1), 0);
	assert_int_equal(mig_frame_end(&b, at), MIG_ETOOBIG);
	/* The frame is dropped; the one before it stays whole. */
	assert_int_equal(b.len, at);
	assert_int_equal(mig_frame_decode(b.data, b.len, &f), 0);
	assert_int_equal(f.type, MIG_M_OUTPUT_EOF);

	assert_int_equal(mig_frame_begin(&b, MIG_M_OUTPUT, 1, 5, &at), 0);
	assert_int_equal(mig_buf_append(&b, big, MIG_FRAME_MAX), 0);
	assert_int_equal(mig_frame_end(&b, at), 0);
	assert_int_equal(mig_frame_decode(b.data + at, b.len - at, &f), 0);
	assert_int_equal(f.len, MIG_FRAME_MAX);
	free(big);
	mig_buf_free(&b);
}

static void
get_short(void **state)
{
	static const uint8_t p[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct mig_rd rd;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	proto_rd_init(&rd, p, 1);
	assert_int_equal(proto_get_u16(&rd, &u16), MIG_EPROTO);
	assert_int_equal(rd.off, 0);
	proto_rd_init(&rd, p, 3);
	assert_int_equal(proto_get_u32(&rd, &u32), MIG_EPROTO);
	assert_int_equal(rd.off, 0);
	proto_rd_init(&rd, p, 7);
	assert_int_equal(proto_get_u64(&rd, &u64), MIG_EPROTO);
	assert_int_equal(rd.off, 0);
	proto_rd_init(&rd, p, 0);
	assert_int_equal(proto_rd_done(&rd), 0);
	assert_int_equal(proto_get_u16(&rd, &u16), MIG_EPROTO);
}

static void
get_bytes_past_end(void **state)
{
	struct mig_rd rd;
	const uint8_t *bp;
	size_t n;
	char *s;
	uint8_t p[9] = { 10, 0, 0, 0, 'a', 'b', 'c', 'd', 'e' };

	proto_rd_init(&rd, p, sizeof(p));
	assert_int_equal(proto_get_bytes(&rd, &bp, &n), MIG_EPROTO);
	proto_rd_init(&rd, p, sizeof(p));
	assert_int_equal(proto_get_str(&rd, &s), MIG_EPROTO);
	assert_null(s);
	memset(p, 0xff, 4);
	proto_rd_init(&rd, p, sizeof(p));
	assert_int_equal(proto_get_bytes(&rd, &bp, &n), MIG_EPROTO);
	/* Exactly the bytes announced. */
	p[0] = 5;
	p[1] = p[2] = p[3] = 0;
	proto_rd_init(&rd, p, sizeof(p));
	assert_int_equal(proto_get_str(&rd, &s), 0);
	assert_string_equal(s, "abcde");
	free(s);
	assert_int_equal(proto_rd_done(&rd), 0);
}

static void
get_str_with_nul(void **state)
{
	static const uint8_t mid[] = { 3, 0, 0, 0, 'a', 0, 'b' };
	static const uint8_t end[] = { 2, 0, 0, 0, 'a', 0 };
	static const uint8_t only[] = { 1, 0, 0, 0, 0 };
	static const uint8_t vec[] = { 2, 0, 0, 0, 1, 0, 0, 0, 'x', 1, 0, 0,
		0, 0 };
	struct mig_rd rd;
	char *s = (char *)1, **v = (char **)1;

	proto_rd_init(&rd, mid, sizeof(mid));
	assert_int_equal(proto_get_str(&rd, &s), MIG_EPROTO);
	assert_null(s);
	proto_rd_init(&rd, end, sizeof(end));
	assert_int_equal(proto_get_str(&rd, &s), MIG_EPROTO);
	proto_rd_init(&rd, only, sizeof(only));
	assert_int_equal(proto_get_str(&rd, &s), MIG_EPROTO);
	/* A NUL in the second string of a vector fails it all. */
	proto_rd_init(&rd, vec, sizeof(vec));
	assert_int_equal(proto_get_strv(&rd, &v), MIG_EPROTO);
	assert_null(v);
}

static void
strv_count_past_end(void **state)
{
	struct mig_rd rd;
	char **v = (char **)1;
	/* count, then one empty string */
	uint8_t p[8] = { 0, 0, 0, 0, 0, 0, 0, 0 };

	p[0] = 3;
	proto_rd_init(&rd, p, sizeof(p));
	assert_int_equal(proto_get_strv(&rd, &v), MIG_EPROTO);
	assert_null(v);
	/* Fits the 4-bytes-a-string bound but runs out of strings. */
	p[0] = 2;
	proto_rd_init(&rd, p, sizeof(p));
	assert_int_equal(proto_get_strv(&rd, &v), MIG_EPROTO);
	assert_null(v);
	/* A count no allocator should be asked for. */
	memset(p, 0xff, 4);
	proto_rd_init(&rd, p, sizeof(p));
	assert_int_equal(proto_get_strv(&rd, &v), MIG_EPROTO);
	assert_null(v);
	p[0] = 1;
	p[1] = p[2] = p[3] = 0;
	proto_rd_init(&rd, p, sizeof(p));
	assert_int_equal(proto_get_strv(&rd, &v), 0);
	assert_string_equal(v[0], "");
	assert_null(v[1]);
	mig_strv_free(v);
	proto_rd_init(&rd, p, 3);
	assert_int_equal(proto_get_strv(&rd, &v), MIG_EPROTO);
}

static void
buf_ops(void **state)
{
	struct mig_buf b = { 0 };

	assert_int_equal(mig_buf_append(&b, "", 0), 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(mig_buf_reserve(&b, 1000), 0);
	assert_true(b.cap >= 1000);
	assert_int_equal(mig_buf_append(&b, "abcdef", 6), 0);
	mig_buf_consume(&b, 2);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, "cdef", 4);
	mig_buf_consume(&b, 0);
	assert_int_equal(b.len, 4);
	mig_buf_consume(&b, 10);
	assert_int_equal(b.len, 0);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(mig_buf_append(&b, "0123456789", 10), 0);
	assert_int_equal(b.len, 100000);
	assert_memory_equal(b.data + 99990, "0123456789", 10);
	assert_int_equal(mig_buf_reserve(&b, SIZE_MAX), MIG__ERR(ENOMEM));
	mig_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	mig_buf_free(&b);
}

/* A job with every field set to something recognisable. */
static char *full_argv[] = { "/bin/sh", "-c", "echo \"$X\" | wc -c", "",
	NULL };
static char *full_envp[] = { "X=1", "PATH=/usr/bin:/bin", "EMPTY=", NULL };

static void
full_job(struct mig_job *j, uint32_t nrlimit)
{
	memset(j, 0, sizeof(*j));
	j->host = "host2";
	j->flags = MIG_JOB_NOSTDIN;
	j->argv = full_argv;
	j->envp = full_envp;
	j->cwd = "/home/u/src dir";
	j->umask = 022;
	j->nrlimit = nrlimit;
	for (uint32_t i = 0; i < nrlimit; i++) {
		j->rlimit[i].resource = i;
		j->rlimit[i].cur = 1000 + i;
		j->rlimit[i].max = i % 2 ? UINT64_MAX : 0x100000000ull + i;
	}
	j->pid = 1234;
	j->ppid = 1;
	j->pgid = -1;
	j->sid = INT32_MIN;
	j->nodename = "homebox";
	j->domainname = "(none)";
}

static void
assert_strv_equal(char *const *a, char *const *b)
{
	size_t i;

	for (i = 0; a[i] != NULL; i++) {
		assert_non_null(b[i]);
		assert_string_equal(a[i], b[i]);
	}
	assert_null(b[i]);
}

static void
assert_job_equal(const struct mig_job *a, const struct mig_job *b)
{
	assert_string_equal(a->host, b->host);
	assert_int_equal(a->flags, b->flags);
	assert_strv_equal(a->argv, b->argv);
	assert_strv_equal(a->envp, b->envp);
	assert_string_equal(a->cwd, b->cwd);
	assert_int_equal(a->umask, b->umask);
	assert_int_equal(a->nrlimit, b->nrlimit);
	for (uint32_t i = 0; i < a->nrlimit; i++) {
		assert_int_equal(a->rlimit[i].resource, b->rlimit[i].resource);
		assert_true(a->rlimit[i].cur == b->rlimit[i].cur);
		assert_true(a->rlimit[i].max == b->rlimit[i].max);
	}
	assert_int_equal(a->pid, b->pid);
	assert_int_equal(a->ppid, b->ppid);
	assert_int_equal(a->pgid, b->pgid);
	assert_int_equal(a->sid, b->sid);
	assert_string_equal(a->nodename, b->nodename);
	assert_string_equal(a->domainname, b->domainname);
}

/* Encodes j as one frame of type t and returns its payload in *b. */
static void
encode_job(struct mig_buf *b, uint16_t t, const struct mig_job *j,
    struct mig_frame *f)
{
	assert_int_equal(mig_x_job(b, t, 77, j), 0);
	assert_int_equal(mig_frame_decode(b->data, b->len, f), 0);
	assert_int_equal(f->type, t);
	assert_int_equal(f->stream, 77);
	assert_int_equal(f->len + MIG_FRAME_HDR, b->len);
}

static void
job_round_trip(void **state)
{
	static const uint32_t counts[] = { 0, 1, 3, MIG_JOB_NRLIMIT };
	char *empty[] = { NULL };

	for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		struct mig_buf b = { 0 };
		struct mig_job j, *got = (struct mig_job *)1;
		struct mig_frame f;

		full_job(&j, counts[k]);
		if (k == 0) {
			j.host = "";
			j.envp = empty;
			j.flags = 0;
		}
		encode_job(&b, k % 2 ? MIG_M_EXEC : MIG_M_RUN, &j, &f);
		assert_int_equal(mig_r_job(f.payload, f.len, &got), 0);
		assert_non_null(got);
		assert_job_equal(&j, got);
		mig_job_free(got);
		mig_buf_free(&b);
	}
	mig_job_free(NULL);
	mig_strv_free(NULL);
}

static void
job_trailing_bytes(void **state)
{
	struct mig_buf b = { 0 };
	struct mig_job j, *got = (struct mig_job *)1;
	struct mig_frame f;

	full_job(&j, 2);
	encode_job(&b, MIG_M_RUN, &j, &f);
	assert_int_equal(mig_buf_append(&b, "", 1), 0);
	assert_int_equal(mig_r_job(b.data + MIG_FRAME_HDR, f.len + 1, &got),
	    MIG_EPROTO);
	assert_null(got);
	mig_buf_free(&b);
}

static void
job_truncated(void **state)
{
	struct mig_buf b = { 0 };
	struct mig_job j, *got;
	struct mig_frame f;
	uint8_t *copy;

	full_job(&j, 4);
	encode_job(&b, MIG_M_RUN, &j, &f);
	/* Every prefix is malformed; each is copied to a buffer of its own
	 * size so a read past it would be caught by a sanitizer build. */
	for (size_t n = 0; n < f.len; n++) {
		copy = malloc(n ? n : 1);
		assert_non_null(copy);
		memcpy(copy, f.payload, n);
		got = (struct mig_job *)1;
		assert_int_equal(mig_r_job(copy, n, &got), MIG_EPROTO);
		assert_null(got);
		free(copy);
	}
	mig_buf_free(&b);
}

static void
job_empty_argv(void **state)
{
	struct mig_buf b = { 0 };
	struct mig_job j, *got = (struct mig_job *)1;
	struct mig_frame f;
	char *empty[] = { NULL };

	full_job(&j, 0);
	j.argv = empty;
	encode_job(&b, MIG_M_RUN, &j, &f);
	assert_int_equal(mig_r_job(f.payload, f.len, &got), MIG_EPROTO);
	assert_null(got);
	mig_buf_free(&b);
}

/* A job payload by hand, with nrlimit records whatever their number. */
static void
put_raw_job(struct mig_buf *b, uint32_t nrlimit, uint32_t records,
    const char *cwd, size_t cwdlen)
{
	char *argv[] = { "true", NULL };
	char *envp[] = { NULL };

	assert_int_equal(proto_put_str(b, ""), 0);
	assert_int_equal(proto_put_u32(b, 0), 0);
	assert_int_equal(proto_put_strv(b, argv), 0);
	assert_int_equal(proto_put_strv(b, envp), 0);
	assert_int_equal(proto_put_bytes(b, cwd, cwdlen), 0);
	assert_int_equal(proto_put_u32(b, 077), 0);
	assert_int_equal(proto_put_u32(b, nrlimit), 0);
	for (uint32_t i = 0; i < records; i++) {
		assert_int_equal(proto_put_u32(b, 0), 0);
		assert_int_equal(proto_put_u64(b, 1), 0);
		assert_int_equal(proto_put_u64(b, 2), 0);
	}
	for (int i = 0; i < 4; i++)
		assert_int_equal(proto_put_u32(b, (uint32_t)i), 0);
	assert_int_equal(proto_put_str(b, "homebox"), 0);
	assert_int_equal(proto_put_str(b, "(none)"), 0);
	/* nice, scheduling policy, terminal rows and columns */
	assert_int_equal(proto_put_u32(b, (uint32_t)-5), 0);
	assert_int_equal(proto_put_u32(b, 3), 0);
	assert_int_equal(proto_put_u16(b, 24), 0);
	assert_int_equal(proto_put_u16(b, 80), 0);
}

static void
job_nrlimit(void **state)
{
	struct mig_buf b = { 0 };
	struct mig_job *got;

	put_raw_job(&b, MIG_JOB_NRLIMIT, MIG_JOB_NRLIMIT, "/", 1);
	assert_int_equal(mig_r_job(b.data, b.len, &got), 0);
	assert_int_equal(got->nrlimit, MIG_JOB_NRLIMIT);
	assert_string_equal(got->argv[0], "true");
	assert_int_equal(got->umask, 077);
	assert_int_equal(got->sid, 3);
	assert_int_equal(got->nice, -5);
	assert_int_equal(got->sched, 3);
	assert_int_equal(got->ws_row, 24);
	assert_int_equal(got->ws_col, 80);
	mig_job_free(got);

	b.len = 0;
	put_raw_job(&b, MIG_JOB_NRLIMIT + 1, MIG_JOB_NRLIMIT + 1, "/", 1);
	got = (struct mig_job *)1;
	assert_int_equal(mig_r_job(b.data, b.len, &got), MIG_EPROTO);
	assert_null(got);

	b.len = 0;
	put_raw_job(&b, UINT32_MAX, 0, "/", 1);
	assert_int_equal(mig_r_job(b.data, b.len, &got), MIG_EPROTO);
	assert_null(got);

	/* Fewer records than announced. */
	b.len = 0;
	put_raw_job(&b, 3, 2, "/", 1);
	assert_int_equal(mig_r_job(b.data, b.len, &got), MIG_EPROTO);
	assert_null(got);
	mig_buf_free(&b);
}

static void
job_nul_in_string(void **state)
{
	struct mig_buf b = { 0 };
	struct mig_job *got = (struct mig_job *)1;

	put_raw_job(&b, 0, 0, "/tmp\0/etc", 9);
	assert_int_equal(mig_r_job(b.data, b.len, &got), MIG_EPROTO);
	assert_null(got);
	mig_buf_free(&b);
}

static void
job_too_big(void **state)
{
	struct mig_buf b = { 0 };
	struct mig_job j;
	struct mig_frame f;
	char *huge = malloc(MIG_FRAME_MAX + 1);
	char *argv[] = { huge, NULL };

	assert_non_null(huge);
	memset(huge, 'a', MIG_FRAME_MAX);
	huge[MIG_FRAME_MAX] = '\0';
	assert_int_equal(mig_frame_put(&b, MIG_M_PING, 0, 0, "12345678", 8), 0);
	full_job(&j, 0);
	j.argv = argv;
	assert_int_equal(mig_x_job(&b, MIG_M_RUN, 1, &j), MIG_ETOOBIG);
	/* The frame before is left as it was. */
	assert_int_equal(b.len, MIG_FRAME_HDR + 8);
	assert_int_equal(mig_frame_decode(b.data, b.len, &f), 0);
	assert_int_equal(f.type, MIG_M_PING);
	free(huge);
	mig_buf_free(&b);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(frame_put_and_decode),
		cmocka_unit_test(frame_empty_payload),
		cmocka_unit_test(decode_short_header),
		cmocka_unit_test(decode_types),
		cmocka_unit_test(decode_too_big),
		cmocka_unit_test(decode_truncated_payload),
		cmocka_unit_test(decode_max_frame),
		cmocka_unit_test(decode_stream),
		cmocka_unit_test(begin_put_get),
		cmocka_unit_test(frame_end_too_big),
		cmocka_unit_test(get_short),
		cmocka_unit_test(get_bytes_past_end),
		cmocka_unit_test(get_str_with_nul),
		cmocka_unit_test(strv_count_past_end),
		cmocka_unit_test(buf_ops),
		cmocka_unit_test(job_round_trip),
		cmocka_unit_test(job_trailing_bytes),
		cmocka_unit_test(job_truncated),
		cmocka_unit_test(job_empty_argv),
		cmocka_unit_test(job_nrlimit),
		cmocka_unit_test(job_nul_in_string),
		cmocka_unit_test(job_too_big),
	};

	/* An argument runs only the tests whose names match it. */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
