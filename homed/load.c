/*
 * load.c: how many jobs run on this host, below the roles. The home
 * role counts the jobs it runs here itself, the host role those it runs
 * for homes; neither reads the other's. A change of the count, of this
 * host's slots or of a peer's load is an event, load_changed, told to
 * the watchers once on the next loop turn (with the deferred teardowns,
 * registry.c): cluster.c pushes the count to the peers, the home role
 * places waiting jobs. No role calls another to say a slot is free.
 */
#include "homed.h"

void
mig__load_add(struct homed *d, enum load_kind kind, int delta)
{
	d->running[kind] += (uint32_t)delta;
	mig__load_changed(d);
}

uint32_t
mig__load_running(const struct homed *d)
{
	uint32_t n = 0;

	for (int k = 0; k < LOAD__COUNT; k++)
		n += d->running[k];
	return n;
}

void
mig__load_changed(struct homed *d)
{
	d->load_pending = 1;
	mig__reap_soon(d);
}
