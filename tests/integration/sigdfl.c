/*
 * sigdfl: runs a program with every signal at its default action and
 * none blocked.
 *
 * A non-interactive bash starts background jobs with SIGINT and SIGQUIT
 * ignored, and a signal ignored on entry to a shell cannot be trapped or
 * reset there ("trap - INT" is silently a no-op). The signal tests start
 * mig in the background through this helper so that mig starts the way it
 * would from a terminal.
 *
 * Usage: sigdfl PROGRAM [ARG...]
 */
#define _GNU_SOURCE /* NSIG */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct sigaction sa;
	sigset_t none;
	int sig;

	if (argc < 2) {
		fprintf(stderr, "usage: sigdfl PROGRAM [ARG...]\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	/* SIGKILL, SIGSTOP and glibc's reserved signals fail; that is fine. */
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) != 0) {
		perror("sigdfl: sigprocmask");
		return 126;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "sigdfl: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
