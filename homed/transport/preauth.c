/*
 * preauth.c: connections that have not proved the key. Anyone who can
 * reach the port can open them, so they get little and cost little:
 *
 * - Slots. A connection from an address of the hosts file (or one a
 *   peer's name resolved to when we dialed it) waits in a pool of
 *   MIG_PREAUTH_KNOWN slots of that address's own; any other waits in
 *   the strangers' pool of MIG_PREAUTH_MAX, at most MIG_PREAUTH_PER_ADDR
 *   of them from one address. Strangers never take a known address's
 *   slot, so they cannot starve the cluster's own hosts.
 * - When a pool is full, the oldest handshake in it goes, not the new
 *   one: someone who holds every slot does not shut everyone else out,
 *   he only shortens how long each may take.
 * - Deadline. A handshake has MIG_HANDSHAKE_MS; once its pool is more
 *   than half full, a new one has MIG_HANDSHAKE_BUSY_MS.
 * - Log. Dropping the oldest says nothing at the time; failed handshakes
 *   get a line each, MIG_PREAUTH_LINES per window of MIG_PREAUTH_WINDOW_MS
 *   at most; the rest is one summary line at the window's end.
 */
#include <arpa/inet.h>
#include <string.h>

#include "homed.h"

/* addr as 16 bytes, an IPv4 one as IPv4-mapped IPv6; 0 or -1. */
static int
ip_bytes(const char *addr, uint8_t out[16])
{
	struct in_addr a4;

	if (inet_pton(AF_INET6, addr, out) == 1)
		return 0;
	if (inet_pton(AF_INET, addr, &a4) != 1)
		return -1;
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	memcpy(out + 12, &a4, 4);
	return 0;
}

void
mig__preauth_resolved(struct peer *p, const struct sockaddr *sa)
{
	char name[64];

	if (sa->sa_family == AF_INET)
		uv_ip4_name((const struct sockaddr_in *)sa, name, sizeof(name));
	else if (sa->sa_family == AF_INET6)
		uv_ip6_name((const struct sockaddr_in6 *)sa, name,
		    sizeof(name));
	else
		return;
	p->have_ip = ip_bytes(name, p->ip) == 0;
}

/* Is addr one of the cluster's own hosts'? */
static int
known(struct homed *d, const char *addr)
{
	uint8_t a[16], b[16];
	struct peer *p;

	if (ip_bytes(addr, a) != 0)
		return 0;
	TAILQ_FOREACH(p, &d->peers, entry) {
		if (p->removed || p->ssh || p->dynamic)
			continue;
		if ((p->have_ip && memcmp(p->ip, a, 16) == 0) ||
		    (ip_bytes(p->addr, b) == 0 && memcmp(a, b, 16) == 0))
			return 1;
	}
	return 0;
}

static int
pending(const struct link *l)
{
	return !l->initiator && l->state == LINK_HANDSHAKE;
}

/* A connection from addr was refused without a line of its own: the
 * window's summary counts it. */
static void
refused(struct homed *d, const char *addr)
{
	struct preauth *pa = &d->preauth;

	if (pa->since == 0)
		pa->since = uv_now(d->loop) + 1; /* 0 means no window open */
	for (uint32_t i = 0; i < pa->naddrs; i++)
		if (strcmp(pa->addrs[i], addr) == 0)
			return;
	if (pa->naddrs < MIG_PREAUTH_ADDRS)
		strlcpy(pa->addrs[pa->naddrs++], addr, sizeof(pa->addrs[0]));
	else
		pa->more_addrs = 1;
}

/* Drops the oldest pending handshake of l's pool (from addr alone when
 * same is set); links are kept in the order they came. */
static void
drop_oldest(struct homed *d, const struct link *l, int same)
{
	struct link *o;

	TAILQ_FOREACH(o, &d->links, entry) {
		if (o == l || !pending(o) || o->known != l->known)
			continue;
		if (same && strcmp(o->from, l->from) != 0)
			continue;
		d->preauth.dropped++;
		refused(d, o->from);
		mig__link_drop(o, "dropped for a newer handshake (all %d "
		    "slots taken)", same ? (l->known ? MIG_PREAUTH_KNOWN :
		    MIG_PREAUTH_PER_ADDR) : MIG_PREAUTH_MAX);
		return;
	}
}

uint32_t
mig__preauth_admit(struct homed *d, struct link *l)
{
	struct link *o;
	int all = 0, same = 0, cap;

	l->known = known(d, l->from);
	TAILQ_FOREACH(o, &d->links, entry) {
		if (o == l || !pending(o) || o->known != l->known)
			continue;
		all++;
		same += strcmp(o->from, l->from) == 0;
	}
	if (l->known) {
		cap = MIG_PREAUTH_KNOWN;
		if (same >= cap)
			drop_oldest(d, l, 1);
		all = same < cap ? same + 1 : cap;
	} else {
		cap = MIG_PREAUTH_MAX;
		if (same >= MIG_PREAUTH_PER_ADDR)
			drop_oldest(d, l, 1);
		else if (all >= cap)
			drop_oldest(d, l, 0);
		else
			all++;
	}
	return 2 * all > cap ? MIG_HANDSHAKE_BUSY_MS : MIG_HANDSHAKE_MS;
}

int
mig__preauth_say(struct homed *d, const char *addr)
{
	struct preauth *pa = &d->preauth;

	if (pa->since == 0)
		pa->since = uv_now(d->loop) + 1;
	if (pa->lines < MIG_PREAUTH_LINES) {
		pa->lines++;
		return 1;
	}
	pa->unsaid++;
	refused(d, addr);
	return 0;
}

void
mig__preauth_tick(struct homed *d)
{
	struct preauth *pa = &d->preauth;

	if (pa->since == 0 || uv_now(d->loop) + 1 - pa->since <
	    MIG_PREAUTH_WINDOW_MS)
		return;
	if (pa->dropped + pa->unsaid > 0)
		mig__log(MIG_LOG_WARN, "%u unauthenticated connections refused "
		    "from %u%s addresses in the last %d s (%u oldest pending "
		    "handshakes dropped for newer ones, %u failed handshakes "
		    "not logged one by one)", pa->dropped + pa->unsaid,
		    pa->naddrs, pa->more_addrs ? "+" : "",
		    MIG_PREAUTH_WINDOW_MS / 1000, pa->dropped, pa->unsaid);
	memset(pa, 0, sizeof(*pa));
}
