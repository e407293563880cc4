/*
 * registry.c: how the transport reaches the roles without knowing them.
 * Roles register a handler per message type, for frames from peer links
 * and for frames from local clients, and watchers for links coming up,
 * going down, clients going away, the load changing (load.c) and a
 * peer's clock measured anew (cluster.c). Teardown is deferred: marking
 * a link or client failed asks the reaper (a libuv idle handle) to run
 * on the next loop turn, where each is torn down once and its watchers
 * told once, with no caller up the stack still holding it; a load change
 * is told there too, once however many came in the turn. The tables are
 * filled at start-up: one that is too small stops the daemon there with
 * a mig: line, never drops a registration.
 */
#include <stdlib.h>
#include <string.h>

#include "homed.h"

void
mig__on_link_frame(struct homed *d, uint16_t type, mig__link_fn *fn)
{
	if (type == 0 || type >= MIG_M__COUNT)
		mig__die(1, "internal limit: a handler for message type %u, "
		    "past MIG_M__COUNT (%d)", type, MIG_M__COUNT);
	d->link_handlers[type] = fn;
}

void
mig__on_client_frame(struct homed *d, uint16_t type, mig__client_fn *fn)
{
	if (type == 0 || type >= MIG_M__COUNT)
		mig__die(1, "internal limit: a handler for message type %u, "
		    "past MIG_M__COUNT (%d)", type, MIG_M__COUNT);
	d->client_handlers[type] = fn;
}

void
mig__watch(struct homed *d, const struct watcher *w)
{
	if (d->nwatchers >= MIG_WATCHERS)
		mig__die(1, "internal limit: more than MIG_WATCHERS (%d) "
		    "watchers registered", MIG_WATCHERS);
	d->watchers[d->nwatchers++] = *w;
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

void
mig__notify_clock(struct link *l)
{
	for (int i = 0; i < l->d->nwatchers; i++)
		if (l->d->watchers[i].clock_changed != NULL)
			l->d->watchers[i].clock_changed(l);
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
	/* Then the load, as the teardowns left it. A watcher that changes
	 * it again (a job placed here) asks for another turn. */
	if (d->load_pending) {
		d->load_pending = 0;
		for (int i = 0; i < d->nwatchers; i++)
			if (d->watchers[i].load_changed != NULL)
				d->watchers[i].load_changed(d);
	}
}

/* One write of a turn's bytes (mig__cork_flush). */
struct bufwrite {
	uv_write_t req;
	uv_buf_t buf;
};

static void
on_buf_written(uv_write_t *req, int status)
{
	struct bufwrite *w = (struct bufwrite *)req;

	free(w->buf.base);
	free(w);
}

void
mig__cork_added(struct homed *d, struct cork *k)
{
	if (!k->on) {
		k->on = 1;
		d->corked++;
	}
}

int
mig__cork_flush(struct homed *d, struct cork *k, uv_stream_t *s)
{
	struct bufwrite *w;
	int r;

	if (!k->on)
		return 0;
	k->on = 0;
	d->corked--;
	if ((w = malloc(sizeof(*w))) == NULL) {
		mig_buf_free(&k->buf);
		return UV_ENOMEM;
	}
	w->buf = uv_buf_init((char *)k->buf.data, (unsigned)k->buf.len);
	memset(&k->buf, 0, sizeof(k->buf));
	if ((r = uv_write(&w->req, s, &w->buf, 1, on_buf_written)) != 0) {
		free(w->buf.base);
		free(w);
	}
	return r;
}

/* Before the loop waits: the writes of this turn go out, each link's
 * and each client's in one (a job's last frames, STARTED to EXIT, wake
 * the peer once). */
static void
on_flush(uv_prepare_t *h)
{
	struct homed *d = h->data;

	if (d->corked == 0)
		return;
	mig__links_flush(d);
	mig__clients_flush(d);
}

void
mig__reaper_init(struct homed *d)
{
	uv_idle_init(d->loop, &d->reaper);
	d->reaper.data = d;
	uv_prepare_init(d->loop, &d->flush);
	d->flush.data = d;
	uv_prepare_start(&d->flush, on_flush);
	uv_unref((uv_handle_t *)&d->flush);
}

void
mig__reap_soon(struct homed *d)
{
	if (!uv_is_closing((uv_handle_t *)&d->reaper))
		uv_idle_start(&d->reaper, on_reap);
}
