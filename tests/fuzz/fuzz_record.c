/*
 * fuzz_record.c: the record layer as a peer reaches it once the link is
 * up (mig__record_open in homed/transport/crypto.c, driven as link.c's
 * reader drives it). The first byte says what the input is:
 *
 *   0  raw bytes off the socket, after the handshake
 *   1  a session: pieces of u16 length, u8 operation, that many bytes;
 *      each piece is sealed as a record by the honest sender, then sent
 *      as is (0), with one bit flipped (1), twice (2), cut short (3) or
 *      not at all (4)
 *
 * The reader opens exactly the records sent as sealed, in order, up to
 * the first that was changed, which fails; a record opens to the frame
 * that was sealed, or is malformed when that was no whole frame.
 */
#include <string.h>

#include "fuzz.h"
#include "homed.h"

static uint8_t secret[MIG_HASH_BYTES] = { 0x72, 0x65, 0x63 };

/* The reader: opens records from p[0..n), as many as there are, handing
 * them in pieces of step bytes. Returns the records opened; *why is the
 * code it stopped on (MIG_EAGAIN when it ran out of bytes). */
static size_t
read_all(struct mig_session *rx, const uint8_t *p, size_t n, size_t step,
    int *why, uint8_t **frames, size_t *flens, size_t max)
{
	struct mig_buf in = { NULL, 0, 0 }, plain = { NULL, 0, 0 };
	size_t got = 0, given = 0;
	int r = MIG_EAGAIN;

	while (given < n || r == 0) {
		struct mig_frame f;
		size_t used;
		if (r == MIG_EAGAIN) {
			size_t k = n - given < step ? n - given : step;
			CHECK(mig_buf_append(&in, p + given, k) == 0);
			given += k;
		}
		r = mig__record_open(rx, in.data, in.len, &plain, &f, &used);
		if (r == MIG_EAGAIN)
			continue;
		if (r != 0)
			break;
		CHECK(used >= MIG_RECORD_OVERHEAD + MIG_FRAME_HDR &&
		    used <= in.len);
		CHECK(MIG_FRAME_HDR + f.len + MIG_RECORD_OVERHEAD == used);
		CHECK(f.payload == plain.data + MIG_FRAME_HDR);
		if (frames != NULL && got < max) {
			CHECK(flens[got] == MIG_FRAME_HDR + f.len);
			CHECK(memcmp(frames[got], plain.data, flens[got]) == 0);
		}
		got++;
		mig_buf_consume(&in, used);
	}
	*why = r;
	mig_buf_free(&in);
	mig_buf_free(&plain);
	return got;
}

static void
raw(const uint8_t *p, size_t n)
{
	struct mig_session rx;
	int why;

	mig__session_init(&rx, secret, 0, 0);
	/* Nobody without the session's keys makes a record that opens. */
	CHECK(read_all(&rx, p, n, n > 0 ? (size_t)p[0] % 512 + 1 : 1, &why,
	    NULL, NULL, 0) == 0);
	CHECK(why == MIG_EAGAIN || why == MIG_EPROTO || why == MIG_EAUTH);
	mig__session_wipe(&rx);
}

#define PIECES 64

static void
session(const uint8_t *p, size_t n)
{
	struct mig_session tx, rx;
	struct mig_buf wire = { NULL, 0, 0 };
	uint8_t *frames[PIECES];
	size_t flens[PIECES], honest = 0, got, npieces = 0;
	int stopped = 0, why;

	mig__session_init(&tx, secret, 1, p[0] & 1);
	mig__session_init(&rx, secret, 0, p[0] & 1);
	p++;
	n--;
	while (n >= 3 && npieces < PIECES) {
		size_t len = (size_t)p[0] | (size_t)p[1] << 8;
		unsigned op = p[2] % 5;
		size_t at = wire.len, rlen;
		struct mig_frame f;
		p += 3;
		n -= 3;
		if (len > n)
			len = n;
		if (len < MIG_FRAME_HDR) {
			p += len;
			n -= len;
			continue;
		}
		rlen = MIG_RECORD_OVERHEAD + len;
		CHECK(mig_buf_reserve(&wire, 2 * rlen) == 0);
		CHECK(mig__record_seal(&tx, p, len, wire.data + at) == 0);
		wire.len += rlen;
		if (op == 1)
			wire.data[at + p[len - 1] % rlen] ^=
			    (uint8_t)(1u << (len % 8));
		else if (op == 2) {
			memcpy(wire.data + wire.len, wire.data + at, rlen);
			wire.len += rlen;
		} else if (op == 3)
			wire.len -= 1 + len % rlen;
		else if (op == 4)
			wire.len = at;
		/* The reader opens the honest records, in order, up to the
		 * first changed one or the first that holds no whole frame.
		 * A replayed record opens once: its copy is the change. */
		if (!stopped) {
			int opens = op == 0 || op == 2;
			int whole = mig_frame_decode(p, len, &f) == 0 &&
			    MIG_FRAME_HDR + f.len == len;
			if (opens && whole) {
				frames[honest] = (uint8_t *)p;
				flens[honest] = len;
				honest++;
			}
			stopped = !opens || !whole || op == 2;
		}
		npieces++;
		p += len;
		n -= len;
	}
	got = read_all(&rx, wire.data, wire.len, 1 + wire.len % 97, &why,
	    frames, flens, honest);
	CHECK(got == honest);
	CHECK(why == MIG_EAGAIN || why == MIG_EPROTO || why == MIG_EAUTH);
	if (!stopped)
		CHECK(why == MIG_EAGAIN);
	mig_buf_free(&wire);
	mig__session_wipe(&tx);
	mig__session_wipe(&rx);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;

	if (!ready) {
		CHECK(mig__crypto_init() == 0);
		ready = 1;
	}
	if (size < 2)
		return 0;
	if (data[0] % 2 == 0)
		raw(data + 1, size - 1);
	else
		session(data + 1, size - 1);
	return 0;
}
