/*
 * registry.c: how the transport reaches the roles without knowing them.
 * Roles register a handler per message type, for frames from peer links
 * and for frames from local clients, and watchers for links coming up,
 * going down and clients going away. Teardown is deferred: marking a
 * link or client failed asks the reaper (a libuv idle handle) to run on
 * the next loop turn, where each is torn down once and its watchers told
 * once, with no caller up the stack still holding it.
 */
#include "homed.h"

void
mig__on_link_frame(struct homed *d, uint16_t type, mig__link_fn *fn)
{
	if (type > 0 && type < MIG_M__COUNT)
		d->link_handlers[type] = fn;
}

void
mig__on_client_frame(struct homed *d, uint16_t type, mig__client_fn *fn)
{
	if (type > 0 && type < MIG_M__COUNT)
		d->client_handlers[type] = fn;
}

void
mig__watch(struct homed *d, const struct watcher *w)
{
	if (d->nwatchers < MIG_WATCHERS)
		d->watchers[d->nwatchers++] = *w;
	else
		mig__log(MIG_LOG_ERR, "more than %d watchers: raise "
		    "MIG_WATCHERS", MIG_WATCHERS);
}

int
mig__deliver_link(struct link *l, const struct mig_frame *f)
{
	mig__link_fn *fn = l->d->link_handlers[f->type];

	if (fn == NULL)
		return MIG_EPROTO;
	fn(l, f);
	return 0;
}

int
mig__deliver_client(struct client *c, const struct mig_frame *f)
{
	mig__client_fn *fn = c->d->client_handlers[f->type];

	if (fn == NULL)
		return MIG_EPROTO;
	fn(c, f);
	return 0;
}

void
mig__notify_up(struct link *l)
{
	for (int i = 0; i < l->d->nwatchers; i++)
		if (l->d->watchers[i].link_up != NULL)
			l->d->watchers[i].link_up(l);
}

void
mig__notify_down(struct link *l, int code, const char *why)
{
	for (int i = 0; i < l->d->nwatchers; i++)
		if (l->d->watchers[i].link_down != NULL)
			l->d->watchers[i].link_down(l, code, why);
}

void
mig__notify_client_gone(struct client *c)
{
	for (int i = 0; i < c->d->nwatchers; i++)
		if (c->d->watchers[i].client_gone != NULL)
			c->d->watchers[i].client_gone(c);
}

static void
on_reap(uv_idle_t *h)
{
	struct homed *d = h->data;

	uv_idle_stop(h);
	/* Links first: their watchers may close clients (a job's stub
	 * told that its host is gone), which this same turn then reaps. */
	mig__links_reap(d);
	mig__clients_reap(d);
}

void
mig__reaper_init(struct homed *d)
{
	uv_idle_init(d->loop, &d->reaper);
	d->reaper.data = d;
}

void
mig__reap_soon(struct homed *d)
{
	if (!uv_is_closing((uv_handle_t *)&d->reaper))
		uv_idle_start(&d->reaper, on_reap);
}
