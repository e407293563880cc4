/*
 * children.c: the daemon's forks. Every fork blocks all signals first,
 * so no handler of the daemon's (libuv's signal pipe included) runs in
 * the child; the child resets every disposition to the default and only
 * then unblocks. Ended children are reaped from SIGCHLD in one place and
 * handed to whoever watches them, so no role signals a pid that may
 * have been reaped and reused: a watched pid stays in the table until
 * its exit is seen.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "homed.h"

pid_t
mig__fork(void)
{
	sigset_t all, old;
	pid_t pid;
	int e;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	e = errno;
	if (pid == 0) {
		sigset_t none;
		for (int s = 1; s < NSIG; s++)
			signal(s, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		return 0;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return pid;
}

int
mig__child_watch(struct homed *d, pid_t pid,
    void (*exited)(void *arg, int status), void *arg)
{
	struct child *c;

	/* A pid has one watcher: a new one takes over (a spare subreaper
	 * that became a job's). */
	TAILQ_FOREACH(c, &d->children, entry)
		if (c->pid == pid) {
			c->exited = exited;
			c->arg = arg;
			return 0;
		}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return MIG__ERR(ENOMEM);
	c->pid = pid;
	c->exited = exited;
	c->arg = arg;
	TAILQ_INSERT_TAIL(&d->children, c, entry);
	return 0;
}

void
mig__child_forget(struct homed *d, pid_t pid)
{
	struct child *c;

	TAILQ_FOREACH(c, &d->children, entry)
		if (c->pid == pid)
			c->exited = NULL;
}

void
mig__children_reap(struct homed *d)
{
	struct child *c;
	int status;
	pid_t pid;

	/* Every child, watched or not: as pid 1 of a test host's namespace
	 * we also inherit orphans. */
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		TAILQ_FOREACH(c, &d->children, entry)
			if (c->pid == pid)
				break;
		if (c == NULL)
			continue;
		TAILQ_REMOVE(&d->children, c, entry);
		if (c->exited != NULL)
			c->exited(c->arg, status);
		free(c);
	}
}

void
mig__children_free(struct homed *d)
{
	struct child *c;

	/* The loop has ended: what ended since its last SIGCHLD (the jobs
	 * killed at the stop) is reaped now, with nobody left to tell. */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	while ((c = TAILQ_FIRST(&d->children)) != NULL) {
		TAILQ_REMOVE(&d->children, c, entry);
		free(c);
	}
}

/* A process that is not our child, watched through a pidfd. */
struct pidwatch {
	TAILQ_ENTRY(pidwatch) entry;
	struct homed *d;
	int pidfd;
	uv_poll_t poll;
	void (*exited)(void *arg);
	void *arg;
};

static void
on_pidwatch_closed(uv_handle_t *h)
{
	struct pidwatch *w = h->data;

	mig__close(w->pidfd);
	free(w);
}

static void
pidwatch_end(struct pidwatch *w)
{
	TAILQ_REMOVE(&w->d->pidwatches, w, entry);
	uv_close((uv_handle_t *)&w->poll, on_pidwatch_closed);
}

static void
on_pid_exit(uv_poll_t *p, int status, int events)
{
	struct pidwatch *w = p->data;
	void (*exited)(void *) = w->exited;
	void *arg = w->arg;

	pidwatch_end(w);
	exited(arg);
}

int
mig__pid_watch(struct homed *d, pid_t pid, void (*exited)(void *arg),
    void *arg)
{
	struct pidwatch *w;
	int fd;

	if ((fd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1)
		return MIG__ERR(errno);
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		mig__close(fd);
		return MIG__ERR(ENOMEM);
	}
	w->d = d;
	w->pidfd = fd;
	w->exited = exited;
	w->arg = arg;
	uv_poll_init(d->loop, &w->poll, fd);
	w->poll.data = w;
	uv_poll_start(&w->poll, UV_READABLE, on_pid_exit);
	TAILQ_INSERT_TAIL(&d->pidwatches, w, entry);
	return 0;
}

void
mig__pid_unwatch(struct homed *d, void *arg)
{
	struct pidwatch *w, *next;

	TAILQ_FOREACH_SAFE(w, &d->pidwatches, entry, next)
		if (w->arg == arg || arg == NULL)
			pidwatch_end(w);
}
