/*
 * standin.c: mig --standin HOST PID WHAT, the placeholder that holds a
 * home pid for a process a placed job started on HOST (docs/design.md, "Failure semantics").
 * The home daemon starts it; `ps` shows what it stands for, and every
 * signal it gets goes to that process. It ends when the daemon hangs up:
 * the process ended, or its job did.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "launcher.h"
#include "mig/proto.h"

int
mig__standin_main(int argc, char **argv)
{
	struct mig_buf out = { NULL, 0, 0 };
	struct signalfd_siginfo si;
	uint8_t v[4] = { MIG_PROTO_VERSION, 0, 0, 0 }, p[4], junk[256];
	sigset_t all;
	int fd, sfd;

	if (argc != 4)
		mig__fatal("usage: mig --standin HOST PID WHAT");
	setproctitle("-mig: pid %s on %s: %s", argv[2], argv[1], argv[3]);
	/* Every signal that can be caught is passed on; SIGKILL ends us,
	 * and the daemon passes that on when our socket closes. */
	sigfillset(&all);
	sigdelset(&all, SIGCHLD);
	sigprocmask(SIG_BLOCK, &all, NULL);
	if ((sfd = signalfd(-1, &all, SFD_CLOEXEC)) == -1 ||
	    mig_connect(&fd, 0, NULL, 0) != 0)
		return MIG_EXIT_FAILURE;
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)((uint32_t)getpid() >> (8 * i));
	if (mig_frame_put(&out, MIG_M_HELLO, 0, 0, v, sizeof(v)) != 0 ||
	    mig_frame_put(&out, MIG_M_STANDIN, 0, 0, p, sizeof(p)) != 0 ||
	    mig__write_full(fd, out.data, out.len) != 0)
		return MIG_EXIT_FAILURE;
	for (;;) {
		struct pollfd pf[2] = { { .fd = fd, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN } };
		if (poll(pf, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			return MIG_EXIT_FAILURE;
		}
		if (pf[0].revents != 0 && read(fd, junk, sizeof(junk)) <= 0)
			return 0;
		if ((pf[1].revents & POLLIN) &&
		    read(sfd, &si, sizeof(si)) == sizeof(si)) {
			for (int i = 0; i < 4; i++)
				p[i] = (uint8_t)(si.ssi_signo >> (8 * i));
			out.len = 0;
			if (mig_frame_put(&out, MIG_M_HOLD_SIGNAL, 0, 0, p,
			    sizeof(p)) != 0 ||
			    mig__write_full(fd, out.data, out.len) != 0)
				return 0;
		}
	}
}
