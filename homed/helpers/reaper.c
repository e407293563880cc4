/*
 * reaper.c: mig-reaper, the subreaper server of a host's mig-homed
 * (host/subreaper.c). Started once, with the daemon's socket as fd 3
 * (serve.h), it makes each job's subreaper as a clone of itself, the
 * daemon's child: a fork of this small static image, not of the daemon
 * (whose page tables would be copied, and every page either side then
 * writes), and no exec. The request is a u32 mask of the slots
 * (start.h) its descriptors go to, in slot order; the clone puts them
 * there, reads the job's description and becomes its subreaper
 * (start.c, reap.c). With START_SPARE, the one descriptor is a socket:
 * the clone is a spare, made before its job, which waits on that socket
 * for the same request and then does the same; so a job's start waits
 * for no fork. Not a command: run by mig-homed only.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mig/mig.h>

#include "core.h"
#include "serve.h"
#include "start.h"

/* Our parent, and our clones' (CLONE_PARENT). */
static pid_t daemon_pid;

static void subreaper(const char *msg, size_t n, const int *fds,
    size_t nfds);

/* A spare: its job's request comes on fd; the daemon's hanging up (it
 * stops, or has no use for us) or its death ends us. */
static void __attribute__((noreturn))
spare(int fd, pid_t daemon)
{
	char msg[MIG_SERVE_MSG];
	int fds[MIG_SERVE_FDS];
	size_t nfds;
	ssize_t n;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != daemon ||
	    (n = mig__serve_recv(fd, msg, fds, &nfds)) <= 0)
		_exit(0);
	close(fd);
	subreaper(msg, (size_t)n, fds, nfds);
	_exit(MIG_EXIT_FAILURE);
}

static void
subreaper(const char *msg, size_t n, const int *fds, size_t nfds)
{
	int high[START_FD_COUNT];
	char **argv, **envp, *m;
	struct mig_start s;
	struct stat st;
	uint32_t mask;
	size_t k = 0;

	if (n != sizeof(mask))
		_exit(MIG_EXIT_FAILURE);
	memcpy(&mask, msg, sizeof(mask));
	if (mask == START_SPARE && nfds == 1)
		spare(fds[0], daemon_pid);
	if (!(mask & (1u << START_FD_DESC)))
		_exit(MIG_EXIT_FAILURE);
	/* Above every slot first, so that no dup2 into a slot lands on a
	 * descriptor still to be moved (our socket is fd 3 too). */
	for (int i = 0; i < START_FD_COUNT; i++) {
		high[i] = -1;
		if (!(mask & (1u << i)))
			continue;
		if (k == nfds || (high[i] = fcntl(fds[k++], F_DUPFD_CLOEXEC,
		    START_FD_COUNT)) == -1)
			_exit(MIG_EXIT_FAILURE);
	}
	if (k != nfds)
		_exit(MIG_EXIT_FAILURE);
	for (int i = 0; i < START_FD_COUNT; i++)
		if (high[i] >= 0 && dup2(high[i], i) == -1)
			_exit(MIG_EXIT_FAILURE);
	mig__close_range(START_FD_COUNT, ~0u);
	if (fstat(START_FD_DESC, &st) == -1 || st.st_size <= 0 ||
	    (m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE,
	    START_FD_DESC, 0)) == MAP_FAILED ||
	    mig__start_decode(m, (size_t)st.st_size, &s, &argv, &envp) != 0)
		_exit(MIG_EXIT_FAILURE);
	close(START_FD_DESC);
	mig__start(&s, argv, envp);
}

int
main(int argc, char **argv)
{
	mig__relro();
	if (argc != 2 || strcmp(argv[1], "serve") != 0 ||
	    !mig__serve_started()) {
		fprintf(stderr, "mig-reaper: run by mig-homed only, as its "
		    "subreaper server\n");
		return 2;
	}
	daemon_pid = getppid();
	return mig__serve(1, START_FD_COUNT, subreaper);
}
