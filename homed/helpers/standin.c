/*
 * standin.c: mig-standin, the placeholder server of the home daemon
 * (home/hold.c, server.c). A placeholder holds a home pid for a process a
 * placed job started on a host (home/hold.c). The daemon starts one
 * server, with one end of a SOCK_SEQPACKET pair as fd 3, and asks it for
 * each placeholder: a message of the placeholder's title ("mig: pid N on
 * HOST: WHAT") carrying one end of a new socket pair; the placeholder is
 * the clone serve.c makes for it (the daemon's child) and the answer its
 * pid (or minus an errno).
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
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"
#include "mig/proto.h"
#include "serve.h"

#define DAEMON_FD MIG_SERVE_FD

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

/* A placeholder's life, in the clone: the request is its title, with
 * its socket to the daemon. */
static void
placeholder(const char *title, size_t n, const int *fds, size_t nfds)
{
	int fd = fds[0];
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

int
main(int argc, char **argv)
{
	static const char me[] = "mig-standin: placeholder server";

	mig__relro();
	if (argc != 2 || !mig__serve_started()) {
		fprintf(stderr, "mig-standin: run by mig-homed only, as its "
		    "placeholder server\n");
		return 2;
	}
	/* argv[1] is room for the placeholders' titles. */
	args = argv[0];
	nargs = (size_t)(argv[1] + strlen(argv[1]) + 1 - argv[0]);
	set_title(me, sizeof(me) - 1);
	return mig__serve(1, 1, placeholder);
}
