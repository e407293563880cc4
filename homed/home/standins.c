/*
 * standins.c: the home daemon's side of its placeholder server,
 * mig-standin (helpers/standin.c). The server is our child, started
 * once with posix_spawn (no copy of the daemon's memory) and again when
 * it is gone; each placeholder is a clone of it that the kernel makes
 * our child too (CLONE_PARENT), so children.c reaps placeholders and
 * server alike. A placeholder used to be one posix_spawn and exec of
 * mig-standin each: the clone of a small static image costs home a
 * fraction of that (bench/placeholders).
 *
 * One request is one round trip on a SOCK_SEQPACKET pair: the title and
 * the placeholder's socket go out, its pid (or minus an errno) comes
 * back. The server answers in microseconds, so we wait for it here,
 * but never longer than MIG_STANDIN_WAIT_MS: a server that does not
 * answer (stopped, hung) is killed. There is one server at a time: the
 * next is started for the first request after the last one was reaped.
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
#define MIG_STANDIN_WAIT_MS 1000

void
mig__standins_init(struct standins *s, const char *path)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (path != NULL && strlen(path) < sizeof(s->path))
		strcpy(s->path, path);
}

int
mig__standins_start(struct standins *s)
{
	/* argv[1] is the room the placeholders' titles are written in. */
	static char room[MIG_STANDIN_TITLE];
	char *argv[] = { (char *)"mig-standin", room, NULL }, *envp[] = { NULL };
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
	if (room[0] == '\0')
		memset(room, '.', sizeof(room) - 1);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return MIG__ERR(errno);
	sigfillset(&all);
	sigemptyset(&none);
	if ((e = posix_spawnattr_init(&at)) != 0)
		goto out;
	if ((e = posix_spawn_file_actions_init(&fa)) == 0) {
		if ((e = posix_spawn_file_actions_adddup2(&fa, sv[1], 3)) == 0 &&
		    (e = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID |
		    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) == 0 &&
		    (e = posix_spawnattr_setsigmask(&at, &none)) == 0 &&
		    (e = posix_spawnattr_setsigdefault(&at, &all)) == 0)
			e = posix_spawn(&s->pid, s->path, &fa, &at, argv, envp);
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
	return 1;
}

/* The server failed us: it goes (it is our child and not yet reaped,
 * so its pid is still its own); once it is reaped, the next request
 * starts another. */
static void
drop(struct standins *s)
{
	if (s->pid > 0)
		kill(s->pid, SIGKILL);
	mig__close(s->fd);
	s->fd = -1;
}

int
mig__standins_make(struct standins *s, const char *title, int fd,
    pid_t *pid)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	struct iovec iov = { (void *)title, strlen(title) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = c.buf, .msg_controllen = sizeof(c.buf) };
	struct pollfd pf;
	int32_t answer;
	ssize_t n;
	int r;

	if (s->fd < 0)
		return MIG__ERR(EPIPE);
	if (iov.iov_len >= MIG_STANDIN_TITLE)
		iov.iov_len = MIG_STANDIN_TITLE - 1;
	memset(&c, 0, sizeof(c));
	c.h.cmsg_level = SOL_SOCKET;
	c.h.cmsg_type = SCM_RIGHTS;
	c.h.cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(&c.h), &fd, sizeof(int));
	while ((n = sendmsg(s->fd, &m, MSG_NOSIGNAL)) == -1 && errno == EINTR)
		;
	if (n == -1) {
		drop(s);
		return MIG__ERR(EPIPE);
	}
	pf.fd = s->fd;
	pf.events = POLLIN;
	while ((r = poll(&pf, 1, MIG_STANDIN_WAIT_MS)) == -1 && errno == EINTR)
		;
	if (r != 1) {
		mig__log(MIG_LOG_WARN, "the placeholder server (pid %d) did "
		    "not answer in %d ms: killed", (int)s->pid,
		    MIG_STANDIN_WAIT_MS);
		drop(s);
		return MIG__ERR(ETIMEDOUT);
	}
	while ((n = recv(s->fd, &answer, sizeof(answer), 0)) == -1 &&
	    errno == EINTR)
		;
	if (n != sizeof(answer)) {
		drop(s);
		return MIG__ERR(EPIPE);
	}
	if (answer <= 0)
		return answer < 0 ? answer : MIG__ERR(EPROTO);
	*pid = answer;
	return 0;
}

void
mig__standins_reaped(struct standins *s, pid_t pid)
{
	if (pid != s->pid)
		return;
	s->pid = 0;
	mig__close(s->fd);
	s->fd = -1;
}

void
mig__standins_stop(struct standins *s)
{
	mig__close(s->fd);
	s->fd = -1;
}
