/*
 * peer.c: the links between daemons. One TCP link per pair of hosts
 * carries every job between them. A link starts with a plain handshake
 * (HELLO both ways, then the initiator's AUTH, see crypto.c), after which
 * every frame travels alone in a sealed record:
 *
 *   u32 sealed length (also the record's associated data), sealed frame
 *
 * Anything malformed, unauthentic or late closes the link with a log
 * line naming the peer; the daemon goes on serving everyone else.
 */
#include <errno.h>
#include <malloc.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <time.h>

#include "homed.h"

struct lwrite {
	uv_write_t req;
	uv_buf_t buf;
	uint8_t data[];
};

static void link_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);
static void send_load(struct link *l);

static void
le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static void link_fail(struct link *l, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

struct peer *
mig__peer_find(struct homed *d, const char *name)
{
	struct peer *p;

	TAILQ_FOREACH(p, &d->peers, entry)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

static struct peer *
peer_add(struct homed *d, const char *name)
{
	struct peer *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->d = d;
	strlcpy(p->name, name, sizeof(p->name));
	TAILQ_INSERT_TAIL(&d->peers, p, entry);
	return p;
}

int
mig__peers_init(struct homed *d)
{
	for (size_t i = 0; i < d->hosts.n; i++) {
		const struct mig_host *h = &d->hosts.v[i];
		struct peer *p;
		if (strcmp(h->name, d->name) == 0)
			continue;
		if ((p = peer_add(d, h->name)) == NULL)
			return MIG__ERR(ENOMEM);
		strlcpy(p->addr, h->addr, sizeof(p->addr));
		p->port = h->port;
		p->slots = h->slots;
	}
	return 0;
}

static void
on_handle_closed(uv_handle_t *h)
{
	struct link *l = h->data;

	if (--l->handles > 0)
		return;
	mig_buf_free(&l->in);
	mig_buf_free(&l->plain);
	mig__session_wipe(&l->sess);
	free(l);
}

/* Closes the link; its jobs learn why. */
static void
link_close(struct link *l, int code, const char *why)
{
	struct peer *p = l->peer;

	if (l->state == LINK_CLOSING)
		return;
	l->state = LINK_CLOSING;
	TAILQ_REMOVE(&l->d->links, l, entry);
	if (p != NULL) {
		if (p->link == l)
			p->link = NULL;
		if (p->dialing == l)
			p->dialing = NULL;
		p->last_error = code;
		strlcpy(p->last_why, why, sizeof(p->last_why));
		mig__jobs_link_down(p, l, code, why);
	}
	mig__rjobs_link_down(l);
	uv_close((uv_handle_t *)&l->timer, on_handle_closed);
	uv_close((uv_handle_t *)&l->tcp, on_handle_closed);
}

static void
link_fail(struct link *l, int code, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	/* A host that stays down is said once, not at every redial. */
	mig__log(l->peer != NULL && strcmp(l->peer->last_why, why) == 0 ?
		MIG_LOG_DEBUG : MIG_LOG_WARN,
	    "link %s: %s; closed", l->desc, why);
	link_close(l, code, why);
}

static struct link *
link_new(struct homed *d, int initiator)
{
	struct link *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->d = d;
	l->initiator = initiator;
	uv_tcp_init(d->loop, &l->tcp);
	uv_timer_init(d->loop, &l->timer);
	l->tcp.data = l->timer.data = l;
	l->handles = 2;
	TAILQ_INSERT_TAIL(&d->links, l, entry);
	return l;
}

static void
on_lwritten(uv_write_t *req, int status)
{
	free(req);
}

/* Writes bytes as they are: the handshake, or a sealed record. */
static int
link_write_raw(struct link *l, const uint8_t *p, size_t n)
{
	struct lwrite *w = malloc(sizeof(*w) + n);
	int r;

	if (w == NULL)
		return MIG__ERR(ENOMEM);
	memcpy(w->data, p, n);
	w->buf = uv_buf_init((char *)w->data, (unsigned)n);
	if ((r = uv_write(&w->req, (uv_stream_t *)&l->tcp, &w->buf, 1,
	    on_lwritten)) != 0)
		free(w);
	return r;
}

static int
link_send_plain(struct link *l, const struct mig_buf *frame)
{
	return link_write_raw(l, frame->data, frame->len);
}

int
mig__link_send(struct link *l, uint16_t type, uint16_t flags,
    uint32_t stream, const void *payload, size_t n)
{
	uint8_t hdr[MIG_FRAME_HDR];
	struct mig_buf frame = { NULL, 0, 0 };
	struct lwrite *w = NULL;
	size_t clen;
	int r;

	if (l->state != LINK_UP)
		return MIG_ELINK;
	if ((r = mig_frame_put(&frame, type, flags, stream, payload, n)) != 0)
		goto out;
	clen = frame.len + MIG_TAG_BYTES;
	if ((w = malloc(sizeof(*w) + 4 + clen)) == NULL) {
		r = MIG__ERR(ENOMEM);
		goto out;
	}
	for (int i = 0; i < 4; i++)
		hdr[i] = (uint8_t)(clen >> (8 * i));
	memcpy(w->data, hdr, 4);
	if ((r = mig__seal(&l->sess, frame.data, frame.len, w->data, 4,
	    w->data + 4)) != 0)
		goto out;
	w->buf = uv_buf_init((char *)w->data, (unsigned)(4 + clen));
	if ((r = uv_write(&w->req, (uv_stream_t *)&l->tcp, &w->buf, 1,
	    on_lwritten)) != 0)
		goto out;
	w = NULL;
 out:
	free(w);
	mig_buf_free(&frame);
	if (r != 0)
		link_fail(l, MIG_ELINK, "send failed: %s", mig_strerror(r));
	return r;
}

static void
link_up(struct link *l)
{
	struct peer *p = l->peer;

	uv_timer_stop(&l->timer);
	l->state = LINK_UP;
	/* Both sides may dial at once; the link dialed by the lower name
	 * wins on both, so they agree without another message. */
	if (p->link != NULL && p->link != l) {
		const char *win = strcmp(l->d->name, p->name) < 0 ? l->d->name :
								     p->name;
		const char *mine = l->initiator ? l->d->name : p->name;
		if (strcmp(mine, win) != 0) {
			mig__log(MIG_LOG_INFO, "link %s: duplicate, closed",
			    l->desc);
			link_close(l, MIG_ELINK, "duplicate link");
			return;
		}
		link_close(p->link, MIG_ELINK, "replaced by a newer link");
	}
	p->link = l;
	if (p->dialing == l)
		p->dialing = NULL;
	p->last_error = 0;
	p->last_why[0] = '\0';
	mig__log(MIG_LOG_INFO, "link %s: up (%s)", l->desc,
	    l->sess.cipher == MIG_CIPHER_AES256GCM ? "aes256gcm" :
						       "chacha20poly1305");
	send_load(l);
	mig__jobs_link_up(p);
}

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
	r = link_send_plain(l, &b);
 out:
	mig_buf_free(&b);
	return r;
}

/* The acceptor learns who called; a name not in our hosts file gets a
 * peer entry that can receive jobs but not be dialed. */
static int
bind_peer(struct link *l)
{
	struct peer *p = mig__peer_find(l->d, l->peer_name);
	char addr[sizeof(l->desc)];

	if (strcmp(l->peer_name, l->d->name) == 0)
		return MIG_EAUTH;
	if (p == NULL && (p = peer_add(l->d, l->peer_name)) == NULL)
		return MIG__ERR(ENOMEM);
	l->peer = p;
	strlcpy(addr, l->desc[0] != '\0' ? l->desc : "?", sizeof(addr));
	snprintf(l->desc, sizeof(l->desc), "%s (%s)", p->name, addr);
	return 0;
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
		link_fail(l, MIG_EPROTO, "malformed HELLO");
		return;
	}
	if (version != MIG_PROTO_VERSION) {
		/* Answer first, so the caller learns our version too. */
		if (!l->initiator) {
			mig__random(l->na, sizeof(l->na));
			send_hello(l);
		}
		link_fail(l, MIG_EVERSION,
		    "protocol version mismatch: it speaks %u, we speak %d",
		    version, MIG_PROTO_VERSION);
		return;
	}
	if (proto_get_bytes(&rd, &nonce, &nlen) != 0 ||
	    nlen != MIG_NONCE_BYTES || proto_get_str(&rd, &name) != 0 ||
	    proto_get_u32(&rd, &ciphers) != 0 ||
	    (l->initiator && (proto_get_bytes(&rd, &proof, &plen) != 0 ||
				 plen != MIG_PROOF_BYTES)) ||
	    proto_rd_done(&rd) != 0 || name[0] == '\0' ||
	    strlen(name) >= MIG_NAME_MAX) {
		free(name);
		link_fail(l, MIG_EPROTO, "malformed HELLO");
		return;
	}
	strlcpy(l->peer_name, name, sizeof(l->peer_name));
	free(name);
	if (!l->initiator) {
		memcpy(l->ni, nonce, MIG_NONCE_BYTES);
		l->ciphers = ciphers & (uint32_t)mig__cipher_local();
		if (bind_peer(l) != 0) {
			link_fail(l, MIG_EAUTH, "peer calls itself '%s'",
			    l->peer_name);
			return;
		}
		mig__random(l->na, sizeof(l->na));
		if (send_hello(l) != 0) {
			link_fail(l, MIG_ELINK, "cannot answer HELLO");
			return;
		}
		l->state = LINK_AUTH;
		return;
	}
	/* Initiator: the acceptor must be the host we dialed, and prove it
	 * holds our key. */
	memcpy(l->na, nonce, MIG_NONCE_BYTES);
	if (strcmp(l->peer_name, l->peer->name) != 0) {
		link_fail(l, MIG_EAUTH, "answered as '%s'", l->peer_name);
		return;
	}
	mig__proof(l->d->key, 0, l->ni, l->na, l->d->name, l->peer_name, want);
	if (mig__proof_check(want, proof) != 0) {
		link_fail(l, MIG_EAUTH,
		    "authentication failed (does it hold the same key?)");
		return;
	}
	{
		struct mig_buf b = { NULL, 0, 0 };
		uint8_t mine[MIG_PROOF_BYTES];
		size_t at;
		int r;

		mig__proof(l->d->key, 1, l->ni, l->na, l->d->name,
		    l->peer_name, mine);
		if ((r = mig_frame_begin(&b, MIG_M_AUTH, 0, 0, &at)) == 0 &&
		    (r = proto_put_bytes(&b, mine, sizeof(mine))) == 0 &&
		    (r = mig_frame_end(&b, at)) == 0)
			r = link_send_plain(l, &b);
		mig_buf_free(&b);
		if (r != 0) {
			link_fail(l, MIG_ELINK, "cannot send AUTH");
			return;
		}
	}
	mig__session_init(&l->sess, l->d->key, 1, l->ni, l->na, l->d->name,
	    l->peer_name, ciphers & (uint32_t)mig__cipher_local());
	link_up(l);
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
		link_fail(l, MIG_EPROTO, "malformed AUTH");
		return;
	}
	mig__proof(l->d->key, 1, l->ni, l->na, l->peer_name, l->d->name, want);
	if (mig__proof_check(want, proof) != 0) {
		link_fail(l, MIG_EAUTH,
		    "authentication failed (does it hold the same key?)");
		return;
	}
	mig__session_init(&l->sess, l->d->key, 0, l->ni, l->na, l->peer_name,
	    l->d->name, l->ciphers);
	link_up(l);
}

static uint64_t
realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
on_ping(struct link *l, const struct mig_frame *f)
{
	uint8_t p[24];

	if (f->len != 16)
		return;
	memcpy(p, f->payload, 16);
	le64(p + 16, realtime_ns());
	mig__link_send(l, MIG_M_PONG, 0, 0, p, sizeof(p));
}

/*
 * A round trip: its time, and the peer's clock against ours, taken as
 * its reading minus ours at the trip's middle. The sample with the
 * smallest round trip of the last few is the truest, so it is kept.
 */
static void
on_pong(struct link *l, const struct mig_frame *f)
{
	struct peer *p = l->peer;
	struct mig_rd rd;
	uint64_t mono, real, theirs, rtt;

	proto_rd_init(&rd, f->payload, f->len);
	if (proto_get_u64(&rd, &mono) != 0 || proto_get_u64(&rd, &real) != 0 ||
	    proto_get_u64(&rd, &theirs) != 0 || uv_hrtime() < mono)
		return;
	rtt = uv_hrtime() - mono;
	p->rtt_ns = rtt;
	if (!p->have_offset || rtt <= p->best_rtt_ns || ++p->offset_age > 8) {
		p->best_rtt_ns = rtt;
		p->offset_ns = (int64_t)(theirs - (real + rtt / 2));
		p->have_offset = 1;
		p->offset_age = 0;
		mig__rjobs_clock(l);
	}
}

static void
on_load(struct link *l, const struct mig_frame *f)
{
	struct peer *p = l->peer;
	struct mig_rd rd;
	uint32_t v[4];

	proto_rd_init(&rd, f->payload, f->len);
	for (int i = 0; i < 4; i++)
		if (proto_get_u32(&rd, &v[i]) != 0)
			return;
	p->host_slots = v[0];
	p->running = v[1];
	p->load100 = v[2];
	p->freemem = v[3];
	/* A host with a free slot may take a waiting job now. */
	mig__place_queued(l->d);
}

/* One frame of an up link, by type. */
static void
dispatch(struct link *l, const struct mig_frame *f)
{
	switch (f->type) {
	case MIG_M_EXEC:
		mig__rjob_exec(l, f);
		break;
	case MIG_M_KILL:
	case MIG_M_SIGNAL:
		mig__rjob_from_link(l, f);
		break;
	case MIG_M_DATA:
	case MIG_M_EOF:
		/* Stream frames go both ways: stdin to the host's job,
		 * stdout and stderr to the home's... */
		if (f->flags == 0)
			mig__rjob_from_link(l, f);
		else
			mig__job_from_link(l, f);
		break;
	case MIG_M_ACK:
	case MIG_M_CLOSE:
		/* ...and their acknowledgements the other way. */
		if (f->flags == 0)
			mig__job_from_link(l, f);
		else
			mig__rjob_from_link(l, f);
		break;
	case MIG_M_STARTED:
	case MIG_M_EXIT:
	case MIG_M_ERROR:
		mig__job_from_link(l, f);
		break;
	case MIG_M_PING:
		on_ping(l, f);
		break;
	case MIG_M_PONG:
		on_pong(l, f);
		break;
	case MIG_M_LOAD:
		on_load(l, f);
		break;
	case MIG_M_CALL:
		mig__job_call(l, f);
		break;
	case MIG_M_CALLRET:
		mig__rjob_callret(l, f);
		break;
	case MIG_M_HOLD:
		mig__hold_new(l, f);
		break;
	case MIG_M_HOLDRET:
		mig__rjob_holdret(l, f);
		break;
	case MIG_M_GONE:
		mig__hold_gone(l, f);
		break;
	default:
		link_fail(l, MIG_EPROTO, "unexpected frame type %u", f->type);
	}
}

/* Before the handshake ends, frames come plain. */
static size_t
read_plain(struct link *l)
{
	size_t off = 0;

	while (l->state == LINK_HELLO || l->state == LINK_AUTH) {
		struct mig_frame f;
		int r = mig_frame_decode(l->in.data + off, l->in.len - off, &f);
		if (r == MIG_EAGAIN)
			break;
		if (r != 0) {
			link_fail(l, MIG_EPROTO, "malformed handshake: %s",
			    mig_strerror(r));
			break;
		}
		off += MIG_FRAME_HDR + f.len;
		if (l->state == LINK_HELLO && f.type == MIG_M_HELLO)
			on_hello(l, &f);
		else if (l->state == LINK_AUTH && f.type == MIG_M_AUTH)
			on_auth(l, &f);
		else if (f.type == MIG_M_ERROR)
			link_fail(l, MIG_EAUTH, "refused by the peer");
		else
			link_fail(l, MIG_EPROTO,
			    "unexpected frame type %u in handshake", f.type);
	}
	return off;
}

static size_t
read_records(struct link *l, size_t off)
{
	while (l->state == LINK_UP && l->in.len - off >= 4) {
		const uint8_t *p = l->in.data + off;
		uint32_t clen = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
		struct mig_frame f;
		int r;

		if (clen < MIG_TAG_BYTES + MIG_FRAME_HDR ||
		    clen > MIG_RECORD_MAX) {
			link_fail(l, MIG_EPROTO, "malformed record length %u",
			    clen);
			break;
		}
		if (l->in.len - off - 4 < clen)
			break;
		l->plain.len = 0;
		if (mig_buf_reserve(&l->plain, clen) != 0) {
			link_fail(l, MIG__ERR(ENOMEM), "out of memory");
			break;
		}
		if (mig__open(&l->sess, p + 4, clen, p, 4, l->plain.data) != 0) {
			link_fail(l, MIG_EAUTH,
			    "record failed authentication (altered or replayed)");
			break;
		}
		off += 4 + clen;
		r = mig_frame_decode(l->plain.data, clen - MIG_TAG_BYTES, &f);
		if (r != 0 || MIG_FRAME_HDR + f.len != clen - MIG_TAG_BYTES) {
			link_fail(l, MIG_EPROTO, "malformed frame in record");
			break;
		}
		dispatch(l, &f);
	}
	return off;
}

static void
link_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct link *l = h->data;

	if (mig_buf_reserve(&l->in, 256 << 10) != 0) {
		*buf = uv_buf_init(NULL, 0);
		return;
	}
	*buf = uv_buf_init((char *)l->in.data + l->in.len,
	    (unsigned)(l->in.cap - l->in.len));
}

static void
link_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct link *l = s->data;
	size_t off;

	if (l->state == LINK_CLOSING)
		return;
	if (n < 0) {
		if (n == UV_EOF)
			mig__log(MIG_LOG_INFO, "link %s: closed by the peer",
			    l->desc);
		link_close(l, MIG_ELINK, n == UV_EOF ? "closed by the peer" :
							uv_strerror((int)n));
		return;
	}
	l->in.len += (size_t)n;
	off = read_plain(l);
	off = read_records(l, off);
	if (l->state != LINK_CLOSING)
		mig_buf_consume(&l->in, off);
}

static void
on_deadline(uv_timer_t *t)
{
	struct link *l = t->data;

	link_fail(l, l->initiator ? MIG_EHOSTDOWN : MIG_EAUTH,
	    "no handshake within %d ms", MIG_HANDSHAKE_MS);
}

static void
link_start(struct link *l)
{
	uv_tcp_nodelay(&l->tcp, 1);
	l->state = LINK_HELLO;
	uv_read_start((uv_stream_t *)&l->tcp, link_alloc, link_read);
}

static void
on_connected(uv_connect_t *req, int status)
{
	struct link *l = req->data;

	if (l->state == LINK_CLOSING)
		return;
	if (status != 0) {
		link_fail(l, MIG_EHOSTDOWN, "host down: %s",
		    uv_strerror(status));
		return;
	}
	link_start(l);
	mig__random(l->ni, sizeof(l->ni));
	if (send_hello(l) != 0)
		link_fail(l, MIG_ELINK, "cannot send HELLO");
}

void
mig__peer_dial(struct peer *p)
{
	struct homed *d = p->d;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	char port[8];
	struct link *l;
	int r;

	if (p->link != NULL || p->dialing != NULL)
		return;
	if (p->port == 0) {
		mig__jobs_link_down(p, NULL, MIG_ENOHOST,
		    "not in this host's hosts file");
		return;
	}
	if (!d->have_key) {
		mig__jobs_link_down(p, NULL, MIG_EKEY,
		    "no key on the home host (run 'mig keygen')");
		return;
	}
	if ((l = link_new(d, 1)) == NULL)
		return;
	l->peer = p;
	p->dialing = l;
	l->state = LINK_CONNECTING;
	snprintf(l->desc, sizeof(l->desc), "%s (%s:%u)", p->name, p->addr,
	    p->port);
	snprintf(port, sizeof(port), "%u", p->port);
	/* Host names resolve here, blocking: hosts files name addresses,
	 * and a name is looked up once per link, not per job. */
	if ((r = getaddrinfo(p->addr, port, &hints, &ai)) != 0) {
		link_fail(l, MIG_EHOSTDOWN, "cannot resolve %s: %s", p->addr,
		    gai_strerror(r));
		return;
	}
	l->connect.data = l;
	r = uv_tcp_connect(&l->connect, &l->tcp, ai->ai_addr, on_connected);
	freeaddrinfo(ai);
	if (r != 0) {
		link_fail(l, MIG_EHOSTDOWN, "host down: %s", uv_strerror(r));
		return;
	}
	uv_timer_start(&l->timer, on_deadline, MIG_CONNECT_MS + MIG_HANDSHAKE_MS,
	    0);
}

static void
on_peer_connection(uv_stream_t *server, int status)
{
	struct homed *d = server->data;
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	char host[64] = "?";
	struct link *l;

	if (status != 0 || (l = link_new(d, 0)) == NULL)
		return;
	if (uv_accept(server, (uv_stream_t *)&l->tcp) != 0) {
		link_close(l, MIG_ELINK, "accept failed");
		return;
	}
	if (uv_tcp_getpeername(&l->tcp, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET)
			uv_ip4_name((struct sockaddr_in *)&ss, host,
			    sizeof(host));
		else
			uv_ip6_name((struct sockaddr_in6 *)&ss, host,
			    sizeof(host));
	}
	strlcpy(l->desc, host, sizeof(l->desc));
	if (!d->have_key) {
		link_fail(l, MIG_EKEY, "no key here (run 'mig keygen')");
		return;
	}
	link_start(l);
	uv_timer_start(&l->timer, on_deadline, MIG_HANDSHAKE_MS, 0);
}

int
mig__listen_start(struct homed *d)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICHOST },
			*ai = NULL;
	char port[8];
	int r;

	snprintf(port, sizeof(port), "%u", d->listen_port);
	if ((r = getaddrinfo(d->listen_addr, port, &hints, &ai)) != 0) {
		hints.ai_flags = AI_PASSIVE;
		if (getaddrinfo(d->listen_addr, port, &hints, &ai) != 0)
			return MIG_ECONFIG;
	}
	uv_tcp_init(d->loop, &d->listener);
	d->listener.data = d;
	r = uv_tcp_bind(&d->listener, ai->ai_addr, 0);
	freeaddrinfo(ai);
	if (r == 0)
		r = uv_listen((uv_stream_t *)&d->listener, 128,
		    on_peer_connection);
	return r;
}

void
mig__peers_stop(struct homed *d)
{
	struct link *l;
	struct peer *p;

	uv_timer_stop(&d->tick);
	while ((l = TAILQ_FIRST(&d->links)) != NULL)
		link_close(l, MIG_ELINK, "daemon stopping");
	while ((p = TAILQ_FIRST(&d->peers)) != NULL) {
		TAILQ_REMOVE(&d->peers, p, entry);
		free(p);
	}
	if (uv_is_active((uv_handle_t *)&d->listener) ||
	    d->listener.type == UV_TCP)
		if (!uv_is_closing((uv_handle_t *)&d->listener))
			uv_close((uv_handle_t *)&d->listener, NULL);
}

static void
send_load(struct link *l)
{
	struct homed *d = l->d;
	struct mig_buf b = { NULL, 0, 0 };
	struct sysinfo si;
	double load[3] = { 0, 0, 0 };
	uint32_t freemem = 0;

	getloadavg(load, 3);
	if (sysinfo(&si) == 0)
		freemem = (uint32_t)((uint64_t)si.freeram * si.mem_unit >> 20);
	if (proto_put_u32(&b, d->slots) == 0 &&
	    proto_put_u32(&b, d->local_running + mig__rjobs_running(d)) == 0 &&
	    proto_put_u32(&b, (uint32_t)(load[0] * 100)) == 0 &&
	    proto_put_u32(&b, freemem) == 0)
		mig__link_send(l, MIG_M_LOAD, 0, 0, b.data, b.len);
	mig_buf_free(&b);
}

void
mig__push_load(struct homed *d)
{
	uint32_t now = d->local_running + mig__rjobs_running(d);
	struct link *l, *next;

	/* On change only; the tick sends it anyway once a second. */
	if (now == d->last_load)
		return;
	d->last_load = now;
	TAILQ_FOREACH_SAFE(l, &d->links, entry, next)
		if (l->state == LINK_UP)
			send_load(l);
}

static void
on_tick(uv_timer_t *t)
{
	struct homed *d = t->data;
	struct link *l, *next;
	struct peer *p;
	uint8_t ping[16];

	le64(ping, uv_hrtime());
	le64(ping + 8, realtime_ns());
	TAILQ_FOREACH_SAFE(l, &d->links, entry, next) {
		if (l->state != LINK_UP)
			continue;
		send_load(l);
		mig__link_send(l, MIG_M_PING, 0, 0, ping, sizeof(ping));
	}
	d->last_load = d->local_running + mig__rjobs_running(d);
	/* Idle again after work: what the jobs' buffers took goes back to
	 * the system (glibc keeps freed memory otherwise). */
	if (TAILQ_EMPTY(&d->jobs) && TAILQ_EMPTY(&d->rjobs) &&
	    TAILQ_EMPTY(&d->clients) && d->next_job + d->next_token !=
	    d->trimmed_at) {
		malloc_trim(0);
		d->trimmed_at = d->next_job + d->next_token;
	}
	/* Links to every host we know stay up, so placement sees them. */
	TAILQ_FOREACH(p, &d->peers, entry)
		if (p->port != 0 && p->link == NULL && p->dialing == NULL)
			mig__peer_dial(p);
}

void
mig__tick_start(struct homed *d)
{
	uv_timer_init(d->loop, &d->tick);
	d->tick.data = d;
	uv_timer_start(&d->tick, on_tick, 0, 1000);
}
