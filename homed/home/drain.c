/*
 * drain.c: which hosts a home may place on. mig drain HOST stops placing
 * new jobs there (those running end as they would); mig undrain HOST
 * ends that. A host whose owner uses it says so (BUSY) and gets nothing
 * placed until it says otherwise or its link goes. Jobs named for a
 * host (mig -h) go to it whatever this home thinks; a busy host refuses
 * them itself. The same request carries mig evict, which is the host
 * role's (host/owner.c): the owner runs it on the host it owns.
 */
#include <stdlib.h>
#include <string.h>

#include "homed.h"

static struct peer *
peer_named(struct homed *d, const char *name)
{
	struct peer *p;

	TAILQ_FOREACH(p, &d->peers, entry)
		if (!p->removed && strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

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
		if ((p = peer_named(d, host)) == NULL) {
			mig__client_error(c, MIG_ENOHOST, "%s: not a host of "
			    "%s's hosts file", host, d->name);
			goto out;
		}
		p->drained = op == MIG_OWNER_DRAIN;
		mig__log(MIG_LOG_INFO, "%s %s", p->drained ? "drained" :
		    "undrained", p->name);
		if (!p->drained)
			mig__place_queued(d);
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

static void
on_busy(struct link *l, const struct mig_frame *f)
{
	struct mig_rd rd;
	uint32_t busy;
	char *why = NULL;

	proto_rd_init(&rd, f->payload, f->len);
	if (proto_get_u32(&rd, &busy) != 0 || proto_get_str(&rd, &why) != 0) {
		mig__link_fail(l, MIG_EPROTO, "malformed BUSY");
		goto out;
	}
	if (l->peer->busy != (busy != 0))
		mig__log(MIG_LOG_INFO, busy ? "%s is busy: %s" :
		    "%s is available again%s", l->peer->name, busy ? why : "");
	l->peer->busy = busy != 0;
	if (!l->peer->busy)
		mig__place_queued(l->d);
 out:
	free(why);
}

static void
on_link_down(struct link *l, int code, const char *why)
{
	(void)code;
	(void)why;
	if (l->peer != NULL && l->peer->link == NULL)
		l->peer->busy = 0;
}

void
mig__drain_init(struct homed *d)
{
	static const struct watcher w = { .link_down = on_link_down };

	mig__on_client_frame(d, MIG_M_OWNER, on_owner);
	mig__on_link_frame(d, MIG_M_BUSY, on_busy);
	mig__watch(d, &w);
}
