/*
 * owners.c: the owner's and the user's requests about hosts (MIG_M_OWNER),
 * which touch both roles, so they sit above them. mig drain HOST and mig
 * undrain HOST, at home, stop and restart placing new jobs on HOST (jobs
 * running there end as they would; the home role reads the flag). mig
 * evict [--end], run by the owner on the host it owns, makes the host
 * role busy (host/owner.c).
 */
#include <stdlib.h>

#include "homed.h"

static void
on_owner(struct client *c, const struct mig_frame *f)
{
	struct homed *d = c->d;
	struct mig_rd rd;
	struct peer *p;
	uint32_t op;
	char *host = NULL;

	proto_rd_init(&rd, f->payload, f->len);
	if (proto_get_u32(&rd, &op) != 0 || proto_get_str(&rd, &host) != 0 ||
	    proto_rd_done(&rd) != 0) {
		mig__client_error(c, MIG_EPROTO, "malformed request");
		goto out;
	}
	switch (op) {
	case MIG_OWNER_DRAIN:
	case MIG_OWNER_UNDRAIN:
		if ((p = mig__peer_find(d, host)) == NULL || p->removed) {
			mig__client_error(c, MIG_ENOHOST, "%s: not a host of "
			    "%s's hosts file", host, d->name);
			goto out;
		}
		p->drained = op == MIG_OWNER_DRAIN;
		mig__log(MIG_LOG_INFO, "%s %s", p->drained ? "drained" :
		    "undrained", p->name);
		if (!p->drained)
			mig__load_changed(d); /* waiting jobs may go there now */
		break;
	case MIG_OWNER_EVICT:
		mig__owner_evict(d, 1);
		break;
	case MIG_OWNER_EVICT_END:
		mig__owner_evict(d, 0);
		break;
	default:
		mig__client_error(c, MIG_EPROTO, "unknown request %u", op);
		goto out;
	}
	mig__client_send(c, MIG_M_OWNER, 0, NULL, 0);
 out:
	free(host);
}

void
mig__owners_init(struct homed *d)
{
	mig__on_client_frame(d, MIG_M_OWNER, on_owner);
}
