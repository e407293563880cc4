/*
 * hold.c: the home side of the pid space of placed jobs' descendants.
 * When a placed process starts another one on its host, the host asks
 * for a home pid (HOLD); we have a placeholder made (helpers/standin.c), whose
 * pid that is, so that `ps` at home shows the process and `kill` at home
 * reaches it: the placeholder hands every signal it gets back to us
 * (HOLD_SIGNAL), and we send it to the process on the host.
 *
 * A placeholder ends when its process does (GONE, honoured only from
 * the link its job runs on) or its job ends. Its entry stays until the
 * placeholder is reaped (children.c), so it is never signalled after its
 * pid could have been reused.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "homed.h"

/* No job holds more home pids than its identity page can list. */
#define MIG_HOLDS_PER_JOB MIG_IDENT_PIDS

static struct hold *
hold_find(struct homed *d, pid_t pid)
{
	struct hold *h;

	TAILQ_FOREACH(h, &d->holds, entry)
		if (h->pid == pid && !h->ended)
			return h;
	return NULL;
}

static void
hold_free(struct hold *h)
{
	TAILQ_REMOVE(&h->d->holds, h, entry);
	if (h->client != NULL)
		h->client->hold = NULL;
	free(h);
}

static void
signal_host(struct hold *h, uint32_t sig)
{
	struct job *j = mig__job_find(h->d, h->job);
	uint8_t p[8];

	if (j == NULL || j->link == NULL || j->link->id != h->link ||
	    j->state != JOB_RUNNING || h->ended)
		return;
	for (int i = 0; i < 4; i++) {
		p[i] = (uint8_t)(sig >> (8 * i));
		p[4 + i] = (uint8_t)((uint32_t)h->host_pid >> (8 * i));
	}
	mig__link_send(j->link, MIG_M_SIGNAL, 1, j->id, p, sizeof(p));
}

/* The placeholder goes; its entry waits for the reaping. */
static void
hold_end(struct hold *h)
{
	if (h->ended)
		return;
	h->ended = 1;
	kill(h->pid, SIGKILL);
}

static void
on_reaped(void *arg, int status)
{
	struct hold *h = arg;

	/* A placeholder that ends before its process did was killed with
	 * a signal it cannot pass on (SIGKILL): pass that on. */
	if (!h->ended)
		signal_host(h, SIGKILL);
	h->ended = 1;
	hold_free(h);
}

static void
reply(struct link *l, uint32_t stream, uint32_t seq, int32_t pid)
{
	uint8_t p[8];

	for (int i = 0; i < 4; i++) {
		p[i] = (uint8_t)(seq >> (8 * i));
		p[4 + i] = (uint8_t)((uint32_t)pid >> (8 * i));
	}
	mig__link_send(l, MIG_M_HOLDRET, 0, stream, p, sizeof(p));
}

static int
holds_of(struct homed *d, uint32_t job)
{
	struct hold *h;
	int n = 0;

	TAILQ_FOREACH(h, &d->holds, entry)
		n += h->job == job && !h->ended;
	return n;
}

/* A placeholder (helpers/standin.c) titled "mig: pid HPID on HOST:
 * WHAT", in a session of its own, with every signal at its default and
 * one end of a socket pair as its fd 3; the other end is our client.
 * 0 or MIG_E*. */
static int
new_standin(struct homed *d, pid_t *pid, const char *host, const char *hpid,
    const char *what)
{
	char title[MIG_STANDIN_TITLE];
	int sv[2], r;

	snprintf(title, sizeof(title), "mig: pid %s on %s: %s", hpid, host,
	    what);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return MIG__ERR(errno);
	r = mig__server_ask(d, &d->standins, title, strlen(title), &sv[1], 1,
	    pid);
	mig__close(sv[1]);
	if (r == 0 && (r = mig__client_adopt(d, sv[0])) != 0) {
		kill(*pid, SIGKILL);
		r = MIG__ERR(r);
	} else if (r != 0) {
		mig__close(sv[0]);
	}
	return r;
}

static void
on_hold(struct link *l, const struct mig_frame *f)
{
	struct homed *d = l->d;
	struct job *j = mig__job_find(d, f->stream);
	char hpid[16], *what = NULL;
	struct mig_rd rd;
	uint32_t seq = 0, hp;
	struct hold *hold;
	pid_t pid;
	int e;

	proto_rd_init(&rd, f->payload, f->len);
	if (proto_get_u32(&rd, &seq) != 0 || proto_get_u32(&rd, &hp) != 0 ||
	    proto_get_str(&rd, &what) != 0) {
		mig__log(MIG_LOG_WARN, "link %s: malformed HOLD", l->desc);
		/* Numbered: answered, so that nothing waits for it. */
		if (f->len >= 4)
			reply(l, f->stream, seq, -EINVAL);
		return;
	}
	if (j == NULL || j->link != l || j->state != JOB_RUNNING) {
		reply(l, f->stream, seq, -ESRCH);
		goto out;
	}
	if (holds_of(d, j->id) >= MIG_HOLDS_PER_JOB) {
		if (!j->holds_full)
			mig__log(MIG_LOG_WARN, "job %u: more than %d processes "
			    "at once (MIG_HOLDS_PER_JOB): the others keep "
			    "their host pids", j->id, MIG_HOLDS_PER_JOB);
		j->holds_full = 1;
		reply(l, f->stream, seq, -EAGAIN);
		goto out;
	}
	if ((hold = calloc(1, sizeof(*hold))) == NULL) {
		reply(l, f->stream, seq, -ENOMEM);
		goto out;
	}
	snprintf(hpid, sizeof(hpid), "%d", (int)(int32_t)hp);
	if ((e = new_standin(d, &pid, j->peer->name, hpid, what)) == 0 &&
	    mig__child_watch(d, pid, on_reaped, hold) != 0) {
		kill(pid, SIGKILL);
		e = MIG__ERR(ENOMEM);
	}
	if (e != 0) {
		free(hold);
		reply(l, f->stream, seq, e);
		goto out;
	}
	hold->d = d;
	hold->job = j->id;
	hold->link = l->id;
	hold->pid = pid;
	hold->host_pid = (pid_t)(int32_t)hp;
	TAILQ_INSERT_TAIL(&d->holds, hold, entry);
	mig__log(MIG_LOG_DEBUG, "job %u: pid %d here stands for pid %d on %s",
	    j->id, (int)pid, (int)hold->host_pid, j->peer->name);
	reply(l, f->stream, seq, pid);
 out:
	free(what);
}

static void
on_standin(struct client *c, const struct mig_frame *f)
{
	struct mig_rd rd;
	struct hold *h;
	uint32_t pid;

	proto_rd_init(&rd, f->payload, f->len);
	if (c->job != NULL || c->hold != NULL ||
	    proto_get_u32(&rd, &pid) != 0 ||
	    (h = hold_find(c->d, (pid_t)pid)) == NULL || h->client != NULL) {
		mig__client_close(c);
		return;
	}
	h->client = c;
	c->hold = h;
}

static void
on_hold_signal(struct client *c, const struct mig_frame *f)
{
	struct mig_rd rd;
	uint32_t sig;

	proto_rd_init(&rd, f->payload, f->len);
	if (c->hold != NULL && proto_get_u32(&rd, &sig) == 0)
		signal_host(c->hold, sig);
}

static void
on_client_gone(struct client *c)
{
	struct hold *h = c->hold;

	if (h == NULL)
		return;
	h->client = NULL;
	c->hold = NULL;
	/* Its process ended, as far as home can tell: the reaping passes
	 * a SIGKILL on if the placeholder was killed. */
}

/* GONE: the process of a placeholder ended on its host. */
static void
on_gone(struct link *l, const struct mig_frame *f)
{
	struct mig_rd rd;
	struct hold *h;
	uint32_t pid;

	proto_rd_init(&rd, f->payload, f->len);
	if (proto_get_u32(&rd, &pid) != 0 ||
	    (h = hold_find(l->d, (pid_t)pid)) == NULL || h->link != l->id)
		return;
	hold_end(h);
}

void
mig__holds_job_end(struct homed *d, uint32_t job)
{
	struct hold *h, *next;

	TAILQ_FOREACH_SAFE(h, &d->holds, entry, next)
		if (h->job == job)
			hold_end(h);
}

int
mig__holds_has(struct homed *d, uint32_t job, pid_t pid)
{
	struct hold *h = hold_find(d, pid);

	return h != NULL && h->job == job;
}

/* The daemon stops: every placeholder goes now, reaped or not. */
void
mig__holds_stop(struct homed *d)
{
	struct hold *h;

	while ((h = TAILQ_FIRST(&d->holds)) != NULL) {
		if (!h->ended)
			kill(h->pid, SIGKILL);
		mig__child_forget(d, h->pid);
		hold_free(h);
	}
	mig__server_stop(&d->standins);
}

void
mig__holds_init(struct homed *d)
{
	static const struct watcher w = { .client_gone = on_client_gone };

	mig__on_link_frame(d, MIG_M_HOLD, on_hold);
	mig__on_link_frame(d, MIG_M_GONE, on_gone);
	mig__on_client_frame(d, MIG_M_STANDIN, on_standin);
	mig__on_client_frame(d, MIG_M_HOLD_SIGNAL, on_hold_signal);
	mig__watch(d, &w);
}
