/*
 * cluster.c: what every host knows of the others. Each pushes its load
 * (slots, running jobs, load average, free memory) over every up link
 * once a second (main.c's tick) and, 5 ms after its running count
 * changed (load_changed, load.c), if it still differs; a peer's load is kept and told as load_changed
 * in turn. The round trips of the transport's pings give each peer's
 * clock against ours, told as clock_changed: the host role writes it
 * into its jobs' identity pages. No role is called by name.
 */
#include <stdlib.h>
#include <sys/sysinfo.h>

#include "homed.h"

/* How long a change of the load waits before it is pushed. */
#define LOAD_SETTLE_MS 5

static void
send_load(struct link *l)
{
	struct homed *d = l->d;
	struct mig_buf b = { NULL, 0, 0 };
	struct sysinfo si;
	double load[3] = { 0, 0, 0 };
	uint32_t freemem = 0;

	getloadavg(load, 3);
	if (sysinfo(&si) == 0)
		freemem = (uint32_t)((uint64_t)si.freeram * si.mem_unit >> 20);
	if (proto_put_u32(&b, d->slots) == 0 &&
	    proto_put_u32(&b, mig__load_running(d)) == 0 &&
	    proto_put_u32(&b, (uint32_t)(load[0] * 100)) == 0 &&
	    proto_put_u32(&b, freemem) == 0)
		mig__link_send(l, MIG_M_LOAD, 0, 0, b.data, b.len);
	mig_buf_free(&b);
}

void
mig__cluster_tick(struct homed *d)
{
	struct link *l;

	TAILQ_FOREACH(l, &d->links, entry)
		if (l->state == LINK_UP)
			send_load(l);
	d->last_load = mig__load_running(d);
}

/* The load has settled: pushed to every up link, if it changed. */
static void
on_load_settled(uv_timer_t *t)
{
	struct homed *d = t->data;

	if (mig__load_running(d) != d->last_load)
		mig__cluster_tick(d);
}

/* Pushed LOAD_SETTLE_MS later, so that what starts and ends within it
 * (a short job: `mig -h host true`) costs its home no frame and no
 * wake-up while the job starts; the tick sends it anyway once a
 * second. Homes count what they place here themselves meanwhile. */
static void
on_load_changed(struct homed *d)
{
	if (!uv_is_active((uv_handle_t *)&d->load_settle))
		uv_timer_start(&d->load_settle, on_load_settled,
		    LOAD_SETTLE_MS, 0);
}

static void
on_load(struct link *l, const struct mig_frame *f)
{
	struct peer *p = l->peer;
	struct mig_rd rd;
	uint32_t v[4];

	proto_rd_init(&rd, f->payload, f->len);
	for (int i = 0; i < 4; i++)
		if (proto_get_u32(&rd, &v[i]) != 0)
			return;
	p->host_slots = v[0];
	p->running = v[1];
	p->load100 = v[2];
	p->freemem = v[3];
	/* A host with a free slot may take a waiting job now. */
	mig__load_changed(l->d);
}

/*
 * A round trip: its time, and the peer's clock against ours, taken as
 * its reading minus ours at the trip's middle. The sample with the
 * smallest round trip of the last few is the truest, so it is kept.
 */
static void
on_pong(struct link *l, const struct mig_frame *f)
{
	struct peer *p = l->peer;
	struct mig_rd rd;
	uint64_t mono, real, theirs, rtt;

	proto_rd_init(&rd, f->payload, f->len);
	if (proto_get_u64(&rd, &mono) != 0 || proto_get_u64(&rd, &real) != 0 ||
	    proto_get_u64(&rd, &theirs) != 0 || uv_hrtime() < mono)
		return;
	rtt = uv_hrtime() - mono;
	p->rtt_ns = rtt;
	if (p->have_offset && rtt > p->best_rtt_ns && ++p->offset_age <= 8)
		return;
	p->best_rtt_ns = rtt;
	p->offset_ns = (int64_t)(theirs - (real + rtt / 2));
	p->have_offset = 1;
	p->offset_age = 0;
	mig__notify_clock(l);
}

static void
on_link_up(struct link *l)
{
	send_load(l);
}

void
mig__cluster_init(struct homed *d)
{
	static const struct watcher w = { .link_up = on_link_up,
		.load_changed = on_load_changed };

	mig__on_link_frame(d, MIG_M_LOAD, on_load);
	mig__on_link_frame(d, MIG_M_PONG, on_pong);
	mig__watch(d, &w);
	uv_timer_init(d->loop, &d->load_settle);
	d->load_settle.data = d;
	uv_unref((uv_handle_t *)&d->load_settle);
}
