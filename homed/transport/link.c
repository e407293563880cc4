/*
 * link.c: the links between daemons. One link per pair of hosts carries
 * every job between them. A TCP link starts with a plain handshake
 * (handshake.c), after which every frame travels alone in a sealed
 * record:
 *
 *   u32 sealed length (also the record's associated data), sealed frame
 *
 * A link over a process's stdio (stdio.c: ssh) carries the frames as
 * they are, ssh having authenticated and sealed the channel.
 *
 * Each opened frame goes to the handler its type was registered with.
 * Anything malformed, unauthentic or late fails the link with a log line
 * naming the peer, and so does silence past the ping timeout; a failed
 * link is torn down on the next loop turn, where the roles hear "link
 * down" once. The daemon goes on serving everyone else.
 *
 * A connection that has not proved the key belongs to no peer: it is
 * named by its address, touches no peer's state, and the roles never hear
 * of it (preauth.c says how many may wait and what the log says of them).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "homed.h"

/* Drops one of the link's handles or requests; the last frees it. */
void
mig__link_unref(struct link *l)
{
	if (--l->handles > 0)
		return;
	mig_buf_free(&l->in);
	mig_buf_free(&l->opened);
	mig_buf_free(&l->cork.buf);
	mig_buf_free(&l->errbuf);
	mig__session_wipe(&l->sess);
	mig__hs_wipe(&l->hs);
	free(l);
}

static void
on_handle_closed(uv_handle_t *h)
{
	mig__link_unref(h->data);
}

/* A link that lost to another of its peer's (two dials at once) but is
 * still up: nothing new goes over it, what was placed on it before both
 * ends knew runs to its end, and then it closes (mig__links_tick). */
static int
replaced(const struct link *l)
{
	return l->state == LINK_UP && l->peer != NULL && l->peer->link != l;
}

/* 1 while a job of either role runs over l. */
static int
in_use(const struct link *l)
{
	const struct job *j;
	const struct rjob *rj;

	TAILQ_FOREACH(j, &l->d->jobs, entry)
		if (j->link == l)
			return 1;
	TAILQ_FOREACH(rj, &l->d->rjobs, entry)
		if (rj->link == l)
			return 1;
	return 0;
}

/*
 * Marks l failed, why it did from fmt; the reaper tears it down. A host
 * that stays down is said once, not at every redial; a connection not
 * proved only within the lines preauth.c allows, and never when say is
 * 0 (preauth.c counted it).
 */
static void
link_end(struct link *l, int code, int say, const char *fmt, va_list ap)
{
	int level;

	if (l->state == LINK_FAILED || l->state == LINK_CLOSED)
		return;
	/* What it sent before it failed still goes, as far as it can. */
	mig__cork_flush(l->d, &l->cork, l->wr);
	vsnprintf(l->fail_why, sizeof(l->fail_why), fmt, ap);
	if (say && l->peer == NULL && !l->initiator)
		say = mig__preauth_say(l->d, l->from);
	/* A replaced link that carried nothing more ends as planned, at
	 * whichever end closes it first. */
	level = replaced(l) && !in_use(l) ? MIG_LOG_INFO : l->peer != NULL &&
	    strcmp(l->peer->last_why, l->fail_why) == 0 ? MIG_LOG_DEBUG :
	    MIG_LOG_WARN;
	if (say)
		mig__log(level, "link %s: %s; closed", l->desc, l->fail_why);
	l->fail_code = code;
	l->state = LINK_FAILED;
	uv_read_stop(l->rd);
	uv_timer_stop(&l->timer);
	mig__reap_soon(l->d);
}

void
mig__link_fail(struct link *l, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	link_end(l, code, 1, fmt, ap);
	va_end(ap);
}

void
mig__link_drop(struct link *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	link_end(l, MIG_EAUTH, 0, fmt, ap);
	va_end(ap);
}

/* The link that takes over from l, its peer's link in use, when l
 * fails: one that lost to l but is still up, or NULL. */
static struct link *
in_place_of(struct link *l)
{
	struct link *o;

	TAILQ_FOREACH(o, &l->d->links, entry)
		if (o != l && o->peer == l->peer && o->state == LINK_UP) {
			mig__log(MIG_LOG_INFO, "link %s: in use again, in "
			    "place of %s", o->desc, l->desc);
			o->unused_ticks = 0;
			return o;
		}
	return NULL;
}

/* The reaper's part: failed links leave their peer, their watchers hear
 * of it, and their handles close. A link that never had a peer (an
 * acceptor's, not proved) is nobody's business but the log's. */
void
mig__links_reap(struct homed *d)
{
	struct link *l, *next;

	TAILQ_FOREACH_SAFE(l, &d->links, entry, next) {
		struct peer *p = l->peer;
		if (l->state != LINK_FAILED)
			continue;
		l->state = LINK_CLOSED;
		TAILQ_REMOVE(&d->links, l, entry);
		if (p != NULL) {
			if (p->link == l)
				p->link = in_place_of(l);
			if (p->dialing == l)
				p->dialing = NULL;
			/* A duplicate's or a replaced link's end is not why
			 * the peer is down. */
			if (p->link == NULL) {
				p->last_error = l->fail_code;
				strlcpy(p->last_why, l->fail_why,
				    sizeof(p->last_why));
				p->self = l->fail_code == MIG_ESELF;
				if (p->ssh)
					mig__ssh_backoff(p, l->was_up);
			}
			mig__notify_down(l, l->fail_code, l->fail_why);
		}
		/* A lookup under way holds its own reference (on_resolved). */
		uv_cancel((uv_req_t *)&l->resolve);
		uv_close((uv_handle_t *)&l->timer, on_handle_closed);
		uv_close((uv_handle_t *)&l->tcp, on_handle_closed);
		if (l->stdio)
			mig__stdio_reap(l, on_handle_closed);
	}
}

struct link *
mig__link_by_id(struct homed *d, uint32_t id)
{
	struct link *l;

	TAILQ_FOREACH(l, &d->links, entry)
		if (l->id == id)
			return l;
	return NULL;
}

struct link *
mig__link_new(struct homed *d, int initiator)
{
	struct link *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->d = d;
	/* 2^32 links at one a millisecond take 49 days; then skip 0. */
	if ((l->id = ++d->next_link) == 0)
		l->id = ++d->next_link;
	l->initiator = initiator;
	uv_tcp_init(d->loop, &l->tcp);
	uv_timer_init(d->loop, &l->timer);
	l->tcp.data = l->timer.data = l->connect.data = l->resolve.data = l;
	l->rd = l->wr = (uv_stream_t *)&l->tcp;
	l->handles = 2;
	l->last_rx = uv_now(d->loop);
	TAILQ_INSERT_TAIL(&d->links, l, entry);
	return l;
}

void
mig__links_flush(struct homed *d)
{
	struct link *l;
	int r;

	TAILQ_FOREACH(l, &d->links, entry)
		if ((r = mig__cork_flush(d, &l->cork, l->wr)) != 0)
			mig__link_fail(l, MIG_ELINK, "send failed: %s",
			    uv_strerror(r));
}

/* Queued for the end of this loop turn (mig__links_flush). */
int
mig__link_write(struct link *l, const void *p, size_t n)
{
	if (l->state == LINK_FAILED || l->state == LINK_CLOSED)
		return MIG_ELINK;
	if (mig_buf_append(&l->cork.buf, p, n) != 0) {
		mig__link_fail(l, MIG_ELINK, "send failed: out of memory");
		return MIG_ELINK;
	}
	mig__cork_added(l->d, &l->cork);
	return 0;
}

/* What went over a peer's links, per message type (mig hosts --json). */
static void
count(struct traffic *t, uint16_t type, size_t bytes)
{
	if (type < MIG_M__COUNT) {
		t->frames[type]++;
		t->bytes[type] += bytes;
	}
}

int
mig__link_send(struct link *l, uint16_t type, uint16_t flags,
    uint32_t stream, const void *payload, size_t n)
{
	struct mig_buf frame = { NULL, 0, 0 };
	size_t clen;
	int r;

	if (l->state != LINK_UP)
		return MIG_ELINK;
	if ((r = mig_frame_put(&frame, type, flags, stream, payload, n)) != 0)
		goto out;
	if (l->plain) {
		count(&l->peer->tx, type, frame.len);
		r = mig__link_write(l, frame.data, frame.len);
		mig_buf_free(&frame);
		return r;
	}
	/* Sealed in place at the end of what the turn queued. */
	clen = MIG_RECORD_OVERHEAD + frame.len;
	if ((r = mig_buf_reserve(&l->cork.buf, clen)) != 0)
		goto out;
	if ((r = mig__record_seal(&l->sess, frame.data, frame.len,
	    l->cork.buf.data + l->cork.buf.len)) != 0)
		goto out;
	l->cork.buf.len += clen;
	mig__cork_added(l->d, &l->cork);
	count(&l->peer->tx, type, clen);
 out:
	mig_buf_free(&frame);
	if (r != 0)
		mig__link_fail(l, MIG_ELINK, "send failed: %s", mig_strerror(r));
	return r;
}

/* Over protocol 5 and later, a link's first frame each way says which
 * build its sender is (mig hosts' VERSION); a stdio link's HELLO said it
 * already. A peer of protocol 4 never hears of it. */
static void
send_build(struct link *l)
{
	struct mig_buf b = { NULL, 0, 0 };

	if (l->proto < 5 || l->stdio)
		return;
	if (proto_put_str(&b, mig_build_string()) != 0)
		mig__link_fail(l, MIG_ELINK, "send failed: out of memory");
	else
		mig__link_send(l, MIG_M_BUILD, 0, 0, b.data, b.len);
	mig_buf_free(&b);
}

void
mig__link_up(struct link *l)
{
	struct peer *p = l->peer;
	struct link *old = p->link;

	uv_timer_stop(&l->timer);
	l->state = LINK_UP;
	l->last_rx = uv_now(l->d->loop);
	if (old != NULL && old != l &&
	    (old->initiator == l->initiator || (l->stdio && !l->initiator))) {
		/* The same end dialed again (or a home came over ssh again):
		 * the other end has given the old link up, or is about to. */
		mig__link_fail(old, MIG_ELINK, "replaced by a newer link");
		p->link = l;
	} else if (old != NULL && old != l) {
		/* Both ends dialed at once. The link dialed by the lower name
		 * is the one in use at both ends, so they agree without
		 * another message; the other stays up for what either end
		 * placed on it before it knew, and closes once unused. */
		const char *win = strcmp(l->d->name, p->name) < 0 ? l->d->name :
								     p->name;
		const char *mine = l->initiator ? l->d->name : p->name;
		struct link *lost = strcmp(mine, win) == 0 ? old : l;
		p->link = lost == l ? old : l;
		mig__log(MIG_LOG_INFO, "link %s: dialed at once with %s; %s "
		    "is used, the other closes once unused", l->desc,
		    old->desc, p->link->desc);
	} else {
		p->link = l;
	}
	if (p->dialing == l)
		p->dialing = NULL;
	p->last_error = 0;
	p->last_why[0] = '\0';
	l->was_up = 1;
	mig__log(MIG_LOG_INFO, "link %s: up (protocol %u, %s)", l->desc,
	    l->proto, l->plain ? "over ssh, frames unsealed" :
	    l->sess.cipher == MIG_CIPHER_AES256GCM ? "aes256gcm" :
	    "chacha20poly1305");
	send_build(l);
	mig__notify_up(l);
}

/* The handshake proved the key: an acceptor's link now belongs to the
 * peer that proved it, and no sooner. */
static void
link_proven(struct link *l)
{
	struct peer *p = l->peer;

	if (!l->initiator) {
		p = mig__peer_find(l->d, l->hs.peer);
		if (p == NULL || p->removed) {
			mig__link_fail(l, MIG_EAUTH, "'%s' is no longer in "
			    "the hosts file", l->hs.peer);
			return;
		}
		l->peer = p;
		snprintf(l->desc, sizeof(l->desc), "%s (%s)", p->name,
		    l->from);
	}
	l->sess = l->hs.sess;
	l->proto = l->hs.proto;
	mig__hs_wipe(&l->hs);
	mig__link_up(l);
}

/* Sends what the handshake wrote, then acts on its event. */
static void
handshake_event(struct link *l, enum mig_hs_event ev, struct mig_buf *out)
{
	if (out->len > 0 && mig__link_write(l, out->data, out->len) != 0)
		mig__link_fail(l, MIG_ELINK, "cannot send the handshake");
	out->len = 0;
	if (l->state != LINK_HANDSHAKE)
		return;
	if (ev == MIG_HS_PROVEN)
		link_proven(l);
	else if (ev == MIG_HS_FAIL)
		mig__link_fail(l, l->hs.code, "%s", l->hs.why);
}

/* Reads handshake messages from l->in while there are any; returns the
 * bytes used. What follows a proved handshake is the first records. */
static size_t
handshake_read(struct link *l)
{
	struct mig_buf out = { NULL, 0, 0 };
	enum mig_hs_event ev = MIG_HS_SEND;
	size_t off = 0, used;

	while (l->state == LINK_HANDSHAKE && ev == MIG_HS_SEND) {
		ev = mig__hs_step(&l->hs, l->in.data + off, l->in.len - off,
		    &used, &out);
		off += used;
		handshake_event(l, ev, &out);
	}
	mig_buf_free(&out);
	return off;
}

void
mig__link_handshake(struct link *l)
{
	struct mig_buf out = { NULL, 0, 0 };

	handshake_event(l, mig__hs_start(&l->hs, &out), &out);
	mig_buf_free(&out);
}

/* One frame of an up link: PING and BUILD are the transport's own, the
 * rest go to the roles. */
static void
dispatch(struct link *l, const struct mig_frame *f)
{
	if (f->type == MIG_M_BUILD && l->proto >= 5) {
		if (mig__build_parse(f->payload, f->len, l->build) != 0)
			mig__link_fail(l, MIG_EPROTO, "malformed BUILD");
		else
			mig__log(MIG_LOG_INFO, "link %s: it runs %s", l->desc,
			    l->build);
		return;
	}
	if (f->type == MIG_M_PING) {
		uint8_t p[24];
		struct timespec ts;
		uint64_t now;
		if (f->len != 16)
			return;
		clock_gettime(CLOCK_REALTIME, &ts);
		now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		memcpy(p, f->payload, 16);
		for (int i = 0; i < 8; i++)
			p[16 + i] = (uint8_t)(now >> (8 * i));
		mig__link_send(l, MIG_M_PONG, 0, 0, p, sizeof(p));
		return;
	}
	if (mig__deliver_link(l, f) != 0)
		mig__link_fail(l, MIG_EPROTO, "unexpected frame type %u",
		    f->type);
}

static size_t
read_records(struct link *l, size_t off)
{
	while (l->state == LINK_UP) {
		struct mig_frame f;
		size_t used;
		int r;

		if (l->plain) {
			r = mig_frame_decode(l->in.data + off, l->in.len - off,
			    &f);
			used = r == 0 ? MIG_FRAME_HDR + f.len : 0;
		} else {
			r = mig__record_open(&l->sess, l->in.data + off,
			    l->in.len - off, &l->opened, &f, &used);
		}
		if (r == MIG_EAGAIN)
			break;
		if (r != 0) {
			const uint8_t *p = l->in.data + off;
			if (r == MIG_EAUTH)
				mig__link_fail(l, MIG_EAUTH, "record failed "
				    "authentication (altered or replayed)");
			else if (used == 0 && r == MIG_EPROTO)
				mig__link_fail(l, MIG_EPROTO,
				    "malformed record length %u",
				    (uint32_t)p[0] | (uint32_t)p[1] << 8 |
				    (uint32_t)p[2] << 16 |
				    (uint32_t)p[3] << 24);
			else if (r == MIG_EPROTO)
				mig__link_fail(l, MIG_EPROTO,
				    "malformed frame in record");
			else
				mig__link_fail(l, r, "%s", mig_strerror(r));
			break;
		}
		off += used;
		l->last_rx = uv_now(l->d->loop);
		count(&l->peer->rx, f.type, used);
		dispatch(l, &f);
	}
	return off;
}

static void
link_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct link *l = h->data;

	/* Small until the peer has proved itself. */
	if (mig_buf_reserve(&l->in, l->state == LINK_UP ? 256 << 10 :
	    MIG_HANDSHAKE_FRAME_MAX + MIG_FRAME_HDR) != 0) {
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

	if (l->state >= LINK_FAILED)
		return;
	if (n == UV_EOF && l->stdio) {
		mig__stdio_eof(l);
		return;
	}
	if (n < 0) {
		if (n == UV_EOF && l->peer != NULL)
			mig__log(MIG_LOG_INFO, "link %s: closed by the peer",
			    l->desc);
		mig__link_fail(l, MIG_ELINK, "%s", n == UV_EOF ?
		    "closed by the peer" : uv_strerror((int)n));
		return;
	}
	l->in.len += (size_t)n;
	if (l->state == LINK_BOOT) {
		off = mig__ssh_boot_read(l);
		if (l->state >= LINK_FAILED)
			return;
		mig_buf_consume(&l->in, off);
	}
	if (l->plain)
		off = mig__stdio_hs_read(l);
	else
		off = handshake_read(l);
	off = read_records(l, off);
	if (l->state < LINK_FAILED)
		mig_buf_consume(&l->in, off);
}

void
mig__link_start_read(struct link *l, enum link_state st)
{
	l->state = st;
	uv_read_start(l->rd, link_alloc, link_read);
}

void
mig__links_tick(struct homed *d)
{
	uint64_t now = uv_now(d->loop);
	struct timespec ts;
	uint8_t ping[16];
	uint64_t mono = uv_hrtime(), real;
	struct link *l;

	clock_gettime(CLOCK_REALTIME, &ts);
	real = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	for (int i = 0; i < 8; i++) {
		ping[i] = (uint8_t)(mono >> (8 * i));
		ping[8 + i] = (uint8_t)(real >> (8 * i));
	}
	TAILQ_FOREACH(l, &d->links, entry) {
		if (l->state != LINK_UP)
			continue;
		/* A host gone from the hosts file keeps its link while a
		 * role needs it (jobs of ours run there). */
		if (l->peer->removed && !mig__peer_kept(l->peer)) {
			mig__link_fail(l, MIG_ENOHOST,
			    "no longer in the hosts file");
			continue;
		}
		/* Unused at two ticks in a row: whatever either end placed
		 * on it before it knew has ended. */
		if (replaced(l)) {
			l->unused_ticks = in_use(l) ? 0 : l->unused_ticks + 1;
			if (l->unused_ticks >= 2) {
				mig__link_fail(l, MIG_ELINK,
				    "replaced, and unused");
				continue;
			}
		}
		if (now - l->last_rx > d->ping_timeout_ms) {
			mig__link_fail(l, MIG_EHOSTDOWN,
			    "no answer for %llu ms (ping timeout %u ms)",
			    (unsigned long long)(now - l->last_rx),
			    d->ping_timeout_ms);
			continue;
		}
		mig__link_send(l, MIG_M_PING, 0, 0, ping, sizeof(ping));
	}
	mig__preauth_tick(d);
	mig__peers_tick(d);
}

void
mig__links_stop(struct homed *d)
{
	struct link *l;
	struct peer *p;

	TAILQ_FOREACH(l, &d->links, entry)
		mig__link_fail(l, MIG_ELINK, "daemon stopping");
	mig__links_reap(d);
	while ((p = TAILQ_FIRST(&d->peers)) != NULL) {
		TAILQ_REMOVE(&d->peers, p, entry);
		free(p);
	}
	if (d->listener.type == UV_TCP &&
	    !uv_is_closing((uv_handle_t *)&d->listener))
		uv_close((uv_handle_t *)&d->listener, NULL);
}
