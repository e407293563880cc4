/*
 * execpaths: starts a program through one of libc's ways of running
 * programs, so that a test can check that the shim (home role) catches
 * each of them. Prints whatever the program prints and exits with its
 * status (or 128 + signal).
 *
 * Usage: execpaths spawn|spawnp|system|popen|execvp|execl|vfork|clonevm PROGRAM [ARG...]
 *
 * spawn and execl need PROGRAM as a path; the others search PATH.
 * system and popen run PROGRAM ARG... joined by spaces through /bin/sh.
 * clonevm: a child of clone(CLONE_VM | CLONE_VFORK), on a stack of its
 * own, execvp's PROGRAM: the vfork that the shim cannot make a fork.
 */
#define _GNU_SOURCE /* vfork */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int
status_of(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 255;
}

static int
wait_for(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR) {
			perror("execpaths: waitpid");
			return 255;
		}
	return status_of(st);
}

/* PROGRAM ARG... as one shell command line (the tests pass plain words). */
static void
join(char *buf, size_t size, char **argv)
{
	size_t n = 0;

	buf[0] = '\0';
	for (; *argv != NULL; argv++)
		n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s",
		    n > 0 ? " " : "", *argv);
	if (n >= size) {
		fprintf(stderr, "execpaths: command line too long\n");
		exit(255);
	}
}

static int
exec_it(void *arg)
{
	char **prog = arg;

	execvp(prog[0], prog);
	_exit(127);
}

int
main(int argc, char **argv)
{
	const char *how = argc > 2 ? argv[1] : "";
	char **prog = argv + 2, line[4096];
	pid_t pid;
	int r;

	if (strcmp(how, "spawn") == 0 || strcmp(how, "spawnp") == 0) {
		r = (how[5] == 'p' ? posix_spawnp : posix_spawn)(&pid, prog[0],
		    NULL, NULL, prog, environ);
		if (r != 0) {
			fprintf(stderr, "execpaths: posix_spawn: %s\n",
			    strerror(r));
			return 255;
		}
		return wait_for(pid);
	}
	if (strcmp(how, "system") == 0) {
		join(line, sizeof(line), prog);
		if ((r = system(line)) == -1) {
			perror("execpaths: system");
			return 255;
		}
		return status_of(r);
	}
	if (strcmp(how, "popen") == 0) {
		FILE *f;
		size_t n;
		join(line, sizeof(line), prog);
		if ((f = popen(line, "r")) == NULL) {
			perror("execpaths: popen");
			return 255;
		}
		while ((n = fread(line, 1, sizeof(line), f)) > 0)
			fwrite(line, 1, n, stdout);
		if ((r = pclose(f)) == -1) {
			perror("execpaths: pclose");
			return 255;
		}
		return status_of(r);
	}
	if (strcmp(how, "execvp") == 0) {
		execvp(prog[0], prog);
		perror("execpaths: execvp");
		return 255;
	}
	if (strcmp(how, "execl") == 0) {
		/* At most three arguments after the program: enough here. */
		if (argc > 6) {
			fprintf(stderr, "execpaths: execl takes up to 3 args\n");
			return 255;
		}
		execl(prog[0], prog[0], argc > 3 ? prog[1] : (char *)NULL,
		    argc > 4 ? prog[2] : (char *)NULL,
		    argc > 5 ? prog[3] : (char *)NULL, (char *)NULL);
		perror("execpaths: execl");
		return 255;
	}
	if (strcmp(how, "vfork") == 0) {
		fflush(stdout);
		if ((pid = vfork()) == -1) {
			perror("execpaths: vfork");
			return 255;
		}
		if (pid == 0) {
			execvp(prog[0], prog);
			_exit(127);
		}
		return wait_for(pid);
	}
	if (strcmp(how, "clonevm") == 0) {
		static char stack[1 << 16];
		fflush(stdout);
		if ((pid = clone(exec_it, stack + sizeof(stack),
		    CLONE_VM | CLONE_VFORK | SIGCHLD, prog)) == -1) {
			perror("execpaths: clone");
			return 255;
		}
		return wait_for(pid);
	}
	fprintf(stderr, "usage: execpaths spawn|spawnp|system|popen|execvp|"
	    "execl|vfork|clonevm PROGRAM [ARG...]\n");
	return 2;
}
