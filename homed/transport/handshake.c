/*
 * handshake.c: a link's plain start. Both daemons hold the user's key.
 *
 *   initiator -> acceptor   HELLO version, nonce Ni, name, ciphers
 *   acceptor -> initiator   HELLO version, nonce Na, name, ciphers,
 *                           proof_A = MAC(key, "A", Ni, Na, names)
 *   initiator -> acceptor   AUTH proof_I = MAC(key, "I", Ni, Na, names)
 *
 * Each proof shows the sender holds the key, bound to both fresh nonces
 * and both names; only names of the hosts file are accepted. Both then
 * derive one key per direction (crypto.c) and the link is up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "homed.h"

static int
send_hello(struct link *l)
{
	struct mig_buf b = { NULL, 0, 0 };
	uint8_t proof[MIG_PROOF_BYTES];
	size_t at;
	int r;

	if ((r = mig_frame_begin(&b, MIG_M_HELLO, 0, 0, &at)) != 0 ||
	    (r = proto_put_u32(&b, MIG_PROTO_VERSION)) != 0 ||
	    (r = proto_put_bytes(&b, l->initiator ? l->ni : l->na,
		MIG_NONCE_BYTES)) != 0 ||
	    (r = proto_put_str(&b, l->d->name)) != 0 ||
	    (r = proto_put_u32(&b, (uint32_t)mig__cipher_local())) != 0)
		goto out;
	if (!l->initiator) {
		mig__proof(l->d->key, 0, l->ni, l->na, l->peer_name,
		    l->d->name, proof);
		if ((r = proto_put_bytes(&b, proof, sizeof(proof))) != 0)
			goto out;
	}
	if ((r = mig_frame_end(&b, at)) != 0)
		goto out;
	r = mig__link_write_plain(l, &b);
 out:
	mig_buf_free(&b);
	return r;
}

void
mig__handshake_start(struct link *l)
{
	if (!l->initiator)
		return; /* the acceptor answers the initiator's HELLO */
	mig__random(l->ni, sizeof(l->ni));
	if (send_hello(l) != 0)
		mig__link_fail(l, MIG_ELINK, "cannot send HELLO");
}

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

static void
send_auth(struct link *l)
{
	struct mig_buf b = { NULL, 0, 0 };
	uint8_t mine[MIG_PROOF_BYTES];
	size_t at;
	int r;

	mig__proof(l->d->key, 1, l->ni, l->na, l->d->name, l->peer_name, mine);
	if ((r = mig_frame_begin(&b, MIG_M_AUTH, 0, 0, &at)) == 0 &&
	    (r = proto_put_bytes(&b, mine, sizeof(mine))) == 0 &&
	    (r = mig_frame_end(&b, at)) == 0)
		r = mig__link_write_plain(l, &b);
	mig_buf_free(&b);
	if (r != 0)
		mig__link_fail(l, MIG_ELINK, "cannot send AUTH");
}

static void
on_hello(struct link *l, const struct mig_frame *f)
{
	const uint8_t *nonce, *proof = NULL;
	uint8_t want[MIG_PROOF_BYTES];
	size_t nlen, plen = 0;
	struct mig_rd rd;
	uint32_t version, ciphers;
	char *name = NULL;

	proto_rd_init(&rd, f->payload, f->len);
	if (proto_get_u32(&rd, &version) != 0) {
		mig__link_fail(l, MIG_EPROTO, "malformed HELLO");
		return;
	}
	if (version != MIG_PROTO_VERSION) {
		/* Answer first, so the caller learns our version too. */
		if (!l->initiator) {
			mig__random(l->na, sizeof(l->na));
			send_hello(l);
		}
		mig__link_fail(l, MIG_EVERSION,
		    "protocol version mismatch: it speaks %u, we speak %d",
		    version, MIG_PROTO_VERSION);
		return;
	}
	if (proto_get_bytes(&rd, &nonce, &nlen) != 0 ||
	    nlen != MIG_NONCE_BYTES || proto_get_str(&rd, &name) != 0 ||
	    proto_get_u32(&rd, &ciphers) != 0 ||
	    (l->initiator && (proto_get_bytes(&rd, &proof, &plen) != 0 ||
				 plen != MIG_PROOF_BYTES)) ||
	    proto_rd_done(&rd) != 0 || !name_ok(name)) {
		free(name);
		mig__link_fail(l, MIG_EPROTO, "malformed HELLO");
		return;
	}
	strlcpy(l->peer_name, name, sizeof(l->peer_name));
	free(name);
	if (!l->initiator) {
		memcpy(l->ni, nonce, MIG_NONCE_BYTES);
		l->ciphers = ciphers & (uint32_t)mig__cipher_local();
		if (bind_peer(l) != 0) {
			mig__link_fail(l, MIG_EAUTH, "'%s' is not in %s/hosts",
			    l->peer_name, l->d->confdir);
			return;
		}
		mig__random(l->na, sizeof(l->na));
		if (send_hello(l) != 0) {
			mig__link_fail(l, MIG_ELINK, "cannot answer HELLO");
			return;
		}
		l->state = LINK_AUTH;
		return;
	}
	/* Initiator: the acceptor must be the host we dialed, and prove it
	 * holds our key. */
	memcpy(l->na, nonce, MIG_NONCE_BYTES);
	if (strcmp(l->peer_name, l->peer->name) != 0) {
		mig__link_fail(l, MIG_EAUTH, "answered as '%s'", l->peer_name);
		return;
	}
	mig__proof(l->d->key, 0, l->ni, l->na, l->d->name, l->peer_name, want);
	if (mig__proof_check(want, proof) != 0) {
		mig__link_fail(l, MIG_EAUTH,
		    "authentication failed (does it hold the same key?)");
		return;
	}
	send_auth(l);
	if (l->state >= LINK_FAILED)
		return;
	mig__session_init(&l->sess, l->d->key, 1, l->ni, l->na, l->d->name,
	    l->peer_name, ciphers & (uint32_t)mig__cipher_local());
	mig__link_up(l);
}

static void
on_auth(struct link *l, const struct mig_frame *f)
{
	uint8_t want[MIG_PROOF_BYTES];
	const uint8_t *proof;
	struct mig_rd rd;
	size_t plen;

	proto_rd_init(&rd, f->payload, f->len);
	if (proto_get_bytes(&rd, &proof, &plen) != 0 ||
	    plen != MIG_PROOF_BYTES || proto_rd_done(&rd) != 0) {
		mig__link_fail(l, MIG_EPROTO, "malformed AUTH");
		return;
	}
	mig__proof(l->d->key, 1, l->ni, l->na, l->peer_name, l->d->name, want);
	if (mig__proof_check(want, proof) != 0) {
		mig__link_fail(l, MIG_EAUTH,
		    "authentication failed (does it hold the same key?)");
		return;
	}
	mig__session_init(&l->sess, l->d->key, 0, l->ni, l->na, l->peer_name,
	    l->d->name, l->ciphers);
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
		if (l->state == LINK_HELLO && f.type == MIG_M_HELLO)
			on_hello(l, &f);
		else if (l->state == LINK_AUTH && f.type == MIG_M_AUTH)
			on_auth(l, &f);
		else if (f.type == MIG_M_ERROR)
			mig__link_fail(l, MIG_EAUTH, "refused by the peer");
		else
			mig__link_fail(l, MIG_EPROTO,
			    "unexpected frame type %u in handshake", f.type);
	}
	return off;
}
