/*
 * hold.c: the home side of the pid space of placed jobs' descendants
 * (ARCHITECTURE §7, step 2). When a placed process starts another one on
 * its host, the host asks for a home pid (HOLD); we start a placeholder,
 * `mig --standin`, whose pid that is, so that `ps` at home shows the
 * process and `kill` at home reaches it: the placeholder hands every
 * signal it gets back to us, and we send it to the process on the host.
 * The placeholder ends when the process does (GONE) or the job ends.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "homed.h"

extern char **environ;

static struct hold *
hold_find(struct homed *d, pid_t pid)
{
	struct hold *h;

	TAILQ_FOREACH(h, &d->holds, entry)
		if (h->pid == pid)
			return h;
	return NULL;
}

static void
hold_free(struct homed *d, struct hold *h)
{
	TAILQ_REMOVE(&d->holds, h, entry);
	if (h->client != NULL)
		h->client->hold = NULL;
	free(h);
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

void
mig__hold_new(struct link *l, const struct mig_frame *f)
{
	struct homed *d = l->d;
	struct job *j = mig__job_find(d, f->stream);
	char mig[PATH_MAX], hpid[16], *what = NULL;
	struct mig_rd rd;
	uint32_t seq, h;
	struct hold *hold;
	pid_t pid;

	proto_rd_init(&rd, f->payload, f->len);
	if (proto_get_u32(&rd, &seq) != 0 || proto_get_u32(&rd, &h) != 0 ||
	    proto_get_str(&rd, &what) != 0) {
		mig__log(MIG_LOG_WARN, "link %s: malformed HOLD", l->desc);
		return;
	}
	if (j == NULL || j->link != l || j->state != JOB_RUNNING) {
		reply(l, f->stream, seq, -ESRCH);
		goto out;
	}
	if (mig__beside_self("mig", mig, sizeof(mig)) != 0 ||
	    (hold = calloc(1, sizeof(*hold))) == NULL) {
		reply(l, f->stream, seq, -ENOENT);
		goto out;
	}
	snprintf(hpid, sizeof(hpid), "%d", (int)(int32_t)h);
	if ((pid = fork()) == 0) {
		char *argv[] = { (char *)"mig", (char *)"--standin", j->peer->name,
			hpid, what, NULL };
		sigset_t none;
		setsid();
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (int s = 1; s < NSIG; s++)
			signal(s, SIG_DFL);
		mig__exec_raw(mig, argv, environ);
		_exit(MIG_EXIT_FAILURE);
	}
	if (pid == -1) {
		free(hold);
		reply(l, f->stream, seq, -errno);
		goto out;
	}
	hold->job = j->id;
	hold->pid = pid;
	hold->host_pid = (pid_t)(int32_t)h;
	TAILQ_INSERT_TAIL(&d->holds, hold, entry);
	mig__log(MIG_LOG_DEBUG, "job %u: pid %d here stands for pid %d on %s",
	    j->id, (int)pid, (int)hold->host_pid, j->peer->name);
	reply(l, f->stream, seq, pid);
 out:
	free(what);
}

void
mig__hold_standin(struct client *c, const struct mig_frame *f)
{
	struct mig_rd rd;
	struct hold *h;
	uint32_t pid;

	proto_rd_init(&rd, f->payload, f->len);
	if (proto_get_u32(&rd, &pid) != 0 ||
	    (h = hold_find(c->d, (pid_t)pid)) == NULL || h->client != NULL) {
		mig__client_close(c);
		return;
	}
	h->client = c;
	c->hold = h;
}

static void
signal_host(struct homed *d, struct hold *h, uint32_t sig)
{
	struct job *j = mig__job_find(d, h->job);
	uint8_t p[8];

	if (j == NULL || j->link == NULL || h->gone)
		return;
	for (int i = 0; i < 4; i++) {
		p[i] = (uint8_t)(sig >> (8 * i));
		p[4 + i] = (uint8_t)((uint32_t)h->host_pid >> (8 * i));
	}
	mig__link_send(j->link, MIG_M_SIGNAL, 1, j->id, p, sizeof(p));
}

void
mig__hold_signal(struct client *c, const struct mig_frame *f)
{
	struct mig_rd rd;
	uint32_t sig;

	proto_rd_init(&rd, f->payload, f->len);
	if (c->hold != NULL && proto_get_u32(&rd, &sig) == 0)
		signal_host(c->d, c->hold, sig);
}

void
mig__hold_client_gone(struct client *c)
{
	struct hold *h = c->hold;

	if (h == NULL)
		return;
	/* A placeholder that ends before its process did was killed with
	 * a signal it cannot pass on (SIGKILL): pass that on. */
	signal_host(c->d, h, SIGKILL);
	hold_free(c->d, h);
}

void
mig__hold_gone(struct link *l, const struct mig_frame *f)
{
	struct mig_rd rd;
	struct hold *h;
	uint32_t pid;

	proto_rd_init(&rd, f->payload, f->len);
	if (proto_get_u32(&rd, &pid) != 0 ||
	    (h = hold_find(l->d, (pid_t)pid)) == NULL)
		return;
	h->gone = 1;
	kill(h->pid, SIGKILL);
	hold_free(l->d, h);
}

void
mig__holds_job_end(struct homed *d, uint32_t job)
{
	struct hold *h, *next;

	TAILQ_FOREACH_SAFE(h, &d->holds, entry, next) {
		if (h->job != job)
			continue;
		h->gone = 1;
		kill(h->pid, SIGKILL);
		hold_free(d, h);
	}
}
