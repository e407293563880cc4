/*
 * fuzz_control.c: what a local program can send a daemon's unix socket.
 * The stream is cut into frames as homed/transport/control.c cuts it
 * (mig_frame_decode, up to the first incomplete or malformed frame);
 * nothing but HELLO counts before HELLO, whose version is read as
 * control.c reads it; then each frame of a type a local client may send
 * has its payload read as the handler registered for that type reads it
 * (home/job.c, home/hold.c, host/desc.c, views.c): the readers are
 * libmig's (mig_r_job, proto_get_*), the order of fields is the
 * handlers'. The handlers themselves need a loop; this reaches every
 * parser they call, with the payload alone in a buffer of its size.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "mig/mig.h"
#include "mig/proto.h"

/* Arguments of each line of calls.def, for the CALL the home reads. */
#define NARGS(...) (sizeof((int[]){ __VA_ARGS__ }) / sizeof(int))
#define INT 0
#define LONG 1
static const unsigned call_nargs[] = {
#define MIG_CALL(name, ret, ...) NARGS(__VA_ARGS__),
#include "mig/calls.def"
#undef MIG_CALL
};

static void
u32_only(const uint8_t *p, size_t n)
{
	struct mig_rd rd;
	uint32_t v;

	proto_rd_init(&rd, p, n);
	if (proto_get_u32(&rd, &v) == 0)
		CHECK(n >= 4 && rd.off == 4);
	else
		CHECK(n < 4);
}

/* RUN: home/job.c on_run. */
static void
run(const uint8_t *p, size_t n)
{
	struct mig_job *job = (struct mig_job *)1;
	int r = mig_r_job(p, n, &job);

	if (r != 0) {
		CHECK(r == MIG_EPROTO || r == MIG__ERR(ENOMEM));
		CHECK(job == NULL);
		return;
	}
	CHECK(job->host != NULL && job->argv != NULL && job->argv[0] != NULL);
	CHECK(strlen(job->host) < n);
	mig_job_free(job);
}

/* CALL: host/desc.c relays it (it needs 4 bytes, the sequence number it
 * rewrites), home/calls.c reads it: u32 seq, u32 call, u32 count, that
 * many i64, nothing more; the count must be the call's. */
static void
call(const uint8_t *p, size_t n)
{
	struct mig_rd rd;
	uint32_t seq, id, cnt;
	uint64_t a;
	int ok = 1;

	if (n < 4)
		return;
	proto_rd_init(&rd, p, n);
	if (proto_get_u32(&rd, &seq) != 0 || proto_get_u32(&rd, &id) != 0 ||
	    proto_get_u32(&rd, &cnt) != 0 || id >= MIG_CALL__COUNT ||
	    cnt != call_nargs[id] || cnt > MIG_CALL_MAXARGS)
		return;
	for (uint32_t i = 0; i < cnt && ok; i++)
		ok = proto_get_u64(&rd, &a) == 0;
	if (ok && proto_rd_done(&rd) == 0)
		CHECK(n == 12 + 8 * (size_t)cnt);
}

/* HOLD: host/desc.c reads u32 seq, i32 host pid; the home (home/hold.c)
 * then u32 seq, i32 pid, str what it runs. */
static void
hold(const uint8_t *p, size_t n)
{
	struct mig_rd rd;
	uint32_t seq, pid;
	char *what = NULL;

	proto_rd_init(&rd, p, n);
	if (proto_get_u32(&rd, &seq) != 0 || proto_get_u32(&rd, &pid) != 0)
		return;
	if (proto_get_str(&rd, &what) == 0) {
		CHECK(what != NULL && strlen(what) <= n - 12);
		free(what);
	} else
		CHECK(what == NULL);
}

/* SIGNAL, relayed to the host (host/spawn.c): u32 signal, then with
 * flags 1 an i32 pid. */
static void
signal_(const struct mig_frame *f, const uint8_t *p, size_t n)
{
	struct mig_rd rd;
	uint32_t sig, pid;

	proto_rd_init(&rd, p, n);
	if (proto_get_u32(&rd, &sig) != 0)
		return;
	if (f->flags == 1 && proto_get_u32(&rd, &pid) == 0)
		CHECK(rd.off == 8);
}

static void
payload(const struct mig_frame *f)
{
	/* The payload alone, so a read past it is caught. */
	uint8_t *p = malloc(f->len ? f->len : 1);

	CHECK(p != NULL);
	if (f->len > 0)
		memcpy(p, f->payload, f->len);
	switch (f->type) {
	case MIG_M_RUN:
		run(p, f->len);
		break;
	case MIG_M_CALL:
		call(p, f->len);
		break;
	case MIG_M_HOLD:
		hold(p, f->len);
		break;
	case MIG_M_SIGNAL:
		signal_(f, p, f->len);
		break;
	case MIG_M_OUTPUT_ACK:  /* home/job.c: u32 bytes written out */
	case MIG_M_STANDIN:     /* home/hold.c: i32 its pid */
	case MIG_M_HOLD_SIGNAL: /* home/hold.c: u32 a signal */
		u32_only(p, f->len);
		break;
	default:
		/* INPUT, INPUT_EOF, OUTPUT_CLOSE go on as they are; HOSTS,
		 * PS, HISTORY read nothing; any other type closes the
		 * client (control.c). */
		break;
	}
	free(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mig_frame f;
	size_t off = 0;
	int hello = 0, r;

	while ((r = mig_frame_decode(data + off, size - off, &f)) == 0) {
		CHECK(f.type > 0 && f.type < MIG_M__COUNT);
		CHECK(f.len <= size - off - MIG_FRAME_HDR);
		off += MIG_FRAME_HDR + f.len;
		if (f.type == MIG_M_HELLO) {
			struct mig_rd rd;
			uint32_t version;
			proto_rd_init(&rd, f.payload, f.len);
			if (proto_get_u32(&rd, &version) != 0)
				break; /* closed */
			/* Another version is answered, not closed. */
			hello = hello || version == MIG_PROTO_VERSION;
			continue;
		}
		if (!hello)
			break; /* closed: nothing before HELLO */
		payload(&f);
	}
	CHECK(r == 0 || r == MIG_EAGAIN || r == MIG_EPROTO ||
	    r == MIG_ETOOBIG);
	return 0;
}
