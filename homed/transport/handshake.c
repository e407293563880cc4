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
 * The handshake is a function without I/O (mig__hs_step): a state and
 * the bytes received go in; a message to send and an event come out.
 * The link (link.c) owns the socket, the deadline, the log and the
 * failure; tests and fuzzers drive the same function byte by byte.
 * Nothing here learns of the daemon's peers: an acceptor checks the
 * caller's name against the hosts file only, and the link binds the
 * link to a peer once the event says the key was proved.
 *
 * Each HELLO says which protocols its sender speaks: the version word
 * the lowest, bits 16-23 of the ciphers word the highest (protocol 4
 * ignores those bits, so a build that speaks 4 and 5 links with one that
 * speaks 4 alone). Both take the highest they share; the transcript
 * holds both offers, so nobody in between lowers it. An acceptor that
 * shares none, or will not take the caller, says why before it closes:
 * a refusal (ERROR: code, sentence, its protocols and release) to a
 * caller of protocol 5 or later; to an older one, which reads the first
 * word only, a HELLO of its lowest version alone.
 */
#include <stdarg.h>
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
	uint32_t hi;
	int r = MIG_EPROTO;

	memset(h, 0, sizeof(*h));
	proto_rd_init(&rd, p, n);
	if (proto_get_u32(&rd, &h->version) != 0)
		goto out;
	h->max = h->version;
	if (n == 4) {
		r = MIG_EVERSION; /* a refusal's bare answer */
		goto out;
	}
	if (proto_get_bytes(&rd, &nonce, &nlen) != 0 ||
	    nlen != MIG_NONCE_BYTES || proto_get_str(&rd, &name) != 0 ||
	    !name_ok(name) || proto_get_u32(&rd, &h->ciphers) != 0 ||
	    proto_get_bytes(&rd, &epk, &klen) != 0 || klen != MIG_KX_BYTES)
		goto out;
	hi = h->ciphers >> MIG_HELLO_MAX_SHIFT & 0xff;
	if (hi != 0 && hi < h->version)
		goto out;
	if (hi != 0)
		h->max = hi;
	h->ciphers &= 0xffff;
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
mig__hello_put(struct mig_buf *b, uint32_t min, uint32_t max,
    const uint8_t nonce[MIG_NONCE_BYTES], const char *name,
    uint32_t ciphers, const uint8_t epk[MIG_KX_BYTES])
{
	int r;

	/* One protocol alone is said as every build before 5 said it. */
	if (max > min)
		ciphers |= (max & 0xff) << MIG_HELLO_MAX_SHIFT;
	if ((r = proto_put_u32(b, min)) != 0 ||
	    (r = proto_put_bytes(b, nonce, MIG_NONCE_BYTES)) != 0 ||
	    (r = proto_put_str(b, name)) != 0 ||
	    (r = proto_put_u32(b, ciphers)) != 0 ||
	    (r = proto_put_bytes(b, epk, MIG_KX_BYTES)) != 0)
		return r;
	return 0;
}

/* A build string as a peer may say it: less than MIG_BUILD_MAX bytes of
 * printable ASCII, safe to log and show. */
static int
build_ok(const char *s)
{
	size_t n = strlen(s);

	if (n >= MIG_BUILD_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e)
			return 0;
	return 1;
}

/* The plain HELLO of a stdio link (stdio.c): version, name, build. */
int
mig__hello_plain_put(struct mig_buf *b, const char *name, const char *build)
{
	int r;

	if ((r = proto_put_u32(b, MIG_PROTO_VERSION)) != 0 ||
	    (r = proto_put_str(b, name)) != 0 ||
	    (r = proto_put_str(b, build)) != 0)
		return r;
	return 0;
}

int
mig__hello_plain_parse(const uint8_t *p, size_t n, uint32_t *version,
    char name[MIG_NAME_MAX], char build[MIG_BUILD_MAX])
{
	struct mig_rd rd;
	char *nm = NULL, *bd = NULL;
	int r = MIG_EPROTO;

	*version = 0;
	name[0] = build[0] = '\0';
	proto_rd_init(&rd, p, n);
	if (proto_get_u32(&rd, version) != 0)
		goto out;
	if (*version != MIG_PROTO_VERSION) {
		r = MIG_EVERSION;
		goto out;
	}
	if (proto_get_str(&rd, &nm) != 0 || !name_ok(nm) ||
	    proto_get_str(&rd, &bd) != 0 || !build_ok(bd) ||
	    proto_rd_done(&rd) != 0)
		goto out;
	strlcpy(name, nm, MIG_NAME_MAX);
	strlcpy(build, bd, MIG_BUILD_MAX);
	r = 0;
 out:
	free(nm);
	free(bd);
	return r;
}

int
mig__build_parse(const uint8_t *p, size_t n, char build[MIG_BUILD_MAX])
{
	struct mig_rd rd;
	char *bd = NULL;
	int r = MIG_EPROTO;

	build[0] = '\0';
	proto_rd_init(&rd, p, n);
	if (proto_get_str(&rd, &bd) != 0 || *bd == '\0' || !build_ok(bd) ||
	    proto_rd_done(&rd) != 0)
		goto out;
	strlcpy(build, bd, MIG_BUILD_MAX);
	r = 0;
 out:
	free(bd);
	return r;
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

static enum mig_hs_event
fail(struct mig_hs *hs, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* However it ended, no secret outlives the handshake. */
static enum mig_hs_event
fail(struct mig_hs *hs, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(hs->why, sizeof(hs->why), fmt, ap);
	va_end(ap);
	hs->code = code;
	hs->state = MIG_HS_DONE;
	mig__wipe(hs->esk, sizeof(hs->esk));
	mig__wipe(hs->secret, sizeof(hs->secret));
	mig__session_wipe(&hs->sess);
	return MIG_HS_FAIL;
}

/* Appends one handshake frame with the given payload to out. */
static int
put_frame(struct mig_buf *out, uint16_t type, const struct mig_buf *payload)
{
	return mig_frame_put(out, type, 0, 0, payload->data, payload->len);
}

void
mig__hs_init(struct mig_hs *hs, int initiator, const uint8_t *key,
    const char *self, const char *peer, const struct mig_hosts *hosts)
{
	memset(hs, 0, sizeof(*hs));
	hs->initiator = initiator;
	hs->key = key;
	hs->hosts = hosts;
	hs->min = MIG_PROTO_MIN;
	hs->max = MIG_PROTO_VERSION;
	strlcpy(hs->self, self, sizeof(hs->self));
	if (peer != NULL)
		strlcpy(hs->peer, peer, sizeof(hs->peer));
	hs->state = MIG_HS_HELLO;
}

void
mig__hs_wipe(struct mig_hs *hs)
{
	mig__wipe(hs, sizeof(*hs));
}

enum mig_hs_event
mig__hs_start(struct mig_hs *hs, struct mig_buf *out)
{
	struct mig_buf b = { NULL, 0, 0 };
	uint8_t nonce[MIG_NONCE_BYTES];
	int r;

	if (!hs->initiator)
		return MIG_HS_NEED_MORE; /* it answers the initiator's HELLO */
	mig__random(nonce, sizeof(nonce));
	if ((r = mig__kx_keypair(hs->esk, hs->epk)) != 0 ||
	    (r = mig__hello_put(&b, hs->min, hs->max, nonce, hs->self,
		(uint32_t)mig__cipher_local(), hs->epk)) != 0 ||
	    (r = b.len > sizeof(hs->hello_i) ? MIG_ETOOBIG : 0) != 0 ||
	    (r = put_frame(out, MIG_M_HELLO, &b)) != 0) {
		mig_buf_free(&b);
		return fail(hs, MIG_ELINK, "cannot make HELLO: %s",
		    mig_strerror(r));
	}
	memcpy(hs->hello_i, b.data, b.len);
	hs->hello_ilen = b.len;
	mig_buf_free(&b);
	return MIG_HS_SEND;
}

/* Protocols lo..hi as "4" or "4-5". */
static void
range(char *buf, size_t size, uint32_t lo, uint32_t hi)
{
	if (lo == hi)
		snprintf(buf, size, "%u", lo);
	else
		snprintf(buf, size, "%u-%u", lo, hi);
}

/* The highest protocol both speak, 0 when none. */
static uint32_t
common(const struct mig_hs *hs, uint32_t min, uint32_t max)
{
	uint32_t lo = min > hs->min ? min : hs->min;
	uint32_t hi = max < hs->max ? max : hs->max;

	return lo <= hi ? hi : 0;
}

/* No protocol in common: "protocol 3 vs 4-5 (0.1.0 vs 0.2.0)". A side
 * that names no release and speaks nothing past 4 is a build before
 * 0.2.0, which all called themselves 0.1.0. */
static enum mig_hs_event
mismatch(struct mig_hs *hs, uint32_t min, uint32_t max, const char *release)
{
	char theirs[24], ours[24];

	range(theirs, sizeof(theirs), min, max);
	range(ours, sizeof(ours), hs->min, hs->max);
	if (release == NULL || *release == '\0')
		release = max < 5 ? "0.1.0" : "?";
	return fail(hs, MIG_EVERSION, "protocol %s vs %s (%s vs %s)", theirs,
	    ours, release, MIG_VERSION_STRING);
}

/*
 * Tells the other side why it is refused, before the link closes: to a
 * caller of protocol 5 or later an ERROR (code, why, our protocols and
 * release); to an older one only a version refusal, as a HELLO of our
 * lowest version alone, which is all it reads. A side playing an older
 * build (MIG_PROTO_MAX below 5) answers as one did.
 */
static void
refuse(struct mig_hs *hs, struct mig_buf *out, uint32_t peer_max, int code,
    const char *why)
{
	struct mig_buf b = { NULL, 0, 0 };
	int r;

	if (peer_max < 5 || hs->max < 5) {
		if (code == MIG_EVERSION && proto_put_u32(&b, hs->min) == 0)
			put_frame(out, MIG_M_HELLO, &b);
		mig_buf_free(&b);
		return;
	}
	if ((r = proto_put_u32(&b, (uint32_t)code)) == 0 &&
	    (r = proto_put_str(&b, why)) == 0 &&
	    (r = proto_put_u32(&b, hs->min)) == 0 &&
	    (r = proto_put_u32(&b, hs->max)) == 0 &&
	    (r = proto_put_str(&b, MIG_VERSION_STRING)) == 0)
		put_frame(out, MIG_M_ERROR, &b);
	mig_buf_free(&b);
}

/* A peer's words, made safe to log and show: printable and short. */
static void
clean(char *s, size_t max)
{
	for (char *c = s; *c != '\0'; c++)
		if (*c < 0x20 || *c > 0x7e)
			*c = '?';
	if (strlen(s) > max)
		s[max] = '\0';
}

/* What the other side said when it refused us, as read off the wire:
 * only what is safe to log and show goes on (printable, short), and only
 * codes a refusal has. */
static enum mig_hs_event
on_refusal(struct mig_hs *hs, const struct mig_frame *f)
{
	struct mig_rd rd;
	uint32_t code, min = 0, max = 0;
	char *why = NULL, *release = NULL;
	enum mig_hs_event ev;
	int more;

	proto_rd_init(&rd, f->payload, f->len);
	if (proto_get_u32(&rd, &code) != 0 || proto_get_str(&rd, &why) != 0) {
		free(why);
		return fail(hs, MIG_EAUTH, "refused by the peer");
	}
	more = proto_get_u32(&rd, &min) == 0 && proto_get_u32(&rd, &max) ==
	    0 && min <= max && proto_get_str(&rd, &release) == 0 &&
	    proto_rd_done(&rd) == 0;
	clean(why, 100);
	if (release != NULL)
		clean(release, 40);
	if ((int)code == MIG_EVERSION && more)
		ev = mismatch(hs, min, max, release);
	else if ((int)code == MIG_ESELF)
		ev = fail(hs, MIG_ESELF, "name resolves to this host");
	else
		ev = fail(hs, (int)code == MIG_ENOHOST ? MIG_ENOHOST : MIG_EAUTH,
		    "refused: %s", why);
	free(why);
	free(release);
	return ev;
}

/* The acceptor takes only a name of its hosts file, not its own. */
static int
may_call(const struct mig_hs *hs, const char *name)
{
	return hs->hosts != NULL && strcmp(name, hs->self) != 0 &&
	    mig__hosts_find(hs->hosts, name) != NULL;
}

/* The acceptor's answer: its HELLO, proof_a over the transcript. */
static enum mig_hs_event
acceptor_hello(struct mig_hs *hs, const struct mig_frame *f,
    const struct mig_hello *h, struct mig_buf *out)
{
	struct mig_buf b = { NULL, 0, 0 };
	uint8_t th[MIG_HASH_BYTES], proof[MIG_PROOF_BYTES];
	uint8_t nonce[MIG_NONCE_BYTES];
	int r;

	/* Before anything is answered: the transcript holds it as sent.
	 * mig__hs_step let no longer frame through. */
	if (f->len > sizeof(hs->hello_i))
		return fail(hs, MIG_EPROTO, "malformed HELLO");
	/* Its fresh key is one this daemon made for a dial of its own: a
	 * line of the hosts file points here. */
	if (hs->ours != NULL && hs->ours(hs->ours_arg, h->epk)) {
		refuse(hs, out, h->max, MIG_ESELF, "name resolves to this host");
		return fail(hs, MIG_ESELF, "this daemon called itself (as "
		    "'%s'): a line of the hosts file names this host",
		    h->name);
	}
	if (!may_call(hs, h->name)) {
		char why[128];
		snprintf(why, sizeof(why), strcmp(h->name, hs->self) == 0 ?
		    "'%s' is its own name" : "'%s' is not in its hosts file",
		    h->name);
		refuse(hs, out, h->max, MIG_ENOHOST, why);
		return fail(hs, MIG_EAUTH, strcmp(h->name, hs->self) == 0 ?
		    "'%s' calls itself by this host's own name" :
		    "'%s' is not in the hosts file", h->name);
	}
	memcpy(hs->hello_i, f->payload, f->len);
	hs->hello_ilen = f->len;
	strlcpy(hs->peer, h->name, sizeof(hs->peer));
	hs->ciphers = h->ciphers & (uint32_t)mig__cipher_local();
	mig__random(nonce, sizeof(nonce));
	if ((r = mig__kx_keypair(hs->esk, hs->epk)) != 0 ||
	    (r = mig__hello_put(&b, hs->min, hs->max, nonce, hs->self,
		(uint32_t)mig__cipher_local(), hs->epk)) != 0)
		goto out;
	mig__transcript(hs->hello_i, hs->hello_ilen, b.data, b.len, th);
	r = mig__hs_secret(hs->key, hs->esk, h->epk, th, hs->secret);
	mig__wipe(hs->esk, sizeof(hs->esk));
	if (r != 0)
		goto out;
	mig__proof(hs->secret, 0, proof);
	if ((r = proto_put_bytes(&b, proof, sizeof(proof))) != 0 ||
	    (r = put_frame(out, MIG_M_HELLO, &b)) != 0)
		goto out;
	hs->state = MIG_HS_AUTH;
 out:
	mig_buf_free(&b);
	if (r == MIG_EAUTH)
		return fail(hs, MIG_EAUTH, "unusable ephemeral key");
	if (r != 0)
		return fail(hs, MIG_ELINK, "cannot answer HELLO: %s",
		    mig_strerror(r));
	return MIG_HS_SEND;
}

/* Initiator: the acceptor must be the host we dialed, and prove it holds
 * our key and saw our HELLO as we sent it; AUTH goes out, and it is up. */
static enum mig_hs_event
initiator_hello(struct mig_hs *hs, const struct mig_frame *f,
    const struct mig_hello *h, struct mig_buf *out)
{
	struct mig_buf b = { NULL, 0, 0 };
	uint8_t th[MIG_HASH_BYTES], want[MIG_PROOF_BYTES];
	uint8_t mine[MIG_PROOF_BYTES];
	enum mig_hs_event ev;
	int r;

	if (strcmp(h->name, hs->peer) != 0)
		return fail(hs, MIG_EAUTH, "it calls itself '%s'", h->name);
	mig__transcript(hs->hello_i, hs->hello_ilen, f->payload, h->body, th);
	r = mig__hs_secret(hs->key, hs->esk, h->epk, th, hs->secret);
	mig__wipe(hs->esk, sizeof(hs->esk));
	if (r == 0)
		mig__proof(hs->secret, 0, want);
	if (r != 0 || mig__proof_check(want, h->proof) != 0) {
		refuse(hs, out, h->max, MIG_EAUTH, "key refused");
		return fail(hs, MIG_EAUTH, "key refused");
	}
	mig__proof(hs->secret, 1, mine);
	if ((r = proto_put_bytes(&b, mine, sizeof(mine))) != 0 ||
	    (r = put_frame(out, MIG_M_AUTH, &b)) != 0) {
		ev = fail(hs, MIG_ELINK, "cannot make AUTH: %s",
		    mig_strerror(r));
		goto out;
	}
	mig__session_init(&hs->sess, hs->secret, 1,
	    h->ciphers & (uint32_t)mig__cipher_local());
	hs->proto = common(hs, h->version, h->max);
	mig__wipe(hs->secret, sizeof(hs->secret));
	hs->state = MIG_HS_DONE;
	ev = MIG_HS_PROVEN;
 out:
	mig_buf_free(&b);
	return ev;
}

static enum mig_hs_event
on_hello(struct mig_hs *hs, const struct mig_frame *f, struct mig_buf *out)
{
	struct mig_hello h;
	int r;

	r = mig__hello_parse(f->payload, f->len, hs->initiator, &h);
	/* A bare version answer, a HELLO of another protocol's format, or
	 * one whose protocols are none of ours. */
	if (r == MIG_EVERSION || (r == MIG_EPROTO && f->len >= 4 &&
	    common(hs, h.version, h.version) == 0) ||
	    (r == 0 && common(hs, h.version, h.max) == 0)) {
		/* One whose HELLO we cannot read may read nothing else. */
		if (!hs->initiator)
			refuse(hs, out, r == 0 ? h.max : 0, MIG_EVERSION,
			    "protocol version mismatch");
		return mismatch(hs, h.version, h.max, NULL);
	}
	if (r != 0)
		return fail(hs, MIG_EPROTO, "malformed HELLO");
	if (!hs->initiator)
		hs->proto = common(hs, h.version, h.max);
	return hs->initiator ? initiator_hello(hs, f, &h, out) :
			       acceptor_hello(hs, f, &h, out);
}

static enum mig_hs_event
on_auth(struct mig_hs *hs, const struct mig_frame *f)
{
	uint8_t want[MIG_PROOF_BYTES];
	const uint8_t *proof;

	if (mig__auth_parse(f->payload, f->len, &proof) != 0)
		return fail(hs, MIG_EPROTO, "malformed AUTH");
	mig__proof(hs->secret, 1, want);
	if (mig__proof_check(want, proof) != 0)
		return fail(hs, MIG_EAUTH,
		    "authentication failed (does it hold the same key?)");
	mig__session_init(&hs->sess, hs->secret, 0, hs->ciphers);
	mig__wipe(hs->secret, sizeof(hs->secret));
	hs->state = MIG_HS_DONE;
	return MIG_HS_PROVEN;
}

enum mig_hs_event
mig__hs_step(struct mig_hs *hs, const uint8_t *p, size_t n, size_t *used,
    struct mig_buf *out)
{
	struct mig_frame f;
	int r;

	*used = 0;
	if (hs->state == MIG_HS_DONE)
		return fail(hs, MIG_EINTERNAL, "handshake already over");
	/* The length word alone says a frame is no handshake's. */
	if (n >= 4 && ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
	    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24) >
	    MIG_HANDSHAKE_FRAME_MAX)
		return fail(hs, MIG_EPROTO,
		    "malformed handshake: message too large");
	r = mig_frame_decode(p, n, &f);
	if (r == MIG_EAGAIN)
		return MIG_HS_NEED_MORE;
	if (r != 0)
		return fail(hs, MIG_EPROTO, "malformed handshake: %s",
		    mig_strerror(r));
	*used = MIG_FRAME_HDR + f.len;
	/* Nothing of a handshake frame goes unread: its header's flags and
	 * stream are 0, as the transcript assumes. */
	if (f.flags != 0 || f.stream != 0)
		return fail(hs, MIG_EPROTO,
		    "malformed handshake: flags or stream set");
	if (hs->state == MIG_HS_HELLO && f.type == MIG_M_HELLO)
		return on_hello(hs, &f, out);
	if (hs->state == MIG_HS_AUTH && f.type == MIG_M_AUTH)
		return on_auth(hs, &f);
	if (f.type == MIG_M_ERROR)
		return on_refusal(hs, &f);
	return fail(hs, MIG_EPROTO, "unexpected frame type %u in handshake",
	    f.type);
}
