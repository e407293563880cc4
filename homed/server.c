/*
 * server.c: the daemon's side of its helper servers (helpers/serve.h):
 * mig-standin, home's placeholder server (home/hold.c), and mig-reaper,
 * a host's subreaper server (host/subreaper.c). A server is our child,
 * started with posix_spawn (no copy of the daemon's memory) for the
 * first request, and again for the first request after it was reaped;
 * what it makes for us is a clone of it that the kernel makes our child
 * too (CLONE_PARENT), so children.c reaps those and the server alike.
 *
 * One request is one round trip on a SOCK_SEQPACKET pair: bytes and
 * descriptors go out, a pid (or minus an errno) comes back. The server
 * answers in microseconds (it forks a small static image), so we wait
 * for it here, but never longer than MIG_SERVER_WAIT_MS: a server that
 * does not answer (stopped, hung) is killed.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "homed.h"

/* The longest a request waits for the server's answer. */
#define MIG_SERVER_WAIT_MS 1000

void
mig__server_init(struct server *s, const char *path, const char *what,
    char *const argv[])
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->what = what;
	s->argv = argv;
	if (path != NULL && strlen(path) < sizeof(s->path))
		strcpy(s->path, path);
}

/* The server failed us: it goes (it is our child and not yet reaped,
 * so its pid is still its own); once it is reaped, the next request
 * starts another. */
static void
drop(struct server *s)
{
	if (s->pid > 0)
		kill(s->pid, SIGKILL);
	mig__close(s->fd);
	s->fd = -1;
}

static void
on_reaped(void *arg, int status)
{
	struct server *s = arg;

	s->pid = 0;
	mig__close(s->fd);
	s->fd = -1;
}

/* Starts the server unless it runs; 0 or MIG_E*. */
static int
start(struct homed *d, struct server *s)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t all, none;
	int sv[2], e;

	if (s->fd >= 0)
		return 0;
	/* One server at a time: the last one is not reaped yet. */
	if (s->pid > 0)
		return MIG__ERR(EAGAIN);
	if (s->path[0] == '\0')
		return MIG__ERR(ENOENT);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return MIG__ERR(errno);
	sigfillset(&all);
	sigemptyset(&none);
	if ((e = posix_spawnattr_init(&at)) != 0)
		goto out;
	if ((e = posix_spawn_file_actions_init(&fa)) == 0) {
		if ((e = posix_spawn_file_actions_adddup2(&fa, sv[1],
		    MIG_SERVE_FD)) == 0 &&
		    (e = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID |
		    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) == 0 &&
		    (e = posix_spawnattr_setsigmask(&at, &none)) == 0 &&
		    (e = posix_spawnattr_setsigdefault(&at, &all)) == 0) {
			char *envp[] = { NULL };
			e = posix_spawn(&s->pid, s->path, &fa, &at, s->argv,
			    envp);
		}
		posix_spawn_file_actions_destroy(&fa);
	}
	posix_spawnattr_destroy(&at);
 out:
	mig__close(sv[1]);
	if (e != 0) {
		mig__close(sv[0]);
		return MIG__ERR(e);
	}
	s->fd = sv[0];
	if (mig__child_watch(d, s->pid, on_reaped, s) != 0) {
		/* Unwatched, it would never be reaped for us: killed, and
		 * forgotten (its reaping tells nobody). */
		drop(s);
		s->pid = 0;
		return MIG__ERR(ENOMEM);
	}
	mig__log(MIG_LOG_DEBUG, "%s started (pid %d)", s->what, (int)s->pid);
	return 0;
}

int
mig__server_ask(struct homed *d, struct server *s, const void *p, size_t n,
    const int *fds, size_t nfds, pid_t *pid)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(MIG_SERVE_FDS * sizeof(int))];
	} c;
	struct iovec iov = { (void *)p, n };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = c.buf,
		.msg_controllen = CMSG_SPACE(nfds * sizeof(int)) };
	struct pollfd pf;
	int32_t answer;
	ssize_t got;
	int r;

	if (nfds == 0 || nfds > MIG_SERVE_FDS || n > MIG_SERVE_MSG)
		return MIG__ERR(EINVAL);
	if ((r = start(d, s)) != 0)
		return r;
	memset(&c, 0, sizeof(c));
	c.h.cmsg_level = SOL_SOCKET;
	c.h.cmsg_type = SCM_RIGHTS;
	c.h.cmsg_len = CMSG_LEN(nfds * sizeof(int));
	memcpy(CMSG_DATA(&c.h), fds, nfds * sizeof(int));
	while ((got = sendmsg(s->fd, &m, MSG_NOSIGNAL)) == -1 &&
	    errno == EINTR)
		;
	if (got == -1) {
		/* Nothing was asked. */
		drop(s);
		return MIG__ERR(EAGAIN);
	}
	pf.fd = s->fd;
	pf.events = POLLIN;
	while ((r = poll(&pf, 1, MIG_SERVER_WAIT_MS)) == -1 && errno == EINTR)
		;
	if (r != 1) {
		mig__log(MIG_LOG_WARN, "the %s (pid %d) did not answer in "
		    "%d ms: killed", s->what, (int)s->pid, MIG_SERVER_WAIT_MS);
		drop(s);
		return MIG__ERR(ETIMEDOUT);
	}
	while ((got = recv(s->fd, &answer, sizeof(answer), 0)) == -1 &&
	    errno == EINTR)
		;
	if (got != sizeof(answer)) {
		drop(s);
		return MIG__ERR(EPIPE);
	}
	if (answer <= 0)
		return answer < 0 ? answer : MIG__ERR(EPROTO);
	*pid = answer;
	return 0;
}

void
mig__server_stop(struct server *s)
{
	mig__close(s->fd);
	s->fd = -1;
}
