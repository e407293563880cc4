/* test_crypto.c: the handshake's key schedule and proofs, the handshake
 * itself between two ends without sockets (tests/fuzz/hslink.c), and the
 * AEAD records (homed/transport/crypto.c, handshake.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "homed.h"
#include "hslink.h"

static const uint8_t key_a[MIG_KEY_BYTES] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
	11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
	29, 30, 31, 32 };
static uint8_t key_b[MIG_KEY_BYTES];
static uint8_t ni[MIG_NONCE_BYTES], na[MIG_NONCE_BYTES];
/* Ephemeral secrets fixed by the test, and their public halves. */
static uint8_t esk_i[MIG_KX_BYTES], esk_a[MIG_KX_BYTES], esk_x[MIG_KX_BYTES];
static uint8_t epk_i[MIG_KX_BYTES], epk_a[MIG_KX_BYTES], epk_x[MIG_KX_BYTES];
/* Both HELLOs (the acceptor's without its proof), their transcript, and
 * the handshake secret under key_a and under key_b. */
static struct mig_buf hello_i, hello_a;
static uint8_t th[MIG_HASH_BYTES], secret_a[MIG_HASH_BYTES],
    secret_b[MIG_HASH_BYTES];

static int
setup(void **state)
{
	uint8_t s2[MIG_HASH_BYTES];

	if (mig__crypto_init() != 0)
		return -1;
	memcpy(key_b, key_a, sizeof(key_b));
	key_b[31] ^= 0x80;
	for (int i = 0; i < MIG_NONCE_BYTES; i++) {
		ni[i] = (uint8_t)(0x40 + i);
		na[i] = (uint8_t)(0x80 + i);
	}
	for (int i = 0; i < MIG_KX_BYTES; i++) {
		esk_i[i] = (uint8_t)(0x11 * i + 1);
		esk_a[i] = (uint8_t)(0x13 * i + 2);
		esk_x[i] = (uint8_t)(0x17 * i + 3);
	}
	if (mig__kx_public(esk_i, epk_i) != 0 ||
	    mig__kx_public(esk_a, epk_a) != 0 ||
	    mig__kx_public(esk_x, epk_x) != 0)
		return -1;
	if (mig__hello_put(&hello_i, MIG_PROTO_MIN, MIG_PROTO_VERSION, ni,
	    "home", MIG_CIPHER_AES256GCM, epk_i) != 0 ||
	    mig__hello_put(&hello_a, MIG_PROTO_MIN, MIG_PROTO_VERSION, na,
	    "host1", MIG_CIPHER_AES256GCM, epk_a) != 0)
		return -1;
	mig__transcript(hello_i.data, hello_i.len, hello_a.data, hello_a.len,
	    th);
	if (mig__hs_secret(key_a, esk_i, epk_a, th, secret_a) != 0 ||
	    mig__hs_secret(key_a, esk_a, epk_i, th, s2) != 0 ||
	    memcmp(secret_a, s2, sizeof(s2)) != 0 ||
	    mig__hs_secret(key_b, esk_i, epk_a, th, secret_b) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	mig_buf_free(&hello_i);
	mig_buf_free(&hello_a);
	return 0;
}

static void
random_bytes(void **state)
{
	uint8_t a[32] = { 0 }, b[32] = { 0 }, zero[32] = { 0 };

	mig__random(a, sizeof(a));
	mig__random(b, sizeof(b));
	assert_memory_not_equal(a, zero, sizeof(a));
	assert_memory_not_equal(a, b, sizeof(a));
	mig__random(a, 0);
}

/* Each side's X25519 half with the other's public key gives one secret,
 * and so the same proofs. */
static void
kx_agree(void **state)
{
	uint8_t si[MIG_HASH_BYTES], sa[MIG_HASH_BYTES];
	uint8_t pi[MIG_PROOF_BYTES], pa[MIG_PROOF_BYTES];
	uint8_t sk[MIG_KX_BYTES], pk[MIG_KX_BYTES], pk2[MIG_KX_BYTES];

	assert_int_equal(mig__hs_secret(key_a, esk_i, epk_a, th, si), 0);
	assert_int_equal(mig__hs_secret(key_a, esk_a, epk_i, th, sa), 0);
	assert_memory_equal(si, sa, sizeof(si));
	for (int initiator = 0; initiator < 2; initiator++) {
		mig__proof(si, initiator, pi);
		mig__proof(sa, initiator, pa);
		assert_int_equal(mig__proof_check(pi, pa), 0);
	}
	/* The two proofs differ: neither side can reflect the other's. */
	mig__proof(si, 0, pa);
	assert_int_equal(mig__proof_check(pi, pa), MIG_EAUTH);
	/* A fresh pair is fresh, and its public half is the secret's. */
	assert_int_equal(mig__kx_keypair(sk, pk), 0);
	assert_int_equal(mig__kx_public(sk, pk2), 0);
	assert_memory_equal(pk, pk2, sizeof(pk));
	assert_memory_not_equal(pk, epk_i, sizeof(pk));
}

/* The secret needs the ephemeral halves, not the pre-shared key alone:
 * with the key and the transcript fixed, another ephemeral key gives
 * another secret, other proofs and other session keys. */
static void
kx_needs_ephemeral(void **state)
{
	uint8_t s1[MIG_HASH_BYTES], s2[MIG_HASH_BYTES], s3[MIG_HASH_BYTES];
	struct mig_session a, b;

	assert_int_equal(mig__hs_secret(key_a, esk_i, epk_a, th, s1), 0);
	assert_int_equal(mig__hs_secret(key_a, esk_i, epk_x, th, s2), 0);
	assert_int_equal(mig__hs_secret(key_a, esk_x, epk_a, th, s3), 0);
	assert_memory_not_equal(s1, s2, sizeof(s1));
	assert_memory_not_equal(s1, s3, sizeof(s1));
	mig__session_init(&a, s1, 1, 0);
	mig__session_init(&b, s2, 1, 0);
	assert_memory_not_equal(a.tx.key, b.tx.key, sizeof(a.tx.key));
	assert_memory_not_equal(a.rx.key, b.rx.key, sizeof(a.rx.key));
	mig__session_init(&b, s3, 1, 0);
	assert_memory_not_equal(a.tx.key, b.tx.key, sizeof(a.tx.key));
	/* And it needs the key: the same ephemeral halves under another
	 * key give another secret. */
	assert_memory_not_equal(secret_a, secret_b, sizeof(secret_a));
	/* And the transcript. */
	{
		uint8_t th2[MIG_HASH_BYTES];
		memcpy(th2, th, sizeof(th2));
		th2[0] ^= 1;
		assert_int_equal(mig__hs_secret(key_a, esk_i, epk_a, th2, s2),
		    0);
		assert_memory_not_equal(s1, s2, sizeof(s1));
	}
}

/* A public key of small order makes every secret the same: refused. */
static void
kx_small_order(void **state)
{
	uint8_t zero[MIG_KX_BYTES] = { 0 }, one[MIG_KX_BYTES] = { 1 };
	uint8_t s[MIG_HASH_BYTES];

	assert_int_equal(mig__hs_secret(key_a, esk_i, zero, th, s), MIG_EAUTH);
	assert_memory_equal(s, zero, sizeof(s));
	assert_int_equal(mig__hs_secret(key_a, esk_i, one, th, s), MIG_EAUTH);
}

/* What the side that sees a HELLO changed in transit computes: the
 * transcript over the bytes it saw, X25519 with the key in them (the last
 * MIG_KX_BYTES of a HELLO's body). 0 when its proofs match the honest
 * side's (they must not). */
static int
proofs_match(const uint8_t *hi, size_t ilen, const uint8_t *ha, size_t alen,
    int initiator_saw)
{
	uint8_t t[MIG_HASH_BYTES], s[MIG_HASH_BYTES];
	uint8_t p1[MIG_PROOF_BYTES], p2[MIG_PROOF_BYTES];

	mig__transcript(hi, ilen, ha, alen, t);
	if (initiator_saw) {
		if (mig__hs_secret(key_a, esk_i, ha + alen - MIG_KX_BYTES, t,
		    s) != 0)
			return MIG_EAUTH;
	} else if (mig__hs_secret(key_a, esk_a, hi + ilen - MIG_KX_BYTES, t,
	    s) != 0)
		return MIG_EAUTH;
	for (int initiator = 0; initiator < 2; initiator++) {
		mig__proof(s, initiator, p1);
		mig__proof(secret_a, initiator, p2);
		if (mig__proof_check(p1, p2) == 0)
			return 0;
	}
	return MIG_EAUTH;
}

/* Every byte of both HELLOs is bound into the proofs: version, nonce,
 * name, cipher offer, ephemeral key, and the lengths between them. */
static void
transcript_binds_every_byte(void **state)
{
	uint8_t hi[MIG_HANDSHAKE_FRAME_MAX], ha[MIG_HANDSHAKE_FRAME_MAX];

	assert_int_equal(proofs_match(hello_i.data, hello_i.len, hello_a.data,
	    hello_a.len, 1), 0);
	assert_int_equal(proofs_match(hello_i.data, hello_i.len, hello_a.data,
	    hello_a.len, 0), 0);
	for (size_t k = 0; k < hello_i.len; k++)
		for (int bit = 0; bit < 8; bit++) {
			memcpy(hi, hello_i.data, hello_i.len);
			hi[k] ^= (uint8_t)(1u << bit);
			assert_int_equal(proofs_match(hi, hello_i.len,
			    hello_a.data, hello_a.len, 0), MIG_EAUTH);
		}
	for (size_t k = 0; k < hello_a.len; k++)
		for (int bit = 0; bit < 8; bit++) {
			memcpy(ha, hello_a.data, hello_a.len);
			ha[k] ^= (uint8_t)(1u << bit);
			assert_int_equal(proofs_match(hello_i.data,
			    hello_i.len, ha, hello_a.len, 1), MIG_EAUTH);
		}
	/* A byte more or less at the end of either. */
	memcpy(hi, hello_i.data, hello_i.len);
	assert_int_equal(proofs_match(hi, hello_i.len - 1, hello_a.data,
	    hello_a.len, 1), MIG_EAUTH);
	memcpy(ha, hello_a.data, hello_a.len);
	ha[hello_a.len] = 0;
	assert_int_equal(proofs_match(hello_i.data, hello_i.len, ha,
	    hello_a.len + 1, 1), MIG_EAUTH);
}

static void
proof_check(void **state)
{
	uint8_t a[MIG_PROOF_BYTES], b[MIG_PROOF_BYTES];

	mig__proof(secret_a, 0, a);
	memcpy(b, a, sizeof(b));
	assert_int_equal(mig__proof_check(a, b), 0);
	for (int i = 0; i < MIG_PROOF_BYTES; i++) {
		b[i] ^= 0x01;
		assert_int_equal(mig__proof_check(a, b), MIG_EAUTH);
		b[i] ^= 0x01;
		b[i] ^= 0x80;
		assert_int_equal(mig__proof_check(a, b), MIG_EAUTH);
		b[i] ^= 0x80;
	}
	assert_int_equal(mig__proof_check(a, b), 0);
}

/* A link's BUILD (protocol 5): one printable string, whole, that fits:
 * what mig hosts shows of a peer, so nothing else is taken. */
static void
build_parse(void **state)
{
	struct mig_buf b = { NULL, 0, 0 };
	char build[MIG_BUILD_MAX], big[MIG_BUILD_MAX + 1];

	assert_int_equal(proto_put_str(&b, mig_build_string()), 0);
	assert_int_equal(mig__build_parse(b.data, b.len, build), 0);
	assert_string_equal(build, mig_build_string());
	/* Truncated anywhere, or with a byte more. */
	for (size_t n = 0; n < b.len; n++)
		assert_int_equal(mig__build_parse(b.data, n, build),
		    MIG_EPROTO);
	assert_int_equal(mig_buf_append(&b, "x", 1), 0);
	assert_int_equal(mig__build_parse(b.data, b.len, build), MIG_EPROTO);
	assert_string_equal(build, "");
	mig_buf_free(&b);
	/* Empty, a control character, a non-ASCII byte. */
	const char *bad[] = { "", "0.2.0\n(git 1a2b3c4)", "0.2.0 \x1b[2J",
		"0.2.0 (git \xc3\xa9)" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(proto_put_str(&b, bad[i]), 0);
		assert_int_equal(mig__build_parse(b.data, b.len, build),
		    MIG_EPROTO);
		mig_buf_free(&b);
	}
	/* MIG_BUILD_MAX - 1 bytes fit; one more does not. */
	memset(big, 'x', MIG_BUILD_MAX);
	big[MIG_BUILD_MAX - 1] = '\0';
	assert_int_equal(proto_put_str(&b, big), 0);
	assert_int_equal(mig__build_parse(b.data, b.len, build), 0);
	assert_string_equal(build, big);
	mig_buf_free(&b);
	big[MIG_BUILD_MAX - 1] = 'x';
	big[MIG_BUILD_MAX] = '\0';
	assert_int_equal(proto_put_str(&b, big), 0);
	assert_int_equal(mig__build_parse(b.data, b.len, build), MIG_EPROTO);
	mig_buf_free(&b);
}

static void
hello_parse(void **state)
{
	struct mig_hello h;
	struct mig_buf b = { NULL, 0, 0 };
	const uint8_t *proof;
	uint8_t pr[MIG_PROOF_BYTES] = { 7 };

	assert_int_equal(mig__hello_parse(hello_i.data, hello_i.len, 0, &h),
	    0);
	assert_int_equal(h.version, MIG_PROTO_MIN);
	assert_int_equal(h.max, MIG_PROTO_VERSION);
	assert_memory_equal(h.nonce, ni, MIG_NONCE_BYTES);
	assert_string_equal(h.name, "home");
	assert_int_equal(h.ciphers, MIG_CIPHER_AES256GCM);
	assert_memory_equal(h.epk, epk_i, MIG_KX_BYTES);
	assert_null(h.proof);
	assert_int_equal(h.body, hello_i.len);
	/* An initiator's HELLO lacks the acceptor's proof. */
	assert_int_equal(mig__hello_parse(hello_i.data, hello_i.len, 1, &h),
	    MIG_EPROTO);
	assert_int_equal(mig_buf_append(&b, hello_a.data, hello_a.len), 0);
	assert_int_equal(proto_put_bytes(&b, pr, sizeof(pr)), 0);
	assert_int_equal(mig__hello_parse(b.data, b.len, 1, &h), 0);
	assert_int_equal(h.body, hello_a.len);
	assert_memory_equal(h.proof, pr, sizeof(pr));
	assert_int_equal(mig__hello_parse(b.data, b.len, 0, &h), MIG_EPROTO);
	/* Truncated anywhere. */
	for (size_t n = 0; n < b.len; n++)
		assert_int_not_equal(mig__hello_parse(b.data, n, 1, &h), 0);
	/* A refusal's bare answer: the first word alone. */
	b.data[0] ^= 1;
	assert_int_equal(mig__hello_parse(b.data, 4, 1, &h), MIG_EVERSION);
	assert_int_equal(h.version, MIG_PROTO_MIN ^ 1);
	assert_int_equal(h.max, MIG_PROTO_MIN ^ 1);
	mig_buf_free(&b);
	/* A name no hosts file has. */
	assert_int_equal(mig__hello_put(&b, 4, 4, ni, "a b", 0, epk_i), 0);
	assert_int_equal(mig__hello_parse(b.data, b.len, 0, &h), MIG_EPROTO);
	mig_buf_free(&b);
	/* One protocol alone is said as builds before 5 said it: no bits
	 * past the ciphers, which protocol 4 would not expect. */
	assert_int_equal(mig__hello_put(&b, 4, 4, ni, "home",
	    MIG_CIPHER_AES256GCM, epk_i), 0);
	assert_int_equal(mig__hello_parse(b.data, b.len, 0, &h), 0);
	assert_int_equal(h.version, 4);
	assert_int_equal(h.max, 4);
	assert_int_equal(b.data[b.len - 4 - MIG_KX_BYTES - 4 + 2], 0);
	mig_buf_free(&b);
	/* A highest below the lowest is malformed. */
	assert_int_equal(mig__hello_put(&b, 5, 5, ni, "home",
	    3u << MIG_HELLO_MAX_SHIFT, epk_i), 0);
	assert_int_equal(mig__hello_parse(b.data, b.len, 0, &h), MIG_EPROTO);
	mig_buf_free(&b);
	assert_int_equal(mig__auth_parse(pr, sizeof(pr), &proof), MIG_EPROTO);
	assert_int_equal(proto_put_bytes(&b, pr, sizeof(pr)), 0);
	assert_int_equal(mig__auth_parse(b.data, b.len, &proof), 0);
	assert_memory_equal(proof, pr, sizeof(pr));
	assert_int_equal(mig__auth_parse(b.data, b.len - 1, &proof),
	    MIG_EPROTO);
	mig_buf_free(&b);
}

/* --- the handshake between two ends without sockets (hslink.c) ---- */

static void
ends(struct hs_end **i, struct hs_end **a, const uint8_t *ki,
    const uint8_t *ka)
{
	*i = hs_new("home", "host1", ki, 1);
	*a = hs_new("host1", "home", ka, 0);
	assert_non_null(*i);
	assert_non_null(*a);
}

static void
assert_wiped_hs(const struct mig_hs *hs)
{
	static const uint8_t zero[MIG_HASH_BYTES];

	assert_memory_equal(hs->esk, zero, sizeof(hs->esk));
	assert_memory_equal(hs->secret, zero, sizeof(hs->secret));
}

static void
handshake_up(void **state)
{
	struct hs_end *i, *a;
	static const uint8_t zero[MIG_KX_BYTES];
	uint32_t want = (uint32_t)mig__cipher_local() & MIG_CIPHER_AES256GCM;

	ends(&i, &a, key_a, key_a);
	assert_int_equal(hs_run(i, a), 0);
	assert_memory_equal(i->hs.sess.tx.key, a->hs.sess.rx.key, 32);
	assert_memory_equal(i->hs.sess.rx.key, a->hs.sess.tx.key, 32);
	assert_memory_not_equal(i->hs.sess.tx.key, i->hs.sess.rx.key, 32);
	assert_int_equal(i->hs.sess.cipher, want);
	assert_int_equal(a->hs.sess.cipher, want);
	assert_string_equal(a->hs.peer, "home");
	assert_string_equal(i->hs.peer, "host1");
	/* No ephemeral secret outlives the handshake; public halves were
	 * made. */
	assert_wiped_hs(&i->hs);
	assert_wiped_hs(&a->hs);
	assert_memory_not_equal(i->hs.epk, zero, sizeof(zero));
	assert_memory_not_equal(a->hs.epk, zero, sizeof(zero));
	assert_memory_not_equal(i->hs.epk, a->hs.epk, sizeof(zero));
	hs_free(i);
	hs_free(a);
}

/* Two handshakes under one key: each its own session keys. */
static void
handshake_fresh(void **state)
{
	struct hs_end *i1, *a1, *i2, *a2;

	ends(&i1, &a1, key_a, key_a);
	ends(&i2, &a2, key_a, key_a);
	assert_int_equal(hs_run(i1, a1), 0);
	assert_int_equal(hs_run(i2, a2), 0);
	assert_memory_not_equal(i1->hs.sess.tx.key, i2->hs.sess.tx.key, 32);
	assert_memory_not_equal(i1->hs.sess.rx.key, i2->hs.sess.rx.key, 32);
	hs_free(i1);
	hs_free(a1);
	hs_free(i2);
	hs_free(a2);
}

static void
handshake_wrong_key(void **state)
{
	struct hs_end *i, *a;

	ends(&i, &a, key_a, key_b);
	assert_int_not_equal(hs_run(i, a), 0);
	assert_int_equal(i->ev, MIG_HS_FAIL);
	assert_int_equal(i->hs.code, MIG_EAUTH);
	assert_string_equal(i->hs.why, "key refused");
	/* The initiator told the acceptor before it closed. */
	assert_int_equal(a->ev, MIG_HS_FAIL);
	assert_string_equal(a->hs.why, "refused: key refused");
	assert_wiped_hs(&i->hs);
	hs_free(i);
	hs_free(a);
	/* The acceptor refuses a name its hosts file lacks. */
	i = hs_new("stranger", "host1", key_a, 1);
	a = hs_new("host1", "home", key_a, 0);
	assert_int_not_equal(hs_run(i, a), 0);
	assert_int_equal(a->hs.code, MIG_EAUTH);
	assert_non_null(strstr(a->hs.why, "'stranger' is not in"));
	/* ... and tells the caller why. */
	hs_pass(a, i);
	assert_int_equal(i->ev, MIG_HS_FAIL);
	assert_int_equal(i->hs.code, MIG_ENOHOST);
	assert_string_equal(i->hs.why,
	    "refused: 'stranger' is not in its hosts file");
	hs_free(i);
	hs_free(a);
}

/*
 * A man in the middle changes one bit of a HELLO on its way (initiator's
 * when which is 0, acceptor's when 1): the link comes up on neither side.
 * Returns why the side that first saw the change failed.
 */
static int
hello_changed(int which, size_t k, int bit)
{
	struct hs_end *i, *a;
	int code;

	ends(&i, &a, key_a, key_a);
	hs_start(i);
	if (which == 0) {
		assert_true(k < i->out.len);
		i->out.data[k] ^= (uint8_t)(1u << bit);
	}
	hs_pass(i, a);
	if (which == 1) {
		assert_true(k < a->out.len);
		a->out.data[k] ^= (uint8_t)(1u << bit);
	}
	hs_pass(a, i);
	hs_pass(i, a);
	assert_int_not_equal(i->ev, MIG_HS_PROVEN);
	assert_int_not_equal(a->ev, MIG_HS_PROVEN);
	if (i->ev == MIG_HS_FAIL)
		assert_wiped_hs(&i->hs);
	/* The side that first saw the change says why. */
	if (which == 0 && a->ev == MIG_HS_FAIL)
		code = a->hs.code;
	else
		code = i->ev == MIG_HS_FAIL ? i->hs.code :
						   a->hs.code;
	hs_free(i);
	hs_free(a);
	return code;
}

/* Any bit of either HELLO changed in transit fails the handshake; past
 * the version and the framing, it is the proof check that fails. */
static void
handshake_tampered(void **state)
{
	struct hs_end *i, *a;
	size_t ilen, alen;
	int eauth = 0;

	ends(&i, &a, key_a, key_a);
	hs_start(i);
	ilen = i->out.len;
	hs_pass(i, a);
	alen = a->out.len;
	hs_free(i);
	hs_free(a);
	for (size_t k = MIG_FRAME_HDR; k < ilen; k++)
		for (int bit = 0; bit < 8; bit++) {
			int code = hello_changed(0, k, bit);
			assert_true(code == MIG_EAUTH || code == MIG_EPROTO ||
			    code == MIG_EVERSION);
			/* The version word: refused as another version, or,
			 * where it still names one both speak, by proof_a. */
			if (k < MIG_FRAME_HDR + 4)
				assert_true(code == MIG_EVERSION ||
				    code == MIG_EAUTH);
			/* The highest protocol (bits 16-23 of the cipher
			 * word): malformed below the lowest, else as above. */
			else if (k == ilen - MIG_KX_BYTES - 8 + 2)
				assert_true(code == MIG_EPROTO ||
				    code == MIG_EAUTH);
			/* The nonce (after its length), the cipher offer and
			 * the key: parsed, then refused by proof_a. */
			else if ((k >= MIG_FRAME_HDR + 8 &&
			    k < MIG_FRAME_HDR + 8 + MIG_NONCE_BYTES) ||
			    k >= ilen - MIG_KX_BYTES - 8)
				if (!(k >= ilen - MIG_KX_BYTES - 4 &&
				    k < ilen - MIG_KX_BYTES))
					assert_int_equal(code, MIG_EAUTH);
			eauth += code == MIG_EAUTH;
		}
	for (size_t k = MIG_FRAME_HDR; k < alen; k++)
		for (int bit = 0; bit < 8; bit++) {
			int code = hello_changed(1, k, bit);
			assert_true(code == MIG_EAUTH || code == MIG_EPROTO ||
			    code == MIG_EVERSION);
			if (k >= MIG_FRAME_HDR + 8 &&
			    k < MIG_FRAME_HDR + 8 + MIG_NONCE_BYTES)
				assert_int_equal(code, MIG_EAUTH);
		}
	assert_true(eauth > 0);
}

/* Named changes a man in the middle would want: a weaker cipher, another
 * ephemeral key of its own, an old acceptor HELLO replayed. */
static void
handshake_mitm(void **state)
{
	struct hs_end *i, *a, *i2, *a2;
	struct mig_hello h;
	size_t at;

	/* The initiator's AES offer changed (cleared, to force ChaCha20, or
	 * set): the acceptor's proof covers the offer as sent, so the
	 * initiator refuses it. */
	ends(&i, &a, key_a, key_a);
	hs_start(i);
	assert_int_equal(mig__hello_parse(i->out.data + MIG_FRAME_HDR,
	    i->out.len - MIG_FRAME_HDR, 0, &h), 0);
	at = (size_t)(h.epk - i->out.data) - 4 /* epk's length */ - 4;
	i->out.data[at] ^= MIG_CIPHER_AES256GCM;
	hs_pass(i, a);
	assert_int_equal(a->hs.state, MIG_HS_AUTH);
	hs_pass(a, i);
	assert_int_equal(i->ev, MIG_HS_FAIL);
	assert_int_equal(i->hs.code, MIG_EAUTH);
	hs_free(i);
	hs_free(a);

	/* The initiator's ephemeral key swapped for the attacker's. */
	ends(&i, &a, key_a, key_a);
	hs_start(i);
	memcpy(i->out.data + i->out.len - MIG_KX_BYTES, epk_x, MIG_KX_BYTES);
	hs_pass(i, a);
	hs_pass(a, i);
	assert_int_equal(i->hs.code, MIG_EAUTH);
	hs_pass(i, a);
	assert_int_not_equal(a->ev, MIG_HS_PROVEN);
	hs_free(i);
	hs_free(a);

	/* A key of small order: the acceptor refuses at once. */
	ends(&i, &a, key_a, key_a);
	hs_start(i);
	memset(i->out.data + i->out.len - MIG_KX_BYTES, 0, MIG_KX_BYTES);
	hs_pass(i, a);
	assert_int_equal(a->ev, MIG_HS_FAIL);
	assert_int_equal(a->hs.code, MIG_EAUTH);
	assert_wiped_hs(&a->hs);
	hs_free(i);
	hs_free(a);

	/* An acceptor's HELLO from an earlier handshake, replayed to a new
	 * initiator: its proof is over another transcript. */
	ends(&i, &a, key_a, key_a);
	ends(&i2, &a2, key_a, key_a);
	hs_start(i);
	hs_pass(i, a);
	hs_start(i2);
	hs_pass(a, i2); /* a's answer to i, sent to i2 */
	assert_int_equal(i2->ev, MIG_HS_FAIL);
	assert_int_equal(i2->hs.code, MIG_EAUTH);
	hs_free(i);
	hs_free(a);
	hs_free(i2);
	hs_free(a2);

	/* An initiator's AUTH from another handshake, to an acceptor
	 * waiting for its own. */
	{
		struct hs_end *i3, *a3;
		ends(&i2, &a2, key_a, key_a);
		ends(&i3, &a3, key_a, key_a);
		hs_start(i2);
		hs_pass(i2, a2);
		mig_buf_free(&a2->out);
		hs_start(i3);
		hs_pass(i3, a3);
		hs_pass(a3, i3);
		hs_pass(i3, a2); /* i3's AUTH, made for a3 */
		assert_int_equal(a2->ev, MIG_HS_FAIL);
		assert_int_equal(a2->hs.code, MIG_EAUTH);
		assert_wiped_hs(&a2->hs);
		hs_free(i2);
		hs_free(a2);
		hs_free(i3);
		hs_free(a3);
	}
}

/* A version word none of ours (99, in a HELLO that cannot be ours):
 * the acceptor refuses, answers, and both say it. */
static void
handshake_version(void **state)
{
	struct hs_end *i, *a;
	char want[120];

	ends(&i, &a, key_a, key_a);
	hs_start(i);
	i->out.data[MIG_FRAME_HDR] = 99;
	hs_pass(i, a);
	assert_int_equal(a->hs.code, MIG_EVERSION);
	snprintf(want, sizeof(want), "protocol 99 vs %d-%d (? vs %s)",
	    MIG_PROTO_MIN, MIG_PROTO_VERSION, MIG_VERSION_STRING);
	assert_string_equal(a->hs.why, want);
	/* A HELLO it cannot read may come from a build that reads nothing
	 * but a HELLO's first word: its lowest version alone. */
	assert_int_equal(a->out.len, MIG_FRAME_HDR + 4);
	assert_int_equal(a->out.data[4], MIG_M_HELLO);
	assert_int_equal(a->out.data[MIG_FRAME_HDR], MIG_PROTO_MIN);
	hs_pass(a, i);
	assert_int_equal(i->hs.code, MIG_EVERSION);
	snprintf(want, sizeof(want), "protocol %d vs %d-%d (0.1.0 vs %s)",
	    MIG_PROTO_MIN, MIG_PROTO_MIN, MIG_PROTO_VERSION,
	    MIG_VERSION_STRING);
	assert_string_equal(i->hs.why, want);
	assert_wiped_hs(&i->hs);
	hs_free(i);
	hs_free(a);
}

/* Ends speaking lo..hi each. */
static void
ends_speaking(struct hs_end **i, struct hs_end **a, uint32_t ilo,
    uint32_t ihi, uint32_t alo, uint32_t ahi)
{
	ends(i, a, key_a, key_a);
	(*i)->hs.min = ilo;
	(*i)->hs.max = ihi;
	(*a)->hs.min = alo;
	(*a)->hs.max = ahi;
}

/* Both speak the highest they share; only none in common refuses, with
 * both sides' protocols and releases in the reason. */
static void
handshake_negotiate(void **state)
{
	struct hs_end *i, *a;
	char want[120];

	/* 4-5 with 4-5: 5. */
	ends(&i, &a, key_a, key_a);
	assert_int_equal(hs_run(i, a), 0);
	assert_int_equal(i->hs.proto, MIG_PROTO_VERSION);
	assert_int_equal(a->hs.proto, MIG_PROTO_VERSION);
	hs_free(i);
	hs_free(a);
	/* A build that speaks 4 alone, either way round: 4. */
	for (int k = 0; k < 2; k++) {
		if (k == 0)
			ends_speaking(&i, &a, 4, 5, 4, 4);
		else
			ends_speaking(&i, &a, 4, 4, 4, 5);
		assert_int_equal(hs_run(i, a), 0);
		assert_int_equal(i->hs.proto, 4);
		assert_int_equal(a->hs.proto, 4);
		hs_free(i);
		hs_free(a);
	}
	/* A protocol-3 caller: the acceptor refuses it with its lowest
	 * version alone (all a protocol-3 build reads), and both say it. */
	ends_speaking(&i, &a, 3, 3, 4, 5);
	hs_start(i);
	hs_pass(i, a);
	assert_int_equal(a->ev, MIG_HS_FAIL);
	snprintf(want, sizeof(want), "protocol 3 vs 4-5 (0.1.0 vs %s)",
	    MIG_VERSION_STRING);
	assert_string_equal(a->hs.why, want);
	assert_int_equal(a->out.len, MIG_FRAME_HDR + 4);
	assert_int_equal(a->out.data[4], MIG_M_HELLO);
	assert_int_equal(a->out.data[MIG_FRAME_HDR], 4);
	hs_pass(a, i);
	assert_int_equal(i->hs.code, MIG_EVERSION);
	snprintf(want, sizeof(want), "protocol 4 vs 3 (0.1.0 vs %s)",
	    MIG_VERSION_STRING);
	assert_string_equal(i->hs.why, want);
	hs_free(i);
	hs_free(a);
	/* A protocol-3 acceptor answers a 4-5 caller as such a build did;
	 * the caller names it. */
	ends_speaking(&i, &a, 4, 5, 3, 3);
	hs_start(i);
	hs_pass(i, a);
	hs_pass(a, i);
	assert_int_equal(i->hs.code, MIG_EVERSION);
	snprintf(want, sizeof(want), "protocol 3 vs 4-5 (0.1.0 vs %s)",
	    MIG_VERSION_STRING);
	assert_string_equal(i->hs.why, want);
	hs_free(i);
	hs_free(a);
	/* Two builds of 5 or later with nothing in common: the refusal is
	 * an ERROR carrying the acceptor's protocols and release. */
	ends_speaking(&i, &a, 6, 7, 4, 5);
	hs_start(i);
	hs_pass(i, a);
	assert_int_equal(a->out.data[4], MIG_M_ERROR);
	hs_pass(a, i);
	assert_int_equal(i->hs.code, MIG_EVERSION);
	snprintf(want, sizeof(want), "protocol 4-5 vs 6-7 (%s vs %s)",
	    MIG_VERSION_STRING, MIG_VERSION_STRING);
	assert_string_equal(i->hs.why, want);
	hs_free(i);
	hs_free(a);
}

static int
always_ours(void *arg, const uint8_t epk[MIG_KX_BYTES])
{
	return 1;
}

/* A daemon that dialed itself: its acceptor knows its own key and says
 * so; the dialing end shows "name resolves to this host". */
static void
handshake_self(void **state)
{
	struct hs_end *i, *a;

	ends(&i, &a, key_a, key_a);
	a->hs.ours = always_ours;
	hs_start(i);
	hs_pass(i, a);
	assert_int_equal(a->hs.code, MIG_ESELF);
	hs_pass(a, i);
	assert_int_equal(i->hs.code, MIG_ESELF);
	assert_string_equal(i->hs.why, "name resolves to this host");
	hs_free(i);
	hs_free(a);
}

/*
 * The handshake function itself (mig__hs_step), driven one byte at a
 * time between two instances as a slow network would deliver them:
 * every byte short of a whole message is NEED_MORE, uses nothing and
 * writes nothing; the last byte of each gives the answer. Returns the
 * event the receiving end gave for message k (0: HELLO_i, 1: HELLO_a,
 * 2: AUTH); when tamper is set, payload byte at % 1000 of message
 * at / 1000 is changed.
 */
static enum mig_hs_event
bytewise(struct mig_hs *i, struct mig_hs *a, int tamper, size_t at)
{
	struct mig_buf msg = { NULL, 0, 0 }, in = { NULL, 0, 0 };
	enum mig_hs_event ev;
	size_t used;

	assert_int_equal(mig__hs_start(a, &msg), MIG_HS_NEED_MORE);
	assert_int_equal(msg.len, 0);
	assert_int_equal(mig__hs_start(i, &msg), MIG_HS_SEND);
	for (int k = 0; k < 3; k++) {
		struct mig_hs *to = k == 1 ? i : a;
		struct mig_buf out = { NULL, 0, 0 };

		assert_true(msg.len > MIG_FRAME_HDR);
		if (tamper && at / 1000 == (size_t)k)
			msg.data[MIG_FRAME_HDR + at % 1000 %
			    (msg.len - MIG_FRAME_HDR)] ^= 0x20;
		ev = MIG_HS_NEED_MORE;
		for (size_t j = 0; j < msg.len; j++) {
			assert_int_equal(ev, MIG_HS_NEED_MORE);
			assert_int_equal(mig_buf_append(&in, msg.data + j, 1),
			    0);
			ev = mig__hs_step(to, in.data, in.len, &used, &out);
			if (j + 1 < msg.len && ev == MIG_HS_NEED_MORE) {
				assert_int_equal(used, 0);
				assert_int_equal(out.len, 0);
			}
		}
		/* A message is read whole or the handshake failed on it. */
		if (ev != MIG_HS_FAIL)
			assert_int_equal(used, msg.len);
		mig_buf_free(&msg);
		mig_buf_free(&in);
		msg = out;
		if (ev != MIG_HS_SEND && !(k == 1 && ev == MIG_HS_PROVEN))
			break;
	}
	mig_buf_free(&msg);
	return ev;
}

static void
handshake_bytewise(void **state)
{
	struct mig_hosts hi = { NULL, 0 }, ha = { NULL, 0 };
	struct mig_host home = { .name = "home" }, host1 = { .name = "host1" };
	struct mig_hs i, a, i2, a2;
	struct mig_buf m = { NULL, 0, 0 }, hello = { NULL, 0, 0 };
	struct mig_buf auth = { NULL, 0, 0 };
	size_t used;

	hi.v = &host1;
	hi.n = 1;
	ha.v = &home;
	ha.n = 1;
	/* Honest: both PROVEN, with the keys that fit. */
	mig__hs_init(&i, 1, key_a, "home", "host1", &hi);
	mig__hs_init(&a, 0, key_a, "host1", NULL, &ha);
	assert_int_equal(bytewise(&i, &a, 0, 0), MIG_HS_PROVEN);
	assert_int_equal(i.state, MIG_HS_DONE);
	assert_int_equal(a.state, MIG_HS_DONE);
	assert_string_equal(a.peer, "home");
	assert_memory_equal(i.sess.tx.key, a.sess.rx.key, 32);
	assert_memory_equal(i.sess.rx.key, a.sess.tx.key, 32);
	assert_wiped_hs(&i);
	assert_wiped_hs(&a);

	/* One byte changed in any message, past its frame header: FAIL
	 * (the proofs cover every byte; the header's are checked). */
	for (int k = 0; k < 3; k++)
		for (size_t at = 0; at < 200; at += 7) {
			mig__hs_init(&i, 1, key_a, "home", "host1", &hi);
			mig__hs_init(&a, 0, key_a, "host1", NULL, &ha);
			assert_int_equal(bytewise(&i, &a, 1,
			    (size_t)k * 1000 + at), MIG_HS_FAIL);
			/* The acceptor is never proven; an end that failed
			 * kept no secret. */
			assert_true(a.state != MIG_HS_DONE || a.code != 0);
			if (a.code != 0)
				assert_wiped_hs(&a);
			if (i.code != 0)
				assert_wiped_hs(&i);
			mig__hs_wipe(&i);
		}

	/* A wrong key: FAIL, and the initiator says so. */
	mig__hs_init(&i, 1, key_a, "home", "host1", &hi);
	mig__hs_init(&a, 0, key_b, "host1", NULL, &ha);
	assert_int_equal(bytewise(&i, &a, 0, 0), MIG_HS_FAIL);
	assert_int_equal(i.code, MIG_EAUTH);
	assert_string_equal(i.why, "key refused");

	/* A recorded HELLO and AUTH replayed to a fresh acceptor: it
	 * answers the HELLO (a fresh nonce and key of its own), and the old
	 * AUTH fails its proof. */
	mig__hs_init(&i, 1, key_a, "home", "host1", &hi);
	mig__hs_init(&a, 0, key_a, "host1", NULL, &ha);
	assert_int_equal(mig__hs_start(&i, &hello), MIG_HS_SEND);
	assert_int_equal(mig__hs_step(&a, hello.data, hello.len, &used, &m),
	    MIG_HS_SEND);
	assert_int_equal(mig__hs_step(&i, m.data, m.len, &used, &auth),
	    MIG_HS_PROVEN);
	m.len = 0;
	assert_int_equal(mig__hs_step(&a, auth.data, auth.len, &used, &m),
	    MIG_HS_PROVEN);
	mig__hs_init(&a2, 0, key_a, "host1", NULL, &ha);
	assert_int_equal(mig__hs_step(&a2, hello.data, hello.len, &used, &m),
	    MIG_HS_SEND);
	assert_int_equal(mig__hs_step(&a2, auth.data, auth.len, &used, &m),
	    MIG_HS_FAIL);
	assert_int_equal(a2.code, MIG_EAUTH);
	assert_wiped_hs(&a2);
	/* And the acceptor's recorded answer, replayed to a fresh
	 * initiator: its proof is over another HELLO. */
	mig__hs_init(&i2, 1, key_a, "home", "host1", &hi);
	mig_buf_free(&m);
	assert_int_equal(mig__hs_start(&i2, &m), MIG_HS_SEND);
	mig__hs_init(&a, 0, key_a, "host1", NULL, &ha);
	m.len = 0;
	assert_int_equal(mig__hs_step(&a, hello.data, hello.len, &used, &m),
	    MIG_HS_SEND);
	assert_int_equal(mig__hs_step(&i2, m.data, m.len, &used, &auth),
	    MIG_HS_FAIL);
	assert_int_equal(i2.code, MIG_EAUTH);
	/* A name of no hosts file line, or the acceptor's own: FAIL before
	 * any answer. */
	mig__hs_init(&i, 1, key_a, "host1", "host1", &hi);
	mig__hs_init(&a, 0, key_a, "host1", NULL, &hi);
	m.len = 0;
	assert_int_equal(bytewise(&i, &a, 0, 0), MIG_HS_FAIL);
	assert_non_null(strstr(a.why,
	    "'host1' calls itself by this host's own name"));
	mig_buf_free(&m);
	mig_buf_free(&hello);
	mig_buf_free(&auth);
}

/* Both ends of one link, as the handshake leaves them. */
static void
pair(struct mig_session *i, struct mig_session *a, uint32_t ciphers)
{
	mig__session_init(i, secret_a, 1, ciphers);
	mig__session_init(a, secret_a, 0, ciphers);
}

static void
cipher_local(void **state)
{
	int c = mig__cipher_local();

	assert_int_equal(c & ~MIG_CIPHER_AES256GCM, 0);
	print_message("local ciphers: chacha20-poly1305%s\n",
	    c & MIG_CIPHER_AES256GCM ? ", aes256-gcm" : "");
}

static void
session_keys(void **state)
{
	struct mig_session i, a, o;

	pair(&i, &a, 0);
	assert_int_equal(i.cipher, MIG_CIPHER_CHACHA);
	assert_int_equal(a.cipher, MIG_CIPHER_CHACHA);
	assert_memory_equal(i.tx.key, a.rx.key, sizeof(i.tx.key));
	assert_memory_equal(i.rx.key, a.tx.key, sizeof(i.rx.key));
	assert_memory_not_equal(i.tx.key, i.rx.key, sizeof(i.tx.key));
	assert_true(i.tx.counter == 0 && i.rx.counter == 0);
	assert_true(a.tx.counter == 0 && a.rx.counter == 0);

	pair(&i, &a, MIG_CIPHER_AES256GCM);
	assert_int_equal(i.cipher, MIG_CIPHER_AES256GCM);
	assert_int_equal(a.cipher, MIG_CIPHER_AES256GCM);

	/* Keys are not the proofs, nor the secret, nor the key. */
	{
		uint8_t p[MIG_PROOF_BYTES];
		mig__proof(secret_a, 1, p);
		assert_memory_not_equal(p, i.tx.key, sizeof(p));
		assert_memory_not_equal(p, i.rx.key, sizeof(p));
		mig__proof(secret_a, 0, p);
		assert_memory_not_equal(p, i.rx.key, sizeof(p));
		assert_memory_not_equal(p, i.tx.key, sizeof(p));
		assert_memory_not_equal(secret_a, i.tx.key, sizeof(p));
		assert_memory_not_equal(key_a, i.tx.key, sizeof(p));
	}
	mig__session_init(&o, secret_b, 1, 0);
	assert_memory_not_equal(o.tx.key, i.tx.key, sizeof(o.tx.key));

	mig__session_wipe(&i);
	{
		struct mig_session zero;
		memset(&zero, 0, sizeof(zero));
		assert_memory_equal(&i, &zero, sizeof(i));
	}
}

/* ChaCha20-Poly1305 runs everywhere; libsodium offers AES-256-GCM only
 * where the CPU has instructions for it, and its tests skip elsewhere. */
static int
have_cipher(uint32_t cipher)
{
	return cipher == MIG_CIPHER_CHACHA ||
	    (mig__cipher_local() & MIG_CIPHER_AES256GCM) != 0;
}

static void
round_trip(uint32_t cipher)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 1000, 65536,
		MIG_FRAME_HDR + MIG_FRAME_MAX };
	struct mig_session i, a;
	uint8_t ad[4] = { 0, 0, 1, 2 };

	pair(&i, &a, cipher);
	assert_int_equal(i.cipher, cipher);
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k];
		uint8_t *plain = malloc(n + 1), *rec = malloc(n + MIG_TAG_BYTES);
		uint8_t *back = malloc(n + 1);

		assert_true(plain && rec && back);
		for (size_t j = 0; j < n; j++)
			plain[j] = (uint8_t)(j * 7 + k);
		ad[0] = (uint8_t)k;
		/* Initiator to acceptor, then back. */
		assert_int_equal(mig__seal(&i, plain, n, ad, sizeof(ad), rec),
		    0);
		if (n > 0)
			assert_memory_not_equal(rec, plain, n);
		assert_int_equal(mig__open(&a, rec, n + MIG_TAG_BYTES, ad,
		    sizeof(ad), back), 0);
		assert_memory_equal(back, plain, n);
		assert_int_equal(mig__seal(&a, plain, n, NULL, 0, rec), 0);
		assert_int_equal(mig__open(&i, rec, n + MIG_TAG_BYTES, NULL, 0,
		    back), 0);
		assert_memory_equal(back, plain, n);
		free(plain);
		free(rec);
		free(back);
	}
	assert_true(i.tx.counter == 8 && a.rx.counter == 8);
	assert_true(a.tx.counter == 8 && i.rx.counter == 8);
}

static void
round_trip_chacha(void **state)
{
	round_trip(MIG_CIPHER_CHACHA);
}

static void
round_trip_aes(void **state)
{
	if (!have_cipher(MIG_CIPHER_AES256GCM))
		skip();
	round_trip(MIG_CIPHER_AES256GCM);
}

/* Every kind of tampering fails, and none of them upsets the session: the
 * genuine records still open afterwards, in order. */
static void
tamper(uint32_t cipher)
{
	struct mig_session i, a;
	uint8_t plain[100], r1[100 + MIG_TAG_BYTES], r2[100 + MIG_TAG_BYTES];
	uint8_t bad[100 + MIG_TAG_BYTES], back[100];
	uint8_t ad[MIG_FRAME_HDR] = { 100, 0, 0, 0, MIG_M_OUTPUT, 0, 1, 0, 7 };

	pair(&i, &a, cipher);
	memset(plain, 'p', sizeof(plain));
	assert_int_equal(mig__seal(&i, plain, 100, ad, sizeof(ad), r1), 0);
	plain[0] = 'q';
	assert_int_equal(mig__seal(&i, plain, 100, ad, sizeof(ad), r2), 0);
	assert_memory_not_equal(r1, r2, sizeof(r1));

	/* A flipped bit anywhere in the ciphertext or the tag. */
	for (size_t k = 0; k < sizeof(r1); k++) {
		memcpy(bad, r1, sizeof(bad));
		bad[k] ^= (uint8_t)(1u << (k % 8));
		assert_int_equal(mig__open(&a, bad, sizeof(bad), ad,
		    sizeof(ad), back), MIG_EAUTH);
	}
	/* A flipped byte of associated data, or a missing one. */
	for (size_t k = 0; k < sizeof(ad); k++) {
		ad[k] ^= 0x01;
		assert_int_equal(mig__open(&a, r1, sizeof(r1), ad, sizeof(ad),
		    back), MIG_EAUTH);
		ad[k] ^= 0x01;
	}
	assert_int_equal(mig__open(&a, r1, sizeof(r1), ad, sizeof(ad) - 1,
	    back), MIG_EAUTH);
	assert_int_equal(mig__open(&a, r1, sizeof(r1), NULL, 0, back),
	    MIG_EAUTH);
	/* Truncated, or shorter than a tag. */
	assert_int_equal(mig__open(&a, r1, sizeof(r1) - 1, ad, sizeof(ad),
	    back), MIG_EAUTH);
	assert_int_equal(mig__open(&a, r1, MIG_TAG_BYTES - 1, ad, sizeof(ad),
	    back), MIG_EAUTH);
	assert_int_equal(mig__open(&a, r1, 0, ad, sizeof(ad), back), MIG_EAUTH);
	/* Reordered: the second record first. */
	assert_int_equal(mig__open(&a, r2, sizeof(r2), ad, sizeof(ad), back),
	    MIG_EAUTH);
	/* Reflected: a record sent back to its own sender. */
	assert_int_equal(mig__open(&i, r1, sizeof(r1), ad, sizeof(ad), back),
	    MIG_EAUTH);
	assert_true(a.rx.counter == 0);

	assert_int_equal(mig__open(&a, r1, sizeof(r1), ad, sizeof(ad), back),
	    0);
	assert_int_equal(back[0], 'p');
	/* Replayed: the same record twice. */
	assert_int_equal(mig__open(&a, r1, sizeof(r1), ad, sizeof(ad), back),
	    MIG_EAUTH);
	assert_int_equal(mig__open(&a, r2, sizeof(r2), ad, sizeof(ad), back),
	    0);
	assert_int_equal(back[0], 'q');
	assert_int_equal(mig__open(&a, r2, sizeof(r2), ad, sizeof(ad), back),
	    MIG_EAUTH);
	assert_int_equal(mig__open(&a, r1, sizeof(r1), ad, sizeof(ad), back),
	    MIG_EAUTH);
}

static void
tamper_chacha(void **state)
{
	tamper(MIG_CIPHER_CHACHA);
}

static void
tamper_aes(void **state)
{
	if (!have_cipher(MIG_CIPHER_AES256GCM))
		skip();
	tamper(MIG_CIPHER_AES256GCM);
}

static void
wrong_session(void **state)
{
	struct mig_session i, a, other;
	uint8_t plain[10] = "0123456789", rec[10 + MIG_TAG_BYTES], back[10];

	/* Another secret, the other direction or the other cipher cannot
	 * open it. */
	pair(&i, &a, 0);
	assert_int_equal(mig__seal(&i, plain, 10, NULL, 0, rec), 0);
	mig__session_init(&other, secret_b, 0, 0);
	assert_int_equal(mig__open(&other, rec, sizeof(rec), NULL, 0, back),
	    MIG_EAUTH);
	/* The initiator's own keys, as if it were the acceptor. */
	mig__session_init(&other, secret_a, 1, 0);
	assert_int_equal(mig__open(&other, rec, sizeof(rec), NULL, 0, back),
	    MIG_EAUTH);
	if (have_cipher(MIG_CIPHER_AES256GCM)) {
		mig__session_init(&other, secret_a, 0, MIG_CIPHER_AES256GCM);
		assert_int_equal(mig__open(&other, rec, sizeof(rec), NULL, 0,
		    back), MIG_EAUTH);
	}
	assert_int_equal(mig__open(&a, rec, sizeof(rec), NULL, 0, back), 0);
	assert_memory_equal(back, plain, 10);
}

static void
counter_exhausted(void **state)
{
	struct mig_session i, a;
	uint8_t rec[1 + MIG_TAG_BYTES], back[1];

	pair(&i, &a, 0);
	i.tx.counter = UINT64_MAX - 1;
	a.rx.counter = UINT64_MAX - 1;
	assert_int_equal(mig__seal(&i, (const uint8_t *)"x", 1, NULL, 0, rec),
	    0);
	assert_int_equal(mig__open(&a, rec, sizeof(rec), NULL, 0, back), 0);
	/* The last nonce is never used: no counter wraps to reuse one. */
	assert_int_equal(mig__seal(&i, (const uint8_t *)"x", 1, NULL, 0, rec),
	    MIG_EAUTH);
	assert_int_equal(mig__open(&a, rec, sizeof(rec), NULL, 0, back),
	    MIG_EAUTH);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(random_bytes),
		cmocka_unit_test(kx_agree),
		cmocka_unit_test(kx_needs_ephemeral),
		cmocka_unit_test(kx_small_order),
		cmocka_unit_test(transcript_binds_every_byte),
		cmocka_unit_test(proof_check),
		cmocka_unit_test(hello_parse),
		cmocka_unit_test(build_parse),
		cmocka_unit_test(handshake_up),
		cmocka_unit_test(handshake_fresh),
		cmocka_unit_test(handshake_wrong_key),
		cmocka_unit_test(handshake_tampered),
		cmocka_unit_test(handshake_mitm),
		cmocka_unit_test(handshake_version),
		cmocka_unit_test(handshake_negotiate),
		cmocka_unit_test(handshake_self),
		cmocka_unit_test(handshake_bytewise),
		cmocka_unit_test(cipher_local),
		cmocka_unit_test(session_keys),
		cmocka_unit_test(round_trip_chacha),
		cmocka_unit_test(round_trip_aes),
		cmocka_unit_test(tamper_chacha),
		cmocka_unit_test(tamper_aes),
		cmocka_unit_test(wrong_session),
		cmocka_unit_test(counter_exhausted),
	};

	/* An argument runs only the tests whose names match it. */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, setup, teardown);
}
