/*
 * crypto.c: the peer handshake's proofs and session keys, and the AEAD
 * records that carry frames between daemons (libsodium).
 *
 * Both daemons hold the user's key K. The initiator sends a random nonce
 * Ni, the acceptor answers with Na and proof_a = BLAKE2b_K("mig-acceptor"
 * | Ni | Na | names); the initiator checks it and answers proof_i, made
 * the same way with its own label. Each direction then gets its own key,
 * BLAKE2b_K(label | Ni | Na), and every record is sealed with a counter
 * nonce, so a replayed, dropped, reordered or altered record fails to
 * open.
 */
#include <string.h>

#include <sodium.h>

#include "homed.h"

int
mig__crypto_init(void)
{
	return sodium_init() < 0 ? MIG_EINTERNAL : 0;
}

void
mig__random(void *p, size_t n)
{
	randombytes_buf(p, n);
}

static void
keyed_hash(const uint8_t key[MIG_KEY_BYTES], const char *label,
    const uint8_t ni[MIG_NONCE_BYTES], const uint8_t na[MIG_NONCE_BYTES],
    const char *name_i, const char *name_a, uint8_t out[32])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, key, MIG_KEY_BYTES, 32);
	/* Lengths go in with the strings, so no two inputs hash alike. */
	crypto_generichash_update(&st, (const uint8_t *)label,
	    strlen(label) + 1);
	crypto_generichash_update(&st, ni, MIG_NONCE_BYTES);
	crypto_generichash_update(&st, na, MIG_NONCE_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)name_i,
	    strlen(name_i) + 1);
	crypto_generichash_update(&st, (const uint8_t *)name_a,
	    strlen(name_a) + 1);
	crypto_generichash_final(&st, out, 32);
}

void
mig__proof(const uint8_t key[MIG_KEY_BYTES], int initiator,
    const uint8_t ni[MIG_NONCE_BYTES], const uint8_t na[MIG_NONCE_BYTES],
    const char *name_i, const char *name_a, uint8_t out[MIG_PROOF_BYTES])
{
	keyed_hash(key, initiator ? "mig-1 proof initiator" :
				    "mig-1 proof acceptor",
	    ni, na, name_i, name_a, out);
}

int
mig__proof_check(const uint8_t a[MIG_PROOF_BYTES],
    const uint8_t b[MIG_PROOF_BYTES])
{
	return sodium_memcmp(a, b, MIG_PROOF_BYTES) == 0 ? 0 : MIG_EAUTH;
}

int
mig__cipher_local(void)
{
	return crypto_aead_aes256gcm_is_available() ? MIG_CIPHER_AES256GCM :
						      0;
}

void
mig__session_init(struct mig_session *s, const uint8_t key[MIG_KEY_BYTES],
    int initiator, const uint8_t ni[MIG_NONCE_BYTES],
    const uint8_t na[MIG_NONCE_BYTES], const char *name_i,
    const char *name_a, uint32_t ciphers)
{
	memset(s, 0, sizeof(*s));
	s->cipher = (ciphers & MIG_CIPHER_AES256GCM) ? MIG_CIPHER_AES256GCM :
						       MIG_CIPHER_CHACHA;
	keyed_hash(key, "mig-1 key initiator->acceptor", ni, na, name_i,
	    name_a, initiator ? s->tx.key : s->rx.key);
	keyed_hash(key, "mig-1 key acceptor->initiator", ni, na, name_i,
	    name_a, initiator ? s->rx.key : s->tx.key);
}

void
mig__session_wipe(struct mig_session *s)
{
	sodium_memzero(s, sizeof(*s));
}

static void
counter_nonce(uint64_t counter, uint8_t nonce[12])
{
	memset(nonce, 0, 12);
	for (int i = 0; i < 8; i++)
		nonce[i] = (uint8_t)(counter >> (8 * i));
}

int
mig__seal(struct mig_session *s, const uint8_t *plain, size_t n,
    const uint8_t *ad, size_t adlen, uint8_t *out)
{
	uint8_t nonce[12];
	unsigned long long clen;

	if (s->tx.counter == UINT64_MAX)
		return MIG_EAUTH;
	counter_nonce(s->tx.counter++, nonce);
	if (s->cipher == MIG_CIPHER_AES256GCM)
		crypto_aead_aes256gcm_encrypt(out, &clen, plain, n, ad, adlen,
		    NULL, nonce, s->tx.key);
	else
		crypto_aead_chacha20poly1305_ietf_encrypt(out, &clen, plain, n,
		    ad, adlen, NULL, nonce, s->tx.key);
	return 0;
}

int
mig__open(struct mig_session *s, const uint8_t *c, size_t n,
    const uint8_t *ad, size_t adlen, uint8_t *out)
{
	uint8_t nonce[12];
	unsigned long long plen;
	int r;

	if (n < MIG_TAG_BYTES || s->rx.counter == UINT64_MAX)
		return MIG_EAUTH;
	counter_nonce(s->rx.counter, nonce);
	if (s->cipher == MIG_CIPHER_AES256GCM)
		r = crypto_aead_aes256gcm_decrypt(out, &plen, NULL, c, n, ad,
		    adlen, nonce, s->rx.key);
	else
		r = crypto_aead_chacha20poly1305_ietf_decrypt(out, &plen, NULL,
		    c, n, ad, adlen, nonce, s->rx.key);
	if (r != 0)
		return MIG_EAUTH;
	s->rx.counter++;
	return 0;
}
