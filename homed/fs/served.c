/*
 * served.c: whether this host can run jobs in served views, and telling
 * each home so (MIG_M_FS_MODE, at link up). The probe (probe.c) runs
 * once, when first needed, as a child of the daemon like any other
 * (children.c): its report is read when it is reaped, so the loop never
 * waits for it. Until then a link that comes up waits for its FS_MODE
 * (the probe's end sends it to every link up), and a view wanted
 * meanwhile waits to start (mig__views_probed).
 */
#include <string.h>

#include "view.h"

/* The mode as this host tells it: MIG_FILES_*, whether it serves, why
 * not. */
static void
send_mode(struct link *l)
{
	struct homed *d = l->d;
	struct fs_host *h = d->fs_host;
	struct mig_buf b = { NULL, 0, 0 };
	const char *why = "shared in its hosts file";
	int served = 0;

	if (d->files != MIG_FILES_SHARED) {
		served = h->probe.served;
		why = h->probe.why;
	}
	if (proto_put_u32(&b, d->files) == 0 &&
	    proto_put_u32(&b, (uint32_t)served) == 0 &&
	    proto_put_str(&b, served ? "" : why) == 0)
		mig__link_send(l, MIG_M_FS_MODE, 0, 0, b.data, b.len);
	mig_buf_free(&b);
}

static void
probe_answered(struct homed *d)
{
	struct fs_host *h = d->fs_host;
	struct link *l;

	h->probed = 1;
	h->probing = 0;
	mig__log(MIG_LOG_INFO, "served mode %s%s", h->probe.served ?
	    "available" : "unavailable: ", h->probe.served ? "" :
	    h->probe.why);
	TAILQ_FOREACH(l, &d->links, entry)
		if (l->state == LINK_UP)
			send_mode(l);
	mig__views_probed(d);
}

static void
on_probe_exit(void *arg, int status)
{
	struct homed *d = arg;
	struct fs_host *h = d->fs_host;

	mig__fs_probe_finish(&h->prun, &h->probe);
	probe_answered(d);
}

/* Starts the probe unless it ran or runs. */
static void
probe_start(struct homed *d)
{
	struct fs_host *h = d->fs_host;
	int r;

	if (h->probed || h->probing)
		return;
	if ((r = mig__fs_probe_start(NULL, mig__fork, &h->prun)) != 0) {
		mig__log(MIG_LOG_WARN, "the served-mode probe cannot run: %s",
		    mig_strerror(r));
		h->probe.served = 0;
		strlcpy(h->probe.why, "the probe could not run",
		    sizeof(h->probe.why));
		probe_answered(d);
		return;
	}
	h->probing = 1;
	if (mig__child_watch(d, h->prun.pid, on_probe_exit, d) != 0) {
		/* It is reaped anyway; its answer is lost. */
		mig__close(h->prun.fd);
		h->prun.fd = -1;
		h->probe.served = 0;
		strlcpy(h->probe.why, "out of memory", sizeof(h->probe.why));
		probe_answered(d);
	}
}

void
mig__fs_link_up(struct link *l)
{
	struct homed *d = l->d;

	if (d->files == MIG_FILES_SHARED || d->fs_host->probed)
		send_mode(l);
	else
		probe_start(d);
}

void
mig__fs_mode_changed(struct homed *d)
{
	struct link *l;

	TAILQ_FOREACH(l, &d->links, entry)
		if (l->state == LINK_UP)
			mig__fs_link_up(l);
}

int
mig__fs_served(struct homed *d, const char **why)
{
	struct fs_host *h = d->fs_host;

	*why = h->probe.why;
	if (h->probed)
		return h->probe.served;
	/* Not known yet: a view wanted meanwhile waits for the answer. */
	probe_start(d);
	return !h->probed || h->probe.served;
}

int
mig__fs_probed(struct homed *d)
{
	return d->fs_host->probed;
}
