/*
 * crypto.c: the peer handshake's key schedule and proofs, and the AEAD
 * records that carry frames between daemons (libsodium).
 *
 * Both daemons hold the user's key K (pre-shared); each makes a fresh
 * X25519 key pair per link and sends its public half in its HELLO.
 *
 *   th     = BLAKE2b("mig-3 transcript" | len | HELLO_i | len | HELLO_a)
 *            over both HELLO payloads as sent, the acceptor's without its
 *            proof: version, nonces, names, cipher offers, ephemeral keys
 *   secret = BLAKE2b_K("mig-3 handshake" | X25519(e_own, E_peer) | th)
 *   proof  = BLAKE2b_secret("mig-3 proof acceptor" or "... initiator")
 *   keys   = BLAKE2b_secret("mig-3 key initiator->acceptor" or "...")
 *
 * A proof shows its sender holds K and the secret half of its ephemeral
 * key, and saw both HELLOs byte for byte; a man in the middle who changes
 * any of it (a cipher offer, a version, a key) gets proofs that fail. As
 * in WireGuard's PSK mode, the session keys need both K and an ephemeral
 * secret: those are wiped once used, so a key that leaks later does not
 * open traffic recorded before. Every record is sealed with a counter
 * nonce, so a replayed, dropped, reordered or altered record fails to
 * open.
 */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "homed.h"

int
mig__crypto_init(void)
{
	if (crypto_scalarmult_BYTES != MIG_KX_BYTES ||
	    crypto_scalarmult_SCALARBYTES != MIG_KX_BYTES)
		return MIG_EINTERNAL;
	return sodium_init() < 0 ? MIG_EINTERNAL : 0;
}

void
mig__random(void *p, size_t n)
{
	randombytes_buf(p, n);
}

void
mig__wipe(void *p, size_t n)
{
	sodium_memzero(p, n);
}

int
mig__kx_public(const uint8_t sk[MIG_KX_BYTES], uint8_t pk[MIG_KX_BYTES])
{
	return crypto_scalarmult_base(pk, sk) == 0 ? 0 : MIG_EINTERNAL;
}

int
mig__kx_keypair(uint8_t sk[MIG_KX_BYTES], uint8_t pk[MIG_KX_BYTES])
{
	int r;

	mig__random(sk, MIG_KX_BYTES);
	if ((r = mig__kx_public(sk, pk)) != 0)
		sodium_memzero(sk, MIG_KX_BYTES);
	return r;
}

static void
hash_len(crypto_generichash_state *st, size_t n)
{
	uint8_t le[4];

	for (int i = 0; i < 4; i++)
		le[i] = (uint8_t)(n >> (8 * i));
	crypto_generichash_update(st, le, sizeof(le));
}

void
mig__transcript(const uint8_t *hello_i, size_t ilen, const uint8_t *hello_a,
    size_t alen, uint8_t th[MIG_HASH_BYTES])
{
	static const char label[] = "mig-3 transcript";
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, MIG_HASH_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)label, sizeof(label));
	/* Lengths go in with the payloads, so no two pairs hash alike. */
	hash_len(&st, ilen);
	crypto_generichash_update(&st, hello_i, ilen);
	hash_len(&st, alen);
	crypto_generichash_update(&st, hello_a, alen);
	crypto_generichash_final(&st, th, MIG_HASH_BYTES);
}

int
mig__hs_secret(const uint8_t key[MIG_KEY_BYTES],
    const uint8_t sk[MIG_KX_BYTES], const uint8_t peer_pk[MIG_KX_BYTES],
    const uint8_t th[MIG_HASH_BYTES], uint8_t secret[MIG_HASH_BYTES])
{
	static const char label[] = "mig-3 handshake";
	crypto_generichash_state st;
	uint8_t dh[MIG_KX_BYTES];
	int r = MIG_EAUTH;

	/* Fails on a key of small order, whose shared secret is all zeros
	 * whatever our half: such a key proves nothing. */
	if (crypto_scalarmult(dh, sk, peer_pk) != 0)
		goto out;
	crypto_generichash_init(&st, key, MIG_KEY_BYTES, MIG_HASH_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)label, sizeof(label));
	crypto_generichash_update(&st, dh, sizeof(dh));
	crypto_generichash_update(&st, th, MIG_HASH_BYTES);
	crypto_generichash_final(&st, secret, MIG_HASH_BYTES);
	r = 0;
 out:
	sodium_memzero(dh, sizeof(dh));
	sodium_memzero(&st, sizeof(st));
	if (r != 0)
		sodium_memzero(secret, MIG_HASH_BYTES);
	return r;
}

static void
derive(const uint8_t secret[MIG_HASH_BYTES], const char *label,
    uint8_t out[32])
{
	crypto_generichash(out, 32, (const uint8_t *)label, strlen(label) + 1,
	    secret, MIG_HASH_BYTES);
}

void
mig__proof(const uint8_t secret[MIG_HASH_BYTES], int initiator,
    uint8_t out[MIG_PROOF_BYTES])
{
	derive(secret, initiator ? "mig-3 proof initiator" :
				   "mig-3 proof acceptor", out);
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
mig__session_init(struct mig_session *s, const uint8_t secret[MIG_HASH_BYTES],
    int initiator, uint32_t ciphers)
{
	memset(s, 0, sizeof(*s));
	s->cipher = (ciphers & MIG_CIPHER_AES256GCM) ? MIG_CIPHER_AES256GCM :
						       MIG_CIPHER_CHACHA;
	derive(secret, "mig-3 key initiator->acceptor",
	    initiator ? s->tx.key : s->rx.key);
	derive(secret, "mig-3 key acceptor->initiator",
	    initiator ? s->rx.key : s->tx.key);
	if (s->cipher == MIG_CIPHER_AES256GCM) {
		crypto_aead_aes256gcm_beforenm(&s->tx.aes, s->tx.key);
		crypto_aead_aes256gcm_beforenm(&s->rx.aes, s->rx.key);
	}
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
		crypto_aead_aes256gcm_encrypt_afternm(out, &clen, plain, n,
		    ad, adlen, NULL, nonce, &s->tx.aes);
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
		r = crypto_aead_aes256gcm_decrypt_afternm(out, &plen, NULL, c,
		    n, ad, adlen, nonce, &s->rx.aes);
	else
		r = crypto_aead_chacha20poly1305_ietf_decrypt(out, &plen, NULL,
		    c, n, ad, adlen, nonce, s->rx.key);
	if (r != 0)
		return MIG_EAUTH;
	s->rx.counter++;
	return 0;
}

int
mig__record_seal(struct mig_session *s, const uint8_t *frame, size_t n,
    uint8_t *out)
{
	size_t clen = n + MIG_TAG_BYTES;

	if (n < MIG_FRAME_HDR || n > MIG_FRAME_HDR + MIG_FRAME_MAX)
		return MIG_ETOOBIG;
	for (int i = 0; i < 4; i++)
		out[i] = (uint8_t)(clen >> (8 * i));
	return mig__seal(s, frame, n, out, 4, out + 4);
}

int
mig__record_open(struct mig_session *s, const uint8_t *p, size_t avail,
    struct mig_buf *plain, struct mig_frame *f, size_t *used)
{
	uint32_t clen;
	int r;

	*used = 0;
	if (avail < 4)
		return MIG_EAGAIN;
	clen = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
	/* The length word alone says a record cannot be one of ours. */
	if (clen < MIG_TAG_BYTES + MIG_FRAME_HDR || clen > MIG_RECORD_MAX)
		return MIG_EPROTO;
	if (avail - 4 < clen)
		return MIG_EAGAIN;
	plain->len = 0;
	if (mig_buf_reserve(plain, clen) != 0)
		return MIG__ERR(ENOMEM);
	if ((r = mig__open(s, p + 4, clen, p, 4, plain->data)) != 0)
		return r;
	*used = 4 + (size_t)clen;
	r = mig_frame_decode(plain->data, clen - MIG_TAG_BYTES, f);
	if (r != 0 || MIG_FRAME_HDR + f->len != clen - MIG_TAG_BYTES)
		return MIG_EPROTO;
	return 0;
}
