/*
 * views.c: what mig hosts, mig ps and mig policy show: the host table,
 * the home's jobs and the run-time history, each as one frame.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "homed.h"

static uint64_t
sum(const uint64_t v[MIG_M__COUNT])
{
	uint64_t n = 0;

	for (int i = 0; i < MIG_M__COUNT; i++)
		n += v[i];
	return n;
}

/* What went to and came from a host: bytes in all, then the served
 * view's share (requests from it, answers to it). */
static int
put_traffic(struct mig_buf *b, const struct traffic *tx,
    const struct traffic *rx)
{
	int r = proto_put_u64(b, sum(tx->bytes));

	r = r ? r : proto_put_u64(b, sum(rx->bytes));
	r = r ? r : proto_put_u64(b, rx->frames[MIG_M_FS_REQ]);
	r = r ? r : proto_put_u64(b, rx->bytes[MIG_M_FS_REQ]);
	r = r ? r : proto_put_u64(b, tx->bytes[MIG_M_FS_REP]);
	return r;
}

/* Mount points one a line, as "a, b, c" into buf. */
static void
join(char *buf, size_t size, const char *lines)
{
	size_t n = strlen(buf);

	for (const char *c = lines; *c != '\0' && n + 3 < size; c++) {
		if (*c == '\n') {
			buf[n++] = ',';
			buf[n++] = ' ';
		} else {
			buf[n++] = *c;
		}
	}
	buf[n] = '\0';
}

/* How host p's jobs see home's files (FILES): its mode, and where its
 * hosts file gives no keyword, what it proved of them (fs/exact.c). */
static void
files_text(struct homed *d, struct peer *p, char *buf, size_t size,
    const char **proven, const char **unproven)
{
	int all;

	*proven = *unproven = "";
	if (p->link == NULL) {
		snprintf(buf, size, "-");
		return;
	}
	snprintf(buf, size, "%s", mig__fs_peer_files(d, p));
	if ((all = mig__exact_peer(d, p->link, proven, unproven)) < 0 ||
	    mig__fs_peer_keyword(d, p) != 0)
		return;
	if (all) {
		snprintf(buf, size, "own (every mount proven)");
		return;
	}
	if (**proven == '\0')
		return;
	strlcat(buf, "; proven: ", size);
	join(buf, size, *proven);
	if (**unproven != '\0') {
		strlcat(buf, "; not proven: ", size);
		join(buf, size, *unproven);
	}
}

/* Which build p's daemon is, as its link's BUILD (or stdio HELLO) said;
 * a link of protocol 4 says nothing, so only its protocol is known. ""
 * without a link. */
static void
version_text(const struct peer *p, char *buf, size_t size)
{
	if (p->link == NULL)
		buf[0] = '\0';
	else if (p->link->build[0] != '\0')
		strlcpy(buf, p->link->build, size);
	else
		snprintf(buf, size, "protocol %u", p->link->proto);
}

static void
view_hosts(struct client *c, const struct mig_frame *f)
{
	static const struct traffic none; /* home's own row */
	struct homed *d = c->d;
	struct mig_buf b = { NULL, 0, 0 };
	struct peer *p;
	uint32_t n = 1;
	double load[3] = { 0, 0, 0 };
	const char *proven, *unproven;
	char addr[80], files[1024], version[MIG_BUILD_MAX];
	uint64_t fetched, seeded;
	int r;

	/* Hosts gone from the hosts file show while they drain. */
	TAILQ_FOREACH(p, &d->peers, entry)
		n += !p->removed || p->link != NULL;
	getloadavg(load, 3);
	if (d->no_listen != NULL)
		snprintf(addr, sizeof(addr), "- (%s)", d->no_listen);
	else
		snprintf(addr, sizeof(addr), "%s:%u%s%s", d->listen_addr,
		    d->listen_port, d->slurm_job[0] ? " Slurm job " : "",
		    d->slurm_job);
	r = proto_put_u32(&b, n);
	/* name, address, state, slots, running, load x100, rtt us, done,
	 * how its jobs see home's files (fs/serve.c), traffic, the mount
	 * points it proved to be home's and its own that shadow home's (one
	 * a line; fs/exact.c), the bytes of home's files its views fetched
	 * and seeded from its own files instead (fs/lanes.c), why it is not
	 * up (its last link's end, as whatever ended it said), the protocol
	 * its link speaks (0: none); after the rows, why the configuration
	 * read again was refused; per row last, its owner's activity (why it
	 * is busy, or "owner idle" where watched), jobs of ours it evicted
	 * and froze, and its daemon's release and build (version_text) */
	r = r ? r : proto_put_str(&b, d->name);
	r = r ? r : proto_put_str(&b, addr);
	r = r ? r : proto_put_str(&b, "home");
	r = r ? r : proto_put_u32(&b, d->slots);
	r = r ? r : proto_put_u32(&b, mig__load_running(d));
	r = r ? r : proto_put_u32(&b, (uint32_t)(load[0] * 100));
	r = r ? r : proto_put_u32(&b, 0);
	r = r ? r : proto_put_u32(&b, d->done);
	r = r ? r : proto_put_str(&b, "home");
	r = r ? r : put_traffic(&b, &none, &none);
	r = r ? r : proto_put_str(&b, "");
	r = r ? r : proto_put_str(&b, "");
	r = r ? r : proto_put_u64(&b, 0);
	r = r ? r : proto_put_u64(&b, 0);
	r = r ? r : proto_put_str(&b, "");
	r = r ? r : proto_put_u32(&b, d->proto_max);
	r = r ? r : proto_put_str(&b, d->busy_why);
	r = r ? r : proto_put_u32(&b, 0);
	r = r ? r : proto_put_u32(&b, 0);
	r = r ? r : proto_put_str(&b, mig_build_string());
	TAILQ_FOREACH(p, &d->peers, entry) {
		if (p->removed && p->link == NULL)
			continue;
		if (p->dialin)
			snprintf(addr, sizeof(addr), "Slurm job %s node",
			    d->slurm_job);
		else if (p->ssh)
			snprintf(addr, sizeof(addr), "ssh:%s", p->addr);
		else if (p->dynamic)
			snprintf(addr, sizeof(addr), "(over its ssh)");
		else
			snprintf(addr, sizeof(addr), "%s:%u", p->addr, p->port);
		r = r ? r : proto_put_str(&b, p->name);
		r = r ? r : proto_put_str(&b, addr);
		r = r ? r : proto_put_str(&b, p->removed ? "draining" :
			p->link == NULL ? (p->dialing ? "connecting" : "down") :
			p->drained ? "drained" : p->busy ? "busy" : "up");
		r = r ? r : proto_put_u32(&b, mig__place_slots(p));
		r = r ? r : proto_put_u32(&b, p->link ? p->running : 0);
		r = r ? r : proto_put_u32(&b, p->load100);
		r = r ? r : proto_put_u32(&b, (uint32_t)(p->rtt_ns / 1000));
		r = r ? r : proto_put_u32(&b, p->done);
		files_text(d, p, files, sizeof(files), &proven, &unproven);
		r = r ? r : proto_put_str(&b, files);
		r = r ? r : put_traffic(&b, &p->tx, &p->rx);
		r = r ? r : proto_put_str(&b, proven);
		r = r ? r : proto_put_str(&b, unproven);
		mig__fs_peer_tally(d, p, &fetched, &seeded);
		r = r ? r : proto_put_u64(&b, fetched);
		r = r ? r : proto_put_u64(&b, seeded);
		r = r ? r : proto_put_str(&b, p->link == NULL ? p->last_why :
			"");
		r = r ? r : proto_put_u32(&b, p->link != NULL ? p->link->proto :
			0);
		r = r ? r : proto_put_str(&b, p->link != NULL ? p->busy_why :
			"");
		r = r ? r : proto_put_u32(&b, p->evictions);
		r = r ? r : proto_put_u32(&b, p->freezes);
		version_text(p, version, sizeof(version));
		r = r ? r : proto_put_str(&b, version);
	}
	snprintf(files, sizeof(files), "%s%s%s", d->hosts_error,
	    d->hosts_error[0] != '\0' && d->key_error[0] != '\0' ? "; " : "",
	    d->key_error);
	r = r ? r : proto_put_str(&b, files);
	if (r == 0)
		mig__client_send(c, MIG_M_HOSTS, 0, b.data, b.len);
	mig_buf_free(&b);
}

/* A view's frame is nearly full: room is left for one more row. */
static int
full(const struct mig_buf *b)
{
	return b->len + 2 * sizeof(struct psrow) > MIG_FRAME_MAX;
}

static int
put_row(struct mig_buf *b, const struct psrow *r)
{
	int e = proto_put_u32(b, (uint32_t)r->home_pid);

	e = e ? e : proto_put_str(b, r->host);
	e = e ? e : proto_put_u32(b, (uint32_t)r->remote_pid);
	e = e ? e : proto_put_u64(b, r->ms);
	e = e ? e : proto_put_str(b, r->state);
	e = e ? e : proto_put_str(b, r->why);
	e = e ? e : proto_put_str(b, r->files[0] != '\0' ? r->files : "-");
	e = e ? e : proto_put_str(b, r->cmd);
	e = e ? e : proto_put_u64(b, r->fetched);
	e = e ? e : proto_put_u64(b, r->seeded);
	return e;
}

/*
 * PS: optionally u32 how many finished jobs to add. The answer: u32
 * count, then per job: home pid, host, remote pid, elapsed ms, state,
 * why it runs where it does, how it sees home's files, command, bytes of
 * home's files its view fetched and seeded. Finished jobs come first,
 * oldest first; a finished job's state says how it ended.
 */
static void
view_ps(struct client *c, const struct mig_frame *f)
{
	struct homed *d = c->d;
	struct mig_buf b = { NULL, 0, 0 };
	uint64_t now = uv_hrtime();
	uint32_t n = 0, want = 0, have, shown = 0;
	struct mig_rd rd;
	struct job *j;
	int r;

	proto_rd_init(&rd, f->payload, f->len);
	if (f->len >= 4)
		proto_get_u32(&rd, &want);
	have = d->nrecent < MIG_RECENT ? d->nrecent : MIG_RECENT;
	if (want > have)
		want = have;
	TAILQ_FOREACH(j, &d->jobs, entry)
		n++;
	/* One frame holds the answer: rows that do not fit are counted in
	 * a last row, never dropped unsaid. */
	r = proto_put_u32(&b, 0);
	for (uint32_t i = d->nrecent - want; i != d->nrecent && !full(&b);
	     i++) {
		r = r ? r : put_row(&b, &d->recent[i % MIG_RECENT]);
		shown++;
	}
	TAILQ_FOREACH(j, &d->jobs, entry) {
		struct psrow row = { .home_pid = j->home_pid,
			.remote_pid = j->state == JOB_LOCAL ? j->home_pid :
							    j->remote_pid,
			.ms = (now - j->start_ns) / 1000000 };
		if (full(&b))
			break;
		strlcpy(row.host, j->state == JOB_LOCAL ? d->name :
		    j->state == JOB_RUNNING ? j->peer->name : "-",
		    sizeof(row.host));
		strlcpy(row.state, j->state == JOB_QUEUED ||
		    j->state == JOB_DIALING ? "waiting" :
		    j->state == JOB_RUNNING && j->peer->busy &&
		    !(j->flags & MIG_JOB_RESTART) ? "frozen" : "running",
		    sizeof(row.state));
		mig__job_why(j, row.why, sizeof(row.why));
		strlcpy(row.files, j->state == JOB_LOCAL ? "home" :
		    j->files, sizeof(row.files));
		strlcpy(row.cmd, j->cmd, sizeof(row.cmd));
		mig__job_bytes(j, &row.fetched, &row.seeded);
		r = r ? r : put_row(&b, &row);
		shown++;
	}
	if (shown < n + want) {
		struct psrow more = { 0 };
		strlcpy(more.host, "-", sizeof(more.host));
		strlcpy(more.state, "more", sizeof(more.state));
		snprintf(more.cmd, sizeof(more.cmd), "(%u more jobs not shown)",
		    n + want - shown);
		r = r ? r : put_row(&b, &more);
		shown++;
	}
	for (int i = 0; i < 4 && b.len >= 4; i++)
		b.data[i] = (uint8_t)(shown >> (8 * i));
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
