/*
 * peers.c: the peer table. Every host of the hosts file but this one is
 * a peer; nobody else ever becomes one, but for a home that reached this
 * host over its own ssh connection (stdio.c): such a peer is never
 * dialed, only answered. A host that leaves the hosts file drains: its
 * link stays while a role keeps it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "homed.h"

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
peer_new(struct homed *d, const char *name)
{
	struct peer *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->d = d;
	strlcpy(p->name, name, sizeof(p->name));
	TAILQ_INSERT_TAIL(&d->peers, p, entry);
	return p;
}

/* Every host of the hosts file but this one is a peer. */
int
mig__peers_update(struct homed *d, const struct mig_hosts *hosts)
{
	struct peer *p;

	TAILQ_FOREACH(p, &d->peers, entry)
		if (!p->removed && !p->dynamic &&
		    mig__hosts_find(hosts, p->name) == NULL) {
			p->removed = 1;
			mig__log(MIG_LOG_INFO, "%s left the hosts file; its "
			    "jobs drain", p->name);
		}
	for (size_t i = 0; i < hosts->n; i++) {
		const struct mig_host *h = &hosts->v[i];
		if (strcmp(h->name, d->name) == 0)
			continue;
		if ((p = mig__peer_find(d, h->name)) == NULL) {
			if ((p = peer_new(d, h->name)) == NULL)
				return MIG__ERR(ENOMEM);
		} else if (p->link != NULL && !p->dynamic &&
		    (p->port != h->port || p->ssh != h->ssh ||
		    strcmp(p->addr, h->addr) != 0)) {
			mig__link_fail(p->link, MIG_ELINK,
			    "its address changed in the hosts file");
		}
		p->removed = 0;
		p->dynamic = 0;
		p->ssh = h->ssh;
		strlcpy(p->addr, h->addr, sizeof(p->addr));
		p->port = h->port;
		p->slots = h->slots;
		p->dialin = h->dialin;
	}
	return 0;
}

/* A home that reached us over its ssh connection, and named itself so
 * (stdio.c): the peer of that name, or a new one that is never dialed. */
struct peer *
mig__peer_answer(struct homed *d, const char *name)
{
	struct peer *p = mig__peer_find(d, name);

	if (p == NULL && (p = peer_new(d, name)) != NULL)
		p->dynamic = 1;
	if (p != NULL && p->removed) {
		p->removed = 0;
		p->dynamic = 1;
	}
	return p;
}

int
mig__peers_init(struct homed *d)
{
	return mig__peers_update(d, &d->hosts);
}

int
mig__peer_kept(struct peer *p)
{
	struct homed *d = p->d;

	for (int i = 0; i < d->nwatchers; i++)
		if (d->watchers[i].keeps != NULL && d->watchers[i].keeps(p))
			return 1;
	return 0;
}

/* Links to every host we know stay up, so placement sees them (the
 * tick). */
void
mig__peers_tick(struct homed *d)
{
	struct peer *p;

	TAILQ_FOREACH(p, &d->peers, entry)
		if (p->link == NULL && p->dialing == NULL && !p->removed &&
		    !p->dynamic && !p->dialin && !p->self)
			mig__peer_dial(p);
}
