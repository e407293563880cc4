/*
 * serve.c: a helper server's loop (serve.h). Static and libc only.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "serve.h"

int
mig__serve_started(void)
{
	int sotype = 0;
	socklen_t len = sizeof(sotype);

	return getsockopt(MIG_SERVE_FD, SOL_SOCKET, SO_TYPE, &sotype,
	    &len) == 0 && sotype == SOCK_SEQPACKET;
}

ssize_t
mig__serve_recv(int fd, char msg[MIG_SERVE_MSG], int fds[MIG_SERVE_FDS],
    size_t *nfds)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(MIG_SERVE_FDS * sizeof(int))];
	} c;
	struct iovec iov = { msg, MIG_SERVE_MSG };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = c.buf, .msg_controllen = sizeof(c.buf) };
	struct cmsghdr *h;
	ssize_t n;

	*nfds = 0;
	while ((n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC)) == -1 && errno == EINTR)
		;
	if (n <= 0)
		return n;
	h = CMSG_FIRSTHDR(&m);
	if (h != NULL && h->cmsg_level == SOL_SOCKET &&
	    h->cmsg_type == SCM_RIGHTS && h->cmsg_len >= CMSG_LEN(0)) {
		*nfds = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		memcpy(fds, CMSG_DATA(h), *nfds * sizeof(int));
	}
	if (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		for (size_t i = 0; i < *nfds; i++)
			close(fds[i]);
		*nfds = 0;
		errno = EMSGSIZE;
		return -2;
	}
	return n;
}

/* One request. 1 when served (or refused), 0 when the daemon hung up,
 * -1 on a failure of our own socket. */
static int
serve_one(size_t min_fds, size_t max_fds, mig_serve_fn child)
{
	char msg[MIG_SERVE_MSG];
	int fds[MIG_SERVE_FDS];
	sigset_t all, old;
	size_t nfds;
	int32_t answer;
	ssize_t n;
	long pid;

	if ((n = mig__serve_recv(MIG_SERVE_FD, msg, fds, &nfds)) == 0)
		return 0;
	if (n == -1)
		return -1;
	if (n < 0 || nfds < min_fds || nfds > max_fds) {
		answer = -EINVAL;
	} else {
		/* The clone starts with every signal blocked. */
		sigfillset(&all);
		sigprocmask(SIG_SETMASK, &all, &old);
		pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL,
		    NULL, NULL);
		if (pid == 0)
			child(msg, (size_t)n, fds, nfds);
		answer = pid > 0 ? (int32_t)pid : -errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
	return write(MIG_SERVE_FD, &answer, sizeof(answer)) ==
	    sizeof(answer) ? 1 : -1;
}

int
mig__serve(size_t min_fds, size_t max_fds, mig_serve_fn child)
{
	int r;

	while ((r = serve_one(min_fds, max_fds, child)) > 0)
		;
	return r == 0 ? 0 : 1;
}
