/*
 * fuzz_handshake.c: the peer handshake as an attacker on the network
 * reaches it: the handshake function itself (mig__hs_step in
 * homed/transport/handshake.c, which does no I/O), fed as link.c feeds
 * it (hslink.c keeps each end's bytes). The first byte says what the
 * input is:
 *
 *   0  the initiator's side, as bytes arriving at an acceptor
 *   1  the acceptor's side, as bytes arriving at an initiator that has
 *      sent its HELLO
 *   2  an honest handshake between two ends, with one message (the
 *      next byte: HELLO_i, HELLO_a, AUTH or none) changed by a man in
 *      the middle (two bytes of offset, one of xor), then the rest as
 *      bytes after the handshake, left for the record layer
 *   3  the payload of a stdio link's plain HELLO and of a link's BUILD
 *      (both from a peer that is up, or about to be)
 *
 * Without the key nothing is PROVEN, and a changed message never proves
 * the end that receives it; an unchanged handshake always does, with
 * agreeing keys.
 */
#include <string.h>

#include "fuzz.h"
#include "hslink.h"

static const uint8_t key[MIG_KEY_BYTES] = { 0x6d, 0x69, 0x67, 1, 2, 3 };

/* Everything an end wrote is whole, well-formed handshake frames. */
static void
check_out(const struct hs_end *e)
{
	size_t off = 0;
	struct mig_frame f;
	struct mig_hello h;
	const uint8_t *proof;

	while (off < e->out.len) {
		CHECK(mig_frame_decode(e->out.data + off, e->out.len - off,
		    &f) == 0);
		CHECK(f.len <= MIG_HANDSHAKE_FRAME_MAX);
		if (f.type == MIG_M_HELLO)
			CHECK(mig__hello_parse(f.payload, f.len,
			    !e->hs.initiator, &h) == 0 || f.len == 4);
		else if (f.type == MIG_M_ERROR)
			CHECK(e->ev == MIG_HS_FAIL); /* a refusal, then close */
		else
			CHECK(f.type == MIG_M_AUTH &&
			    mig__auth_parse(f.payload, f.len, &proof) == 0);
		off += MIG_FRAME_HDR + f.len;
	}
}

/* Feeds p to e in pieces of the sizes the input's bytes say, as TCP may
 * deliver them. */
static void
feed_split(struct hs_end *e, const uint8_t *p, size_t n)
{
	size_t step = n > 0 ? (size_t)p[0] % 64 + 1 : 1;

	for (size_t off = 0; off < n && !hs_over(e); off += step)
		hs_feed(e, p + off, n - off < step ? n - off : step);
}

static void
one_side(int acceptor, const uint8_t *p, size_t n)
{
	struct hs_end *e = acceptor ? hs_new("host1", "home", key, 0) :
				      hs_new("home", "host1", key, 1);

	CHECK(e != NULL);
	hs_start(e);
	feed_split(e, p, n);
	/* Nobody without the key's proofs over our fresh values gets in. */
	CHECK(e->ev != MIG_HS_PROVEN);
	CHECK(e->ev != MIG_HS_FAIL || (e->hs.code != 0 && e->hs.why[0]));
	if (e->ev == MIG_HS_FAIL) {
		static const uint8_t zero[MIG_HASH_BYTES];
		CHECK(memcmp(e->hs.esk, zero, sizeof(e->hs.esk)) == 0);
		CHECK(memcmp(e->hs.secret, zero, sizeof(e->hs.secret)) == 0);
	}
	check_out(e);
	hs_free(e);
}

static void
changed(const uint8_t *p, size_t n)
{
	struct hs_end *i = hs_new("home", "host1", key, 1);
	struct hs_end *a = hs_new("host1", "home", key, 0);
	unsigned which = 3, at = 0;
	uint8_t x = 0;
	int edited = 0;

	CHECK(i != NULL && a != NULL);
	if (n >= 4) {
		which = p[0] % 4;
		at = (unsigned)p[1] | (unsigned)p[2] << 8;
		x = p[3];
		p += 4;
		n -= 4;
	}
	hs_start(i);
	for (unsigned step = 0; step < 3; step++) {
		struct hs_end *from = step == 1 ? a : i, *to = step == 1 ? i : a;
		if (which == step && x != 0 && at < from->out.len) {
			from->out.data[at] ^= x;
			edited = 1;
		}
		hs_pass(from, to);
	}
	if (!edited) {
		CHECK(i->ev == MIG_HS_PROVEN && a->ev == MIG_HS_PROVEN);
		CHECK(memcmp(i->hs.sess.tx.key, a->hs.sess.rx.key, 32) == 0);
		CHECK(memcmp(i->hs.sess.rx.key, a->hs.sess.tx.key, 32) == 0);
		CHECK(i->hs.sess.cipher == a->hs.sess.cipher);
		CHECK(strcmp(a->hs.peer, "home") == 0);
	} else {
		/* A changed message fails the handshake: the acceptor is
		 * never proven; the initiator is, only when its AUTH was
		 * changed after it went (the acceptor then closes the link). */
		CHECK(a->ev != MIG_HS_PROVEN);
		CHECK(i->ev != MIG_HS_PROVEN || which == 2);
	}
	/* Bytes after the handshake stay for the record layer. */
	hs_feed(a, p, n);
	if (a->ev == MIG_HS_PROVEN)
		CHECK(a->in.len == n);
	hs_free(i);
	hs_free(a);
}

/* A stdio link's plain HELLO (stdio.c): accepted only with our version,
 * a valid name and a printable build, each NUL-terminated. */
static void
plain_hello(const uint8_t *p, size_t n)
{
	char name[MIG_NAME_MAX], build[MIG_BUILD_MAX];
	uint32_t version;
	int r = mig__hello_plain_parse(p, n, &version, name, build);

	CHECK(r == 0 || r == MIG_EPROTO || r == MIG_EVERSION);
	if (r == MIG_EVERSION)
		CHECK(version != MIG_PROTO_VERSION);
	if (r != 0)
		return;
	CHECK(version == MIG_PROTO_VERSION);
	CHECK(memchr(name, '\0', sizeof(name)) != NULL && name[0] != '\0');
	CHECK(memchr(build, '\0', sizeof(build)) != NULL);
	for (const char *c = build; *c != '\0'; c++)
		CHECK(*c >= 0x20 && *c < 0x7f);
}

/* A link's BUILD (link.c): one printable string, not empty, that fits,
 * else nothing is kept. */
static void
build(const uint8_t *p, size_t n)
{
	char b[MIG_BUILD_MAX];
	int r = mig__build_parse(p, n, b);

	CHECK(r == 0 || r == MIG_EPROTO);
	CHECK(memchr(b, '\0', sizeof(b)) != NULL);
	if (r != 0) {
		CHECK(b[0] == '\0');
		return;
	}
	CHECK(b[0] != '\0');
	for (const char *c = b; *c != '\0'; c++)
		CHECK(*c >= 0x20 && *c < 0x7f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;

	if (!ready) {
		CHECK(mig__crypto_init() == 0);
		ready = 1;
	}
	if (size == 0)
		return 0;
	switch (data[0] % 4) {
	case 3:
		/* Both plain messages read a string; one input serves both. */
		plain_hello(data + 1, size - 1);
		build(data + 1, size - 1);
		break;
	case 0:
		one_side(1, data + 1, size - 1);
		break;
	case 1:
		one_side(0, data + 1, size - 1);
		break;
	default:
		changed(data + 1, size - 1);
		break;
	}
	return 0;
}
