/*
 * standin.c: mig-standin, the placeholder server of the home daemon
 * (home/standins.c). A placeholder holds a home pid for a process a
 * placed job started on a host (home/hold.c). The daemon starts one
 * server, with one end of a SOCK_SEQPACKET pair as fd 3, and asks it for
 * each placeholder: a message of the placeholder's title ("mig: pid N on
 * HOST: WHAT") carrying one end of a new socket pair. The server clones
 * itself (a fork of this small static image, tens of microseconds, no
 * exec) with CLONE_PARENT, so the placeholder is the daemon's child,
 * reaped and watched by it as any other, and answers with its pid (or
 * minus an errno).
 *
 * The placeholder takes that socket as its fd 3, a client of the
 * daemon's from birth (no connect, no checks of the runtime folder),
 * starts a session of its own, shows its title in place of the server's
 * arguments (which ps shows), says HELLO and STANDIN (its pid) as any
 * client would, then passes every signal it gets on (HOLD_SIGNAL), and
 * ends when the daemon hangs up: the process ended, or its job did.
 * SIGKILL ends it at once; the daemon passes that on when the socket
 * closes. The server ends when the daemon hangs up on it. Static and
 * libc only. Not a command: run by mig-homed only.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mig/proto.h"

#define DAEMON_FD 3

/* The bytes of our arguments, which /proc/PID/cmdline (and ps) show. */
static char *args;
static size_t nargs;

/* Shows t (n bytes) as our command line: the kernel reads it up to the
 * first NUL when the arguments' last byte is not one (setproctitle). */
static void
set_title(const char *t, size_t n)
{
	if (nargs < 2)
		return;
	if (n > nargs - 2)
		n = nargs - 2;
	memcpy(args, t, n);
	memset(args + n, 0, nargs - n);
	args[nargs - 1] = ' ';
}

/* Sends frame type with a u32 payload; 0, or -1 when the daemon is gone. */
static int
send_u32(uint16_t type, uint32_t v)
{
	struct mig_buf out = { NULL, 0, 0 };
	int r;

	r = proto_put_u32(&out, v) == 0 ? 0 : -1;
	if (r == 0) {
		struct mig_buf f = { NULL, 0, 0 };

		r = mig_frame_put(&f, type, 0, 0, out.data, out.len) == 0 &&
		    write(DAEMON_FD, f.data, f.len) == (ssize_t)f.len ? 0 : -1;
		mig_buf_free(&f);
	}
	mig_buf_free(&out);
	return r;
}

/* A placeholder's life, in the clone: fd is its socket to the daemon. */
static void __attribute__((noreturn))
placeholder(int fd, const char *title, size_t n)
{
	struct signalfd_siginfo si;
	uint8_t junk[256];
	sigset_t all;
	int sfd;

	/* Every signal that can be caught is passed on; they were blocked
	 * from birth, so none came before. */
	sigfillset(&all);
	sigdelset(&all, SIGCHLD);
	sigprocmask(SIG_SETMASK, &all, NULL);
	if (dup2(fd, DAEMON_FD) == -1)
		_exit(1);
	close(fd);
	setsid();
	set_title(title, n);
	if ((sfd = signalfd(-1, &all, SFD_CLOEXEC)) == -1 ||
	    send_u32(MIG_M_HELLO, MIG_PROTO_VERSION) != 0 ||
	    send_u32(MIG_M_STANDIN, (uint32_t)getpid()) != 0)
		_exit(1);
	for (;;) {
		struct pollfd pf[2] = { { .fd = DAEMON_FD, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN } };
		if (poll(pf, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if (pf[0].revents != 0 && read(DAEMON_FD, junk, sizeof(junk)) <= 0)
			_exit(0);
		if ((pf[1].revents & POLLIN) &&
		    read(sfd, &si, sizeof(si)) == sizeof(si) &&
		    send_u32(MIG_M_HOLD_SIGNAL, si.ssi_signo) != 0)
			_exit(0);
	}
}

/* One request: a title with a socket. 1 when served (or refused), 0 when
 * the daemon hung up, -1 on a failure of our own socket. */
static int
serve(void)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	char title[512];
	struct iovec iov = { title, sizeof(title) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = c.buf, .msg_controllen = sizeof(c.buf) };
	struct cmsghdr *h;
	sigset_t all, old;
	int32_t answer;
	ssize_t n;
	int fd = -1;
	long pid;

	if ((n = recvmsg(DAEMON_FD, &m, MSG_CMSG_CLOEXEC)) == 0)
		return 0;
	if (n < 0)
		return errno == EINTR ? 1 : -1;
	h = CMSG_FIRSTHDR(&m);
	if (h != NULL && h->cmsg_level == SOL_SOCKET &&
	    h->cmsg_type == SCM_RIGHTS && h->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(h), sizeof(int));
	if (fd < 0 || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		answer = -EINVAL;
	} else {
		/* The clone starts with every signal blocked. */
		sigfillset(&all);
		sigprocmask(SIG_SETMASK, &all, &old);
		pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL,
		    NULL, NULL);
		if (pid == 0)
			placeholder(fd, title, (size_t)n);
		answer = pid > 0 ? (int32_t)pid : -errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	if (fd >= 0)
		close(fd);
	return write(DAEMON_FD, &answer, sizeof(answer)) == sizeof(answer) ?
	    1 : -1;
}

int
main(int argc, char **argv)
{
	static const char me[] = "mig-standin: placeholder server";
	int sotype = 0;
	socklen_t len = sizeof(sotype);
	int r;

	if (argc != 2 || getsockopt(DAEMON_FD, SOL_SOCKET, SO_TYPE, &sotype,
	    &len) == -1 || sotype != SOCK_SEQPACKET) {
		fprintf(stderr, "mig-standin: run by mig-homed only, as its "
		    "placeholder server\n");
		return 2;
	}
	/* argv[1] is room for the placeholders' titles. */
	args = argv[0];
	nargs = (size_t)(argv[1] + strlen(argv[1]) + 1 - argv[0]);
	set_title(me, sizeof(me) - 1);
	while ((r = serve()) > 0)
		;
	return r == 0 ? 0 : 1;
}
