/*
 * views.c: what mig hosts, mig ps and mig policy show: the host table,
 * the home's jobs and the run-time history, each as one frame.
 */
#include <stdio.h>
#include <stdlib.h>

#include "homed.h"

static void
view_hosts(struct client *c, const struct mig_frame *f)
{
	struct homed *d = c->d;
	struct mig_buf b = { NULL, 0, 0 };
	struct peer *p;
	uint32_t n = 1;
	double load[3] = { 0, 0, 0 };
	char addr[80];
	int r;

	TAILQ_FOREACH(p, &d->peers, entry)
		n++;
	getloadavg(load, 3);
	snprintf(addr, sizeof(addr), "%s:%u", d->listen_addr, d->listen_port);
	r = proto_put_u32(&b, n);
	/* name, address, state, slots, running, load x100, rtt us, done,
	 * how its jobs see home's files (fs/serve.c) */
	r = r ? r : proto_put_str(&b, d->name);
	r = r ? r : proto_put_str(&b, addr);
	r = r ? r : proto_put_str(&b, "home");
	r = r ? r : proto_put_u32(&b, d->slots);
	r = r ? r : proto_put_u32(&b, mig__running_here(d));
	r = r ? r : proto_put_u32(&b, (uint32_t)(load[0] * 100));
	r = r ? r : proto_put_u32(&b, 0);
	r = r ? r : proto_put_u32(&b, d->done);
	r = r ? r : proto_put_str(&b, "home");
	TAILQ_FOREACH(p, &d->peers, entry) {
		snprintf(addr, sizeof(addr), "%s:%u", p->addr, p->port);
		r = r ? r : proto_put_str(&b, p->name);
		r = r ? r : proto_put_str(&b, addr);
		r = r ? r : proto_put_str(&b, p->link ? "up" :
			p->dialing ? "connecting" : "down");
		r = r ? r : proto_put_u32(&b, p->host_slots);
		r = r ? r : proto_put_u32(&b, p->link ? p->running : 0);
		r = r ? r : proto_put_u32(&b, p->load100);
		r = r ? r : proto_put_u32(&b, (uint32_t)(p->rtt_ns / 1000));
		r = r ? r : proto_put_u32(&b, p->done);
		r = r ? r : proto_put_str(&b, p->link != NULL ?
			mig__fs_peer_files(d, p) : "-");
	}
	if (r == 0)
		mig__client_send(c, MIG_M_HOSTS, 0, b.data, b.len);
	mig_buf_free(&b);
}

static void
view_ps(struct client *c, const struct mig_frame *f)
{
	struct homed *d = c->d;
	struct mig_buf b = { NULL, 0, 0 };
	uint64_t now = uv_hrtime();
	uint32_t n = 0;
	struct job *j;
	int r;

	TAILQ_FOREACH(j, &d->jobs, entry)
		n++;
	r = proto_put_u32(&b, n);
	/* home pid, host, remote pid, elapsed ms, state, command */
	TAILQ_FOREACH(j, &d->jobs, entry) {
		const char *host = j->state == JOB_LOCAL ? d->name :
		    j->state == JOB_RUNNING ? j->peer->name : "-";
		r = r ? r : proto_put_u32(&b, (uint32_t)j->home_pid);
		r = r ? r : proto_put_str(&b, host);
		r = r ? r : proto_put_u32(&b, (uint32_t)(j->state == JOB_LOCAL ?
			j->home_pid : j->remote_pid));
		r = r ? r : proto_put_u64(&b, (now - j->start_ns) / 1000000);
		r = r ? r : proto_put_str(&b, j->state == JOB_QUEUED ||
			j->state == JOB_DIALING ? "waiting" : "running");
		r = r ? r : proto_put_str(&b, j->cmd);
	}
	if (r == 0)
		mig__client_send(c, MIG_M_PS, 0, b.data, b.len);
	mig_buf_free(&b);
}

static void
view_history(struct client *c, const struct mig_frame *f)
{
	struct homed *d = c->d;
	struct mig_buf b = { NULL, 0, 0 };
	int r = proto_put_u32(&b, (uint32_t)d->nhistory);

	/* program, runs, median ms, runs placed elsewhere, still placed */
	for (size_t i = 0; i < d->nhistory; i++) {
		struct history *h = &d->history[i];
		r = r ? r : proto_put_str(&b, h->prog);
		r = r ? r : proto_put_u32(&b, h->n);
		r = r ? r : proto_put_u32(&b, mig__history_median(h));
		r = r ? r : proto_put_u32(&b, h->placed);
		r = r ? r : proto_put_u32(&b, !mig__history_short(d, h->prog));
	}
	r = r ? r : proto_put_u32(&b, MIG_SHORT_RUN_MS);
	if (r == 0)
		mig__client_send(c, MIG_M_HISTORY, 0, b.data, b.len);
	mig_buf_free(&b);
}

void
mig__views_init(struct homed *d)
{
	mig__on_client_frame(d, MIG_M_HOSTS, view_hosts);
	mig__on_client_frame(d, MIG_M_PS, view_ps);
	mig__on_client_frame(d, MIG_M_HISTORY, view_history);
}
