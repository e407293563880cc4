/*
 * handshake.c: a link's plain start. Both daemons hold the user's key K;
 * each makes a fresh X25519 key pair for the link (E_i, E_a).
 *
 *   initiator -> acceptor   HELLO version, nonce Ni, name, ciphers, E_i
 *   acceptor -> initiator   HELLO version, nonce Na, name, ciphers, E_a,
 *                           proof_a
 *   initiator -> acceptor   AUTH proof_i
 *
 * The proofs and the session keys come from K, the X25519 secret of E_i
 * and E_a, and the transcript of both HELLOs byte for byte (crypto.c).
 * proof_a shows the initiator that the acceptor holds K and E_a's secret
 * and saw its HELLO unchanged; proof_i shows the acceptor the same the
 * other way. Only names of the hosts file are accepted. Both ephemeral
 * secrets are wiped as soon as the shared secret is made, so a key that
 * leaks later does not open the link's recorded traffic.
 *
 * The parsing of HELLO and AUTH (mig__hello_parse, mig__auth_parse) is
 * apart from the link, so tests and fuzzers reach it without a loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "homed.h"

/* A name as the hosts file allows it, safe to log and show. */
static int
name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= MIG_NAME_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && *s != '.' && *s != '-' &&
		    *s != '_')
			return 0;
	return 1;
}

int
mig__hello_parse(const uint8_t *p, size_t n, int acceptor,
    struct mig_hello *h)
{
	const uint8_t *nonce, *epk, *proof = NULL;
	size_t nlen, klen, plen = 0, body = 0;
	struct mig_rd rd;
	char *name = NULL;
	int r = MIG_EPROTO;

	memset(h, 0, sizeof(*h));
	proto_rd_init(&rd, p, n);
	if (proto_get_u32(&rd, &h->version) != 0)
		goto out;
	if (h->version != MIG_PROTO_VERSION) {
		r = MIG_EVERSION;
		goto out;
	}
	if (proto_get_bytes(&rd, &nonce, &nlen) != 0 ||
	    nlen != MIG_NONCE_BYTES || proto_get_str(&rd, &name) != 0 ||
	    !name_ok(name) || proto_get_u32(&rd, &h->ciphers) != 0 ||
	    proto_get_bytes(&rd, &epk, &klen) != 0 || klen != MIG_KX_BYTES)
		goto out;
	body = rd.off;
	if (acceptor && (proto_get_bytes(&rd, &proof, &plen) != 0 ||
	    plen != MIG_PROOF_BYTES))
		goto out;
	if (proto_rd_done(&rd) != 0)
		goto out;
	h->nonce = nonce;
	strlcpy(h->name, name, sizeof(h->name));
	h->epk = epk;
	h->proof = proof;
	h->body = body;
	r = 0;
 out:
	free(name);
	return r;
}

int
mig__hello_put(struct mig_buf *b, const uint8_t nonce[MIG_NONCE_BYTES],
    const char *name, uint32_t ciphers, const uint8_t epk[MIG_KX_BYTES])
{
	int r;

	if ((r = proto_put_u32(b, MIG_PROTO_VERSION)) != 0 ||
	    (r = proto_put_bytes(b, nonce, MIG_NONCE_BYTES)) != 0 ||
	    (r = proto_put_str(b, name)) != 0 ||
	    (r = proto_put_u32(b, ciphers)) != 0 ||
	    (r = proto_put_bytes(b, epk, MIG_KX_BYTES)) != 0)
		return r;
	return 0;
}

int
mig__auth_parse(const uint8_t *p, size_t n, const uint8_t **proof)
{
	struct mig_rd rd;
	size_t plen;

	*proof = NULL;
	proto_rd_init(&rd, p, n);
	if (proto_get_bytes(&rd, proof, &plen) != 0 ||
	    plen != MIG_PROOF_BYTES || proto_rd_done(&rd) != 0) {
		*proof = NULL;
		return MIG_EPROTO;
	}
	return 0;
}

/* Sends one handshake frame with the given payload. */
static int
send_plain(struct link *l, uint16_t type, const struct mig_buf *payload)
{
	struct mig_buf b = { NULL, 0, 0 };
	int r;

	if ((r = mig_frame_put(&b, type, 0, 0, payload->data,
	    payload->len)) == 0)
		r = mig__link_write_plain(l, &b);
	mig_buf_free(&b);
	return r;
}

/* The acceptor's answer to a version not ours: its own version alone,
 * which any version's initiator reads first, then the link closes. */
static void
send_version(struct link *l)
{
	struct mig_buf b = { NULL, 0, 0 };

	if (proto_put_u32(&b, MIG_PROTO_VERSION) == 0)
		send_plain(l, MIG_M_HELLO, &b);
	mig_buf_free(&b);
}

static void
wipe_secrets(struct link *l)
{
	mig__wipe(l->esk, sizeof(l->esk));
	mig__wipe(l->secret, sizeof(l->secret));
}

void
mig__handshake_start(struct link *l)
{
	struct mig_buf b = { NULL, 0, 0 };
	int r;

	if (!l->initiator)
		return; /* the acceptor answers the initiator's HELLO */
	mig__random(l->ni, sizeof(l->ni));
	if ((r = mig__kx_keypair(l->esk, l->epk)) != 0 ||
	    (r = mig__hello_put(&b, l->ni, l->d->name,
		(uint32_t)mig__cipher_local(), l->epk)) != 0)
		goto out;
	if (b.len > sizeof(l->hello_i)) {
		r = MIG_ETOOBIG;
		goto out;
	}
	memcpy(l->hello_i, b.data, b.len);
	l->hello_ilen = b.len;
	r = send_plain(l, MIG_M_HELLO, &b);
 out:
	mig_buf_free(&b);
	if (r != 0)
		mig__link_fail(l, MIG_ELINK, "cannot send HELLO: %s",
		    mig_strerror(r));
}

/* The acceptor learns who called: only a host of our hosts file. */
static int
bind_peer(struct link *l)
{
	struct peer *p = mig__peer_find(l->d, l->peer_name);
	char addr[sizeof(l->desc)];

	if (p == NULL || p->removed)
		return MIG_ENOHOST;
	l->peer = p;
	strlcpy(addr, l->desc[0] != '\0' ? l->desc : "?", sizeof(addr));
	snprintf(l->desc, sizeof(l->desc), "%s (%s)", p->name, addr);
	return 0;
}

/* The acceptor's answer: its HELLO, proof_a over the transcript. */
static int
answer_hello(struct link *l, const struct mig_hello *h)
{
	struct mig_buf b = { NULL, 0, 0 };
	uint8_t th[MIG_HASH_BYTES], proof[MIG_PROOF_BYTES];
	int r;

	mig__random(l->na, sizeof(l->na));
	if ((r = mig__kx_keypair(l->esk, l->epk)) != 0 ||
	    (r = mig__hello_put(&b, l->na, l->d->name,
		(uint32_t)mig__cipher_local(), l->epk)) != 0)
		goto out;
	mig__transcript(l->hello_i, l->hello_ilen, b.data, b.len, th);
	r = mig__hs_secret(l->d->key, l->esk, h->epk, th, l->secret);
	mig__wipe(l->esk, sizeof(l->esk));
	if (r != 0)
		goto out;
	mig__proof(l->secret, 0, proof);
	if ((r = proto_put_bytes(&b, proof, sizeof(proof))) != 0)
		goto out;
	r = send_plain(l, MIG_M_HELLO, &b);
 out:
	mig_buf_free(&b);
	return r;
}

static void
acceptor_hello(struct link *l, const struct mig_frame *f,
    const struct mig_hello *h)
{
	int r;

	/* Before anything is answered: the transcript holds it as sent.
	 * mig__handshake_read let no longer frame through. */
	if (f->len > sizeof(l->hello_i)) {
		mig__link_fail(l, MIG_EPROTO, "malformed HELLO");
		return;
	}
	memcpy(l->hello_i, f->payload, f->len);
	l->hello_ilen = f->len;
	memcpy(l->ni, h->nonce, MIG_NONCE_BYTES);
	strlcpy(l->peer_name, h->name, sizeof(l->peer_name));
	l->ciphers = h->ciphers & (uint32_t)mig__cipher_local();
	if (bind_peer(l) != 0) {
		mig__link_fail(l, MIG_EAUTH, "'%s' is not in %s/hosts",
		    l->peer_name, l->d->confdir);
		return;
	}
	if ((r = answer_hello(l, h)) != 0) {
		mig__link_fail(l, r == MIG_EAUTH ? MIG_EAUTH : MIG_ELINK,
		    "cannot answer HELLO: %s", r == MIG_EAUTH ?
		    "unusable ephemeral key" : mig_strerror(r));
		return;
	}
	l->state = LINK_AUTH;
}

/* Initiator: the acceptor must be the host we dialed, and prove it holds
 * our key and saw our HELLO as we sent it. */
static void
initiator_hello(struct link *l, const struct mig_frame *f,
    const struct mig_hello *h)
{
	struct mig_buf b = { NULL, 0, 0 };
	uint8_t th[MIG_HASH_BYTES], secret[MIG_HASH_BYTES];
	uint8_t want[MIG_PROOF_BYTES], mine[MIG_PROOF_BYTES];
	int r;

	memcpy(l->na, h->nonce, MIG_NONCE_BYTES);
	strlcpy(l->peer_name, h->name, sizeof(l->peer_name));
	if (strcmp(l->peer_name, l->peer->name) != 0) {
		mig__link_fail(l, MIG_EAUTH, "answered as '%s'", l->peer_name);
		goto out;
	}
	mig__transcript(l->hello_i, l->hello_ilen, f->payload, h->body, th);
	r = mig__hs_secret(l->d->key, l->esk, h->epk, th, secret);
	mig__wipe(l->esk, sizeof(l->esk));
	if (r == 0)
		mig__proof(secret, 0, want);
	if (r != 0 || mig__proof_check(want, h->proof) != 0) {
		mig__link_fail(l, MIG_EAUTH,
		    "authentication failed (does it hold the same key?)");
		goto out;
	}
	mig__proof(secret, 1, mine);
	if ((r = proto_put_bytes(&b, mine, sizeof(mine))) != 0 ||
	    (r = send_plain(l, MIG_M_AUTH, &b)) != 0) {
		mig__link_fail(l, MIG_ELINK, "cannot send AUTH");
		goto out;
	}
	if (l->state >= LINK_FAILED)
		goto out;
	mig__session_init(&l->sess, secret, 1,
	    h->ciphers & (uint32_t)mig__cipher_local());
	mig__link_up(l);
 out:
	mig__wipe(secret, sizeof(secret));
	mig_buf_free(&b);
}

static void
on_hello(struct link *l, const struct mig_frame *f)
{
	struct mig_hello h;
	int r;

	r = mig__hello_parse(f->payload, f->len, l->initiator, &h);
	if (r == MIG_EVERSION) {
		/* Answer first, so the caller learns our version too. */
		if (!l->initiator)
			send_version(l);
		mig__link_fail(l, MIG_EVERSION,
		    "protocol version mismatch: it speaks %u, we speak %d",
		    h.version, MIG_PROTO_VERSION);
		return;
	}
	if (r != 0) {
		mig__link_fail(l, MIG_EPROTO, "malformed HELLO");
		return;
	}
	if (l->initiator)
		initiator_hello(l, f, &h);
	else
		acceptor_hello(l, f, &h);
}

static void
on_auth(struct link *l, const struct mig_frame *f)
{
	uint8_t want[MIG_PROOF_BYTES];
	const uint8_t *proof;

	if (mig__auth_parse(f->payload, f->len, &proof) != 0) {
		mig__link_fail(l, MIG_EPROTO, "malformed AUTH");
		return;
	}
	mig__proof(l->secret, 1, want);
	if (mig__proof_check(want, proof) != 0) {
		mig__link_fail(l, MIG_EAUTH,
		    "authentication failed (does it hold the same key?)");
		return;
	}
	mig__session_init(&l->sess, l->secret, 0, l->ciphers);
	mig__wipe(l->secret, sizeof(l->secret));
	mig__link_up(l);
}

size_t
mig__handshake_read(struct link *l)
{
	size_t off = 0;

	while (l->state == LINK_HELLO || l->state == LINK_AUTH) {
		struct mig_frame f;
		const uint8_t *p = l->in.data + off;
		int r;

		/* The length word alone says a frame is no handshake's. */
		if (l->in.len - off >= 4 && ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
		    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24) >
		    MIG_HANDSHAKE_FRAME_MAX) {
			mig__link_fail(l, MIG_EPROTO,
			    "malformed handshake: message too large");
			break;
		}
		r = mig_frame_decode(p, l->in.len - off, &f);
		if (r == MIG_EAGAIN)
			break;
		if (r != 0) {
			mig__link_fail(l, MIG_EPROTO, "malformed handshake: %s",
			    mig_strerror(r));
			break;
		}
		off += MIG_FRAME_HDR + f.len;
		/* Nothing of a handshake frame goes unread: its header's
		 * flags and stream are 0, as the transcript assumes. */
		if (f.flags != 0 || f.stream != 0)
			mig__link_fail(l, MIG_EPROTO,
			    "malformed handshake: flags or stream set");
		else if (l->state == LINK_HELLO && f.type == MIG_M_HELLO)
			on_hello(l, &f);
		else if (l->state == LINK_AUTH && f.type == MIG_M_AUTH)
			on_auth(l, &f);
		else if (f.type == MIG_M_ERROR)
			mig__link_fail(l, MIG_EAUTH, "refused by the peer");
		else
			mig__link_fail(l, MIG_EPROTO,
			    "unexpected frame type %u in handshake", f.type);
	}
	/* However it ended, no ephemeral secret outlives the handshake. */
	if (l->state != LINK_HELLO && l->state != LINK_AUTH)
		wipe_secrets(l);
	return off;
}
