/*
 * standin.c: mig-standin, the placeholder that holds a home pid for a
 * process a placed job started on a host (home/hold.c). The home daemon
 * starts it with posix_spawn, titled "mig: pid N on HOST: WHAT" (its
 * argv[0], which ps shows), with one end of a socket pair as fd 3: a
 * client of the daemon's from birth, with no connect and no checks of
 * the runtime folder. It says HELLO and STANDIN (its pid) as any client
 * would, then passes every signal it gets on (HOLD_SIGNAL), and ends
 * when the daemon hangs up: the process ended, or its job did. SIGKILL
 * ends it at once; the daemon passes that on when the socket closes.
 * Static and libc only, as it starts for each process of each placed
 * job. Not a command: run by mig-homed only.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mig/proto.h"

#define DAEMON_FD 3

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

int
main(int argc, char **argv)
{
	struct signalfd_siginfo si;
	struct stat st;
	uint8_t junk[256];
	sigset_t all;
	int sfd;

	if (argc != 1 || fstat(DAEMON_FD, &st) == -1 || !S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "mig-standin: run by mig-homed only, as a "
		    "placeholder\n");
		return 2;
	}
	/* Every signal that can be caught is passed on. */
	sigfillset(&all);
	sigdelset(&all, SIGCHLD);
	sigprocmask(SIG_BLOCK, &all, NULL);
	if ((sfd = signalfd(-1, &all, SFD_CLOEXEC)) == -1 ||
	    send_u32(MIG_M_HELLO, MIG_PROTO_VERSION) != 0 ||
	    send_u32(MIG_M_STANDIN, (uint32_t)getpid()) != 0)
		return 1;
	for (;;) {
		struct pollfd pf[2] = { { .fd = DAEMON_FD, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN } };
		if (poll(pf, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (pf[0].revents != 0 && read(DAEMON_FD, junk, sizeof(junk)) <= 0)
			return 0;
		if ((pf[1].revents & POLLIN) &&
		    read(sfd, &si, sizeof(si)) == sizeof(si) &&
		    send_u32(MIG_M_HOLD_SIGNAL, si.ssi_signo) != 0)
			return 0;
	}
}
