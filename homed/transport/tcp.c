/*
 * tcp.c: TCP links: dialing a peer (its name resolved off the loop, a
 * connect, the key handshake), accepting on the daemon's port, and the
 * deadline of both. What follows the handshake is link.c's, as for any
 * link.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>

#include "homed.h"

static void
on_deadline(uv_timer_t *t)
{
	struct link *l = t->data;

	mig__link_fail(l, l->initiator ? MIG_EHOSTDOWN : MIG_EAUTH,
	    "no handshake within %u ms", l->deadline);
}

/* A dead peer whose kernel still holds the connection (a stopped host,
 * a network that drops packets) is found by the ping timeout; the
 * kernel is told the same bound for unacknowledged data. */
static void
link_start(struct link *l)
{
	uv_os_fd_t fd;
	unsigned ms = l->d->ping_timeout_ms;

	uv_tcp_nodelay(&l->tcp, 1);
	uv_tcp_keepalive(&l->tcp, 1, ms / 1000 > 0 ? ms / 1000 : 1);
	if (uv_fileno((uv_handle_t *)&l->tcp, &fd) == 0)
		setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof(ms));
	mig__link_start_read(l, LINK_HANDSHAKE);
}

/* 1 when epk is the ephemeral key of a dial of ours still in its
 * handshake: an acceptor's caller is this daemon itself. */
static int
own_dial(void *arg, const uint8_t epk[MIG_KX_BYTES])
{
	struct homed *d = arg;
	struct link *l;

	TAILQ_FOREACH(l, &d->links, entry)
		if (l->initiator && l->state == LINK_HANDSHAKE &&
		    memcmp(l->hs.epk, epk, MIG_KX_BYTES) == 0)
			return 1;
	return 0;
}

/* The handshake of l, with the protocols this daemon speaks. */
static void
hs_setup(struct link *l, const char *peer)
{
	struct homed *d = l->d;

	mig__hs_init(&l->hs, l->initiator, d->key, d->name, peer,
	    l->initiator ? NULL : &d->hosts);
	l->hs.max = d->proto_max;
	if (l->hs.min > l->hs.max)
		l->hs.min = l->hs.max;
	l->hs.ours = own_dial;
	l->hs.ours_arg = d;
}

/* Why a connect failed, in the words mig hosts shows. */
static const char *
connect_why(int status)
{
	if (status == UV_ECONNREFUSED)
		return "connection refused";
	if (status == UV_EHOSTUNREACH || status == UV_ENETUNREACH)
		return "no route";
	return uv_strerror(status);
}

static void
on_connected(uv_connect_t *req, int status)
{
	struct link *l = req->data;

	if (l->state != LINK_CONNECTING)
		return;
	if (status != 0) {
		mig__link_fail(l, MIG_EHOSTDOWN, "%s", connect_why(status));
		return;
	}
	link_start(l);
	hs_setup(l, l->peer->name);
	mig__link_handshake(l);
}

static void
on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *ai)
{
	struct link *l = req->data;
	int r;

	if (status == UV_ECANCELED || l->state != LINK_RESOLVING) {
		uv_freeaddrinfo(ai);
		mig__link_unref(l);
		return;
	}
	mig__link_unref(l); /* the link still holds its two handles */
	if (status != 0) {
		mig__link_fail(l, MIG_EHOSTDOWN, "cannot resolve %s: %s",
		    l->peer->addr, uv_strerror(status));
		uv_freeaddrinfo(ai);
		return;
	}
	l->state = LINK_CONNECTING;
	mig__preauth_resolved(l->peer, ai->ai_addr);
	r = uv_tcp_connect(&l->connect, &l->tcp, ai->ai_addr, on_connected);
	uv_freeaddrinfo(ai);
	if (r != 0)
		mig__link_fail(l, MIG_EHOSTDOWN, "%s", connect_why(r));
}

void
mig__peer_dial(struct peer *p)
{
	struct homed *d = p->d;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	char port[8];
	struct link *l;
	int r;

	if (p->link != NULL || p->dialing != NULL || d->stopping)
		return;
	if (p->ssh) {
		mig__ssh_dial(p);
		return;
	}
	if ((l = mig__link_new(d, 1)) == NULL)
		return;
	l->peer = p;
	p->dialing = l;
	l->state = LINK_RESOLVING;
	snprintf(l->desc, sizeof(l->desc), "%s (%s:%u)", p->name, p->addr,
	    p->port);
	if (p->dialin) {
		mig__link_fail(l, MIG_EHOSTDOWN, "it dials this host, and its "
		    "link is down");
		return;
	}
	if (!d->have_key) {
		mig__link_fail(l, MIG_EKEY,
		    "no key on this host (run 'mig keygen')");
		return;
	}
	snprintf(port, sizeof(port), "%u", p->port);
	/* Off the loop: a name server that does not answer must not stop
	 * the daemon. */
	if ((r = uv_getaddrinfo(d->loop, &l->resolve, on_resolved, p->addr,
	    port, &hints)) != 0) {
		mig__link_fail(l, MIG_EHOSTDOWN, "cannot resolve %s: %s",
		    p->addr, uv_strerror(r));
		return;
	}
	l->handles++;
	l->deadline = MIG_CONNECT_MS + MIG_HANDSHAKE_MS;
	uv_timer_start(&l->timer, on_deadline, l->deadline, 0);
}

static void
on_peer_connection(uv_stream_t *server, int status)
{
	struct homed *d = server->data;
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	char host[64] = "?";
	struct link *l;

	if (status != 0 || (l = mig__link_new(d, 0)) == NULL)
		return;
	l->state = LINK_HANDSHAKE;
	if (uv_accept(server, (uv_stream_t *)&l->tcp) != 0) {
		mig__link_fail(l, MIG_ELINK, "accept failed");
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
	strlcpy(l->from, host, sizeof(l->from));
	l->deadline = mig__preauth_admit(d, l);
	if (!d->have_key) {
		mig__link_fail(l, MIG_EKEY, "no key here (run 'mig keygen')");
		return;
	}
	link_start(l);
	hs_setup(l, NULL);
	uv_timer_start(&l->timer, on_deadline, l->deadline, 0);
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
	/* Port 0: the kernel picked one, which the hosts that dial in learn
	 * (slurm.c). */
	if (r == 0 && d->listen_port == 0) {
		struct sockaddr_storage ss;
		int len = sizeof(ss);
		if ((r = uv_tcp_getsockname(&d->listener,
		    (struct sockaddr *)&ss, &len)) == 0)
			d->listen_port = ntohs(ss.ss_family == AF_INET ?
			    ((struct sockaddr_in *)&ss)->sin_port :
			    ((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	return r;
}

