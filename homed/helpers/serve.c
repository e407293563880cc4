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

/* One request. 1 when served (or refused), 0 when the daemon hung up,
 * -1 on a failure of our own socket. */
static int
serve_one(size_t min_fds, size_t max_fds, mig_serve_fn child)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(MIG_SERVE_FDS * sizeof(int))];
	} c;
	char msg[MIG_SERVE_MSG];
	struct iovec iov = { msg, sizeof(msg) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = c.buf, .msg_controllen = sizeof(c.buf) };
	int fds[MIG_SERVE_FDS];
	struct cmsghdr *h;
	sigset_t all, old;
	size_t nfds = 0;
	int32_t answer;
	ssize_t n;
	long pid;

	if ((n = recvmsg(MIG_SERVE_FD, &m, MSG_CMSG_CLOEXEC)) == 0)
		return 0;
	if (n < 0)
		return errno == EINTR ? 1 : -1;
	h = CMSG_FIRSTHDR(&m);
	if (h != NULL && h->cmsg_level == SOL_SOCKET &&
	    h->cmsg_type == SCM_RIGHTS && h->cmsg_len >= CMSG_LEN(0)) {
		nfds = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		memcpy(fds, CMSG_DATA(h), nfds * sizeof(int));
	}
	if (nfds < min_fds || nfds > max_fds ||
	    (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
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
