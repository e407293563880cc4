/* test_crypto.c: handshake proofs, session keys and AEAD records
 * (homed/crypto.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "homed.h"

static const uint8_t key_a[MIG_KEY_BYTES] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
	11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
	29, 30, 31, 32 };
static uint8_t key_b[MIG_KEY_BYTES];
static uint8_t ni[MIG_NONCE_BYTES], na[MIG_NONCE_BYTES];

static int
setup(void **state)
{
	if (mig__crypto_init() != 0)
		return -1;
	memcpy(key_b, key_a, sizeof(key_b));
	key_b[31] ^= 0x80;
	for (int i = 0; i < MIG_NONCE_BYTES; i++) {
		ni[i] = (uint8_t)(0x40 + i);
		na[i] = (uint8_t)(0x80 + i);
	}
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

static void
proof_same_inputs(void **state)
{
	uint8_t p1[MIG_PROOF_BYTES], p2[MIG_PROOF_BYTES];

	for (int initiator = 0; initiator < 2; initiator++) {
		mig__proof(key_a, initiator, ni, na, "home", "host1", p1);
		mig__proof(key_a, initiator, ni, na, "home", "host1", p2);
		assert_memory_equal(p1, p2, MIG_PROOF_BYTES);
		assert_int_equal(mig__proof_check(p1, p2), 0);
	}
}

static void
proof_differs(void **state)
{
	uint8_t base[MIG_PROOF_BYTES], p[MIG_PROOF_BYTES];
	uint8_t ni2[MIG_NONCE_BYTES], na2[MIG_NONCE_BYTES];

	memcpy(ni2, ni, sizeof(ni2));
	memcpy(na2, na, sizeof(na2));
	ni2[MIG_NONCE_BYTES - 1] ^= 1;
	na2[0] ^= 1;
	mig__proof(key_a, 1, ni, na, "home", "host1", base);

	mig__proof(key_b, 1, ni, na, "home", "host1", p);
	assert_int_equal(mig__proof_check(base, p), MIG_EAUTH);
	mig__proof(key_a, 0, ni, na, "home", "host1", p);
	assert_int_equal(mig__proof_check(base, p), MIG_EAUTH);
	mig__proof(key_a, 1, ni2, na, "home", "host1", p);
	assert_int_equal(mig__proof_check(base, p), MIG_EAUTH);
	mig__proof(key_a, 1, ni, na2, "home", "host1", p);
	assert_int_equal(mig__proof_check(base, p), MIG_EAUTH);
	/* Swapped nonces: an acceptor cannot echo the initiator's back. */
	mig__proof(key_a, 1, na, ni, "home", "host1", p);
	assert_int_equal(mig__proof_check(base, p), MIG_EAUTH);
	mig__proof(key_a, 1, ni, na, "home2", "host1", p);
	assert_int_equal(mig__proof_check(base, p), MIG_EAUTH);
	mig__proof(key_a, 1, ni, na, "home", "host2", p);
	assert_int_equal(mig__proof_check(base, p), MIG_EAUTH);
	mig__proof(key_a, 1, ni, na, "host1", "home", p);
	assert_int_equal(mig__proof_check(base, p), MIG_EAUTH);
	/* The boundary between the names counts. */
	mig__proof(key_a, 1, ni, na, "homeh", "ost1", p);
	assert_int_equal(mig__proof_check(base, p), MIG_EAUTH);
	mig__proof(key_a, 1, ni, na, "", "homehost1", p);
	assert_int_equal(mig__proof_check(base, p), MIG_EAUTH);
}

static void
proof_check(void **state)
{
	uint8_t a[MIG_PROOF_BYTES], b[MIG_PROOF_BYTES];

	mig__proof(key_a, 0, ni, na, "a", "b", a);
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

static void
cipher_local(void **state)
{
	int c = mig__cipher_local();

	assert_int_equal(c & ~MIG_CIPHER_AES256GCM, 0);
	print_message("local ciphers: chacha20-poly1305%s\n",
	    c & MIG_CIPHER_AES256GCM ? ", aes256-gcm" : "");
}

/* Both ends of one link, as the handshake leaves them. */
static void
pair(struct mig_session *i, struct mig_session *a, uint32_t ciphers)
{
	mig__session_init(i, key_a, 1, ni, na, "home", "host1", ciphers);
	mig__session_init(a, key_a, 0, ni, na, "home", "host1", ciphers);
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

	/* Keys are not the proofs, and depend on every input. */
	{
		uint8_t p[MIG_PROOF_BYTES];
		mig__proof(key_a, 1, ni, na, "home", "host1", p);
		assert_memory_not_equal(p, i.tx.key, sizeof(p));
		mig__proof(key_a, 0, ni, na, "home", "host1", p);
		assert_memory_not_equal(p, i.rx.key, sizeof(p));
	}
	mig__session_init(&o, key_b, 1, ni, na, "home", "host1", 0);
	assert_memory_not_equal(o.tx.key, i.tx.key, sizeof(o.tx.key));
	mig__session_init(&o, key_a, 1, na, ni, "home", "host1", 0);
	assert_memory_not_equal(o.tx.key, i.tx.key, sizeof(o.tx.key));
	mig__session_init(&o, key_a, 1, ni, na, "home", "host2", 0);
	assert_memory_not_equal(o.tx.key, i.tx.key, sizeof(o.tx.key));
	mig__session_init(&o, key_a, 1, ni, na, "host1", "home", 0);
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

	/* Another key, another nonce or the other cipher cannot open it. */
	pair(&i, &a, 0);
	assert_int_equal(mig__seal(&i, plain, 10, NULL, 0, rec), 0);
	mig__session_init(&other, key_b, 0, ni, na, "home", "host1", 0);
	assert_int_equal(mig__open(&other, rec, sizeof(rec), NULL, 0, back),
	    MIG_EAUTH);
	mig__session_init(&other, key_a, 0, na, ni, "home", "host1", 0);
	assert_int_equal(mig__open(&other, rec, sizeof(rec), NULL, 0, back),
	    MIG_EAUTH);
	if (have_cipher(MIG_CIPHER_AES256GCM)) {
		mig__session_init(&other, key_a, 0, ni, na, "home", "host1",
		    MIG_CIPHER_AES256GCM);
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
		cmocka_unit_test(proof_same_inputs),
		cmocka_unit_test(proof_differs),
		cmocka_unit_test(proof_check),
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
	return cmocka_run_group_tests(tests, setup, NULL);
}
