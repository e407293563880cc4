/*
 * place.c: placement at exec time. A job goes to the host with the most
 * free slots, this one included, ties staying home; with no free slot
 * anywhere it waits (job.c keeps the queue in FIFO order). Nothing
 * moves once started. A drained host, or one whose owner uses it
 * (home/drain.c), gets nothing. A host's slots are what it said (LOAD),
 * at most what its line in this home's hosts file says (a host reached
 * over ssh has no hosts file of its own: its CPUs); its free slots,
 * those less what it last said it runs or what this home has sent it,
 * whichever leaves fewer. Placement reads the peer table only, so tests
 * drive it without sockets.
 */
#include "homed.h"

uint32_t
mig__place_slots(const struct peer *p)
{
	return p->slots != 0 && p->slots < p->host_slots ? p->slots :
							     p->host_slots;
}

int64_t
mig__place_free(const struct peer *p)
{
	uint32_t used = p->running > p->mine ? p->running : p->mine;

	return (int64_t)mig__place_slots(p) - used;
}

struct peer *
mig__place_pick(struct homed *d, int64_t here, int *full)
{
	int64_t best = here, f;
	struct peer *p, *pick = NULL;

	TAILQ_FOREACH(p, &d->peers, entry) {
		if (p->link == NULL || p->host_slots == 0 || p->removed ||
		    p->drained || p->busy)
			continue;
		/* Strictly more: ties stay home, then with the first host. */
		if ((f = mig__place_free(p)) > best) {
			best = f;
			pick = p;
		}
	}
	*full = best <= 0;
	return pick;
}
