/*
 * job.c: the home role's jobs. A stub's RUN becomes a job. A job for a
 * named host (mig -h) waits for that host's link; a placed one (mig
 * make, mig gcc) waits its turn for a free slot. LOCAL tells the stub to
 * run it itself; otherwise EXEC carries it over the link, and from then
 * on frames are relayed between the stub and the link: stdin, signals
 * and output acknowledgements one way; output, start, exit and errors
 * the other. What happens to a job on each event is jobfsm.c's to say;
 * this file carries it out.
 *
 * A restartable job (a compiler placed by policy) may run again when its
 * host is lost, so its output is held here until it ends: a run cut
 * short prints nothing. Held output is acknowledged to the host at once;
 * past MIG_HELD_MAX it is released and the job is no longer restartable.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "homed.h"

static void
send_u32(struct job *j, uint16_t type, uint16_t flags, uint32_t v)
{
	uint8_t p[4];

	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	mig__link_send(j->link, type, flags, j->id, p, sizeof(p));
}

/* Held output goes to the stub; it will acknowledge what we already
 * did, so those acknowledgements stop here. */
static void
release_held(struct job *j)
{
	size_t off = 0;

	while (off < j->held.len) {
		struct mig_frame f;
		if (mig_frame_decode(j->held.data + off, j->held.len - off,
		    &f) != 0)
			break;
		off += MIG_FRAME_HDR + f.len;
		if (f.type == MIG_M_OUTPUT)
			j->unacked[f.flags] += f.len;
		if (j->client != NULL)
			mig__client_send(j->client, f.type, f.flags, f.payload,
			    f.len);
	}
	mig_buf_free(&j->held);
}

static int
restartable(const struct job *j)
{
	return (j->flags & MIG_JOB_RESTART) != 0;
}

/* The job's line in mig ps --recent. */
/* What mig ps says of why j runs where it does, "placed again: …" once
 * it was placed a second time. */
void
mig__job_why(const struct job *j, char *out, size_t n)
{
	const char *why = j->why;
	size_t len;

	if (j->again[0] == '\0') {
		strlcpy(out, why, n);
	} else if (j->home_only) {
		snprintf(out, n, "%s; running at home", j->again);
	} else if (j->state == JOB_QUEUED || j->state == JOB_DIALING) {
		snprintf(out, n, "placing again: %s", j->again);
	} else {
		/* "placed again: host1 lost; most free slots (host2 3,
		 * home 1)" */
		if (strncmp(why, "placed: ", 8) == 0)
			why += 8;
		snprintf(out, n, "placed again: %s%s%s", j->again,
		    why[0] != '\0' ? "; " : "", why);
	}
	/* Its host's owner came back while it ran, and it waited. */
	if (j->frozen && (len = strlen(out)) + 1 < n)
		snprintf(out + len, n - len, "%sfrozen while its host was busy",
		    len > 0 ? "; " : "");
}

/* What j's link's view fetched and seeded since its EXEC went out. */
static void
bytes_since(const struct job *j, uint64_t *fetched, uint64_t *seeded)
{
	uint64_t f, s;

	mig__fs_tally(j->d, j->link, &f, &s);
	/* A new view counts from 0 again. */
	*fetched = f >= j->fetched ? f - j->fetched : f;
	*seeded = s >= j->seeded ? s - j->seeded : s;
}

void
mig__job_bytes(const struct job *j, uint64_t *fetched, uint64_t *seeded)
{
	*fetched = *seeded = 0;
	if (j->tallied) {
		*fetched = j->fetched;
		*seeded = j->seeded;
	} else if (j->state == JOB_RUNNING && j->link != NULL) {
		bytes_since(j, fetched, seeded);
	}
}

static void
remember(struct job *j, uint64_t ms)
{
	struct homed *d = j->d;
	struct psrow *r;

	if (d->recent == NULL &&
	    (d->recent = calloc(MIG_RECENT, sizeof(*d->recent))) == NULL)
		return;
	r = &d->recent[d->nrecent++ % MIG_RECENT];
	r->home_pid = j->home_pid;
	r->remote_pid = j->remote_pid;
	r->ms = ms;
	strlcpy(r->host, j->state == JOB_LOCAL ? d->name :
	    j->state == JOB_RUNNING && j->peer != NULL ? j->peer->name : "-",
	    sizeof(r->host));
	strlcpy(r->state, j->end[0] != '\0' ? j->end : "ended",
	    sizeof(r->state));
	mig__job_why(j, r->why, sizeof(r->why));
	strlcpy(r->files, j->state == JOB_LOCAL ? "home" : j->files,
	    sizeof(r->files));
	strlcpy(r->cmd, j->cmd, sizeof(r->cmd));
	mig__job_bytes(j, &r->fetched, &r->seeded);
}

static void
job_free(struct job *j, enum job_state was, enum job_event ev)
{
	struct homed *d = j->d;
	uint64_t ms = (uv_hrtime() - j->start_ns) / 1000000;

	j->state = was; /* as it was, for its line in mig ps --recent */
	remember(j, ms);

	if ((j->flags & MIG_JOB_PLACE) && mig__history_timed(was, ev,
	    j->watched))
		mig__history_add(d, j->prog, ms, was == JOB_RUNNING);
	if (was == JOB_LOCAL) {
		mig__load_add(d, LOAD_HOME, -1);
		d->done++;
	} else if (was == JOB_RUNNING && j->peer != NULL) {
		j->peer->mine--;
		j->peer->done++;
	}
	TAILQ_REMOVE(&d->jobs, j, entry);
	mig__jobs_remove(d, j);
	mig__pid_unwatch(d, j);
	mig__holds_job_end(d, j->id);
	if (j->client != NULL)
		j->client->job = NULL;
	mig_buf_free(&j->held);
	free(j->req);
	free(j);
}

static void job_event(struct job *j, enum job_event ev,
    const struct mig_frame *f, int code, const char *why);
static void place_queued(struct homed *d);

static void
on_local_exit(void *arg)
{
	job_event(arg, JEV_LOCAL_EXIT, NULL, 0, NULL);
}

/*
 * Runs event ev on job j and does what the state machine says. f is the
 * frame that brought it, if any (EXIT, ERROR); code and why explain a
 * failure that has no frame (a lost link). Frees j when it ends.
 */
static void
job_event(struct job *j, enum job_event ev, const struct mig_frame *f,
    int code, const char *why)
{
	struct homed *d = j->d;
	enum job_state was = j->state;
	int act = mig__job_step(&j->state, ev, restartable(j));

	mig__job_queue_sync(d, j);

	if (act & JACT_SEND_EXEC) {
		if (j->peer != NULL && j->peer->link != NULL) {
			j->link = j->peer->link;
			j->start_ns = uv_hrtime();
			j->peer->mine++;
			j->runs++;
			j->fs_mark = mig__fs_mark(d, j->link);
			mig__fs_tally(d, j->link, &j->fetched, &j->seeded);
			mig__fs_prime(d, j->link, j->id, j->prog);
			/* EXEC carries the stub's RUN payload unchanged. */
			mig__link_send(j->link, MIG_M_EXEC, 0, j->id, j->req,
			    j->reqlen);
		}
	}
	if (act & JACT_SEND_LOCAL) {
		j->start_ns = uv_hrtime();
		/* Its slot is held until the program ends. */
		mig__load_add(d, LOAD_HOME, 1);
		j->watched = mig__pid_watch(d, j->home_pid, on_local_exit,
		    j) == 0;
		mig__client_send(j->client, MIG_M_LOCAL, 0, NULL, 0);
	}
	if ((act & JACT_SEND_KILL) && j->link != NULL)
		mig__link_send(j->link, MIG_M_KILL, 0, j->id, NULL, 0);
	if (act & JACT_REQUEUE) {
		/* mig ps says it was placed again, and the true reason
		 * (mig__job_why): a host that cannot see the job's files
		 * (MIG_ENOCWD) is not a full one. */
		snprintf(j->again, sizeof(j->again), "%s %s", j->peer->name,
		    ev == JEV_LINK_DOWN ? "lost" : why != NULL ? why :
		    j->home_only ? "cannot see its files" : "was full");
		j->why[0] = '\0';
		if (ev == JEV_LINK_DOWN)
			mig__log(MIG_LOG_WARN, "job %u: %s lost (%s); running "
			    "%s again elsewhere", j->id, j->peer->name, why,
			    j->prog);
		j->peer->mine--;
		j->files[0] = '\0';
		mig__holds_job_end(d, j->id);
		mig_buf_free(&j->held);
		memset(j->unacked, 0, sizeof(j->unacked));
		memset(j->window, 0, sizeof(j->window));
		j->peer = NULL;
		j->link = NULL;
		j->remote_pid = 0;
	}
	if (act & JACT_FAIL)
		strlcpy(j->end, "failed", sizeof(j->end));
	if (ev == JEV_CLIENT_GONE && (act & JACT_END) && j->end[0] == '\0')
		strlcpy(j->end, was == JOB_LOCAL ? "ended" : "stub gone",
		    sizeof(j->end));
	if ((act & JACT_FAIL) && j->client != NULL) {
		if (f != NULL)
			mig__client_send(j->client, f->type, f->flags,
			    f->payload, f->len);
		else
			mig__client_error(j->client, code, "%s: %s",
			    j->peer != NULL ? j->peer->name : "?", why);
	}
	if ((act & JACT_FINISH) && j->link != NULL) {
		uint64_t n = mig__fs_learn(d, j->link, j->prog, j->fs_mark);
		/* Its view's tally came just before its EXIT. */
		bytes_since(j, &j->fetched, &j->seeded);
		j->tallied = 1;
		mig__log(MIG_LOG_DEBUG, "job %u: %s on %s: %llu fs requests",
		    j->id, j->prog, j->peer->name, (unsigned long long)n);
	}
	if (act & JACT_FINISH) {
		struct mig_rd rd;
		uint32_t code, sig;
		proto_rd_init(&rd, f->payload, f->len);
		if (proto_get_u32(&rd, &code) == 0 &&
		    proto_get_u32(&rd, &sig) == 0)
			snprintf(j->end, sizeof(j->end), sig != 0 ?
			    "signal %u" : "exit %u", sig != 0 ? sig : code);
		release_held(j);
		if (j->client != NULL)
			mig__client_send(j->client, f->type, f->flags,
			    f->payload, f->len);
	}
	if (act & JACT_END)
		job_free(j, was, ev);
	if ((act & (JACT_END | JACT_REQUEUE)) && !d->stopping)
		place_queued(d);
}

static void
place_queued(struct homed *d)
{
	int64_t here = (int64_t)d->slots - mig__load_running(d);
	struct job *j, *next;

	TAILQ_FOREACH_SAFE(j, &d->queue, qentry, next) {
		struct peer *p;
		int full;
		if (j->home_only) {
			/* Waits for a slot here; the others go on. */
			if (here <= 0)
				continue;
			here--;
			job_event(j, JEV_PLACED_HERE, NULL, 0, NULL);
			continue;
		}
		p = mig__place_pick(d, here, &full);
		if (full)
			return; /* first come, first served */
		if (p == NULL) {
			struct peer *q;
			int up = 0;
			TAILQ_FOREACH(q, &d->peers, entry)
				up += q->link != NULL;
			if (up == 0)
				strlcpy(j->why, "no host up", sizeof(j->why));
			else
				snprintf(j->why, sizeof(j->why), "placed: home "
				    "had the most free slots (%lld)",
				    (long long)here);
			here--;
			job_event(j, JEV_PLACED_HERE, NULL, 0, NULL);
			continue;
		}
		snprintf(j->why, sizeof(j->why), "placed: most free slots "
		    "(%s %lld, home %lld)", p->name,
		    (long long)mig__place_free(p), (long long)here);
		j->peer = p;
		mig__log(MIG_LOG_INFO, "job %u: %s (pid %d) placed on %s",
		    j->id, j->prog, (int)j->home_pid, p->name);
		job_event(j, JEV_PLACED_THERE, NULL, 0, NULL);
	}
}

static void
describe(struct job *j, const struct mig_job *req)
{
	const char *base = strrchr(req->argv[0], '/');
	size_t n = 0;

	strlcpy(j->prog, base != NULL ? base + 1 : req->argv[0],
	    sizeof(j->prog));
	for (char **a = req->argv; *a != NULL && n + 1 < sizeof(j->cmd); a++) {
		if (a != req->argv)
			j->cmd[n++] = ' ';
		n += strlcpy(j->cmd + n, *a, sizeof(j->cmd) - n);
		if (n >= sizeof(j->cmd))
			n = sizeof(j->cmd) - 1;
	}
	j->cmd[n] = '\0';
}

static void
on_run(struct client *c, const struct mig_frame *f)
{
	struct homed *d = c->d;
	struct mig_job *req = NULL;
	struct peer *p = NULL;
	struct job *j;
	int r;

	if (c->job != NULL || c->hold != NULL) {
		mig__client_close(c);
		return;
	}
	if ((r = mig_r_job(f->payload, f->len, &req)) != 0) {
		mig__log(MIG_LOG_WARN, "local client: bad RUN: %s",
		    mig_strerror(r));
		mig__client_close(c);
		return;
	}
	if (req->host[0] != '\0' && strcmp(req->host, d->name) != 0 &&
	    ((p = mig__peer_find(d, req->host)) == NULL || p->removed)) {
		mig__client_error(c, MIG_ENOHOST,
		    "unknown host '%s' (not in %s/hosts)", req->host,
		    d->confdir);
		goto out;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->req = malloc(f->len)) == NULL) {
		free(j);
		mig__client_error(c, MIG__ERR(ENOMEM), "out of memory");
		goto out;
	}
	memcpy(j->req, f->payload, f->len);
	j->reqlen = f->len;
	j->d = d;
	/* Job ids start at 1: 0 means "no job" in acknowledgements. */
	if (++d->next_job == 0)
		d->next_job = 1;
	j->id = d->next_job;
	j->client = c;
	j->flags = req->flags;
	j->home_pid = req->pid;
	j->home_pgid = req->pgid;
	j->home_sid = req->sid;
	j->start_ns = uv_hrtime();
	describe(j, req);
	c->job = j;
	TAILQ_INSERT_TAIL(&d->jobs, j, entry);
	mig__jobs_add(d, j);
	if (req->host[0] == '\0') {
		j->state = JOB_QUEUED;
		mig__job_queue_sync(d, j);
		if (mig__history_short(d, j->prog)) {
			snprintf(j->why, sizeof(j->why), "history: %s runs "
			    "under %d ms", j->prog, MIG_SHORT_RUN_MS);
			job_event(j, JEV_PLACED_HERE, NULL, 0, NULL);
		}
		else
			place_queued(d);
	} else if (p == NULL) {
		j->state = JOB_QUEUED;
		mig__job_queue_sync(d, j);
		strlcpy(j->why, "named host (this one)", sizeof(j->why));
		job_event(j, JEV_PLACED_HERE, NULL, 0, NULL); /* mig -h here */
	} else {
		j->state = JOB_DIALING;
		strlcpy(j->why, "named host", sizeof(j->why));
		j->peer = p;
		if (p->link != NULL)
			job_event(j, JEV_LINK_UP, NULL, 0, NULL);
		else
			mig__peer_dial(p);
	}
 out:
	mig_job_free(req);
}

/* From the stub, for the host: stdin, signals, output flow control. */
static void
on_stub_frame(struct client *c, const struct mig_frame *f)
{
	struct job *j = c->job;
	struct mig_rd rd;
	uint32_t n;

	/* The stub sends nothing but signals before STARTED; anything for
	 * a job not running has nowhere to go. */
	if (j == NULL || j->state != JOB_RUNNING)
		return;
	if (f->type == MIG_M_OUTPUT_ACK && f->flags >= 1 && f->flags <= 2) {
		proto_rd_init(&rd, f->payload, f->len);
		if (proto_get_u32(&rd, &n) != 0)
			return;
		if (j->unacked[f->flags] >= n) {
			j->unacked[f->flags] -= n;
			return;
		}
		n -= (uint32_t)j->unacked[f->flags];
		j->unacked[f->flags] = 0;
		j->window[f->flags] -= n < j->window[f->flags] ? n :
		    j->window[f->flags];
		send_u32(j, MIG_M_OUTPUT_ACK, f->flags, n);
		return;
	}
	mig__link_send(j->link, f->type, f->flags, j->id, f->payload, f->len);
}

static struct job *
job_of(struct link *l, const struct mig_frame *f)
{
	struct job *j = mig__job_find(l->d, f->stream);

	/* Frames for a job that ended here (the stub went away) are late,
	 * not wrong: the host learns of the end through KILL. */
	if (j == NULL || j->link != l || j->state != JOB_RUNNING)
		return NULL;
	return j;
}

/* From the host, for the stub. */
static void
on_host_frame(struct link *l, const struct mig_frame *f)
{
	struct job *j = job_of(l, f);
	struct mig_rd rd;
	char *name = NULL, *files = NULL;
	uint32_t v;

	if (j == NULL)
		return;
	if (f->type == MIG_M_STARTED) {
		proto_rd_init(&rd, f->payload, f->len);
		if (proto_get_u32(&rd, &v) == 0)
			j->remote_pid = (int32_t)v;
		/* How it sees our files there (fs/exact.c), for mig ps;
		 * printable only, it reaches a terminal. */
		if (proto_get_str(&rd, &name) == 0 &&
		    proto_get_str(&rd, &files) == 0) {
			for (char *c = files; *c != '\0'; c++)
				if (*c < ' ' || *c > '~')
					*c = '?';
			strlcpy(j->files, files, sizeof(j->files));
		}
		free(name);
		free(files);
	}
	if ((f->type == MIG_M_OUTPUT || f->type == MIG_M_OUTPUT_EOF) &&
	    restartable(j)) {
		if (f->flags < 1 || f->flags > 2)
			return;
		if (mig_frame_put(&j->held, f->type, f->flags, 0, f->payload,
		    f->len) != 0)
			return;
		if (f->type == MIG_M_OUTPUT && f->len > 0)
			send_u32(j, MIG_M_OUTPUT_ACK, f->flags, f->len);
		if (j->held.len > MIG_HELD_MAX) {
			mig__log(MIG_LOG_DEBUG, "job %u: output over %u bytes: "
			    "no longer restartable", j->id, MIG_HELD_MAX);
			j->flags &= ~(uint32_t)MIG_JOB_RESTART;
			release_held(j);
		}
		return;
	}
	/* Output goes on as it is; the stub acknowledges it once written
	 * to its own fds, so the window spans the whole way. A host that
	 * sends past the window it was given is broken or hostile: the
	 * daemon buffers no more than that for it. */
	if (f->type == MIG_M_OUTPUT && f->flags >= 1 && f->flags <= 2) {
		j->window[f->flags] += f->len;
		if (j->window[f->flags] > MIG_WINDOW + MIG_CHUNK) {
			mig__link_fail(l, MIG_EPROTO, "job %u: output past its "
			    "window (%zu bytes unacknowledged)", j->id,
			    j->window[f->flags]);
			return;
		}
	}
	if (j->client != NULL)
		mig__client_send(j->client, f->type, f->flags, f->payload,
		    f->len);
}

static void
on_exit_frame(struct link *l, const struct mig_frame *f)
{
	struct job *j = job_of(l, f);

	if (j == NULL)
		return;
	if (restartable(j) && j->peer->busy) {
		/* It ended while its host evicted it (host/owner.c): cut
		 * short, maybe, and its held output with it. */
		mig__log(MIG_LOG_INFO, "job %u: %s's owner is using it; "
		    "running %s again elsewhere", j->id, j->peer->name,
		    j->prog);
		j->peer->evictions++;
		job_event(j, JEV_REFUSED, f, 0, "was busy");
		return;
	}
	job_event(j, JEV_EXIT, f, 0, NULL);
}

static void
on_error_frame(struct link *l, const struct mig_frame *f)
{
	struct job *j = job_of(l, f);
	struct mig_rd rd;
	uint32_t code;

	if (j == NULL)
		return;
	proto_rd_init(&rd, f->payload, f->len);
	if (proto_get_u32(&rd, &code) != 0)
		code = 0;
	if ((j->flags & MIG_JOB_PLACE) && (int32_t)code == MIG_EFULL) {
		/* Another home filled it first: it counts as full until it
		 * says otherwise, and the job goes back to the queue. */
		mig__log(MIG_LOG_DEBUG, "job %u: %s is full, placing again",
		    j->id, j->peer->name);
		j->peer->running = mig__place_slots(j->peer);
		job_event(j, JEV_REFUSED, f, 0, NULL);
		return;
	}
	if ((j->flags & MIG_JOB_PLACE) && (int32_t)code == MIG_EBUSY &&
	    (restartable(j) || j->remote_pid == 0)) {
		/* Its owner is back (host/owner.c): a placed job it refused,
		 * or a restartable one it evicted, runs again elsewhere. One
		 * whose output went out meanwhile (past MIG_HELD_MAX) fails
		 * with the host's message: running it again would repeat it. */
		mig__log(MIG_LOG_INFO, "job %u: %s's owner is using it; "
		    "running %s again elsewhere", j->id, j->peer->name,
		    j->prog);
		j->peer->evictions += j->remote_pid != 0;
		j->peer->busy = 1;
		job_event(j, JEV_REFUSED, f, 0, "was busy");
		return;
	}
	if ((j->flags & MIG_JOB_RESTART) && (int32_t)code == MIG_ENOCWD) {
		/* The host has not its cwd and cannot serve home's files: a
		 * job that may run anywhere runs here, where its files are. */
		mig__log(MIG_LOG_INFO, "job %u: %s lacks its files; running %s "
		    "here", j->id, j->peer->name, j->prog);
		j->home_only = 1;
		job_event(j, JEV_REFUSED, f, 0, NULL);
		return;
	}
	job_event(j, JEV_ERROR, f, 0, NULL);
}

static void
on_link_up(struct link *l)
{
	struct job *j, *next;

	TAILQ_FOREACH_SAFE(j, &l->d->jobs, entry, next)
		if (j->state == JOB_DIALING && j->peer == l->peer)
			job_event(j, JEV_LINK_UP, NULL, 0, NULL);
	place_queued(l->d);
}

static void
on_link_down(struct link *l, int code, const char *why)
{
	struct job *j, *next;

	TAILQ_FOREACH_SAFE(j, &l->d->jobs, entry, next) {
		/* A dialing job fails once no link can serve it. */
		if ((j->state == JOB_RUNNING && j->link == l) ||
		    (j->state == JOB_DIALING && j->peer == l->peer &&
			l->peer->link == NULL && l->peer->dialing == NULL))
			job_event(j, JEV_LINK_DOWN, NULL, code, why);
	}
	if (!l->d->stopping)
		place_queued(l->d);
}

/* A slot may be free here or at a peer (load.c, cluster.c). */
static void
on_load_changed(struct homed *d)
{
	if (!d->stopping)
		place_queued(d);
}

static void
on_client_gone(struct client *c)
{
	struct job *j = c->job;

	if (j == NULL)
		return;
	c->job = NULL;
	j->client = NULL;
	/* Unwatched (no pidfd), a local program ends with its stub's
	 * connection, which is as close as we can tell. */
	if (j->state == JOB_LOCAL && !j->watched)
		job_event(j, JEV_LOCAL_EXIT, NULL, 0, NULL);
	else
		job_event(j, JEV_CLIENT_GONE, NULL, 0, NULL);
}

/* A host gone from the hosts file keeps its link while jobs of this
 * home run there. */
static int
keeps(struct peer *p)
{
	return p->mine > 0;
}

void
mig__home_init(struct homed *d)
{
	static const struct watcher w = { .link_up = on_link_up,
		.link_down = on_link_down, .client_gone = on_client_gone,
		.keeps = keeps, .load_changed = on_load_changed };
	static const uint16_t from_stub[] = { MIG_M_INPUT, MIG_M_INPUT_EOF,
		MIG_M_OUTPUT_ACK, MIG_M_OUTPUT_CLOSE, MIG_M_SIGNAL,
		MIG_M_WINSIZE };
	static const uint16_t from_host[] = { MIG_M_STARTED, MIG_M_OUTPUT,
		MIG_M_OUTPUT_EOF, MIG_M_INPUT_ACK, MIG_M_INPUT_CLOSE };

	TAILQ_INIT(&d->queue);
	mig__on_client_frame(d, MIG_M_RUN, on_run);
	for (size_t i = 0; i < sizeof(from_stub) / sizeof(*from_stub); i++)
		mig__on_client_frame(d, from_stub[i], on_stub_frame);
	for (size_t i = 0; i < sizeof(from_host) / sizeof(*from_host); i++)
		mig__on_link_frame(d, from_host[i], on_host_frame);
	mig__on_link_frame(d, MIG_M_EXIT, on_exit_frame);
	mig__on_link_frame(d, MIG_M_ERROR, on_error_frame);
	mig__watch(d, &w);
}
