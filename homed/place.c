/*
 * place.c: placement at exec time (ARCHITECTURE §5). A job goes to the
 * host with the most free slots, this one included, ties staying home;
 * with no free slot anywhere it waits in FIFO order. Nothing moves once
 * started. Run times are kept per program, and a program whose median
 * run is too short to win back the cost of placing it runs at home.
 * Also the views behind mig hosts, mig ps and mig policy.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>

#include "homed.h"

static int64_t
free_here(struct homed *d)
{
	return (int64_t)d->slots - d->local_running - mig__rjobs_running(d);
}

static int64_t
free_there(const struct peer *p)
{
	uint32_t used = p->running > p->mine ? p->running : p->mine;

	return (int64_t)p->host_slots - used;
}

struct peer *
mig__place_pick(struct homed *d, struct job *j, int *full)
{
	int64_t best = free_here(d), f;
	struct peer *p, *pick = NULL;

	TAILQ_FOREACH(p, &d->peers, entry) {
		if (p->link == NULL || p->host_slots == 0)
			continue;
		/* Strictly more: ties stay home, then with the first host. */
		if ((f = free_there(p)) > best) {
			best = f;
			pick = p;
		}
	}
	*full = best <= 0;
	return pick;
}

static struct history *
history_find(struct homed *d, const char *prog, int add)
{
	struct history *h;

	for (size_t i = 0; i < d->nhistory; i++)
		if (strcmp(d->history[i].prog, prog) == 0)
			return &d->history[i];
	if (!add)
		return NULL;
	h = reallocarray(d->history, d->nhistory + 1, sizeof(*h));
	if (h == NULL)
		return NULL;
	d->history = h;
	h = &d->history[d->nhistory++];
	memset(h, 0, sizeof(*h));
	strlcpy(h->prog, prog, sizeof(h->prog));
	return h;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint32_t
median(const struct history *h)
{
	uint32_t v[MIG_HISTORY_RUNS];

	if (h->n == 0)
		return 0;
	memcpy(v, h->ms, h->n * sizeof(*v));
	qsort(v, h->n, sizeof(*v), cmp_u32);
	return v[h->n / 2];
}

void
mig__history_add(struct homed *d, const char *prog, uint64_t ms, int placed)
{
	struct history *h = history_find(d, prog, 1);

	if (h == NULL)
		return;
	h->ms[h->next] = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
	h->next = (h->next + 1) % MIG_HISTORY_RUNS;
	if (h->n < MIG_HISTORY_RUNS)
		h->n++;
	h->placed += placed != 0;
}

int
mig__history_short(struct homed *d, const char *prog)
{
	struct history *h = history_find(d, prog, 0);

	/* A few runs before judging: the first ones warm caches. */
	return h != NULL && h->n >= 3 && median(h) < MIG_SHORT_RUN_MS;
}

void
mig__history_free(struct homed *d)
{
	free(d->history);
	d->history = NULL;
	d->nhistory = 0;
}

void
mig__view_hosts(struct client *c)
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
	/* name, address, state, slots, running, load x100, rtt us, done */
	r = r ? r : proto_put_str(&b, d->name);
	r = r ? r : proto_put_str(&b, addr);
	r = r ? r : proto_put_str(&b, "home");
	r = r ? r : proto_put_u32(&b, d->slots);
	r = r ? r : proto_put_u32(&b, d->local_running + mig__rjobs_running(d));
	r = r ? r : proto_put_u32(&b, (uint32_t)(load[0] * 100));
	r = r ? r : proto_put_u32(&b, 0);
	r = r ? r : proto_put_u32(&b, d->done);
	TAILQ_FOREACH(p, &d->peers, entry) {
		snprintf(addr, sizeof(addr), "%s:%u", p->addr, p->port);
		r = r ? r : proto_put_str(&b, p->name);
		r = r ? r : proto_put_str(&b, p->port ? addr : "-");
		r = r ? r : proto_put_str(&b, p->link ? "up" :
			p->dialing ? "connecting" : "down");
		r = r ? r : proto_put_u32(&b, p->host_slots);
		r = r ? r : proto_put_u32(&b, p->link ? p->running : 0);
		r = r ? r : proto_put_u32(&b, p->load100);
		r = r ? r : proto_put_u32(&b, (uint32_t)(p->rtt_ns / 1000));
		r = r ? r : proto_put_u32(&b, p->done);
	}
	if (r == 0)
		mig__client_send(c, MIG_M_HOSTS, 0, b.data, b.len);
	mig_buf_free(&b);
}

void
mig__view_ps(struct client *c)
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
		    j->peer != NULL && j->state == JOB_RUNNING ? j->peer->name :
								"-";
		r = r ? r : proto_put_u32(&b, (uint32_t)j->home_pid);
		r = r ? r : proto_put_str(&b, host);
		r = r ? r : proto_put_u32(&b, (uint32_t)(j->state == JOB_LOCAL ?
			j->home_pid : j->remote_pid));
		r = r ? r : proto_put_u64(&b, (now - j->start_ns) / 1000000);
		r = r ? r : proto_put_str(&b, j->state == JOB_WAITING ?
			"waiting" : "running");
		r = r ? r : proto_put_str(&b, j->cmd);
	}
	if (r == 0)
		mig__client_send(c, MIG_M_PS, 0, b.data, b.len);
	mig_buf_free(&b);
}

void
mig__view_history(struct client *c)
{
	struct homed *d = c->d;
	struct mig_buf b = { NULL, 0, 0 };
	int r = proto_put_u32(&b, (uint32_t)d->nhistory);

	/* program, runs, median ms, runs placed elsewhere, still placed */
	for (size_t i = 0; i < d->nhistory; i++) {
		struct history *h = &d->history[i];
		r = r ? r : proto_put_str(&b, h->prog);
		r = r ? r : proto_put_u32(&b, h->n);
		r = r ? r : proto_put_u32(&b, median(h));
		r = r ? r : proto_put_u32(&b, h->placed);
		r = r ? r : proto_put_u32(&b, !mig__history_short(d, h->prog));
	}
	r = r ? r : proto_put_u32(&b, MIG_SHORT_RUN_MS);
	if (r == 0)
		mig__client_send(c, MIG_M_HISTORY, 0, b.data, b.len);
	mig_buf_free(&b);
}
