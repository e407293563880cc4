/*
 * spawnfa: starts PROGRAM with posix_spawn, asking for file actions and
 * attributes, and prints what the caller sees, so that a test can run it
 * natively and under mig (the program placed) and compare.
 *
 * Usage: spawnfa DIR plain|closefrom|kill|thread PROGRAM [ARG...]
 *
 * The file actions: the program's stdout is our pipe (adddup2), its
 * stderr DIR/err.txt (addchdir_np DIR, then addopen of "err.txt"), and
 * fd 9, open here without close-on-exec, is closed (addclose);
 * "closefrom" adds posix_spawn_file_actions_addclosefrom_np(10). The
 * attributes: an empty signal mask (we block SIGUSR2), SIGTERM to its
 * default (we ignore it), and a process group of its own. With "kill",
 * once the program has printed a line saying "ready" it gets SIGTERM.
 * With "thread", a second thread of ours sleeps while we spawn.
 *
 * Prints: whether the child is in a group of its own and runs this very
 * program (no exec: "stub: forked", else "stub: exec'd"), what the
 * program printed (its $$ shown as "SPAWNED" when it is the pid
 * posix_spawn returned), whether waitpid on that pid returned it, the
 * status, and DIR/err.txt.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void
die(const char *what, int err)
{
	fprintf(stderr, "spawnfa: %s: %s\n", what, strerror(err));
	exit(255);
}

/* Does /proc/PID/exe name the program we run? */
static int
runs_me(pid_t pid)
{
	char a[64], self[PATH_MAX], other[PATH_MAX];
	ssize_t n, m;

	snprintf(a, sizeof(a), "/proc/%d/exe", (int)pid);
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0 ||
	    (m = readlink(a, other, sizeof(other) - 1)) <= 0)
		return 0;
	self[n] = other[m] = '\0';
	return strcmp(self, other) == 0;
}

static void *
nap(void *arg)
{
	(void)arg;
	sleep(600);
	return NULL;
}

/* One line the program printed, with its pid as SPAWNED. */
static void
show(const char *line, pid_t pid)
{
	char want[32];
	const char *at;

	snprintf(want, sizeof(want), "pid=%d ", (int)pid);
	if ((at = strstr(line, want)) != NULL)
		printf("out: %.*spid=SPAWNED %s", (int)(at - line), line,
		    at + strlen(want));
	else
		printf("out: %s", line);
}

int
main(int argc, char **argv)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, term, usr2;
	char line[4096], path[PATH_MAX];
	int p[2], r, st, kill_it;
	pid_t pid, w;
	FILE *out, *err;

	if (argc < 4) {
		fprintf(stderr, "usage: spawnfa DIR plain|closefrom|kill|thread "
		    "PROGRAM [ARG...]\n");
		return 255;
	}
	kill_it = strcmp(argv[2], "kill") == 0;
	if (strcmp(argv[2], "thread") == 0) {
		pthread_t t;
		if ((r = pthread_create(&t, NULL, nap, NULL)) != 0)
			die("pthread_create", r);
	}
	signal(SIGTERM, SIG_IGN);
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	sigprocmask(SIG_BLOCK, &usr2, NULL);
	if (pipe2(p, O_CLOEXEC) == -1)
		die("pipe", errno);
	if (dup2(open("/dev/null", O_RDONLY), 9) != 9)
		die("dup2", errno);

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addchdir_np(&fa, argv[1]);
	posix_spawn_file_actions_addopen(&fa, 2, "err.txt",
	    O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_addclose(&fa, 9);
	if (strcmp(argv[2], "closefrom") == 0)
		posix_spawn_file_actions_addclosefrom_np(&fa, 10);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &term);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	if ((r = posix_spawn(&pid, argv[3], &fa, &attr, argv + 3,
	    environ)) != 0)
		die("posix_spawn", r);
	printf("own group: %s\n", getpgid(pid) == pid ? "yes" : "no");
	printf("stub: %s\n", runs_me(pid) ? "forked" : "exec'd");
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(p[1]);
	if ((out = fdopen(p[0], "r")) == NULL)
		die("fdopen", errno);
	while (fgets(line, sizeof(line), out) != NULL) {
		show(line, pid);
		if (kill_it && strstr(line, "ready") != NULL)
			kill(pid, SIGTERM);
	}
	fclose(out);
	while ((w = waitpid(pid, &st, 0)) == -1 && errno == EINTR)
		;
	printf("waitpid: %s\n", w == pid ? "the spawned pid" : "another");
	if (WIFEXITED(st))
		printf("status: exit %d\n", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("status: signal %d\n", WTERMSIG(st));
	snprintf(path, sizeof(path), "%s/err.txt", argv[1]);
	if ((err = fopen(path, "r")) == NULL)
		die(path, errno);
	while (fgets(line, sizeof(line), err) != NULL)
		printf("err.txt: %s", line);
	fclose(err);
	return 0;
}
