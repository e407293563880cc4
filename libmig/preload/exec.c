/*
 * exec.c: every way a program starts another one. In both roles the
 * child gets the shim back in its environment (env.c took it out of
 * ours), even when the caller hands it a cleared environment. In home
 * role, a program the policy places is started as the stub instead,
 *
 *     mig --stub SOCKET -- PATH ARG1 ...
 *
 * with the caller's own file actions and attributes, so that make waits
 * on the stub's pid as it would on the compiler's. All of it runs on the
 * stack from data loaded at start-up: these paths may run in a vfork
 * child, where neither the heap nor a round trip is allowed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "policy.h"
#include "preload.h"

extern char **environ;

static int (*real_execve)(const char *, char *const[], char *const[]);
static int (*real_execveat)(int, const char *, char *const[], char *const[],
    int);
static int (*real_fexecve)(int, char *const[], char *const[]);
static int (*real_posix_spawn)(pid_t *, const char *,
    const posix_spawn_file_actions_t *, const posix_spawnattr_t *,
    char *const[], char *const[]);
static int (*real_posix_spawnp)(pid_t *, const char *,
    const posix_spawn_file_actions_t *, const posix_spawnattr_t *,
    char *const[], char *const[]);
static int (*real_system)(const char *);
static FILE *(*real_popen)(const char *, const char *);
static int (*real_pclose)(FILE *);
static int (*real_execvpe)(const char *, char *const[], char *const[]);

#define ENV_BUF 16384

/*
 * The most arguments plus variables an exec call gets the shim's care
 * with: the copies live on the stack (no heap here), one pointer each.
 * Under the default 8 MiB stack limit the kernel takes at most 2 MiB of
 * strings and pointers, so a call past this cap would fail with E2BIG
 * anyway; it goes to the real function as it is, and the kernel answers.
 */
#define MIG_EXEC_MAXV 262144

void
mig__exec_init(void)
{
	MIG_REAL(real_execve, "execve");
	MIG_REAL(real_execveat, "execveat");
	MIG_REAL(real_fexecve, "fexecve");
	MIG_REAL(real_posix_spawn, "posix_spawn");
	MIG_REAL(real_posix_spawnp, "posix_spawnp");
	MIG_REAL(real_system, "system");
	MIG_REAL(real_popen, "popen");
	MIG_REAL(real_pclose, "pclose");
	MIG_REAL(real_execvpe, "execvpe");
}

/* The length of v, or MIG_EXEC_MAXV + 1 when over the cap. */
static size_t
count(char *const v[])
{
	size_t n = 0;

	while (v != NULL && v[n] != NULL && n <= MIG_EXEC_MAXV)
		n++;
	return n;
}

/* Too many for the stack copies: the caller makes the real call. */
static int
too_many(char *const argv[], char *const envp[])
{
	return count(argv) + count(envp) > MIG_EXEC_MAXV;
}

/* Does the policy place the program at path? Home role only; a program
 * the shim cannot follow only when the user named it. */
static int
placed(const char *path)
{
	int m;

	if (mig__shim.role != MIG_ROLE_HOME || mig__shim.stub[0] == '\0')
		return 0;
	m = mig__policy_match(mig__shim.policy, path);
	return m == 2 || (m == 1 && mig__unshimmable(path) == NULL);
}

/* PATH lookup as execvp does it, into buf; 0 when found. */
static int
search(const char *file, char *buf, size_t size)
{
	const char *path = getenv("PATH"), *p;

	if (strchr(file, '/') != NULL) {
		if (strlen(file) >= size)
			return -1;
		strcpy(buf, file);
		return 0;
	}
	if (path == NULL)
		path = "/bin:/usr/bin";
	for (p = path;; p += strcspn(p, ":") + 1) {
		size_t n = strcspn(p, ":");
		size_t f = strlen(file);
		if (n == 0 ? f + 1 < size : n + 1 + f < size) {
			if (n == 0) {
				strcpy(buf, file);
			} else {
				memcpy(buf, p, n);
				buf[n] = '/';
				strcpy(buf + n + 1, file);
			}
			if (access(buf, X_OK) == 0)
				return 0;
		}
		if (p[n] == '\0')
			return -1;
	}
}

/* argv for the stub: mig --stub SOCKET -- PATH ARG1 ... The socket of
 * the daemon that placed us travels in argv, not the environment: the
 * caller may have cleared that (env -i). */
static void
stub_argv(const char *path, char *const argv[], char **av)
{
	size_t n = count(argv);

	av[0] = (char *)"mig";
	av[1] = (char *)"--stub";
	av[2] = mig__shim.sock;
	av[3] = (char *)"--";
	av[4] = (char *)path;
	for (size_t i = 1; i < n; i++)
		av[4 + i] = argv[i];
	av[n < 1 ? 5 : n + 4] = NULL;
}

int
mig__execve(const char *path, char *const argv[], char *const envp[])
{
	MIG_REAL(real_execve, "execve");
	if (mig__shim.role == MIG_ROLE_NONE || too_many(argv, envp))
		return real_execve(path, argv, envp);

	size_t nenv = count(envp) + MIG_SHIM_MAXVARS + 4;
	char *env[nenv], buf[ENV_BUF];
	char *av[count(argv) + 6];

	if (mig__env_child(envp, env, nenv, buf, sizeof(buf)) < 0)
		return real_execve(path, argv, envp);
	if (placed(path) && access(path, X_OK) == 0) {
		stub_argv(path, argv, av);
		mig__exec_stub(av, env);
		real_execve(mig__shim.stub, av, env);
	}
	return real_execve(path, argv, env);
}

int
mig__execvpe(const char *file, char *const argv[], char *const envp[])
{
	char path[PATH_MAX];

	MIG_REAL(real_execvpe, "execvpe");
	if (*file == '\0') {
		errno = ENOENT;
		return -1;
	}
	if (mig__shim.role == MIG_ROLE_NONE || too_many(argv, envp))
		return real_execvpe(file, argv, envp);
	/* execvp's own rules (ENOEXEC scripts, EACCES) stay libc's: we
	 * only pick the file, and try as libc would when we find none. */
	if (search(file, path, sizeof(path)) == 0) {
		int saved = errno;
		mig__execve(path, argv, envp);
		if (errno != ENOENT && errno != ENOEXEC)
			return -1;
		errno = saved;
	}
	{
		size_t nenv = count(envp) + MIG_SHIM_MAXVARS + 4;
		char *env[nenv], buf[ENV_BUF];
		if (mig__env_child(envp, env, nenv, buf, sizeof(buf)) < 0)
			return real_execvpe(file, argv, envp);
		return real_execvpe(file, argv, env);
	}
}

int
mig__execveat(int dirfd, const char *path, char *const argv[],
    char *const envp[], int flags)
{
	MIG_REAL(real_execveat, "execveat");
	if (mig__shim.role == MIG_ROLE_NONE || too_many(argv, envp))
		return real_execveat(dirfd, path, argv, envp, flags);
	if (path[0] == '/' && !(flags & AT_EMPTY_PATH) && placed(path))
		return mig__execve(path, argv, envp);

	size_t nenv = count(envp) + MIG_SHIM_MAXVARS + 4;
	char *env[nenv], buf[ENV_BUF];

	if (mig__env_child(envp, env, nenv, buf, sizeof(buf)) < 0)
		return real_execveat(dirfd, path, argv, envp, flags);
	return real_execveat(dirfd, path, argv, env, flags);
}

int
mig__fexecve(int fd, char *const argv[], char *const envp[])
{
	MIG_REAL(real_fexecve, "fexecve");
	if (mig__shim.role == MIG_ROLE_NONE || too_many(argv, envp))
		return real_fexecve(fd, argv, envp);

	size_t nenv = count(envp) + MIG_SHIM_MAXVARS + 4;
	char *env[nenv], buf[ENV_BUF];

	if (mig__env_child(envp, env, nenv, buf, sizeof(buf)) < 0)
		return real_fexecve(fd, argv, envp);
	return real_fexecve(fd, argv, env);
}

int
mig__spawn(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
    const posix_spawnattr_t *attr, char *const argv[], char *const envp[],
    int search_path)
{
	MIG_REAL(real_posix_spawn, "posix_spawn");
	MIG_REAL(real_posix_spawnp, "posix_spawnp");
	if (mig__shim.role == MIG_ROLE_NONE || too_many(argv, envp))
		return search_path ?
		    real_posix_spawnp(pid, file, fa, attr, argv, envp) :
		    real_posix_spawn(pid, file, fa, attr, argv, envp);

	size_t nenv = count(envp) + MIG_SHIM_MAXVARS + 4;
	char *env[nenv], buf[ENV_BUF], path[PATH_MAX];
	char *av[count(argv) + 6];
	int r;

	if (mig__env_child(envp, env, nenv, buf, sizeof(buf)) < 0)
		return search_path ?
		    real_posix_spawnp(pid, file, fa, attr, argv, envp) :
		    real_posix_spawn(pid, file, fa, attr, argv, envp);
	if (placed(file) && (search_path ? search(file, path, sizeof(path)) :
		(strlen(file) < sizeof(path) ? strcpy(path, file), 0 : -1)) == 0 &&
	    access(path, X_OK) == 0) {
		stub_argv(path, argv, av);
		if ((r = mig__spawn_stub(pid, fa, attr, av, env)) >= 0)
			return r;
		return real_posix_spawn(pid, mig__shim.stub, fa, attr, av, env);
	}
	r = search_path ? real_posix_spawnp(pid, file, fa, attr, argv, env) :
			  real_posix_spawn(pid, file, fa, attr, argv, env);
	/* In a placed job, the new process gets a pid at home too. */
	if (r == 0 && pid != NULL)
		*pid = mig__pid_started(*pid, file);
	return r;
}

/* system() and popen() as POSIX describes them, on our posix_spawn: the
 * libc ones spawn through an internal call we cannot follow. */
int
mig__system(const char *cmd)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, oldint, oldquit;
	char *argv[] = { (char *)"sh", (char *)"-c", (char *)cmd, NULL };
	sigset_t block, oldmask, def;
	posix_spawnattr_t attr;
	int status = 0, r;
	pid_t pid;

	MIG_REAL(real_system, "system");
	if (mig__shim.role == MIG_ROLE_NONE)
		return real_system(cmd);
	if (cmd == NULL)
		return access("/bin/sh", X_OK) == 0;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, &oldint);
	sigaction(SIGQUIT, &ign, &oldquit);
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &oldmask);
	sigemptyset(&def);
	if (oldint.sa_handler != SIG_IGN)
		sigaddset(&def, SIGINT);
	if (oldquit.sa_handler != SIG_IGN)
		sigaddset(&def, SIGQUIT);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &oldmask);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF |
	    POSIX_SPAWN_SETSIGMASK);
	r = mig__spawn(&pid, "/bin/sh", NULL, &attr, argv, environ, 0);
	posix_spawnattr_destroy(&attr);
	if (r == 0) {
		while (waitpid(pid, &status, 0) == -1) {
			if (errno != EINTR) {
				status = -1;
				break;
			}
		}
	} else {
		status = 127 << 8;
	}
	sigaction(SIGINT, &oldint, NULL);
	sigaction(SIGQUIT, &oldquit, NULL);
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	return status;
}

#define MIG_POPEN_MAX 256
#define MIG_POPEN_CLAIMED ((FILE *)1)

/* The open popen streams. A slot is claimed by swapping f from NULL to
 * MIG_POPEN_CLAIMED, filled, then published by storing the stream;
 * pclose takes it back by swapping the stream out. Threads share it. */
static struct {
	FILE *f;
	pid_t pid;
	int fd;          /* the stream's descriptor, for later children */
} popened[MIG_POPEN_MAX];

static int
claim_slot(void)
{
	for (int i = 0; i < MIG_POPEN_MAX; i++) {
		FILE *none = NULL;
		if (__atomic_compare_exchange_n(&popened[i].f, &none,
		    MIG_POPEN_CLAIMED, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			return i;
	}
	return -1;
}

/* popen's mode as glibc reads it: one of r and w, and e. */
static int
popen_mode(const char *mode, int *reading, int *cloexec)
{
	int r = 0, w = 0;

	*cloexec = 0;
	for (; *mode != '\0'; mode++) {
		if (*mode == 'r')
			r = 1;
		else if (*mode == 'w')
			w = 1;
		else if (*mode == 'e')
			*cloexec = 1;
		else
			return -1;
	}
	*reading = r;
	return r ^ w ? 0 : -1;
}

FILE *
mig__popen(const char *cmd, const char *mode)
{
	char *argv[] = { (char *)"sh", (char *)"-c", (char *)cmd, NULL };
	posix_spawn_file_actions_t fa;
	int fds[2], reading, cloexec, slot, r, mine, theirs;
	FILE *f;
	pid_t pid;

	MIG_REAL(real_popen, "popen");
	if (mig__shim.role == MIG_ROLE_NONE)
		return real_popen(cmd, mode);
	if (popen_mode(mode, &reading, &cloexec) != 0) {
		errno = EINVAL;
		return NULL;
	}
	if ((slot = claim_slot()) < 0)
		return real_popen(cmd, mode);
	mine = reading ? 0 : 1;
	theirs = reading ? 1 : 0;
	if (pipe2(fds, O_CLOEXEC) == -1)
		goto fail;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[theirs], theirs);
	/* As POSIX asks and glibc does: the streams of earlier popen calls
	 * are not the new child's (their descriptors may have lost
	 * close-on-exec below). */
	for (int i = 0; i < MIG_POPEN_MAX; i++) {
		FILE *o = __atomic_load_n(&popened[i].f, __ATOMIC_ACQUIRE);
		int fd = __atomic_load_n(&popened[i].fd, __ATOMIC_RELAXED);
		if (o != NULL && o != MIG_POPEN_CLAIMED && fd != theirs)
			posix_spawn_file_actions_addclose(&fa, fd);
	}
	r = mig__spawn(&pid, "/bin/sh", &fa, NULL, argv, environ, 0);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[theirs]);
	if (r != 0) {
		close(fds[mine]);
		errno = r;
		goto fail;
	}
	if (!cloexec)
		fcntl(fds[mine], F_SETFD, 0);
	if ((f = fdopen(fds[mine], reading ? "r" : "w")) == NULL) {
		close(fds[mine]);
		waitpid(pid, NULL, 0);
		goto fail;
	}
	popened[slot].pid = pid;
	__atomic_store_n(&popened[slot].fd, fds[mine], __ATOMIC_RELAXED);
	__atomic_store_n(&popened[slot].f, f, __ATOMIC_RELEASE);
	return f;
 fail:
	__atomic_store_n(&popened[slot].f, NULL, __ATOMIC_RELEASE);
	return NULL;
}

int
mig__pclose(FILE *f)
{
	int status;
	pid_t pid = -1;

	MIG_REAL(real_pclose, "pclose");
	for (int i = 0; f != NULL && i < MIG_POPEN_MAX; i++) {
		FILE *o = f;
		pid_t p;
		if (__atomic_load_n(&popened[i].f, __ATOMIC_ACQUIRE) != f)
			continue;
		p = popened[i].pid;
		if (__atomic_compare_exchange_n(&popened[i].f, &o, NULL, 0,
		    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
			pid = p;
			break;
		}
	}
	if (pid == -1)
		return real_pclose(f);
	fclose(f);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	return status;
}
