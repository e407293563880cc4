/*
 * probe_guard: the shim must not change the program it lives in.
 *
 *   probe_guard         popen's streams, huge exec calls, dlsym from a
 *                       signal handler, popen from threads
 *   probe_guard calls   signals to pids and groups, and fork, with a
 *                       daemon (run.sh starts fakehomed.py)
 *   probe_guard late    a child whose line in the identity page comes
 *                       after its first getpid
 *
 * It is linked with -rdynamic: its own dlsym (below) comes before
 * libc's for the shim, and counts the calls made in a signal handler.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "mig/ident.h"
#include "probe.h"

extern char **environ;

static volatile sig_atomic_t in_handler, handler_dlsyms, reaped;

/* The shim asks for RTLD_NEXT of its own: libc's definition. */
void *
dlsym(void *restrict handle, const char *restrict name)
{
	static void *(*real)(void *, const char *);
	static void *libc;

	if (libc == NULL)
		libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
	if (real == NULL)
		real = (void *(*)(void *, const char *))dlvsym(libc, "dlsym",
		    "GLIBC_2.34");
	if (real == NULL)
		real = (void *(*)(void *, const char *))dlvsym(libc, "dlsym",
		    "GLIBC_2.2.5");
	if (in_handler)
		handler_dlsyms++;
	return real(handle == RTLD_NEXT ? libc : handle, name);
}

static void
on_chld(int sig)
{
	int st;

	(void)sig;
	in_handler = 1;
	while (waitpid(-1, &st, WNOHANG) > 0)
		reaped++;
	in_handler = 0;
}

/* Does the child of a second popen hold the first one's descriptor? */
static void
two_popens(void)
{
	FILE *w = popen("cat >/dev/null", "w");
	FILE *r = popen("for f in /proc/$$/fd/*; do echo ${f##*/}; done", "r");
	char line[64], fd[16];
	int holds = 0;

	if (w == NULL || r == NULL) {
		say("popen", "failed %s", strerrorname_np(errno));
		return;
	}
	snprintf(fd, sizeof(fd), "%d\n", fileno(w));
	while (fgets(line, sizeof(line), r) != NULL)
		if (strcmp(line, fd) == 0)
			holds = 1;
	say("popen.second-child-holds-first", "%s", holds ? "yes" : "no");
	say("popen.pclose(r)", "%d", pclose(r));
	say("popen.pclose(w)", "%d", pclose(w));
	say("popen(bad-mode)", "%s", popen("true", "rw") == NULL ?
	    strerrorname_np(errno) : "opened");
}

/* exec and posix_spawn with 3,000,000 arguments: E2BIG, not a crash. */
static void
huge_exec(void)
{
	size_t n = 3000000;
	char **argv = calloc(n + 1, sizeof(*argv));
	int st, e;
	pid_t pid;

	for (size_t i = 0; i < n; i++)
		argv[i] = (char *)"x";
	for (int how = 0; how < 2; how++) {
		if ((pid = fork()) == 0) {
			if (how == 0)
				execv("/bin/true", argv);
			else
				execvp("true", argv);
			printf("%s %s\n", how ? "execvp(3M)" : "execv(3M)",
			    strerrorname_np(errno));
			fflush(stdout);
			_exit(0);
		}
		waitpid(pid, &st, 0);
		if (WIFSIGNALED(st))
			say(how ? "execvp(3M)" : "execv(3M)", "signal %d",
			    WTERMSIG(st));
	}
	e = posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ);
	if (e == 0)
		waitpid(pid, NULL, 0);
	say("posix_spawn(3M)", "%s", err(e));
	free(argv);
}

static void *
popen_loop(void *arg)
{
	long bad = 0;

	(void)arg;
	for (int i = 0; i < 40; i++) {
		FILE *f = popen("true", i % 2 ? "r" : "w");
		if (f == NULL || pclose(f) != 0)
			bad++;
	}
	return (void *)bad;
}

static void
guard(void)
{
	struct sigaction sa = { .sa_handler = on_chld };
	sigset_t chld, old;
	pthread_t t[4];
	long bad = 0;
	pid_t pid;

	two_popens();
	huge_exec();
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, popen_loop, NULL);
	for (int i = 0; i < 4; i++) {
		void *b;
		pthread_join(t[i], &b);
		bad += (long)b;
	}
	say("threads.popen-failures", "%ld", bad);
	/* Last: the first waitpid of this process is the handler's.
	 * SIGCHLD stays blocked but in sigsuspend: a pause() after the
	 * check could miss a child that ended in between, and wait forever. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	if ((pid = fork()) == 0)
		_exit(0);
	while (!reaped)
		sigsuspend(&old);
	sigprocmask(SIG_SETMASK, &old, NULL);
	say("sigchld.reaped", "%d", (int)reaped);
	say("sigchld.dlsym-in-handler", "%d", (int)handler_dlsyms);
}

/* Each call with errno set before: a success must leave it alone. */
#define ERRCALL(key, call)                                             \
	do {                                                           \
		long r_;                                               \
		errno = EDOM;                                          \
		r_ = (call);                                           \
		say(key, "%ld errno=%s", r_, strerrorname_np(errno));  \
	} while (0)

static void
calls(void)
{
	union sigval v = { .sival_int = 0 };
	int fds[2], st;
	pid_t pid, real = 0;

	ids = real_ids();
	ERRCALL("killpg(getpgrp,0)", killpg(getpgrp(), 0));
	ERRCALL("kill(-getpgrp,0)", kill(-getpgrp(), 0));
	ERRCALL("kill(getpid,0)", kill(getpid(), 0));
	ERRCALL("kill(bad,0)", kill(999999999, 0));
	ERRCALL("kill(-bad,0)", kill(-999999999, 0));
	ERRCALL("killpg(bad,0)", killpg(999999999, 0));
	ERRCALL("sigqueue(bad,0)", sigqueue(999999999, 0, v));
	ERRCALL("tgkill(bad,bad,0)", tgkill(999999999, 999999999, 0));
	if (pipe(fds) != 0)
		exit(99);
	if ((pid = fork()) == 0) {
		real = (pid_t)real_ids().pid;
		(void)!write(fds[1], &real, sizeof(real));
		_exit(0);
	}
	(void)!read(fds[0], &real, sizeof(real));
	waitpid(pid, &st, 0);
	say("fork.pid", "%s", pid == real ? "CHILD" : pidname(pid));
}

/* The child's line in the page comes after its first getpid: the
 * second must see it. Natively, and without a page, both are REAL. */
static void
late(void)
{
	struct mig_ident *id = NULL;
	int go[2], done[2];
	pid_t pid;
	char c;

	if (fcntl(100, F_GETFD) != -1)
		id = mmap(NULL, MIG_IDENT_SIZE, PROT_READ | PROT_WRITE,
		    MAP_SHARED, 100, 0);
	if (id == MAP_FAILED)
		id = NULL;
	if (pipe(go) != 0 || pipe(done) != 0)
		exit(99);
	if ((pid = fork()) == 0) {
		long me = real_ids().pid;
		pid_t p = getpid();
		say("late.before", "%s", p == me ? "REAL" : pidname(p));
		(void)!write(done[1], "", 1);
		(void)!read(go[0], &c, 1);
		p = getpid();
		say("late.after", "%s", p == me ? "REAL" : pidname(p));
		_exit(0);
	}
	(void)!read(done[0], &c, 1);
	if (id != NULL) {
		__atomic_store_n(&id->pids[0].home_pid, 7777, __ATOMIC_RELEASE);
		__atomic_store_n(&id->pids[0].host_pid, pid, __ATOMIC_RELEASE);
	}
	(void)!write(go[1], "", 1);
	waitpid(pid, NULL, 0);
}

int
main(int argc, char **argv)
{
	ids = real_ids();
	if (argc > 1 && strcmp(argv[1], "calls") == 0)
		calls();
	else if (argc > 1 && strcmp(argv[1], "late") == 0)
		late();
	else
		guard();
	return 0;
}
