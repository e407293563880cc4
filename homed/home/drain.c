/*
 * drain.c: which hosts a home may place on. A drained host (mig drain,
 * in owners.c) gets nothing new. A host whose owner uses it says so
 * (BUSY) and gets nothing placed until it says otherwise or its link
 * goes. Jobs named for a host (mig -h) go to it whatever this home
 * thinks; a busy host refuses them itself. BUSY also says why (mig
 * hosts shows it), and a host turning busy freezes every job of ours it
 * runs that cannot run again (host/owner.c): they are counted, and mig
 * ps marks them.
 */
#include <stdlib.h>
#include <string.h>

#include "homed.h"

/* Its jobs the host froze: every running one it cannot run again. */
static void
frozen(struct link *l)
{
	struct job *j;

	TAILQ_FOREACH(j, &l->d->jobs, entry)
		if (j->state == JOB_RUNNING && j->link == l &&
		    !(j->flags & MIG_JOB_RESTART)) {
			j->frozen = 1;
			l->peer->freezes++;
		}
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
	if (l->peer->busy != (busy != 0)) {
		mig__log(MIG_LOG_INFO, busy ? "%s is busy: %s" :
		    "%s is available again", l->peer->name, why);
		if (busy)
			frozen(l);
	}
	l->peer->busy = busy != 0;
	strlcpy(l->peer->busy_why, why, sizeof(l->peer->busy_why));
	if (!l->peer->busy)
		mig__load_changed(l->d); /* waiting jobs may go there now */
 out:
	free(why);
}

static void
on_link_down(struct link *l, int code, const char *why)
{
	(void)code;
	(void)why;
	if (l->peer != NULL && l->peer->link == NULL) {
		l->peer->busy = 0;
		l->peer->busy_why[0] = '\0';
	}
}

void
mig__drain_init(struct homed *d)
{
	static const struct watcher w = { .link_down = on_link_down };

	mig__on_link_frame(d, MIG_M_BUSY, on_busy);
	mig__watch(d, &w);
}
