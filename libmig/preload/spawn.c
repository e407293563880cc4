/*
 * spawn.c: a placed program's stub without exec. When a program starts a
 * placed one with posix_spawn (GNU make does), the shim forks, does in
 * the child what the caller asked of posix_spawn (its attributes and file
 * actions) and what exec would have done (caught signals back to their
 * default, close-on-exec descriptors closed, the shim's variables out of
 * the environment), and runs the stub's loop (libmig/stub.c) there. The
 * child is the stub: the caller waits on its pid as it would on the
 * program's, and no `mig --stub` is exec'd.
 *
 * glibc keeps file actions opaque, so the shim records them as they are
 * added, by the address of their object. An object holding an action the
 * shim did not record or cannot replay, attributes it does not know, or
 * a home without a socket named, get the exec'd stub, as before (exec.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mig/proto.h"
#include "preload.h"
#include "rundir.h"
#include "stub.h"

extern char **environ;

static int (*real_init)(posix_spawn_file_actions_t *);
static int (*real_destroy)(posix_spawn_file_actions_t *);
static int (*real_adddup2)(posix_spawn_file_actions_t *, int, int);
static int (*real_addopen)(posix_spawn_file_actions_t *, int, const char *,
    int, mode_t);
static int (*real_addclose)(posix_spawn_file_actions_t *, int);
static int (*real_addchdir)(posix_spawn_file_actions_t *, const char *);
static int (*real_addfchdir)(posix_spawn_file_actions_t *, int);
static pid_t (*real_fork)(void);

enum { FA_DUP2, FA_OPEN, FA_CLOSE, FA_CHDIR, FA_FCHDIR };

struct fa_action {
	int kind;         /* FA_* */
	int fd;           /* dup2's source; open's, close's, fchdir's fd */
	int newfd;        /* dup2's target */
	int oflag;
	mode_t mode;
	char *path;       /* open's and chdir's, our copy */
};

/*
 * The file actions objects alive: 64 at once is far more than any
 * program keeps (make, system and popen hold one each while they spawn).
 * When full, the next object is not recorded, which the shim says once,
 * and its spawns get the exec'd stub.
 */
#define MIG_FA_MAX 64

static struct fa_rec {
	const posix_spawn_file_actions_t *fa; /* NULL: a free slot */
	struct fa_action *v;
	int n, cap;
	int bad;          /* an action we could not record */
} recs[MIG_FA_MAX];
static pthread_mutex_t recs_lock = PTHREAD_MUTEX_INITIALIZER;
static int recs_full_said;

/* The record of fa, under recs_lock; NULL when there is none. */
static struct fa_rec *
find(const posix_spawn_file_actions_t *fa)
{
	for (int i = 0; i < MIG_FA_MAX; i++)
		if (recs[i].fa == fa)
			return &recs[i];
	return NULL;
}

static void
forget(struct fa_rec *r)
{
	for (int i = 0; i < r->n; i++)
		free(r->v[i].path);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

int
mig__fa_init(posix_spawn_file_actions_t *fa)
{
	struct fa_rec *r;
	int ret;

	MIG_REAL(real_init, "posix_spawn_file_actions_init");
	if ((ret = real_init(fa)) != 0)
		return ret;
	pthread_mutex_lock(&recs_lock);
	/* An object at an address seen before, never destroyed. */
	if ((r = find(fa)) != NULL)
		forget(r);
	if ((r = find(NULL)) != NULL)
		r->fa = fa;
	else
		mig__full_once(&recs_full_said, "mig: more than 64 posix_spawn "
		    "file actions at once; the others' placed programs get a "
		    "stub exec'd\n");
	pthread_mutex_unlock(&recs_lock);
	return 0;
}

int
mig__fa_destroy(posix_spawn_file_actions_t *fa)
{
	struct fa_rec *r;

	MIG_REAL(real_destroy, "posix_spawn_file_actions_destroy");
	pthread_mutex_lock(&recs_lock);
	if ((r = find(fa)) != NULL)
		forget(r);
	pthread_mutex_unlock(&recs_lock);
	return real_destroy(fa);
}

/* Records a, which libc took (ret 0) into fa. */
static int
record(const posix_spawn_file_actions_t *fa, int ret, struct fa_action a,
    const char *path)
{
	struct fa_rec *r;

	if (ret != 0)
		return ret;
	pthread_mutex_lock(&recs_lock);
	if ((r = find(fa)) == NULL || r->bad)
		goto out;
	if (r->n == r->cap) {
		int cap = r->cap > 0 ? 2 * r->cap : 8;
		struct fa_action *v = realloc(r->v, (size_t)cap * sizeof(*v));
		if (v == NULL) {
			r->bad = 1;
			goto out;
		}
		r->v = v;
		r->cap = cap;
	}
	if (path != NULL && (a.path = strdup(path)) == NULL) {
		r->bad = 1;
		goto out;
	}
	r->v[r->n++] = a;
 out:
	pthread_mutex_unlock(&recs_lock);
	return ret;
}

int
mig__fa_adddup2(posix_spawn_file_actions_t *fa, int fd, int newfd)
{
	MIG_REAL(real_adddup2, "posix_spawn_file_actions_adddup2");
	return record(fa, real_adddup2(fa, fd, newfd), (struct fa_action){
	    .kind = FA_DUP2, .fd = fd, .newfd = newfd }, NULL);
}

int
mig__fa_addopen(posix_spawn_file_actions_t *fa, int fd, const char *path,
    int oflag, mode_t mode)
{
	MIG_REAL(real_addopen, "posix_spawn_file_actions_addopen");
	return record(fa, real_addopen(fa, fd, path, oflag, mode),
	    (struct fa_action){ .kind = FA_OPEN, .fd = fd, .oflag = oflag,
	    .mode = mode }, path);
}

int
mig__fa_addclose(posix_spawn_file_actions_t *fa, int fd)
{
	MIG_REAL(real_addclose, "posix_spawn_file_actions_addclose");
	return record(fa, real_addclose(fa, fd), (struct fa_action){
	    .kind = FA_CLOSE, .fd = fd }, NULL);
}

int
mig__fa_addchdir(posix_spawn_file_actions_t *fa, const char *path)
{
	MIG_REAL(real_addchdir, "posix_spawn_file_actions_addchdir_np");
	return record(fa, real_addchdir(fa, path), (struct fa_action){
	    .kind = FA_CHDIR }, path);
}

int
mig__fa_addfchdir(posix_spawn_file_actions_t *fa, int fd)
{
	MIG_REAL(real_addfchdir, "posix_spawn_file_actions_addfchdir_np");
	return record(fa, real_addfchdir(fa, fd), (struct fa_action){
	    .kind = FA_FCHDIR, .fd = fd }, NULL);
}

/* MIG_STUB_EXEC=1: the stub is exec'd, as before this file (to compare
 * the two, or for a program the forked stub would not suit). */
static int
exec_wanted(void)
{
	const char *e = getenv("MIG_STUB_EXEC");

	return e != NULL && e[0] != '\0' && strcmp(e, "0") != 0;
}

/* Has this process one thread? The child of a fork by another would
 * find the locks its threads held taken for ever; an exec in place
 * would leave them running. */
static int
one_thread(void)
{
	struct stat st;

	return stat("/proc/self/task", &st) == 0 && st.st_nlink == 3;
}

/* The attributes this file carries out; any other flag gets the exec'd
 * stub. POSIX_SPAWN_USEVFORK changes nothing a program can see. */
#define KNOWN_FLAGS (POSIX_SPAWN_RESETIDS | POSIX_SPAWN_SETPGROUP | \
	POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | \
	POSIX_SPAWN_SETSCHEDPARAM | POSIX_SPAWN_SETSCHEDULER | \
	POSIX_SPAWN_USEVFORK | POSIX_SPAWN_SETSID)

/* Signals as exec leaves them: the caught ones back to their default,
 * and those attr names too. */
static void
reset_signals(const sigset_t *def)
{
	struct sigaction sa;

	for (int sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP ||
		    sigaction(sig, NULL, &sa) != 0)
			continue;
		if ((sa.sa_handler != SIG_IGN && sa.sa_handler != SIG_DFL) ||
		    (def != NULL && sigismember(def, sig) == 1)) {
			memset(&sa, 0, sizeof(sa));
			sa.sa_handler = SIG_DFL;
			sigaction(sig, &sa, NULL);
		}
	}
}

/* Carries out one file action; 0 or an errno. */
static int
act(const struct fa_action *a)
{
	int fd;

	switch (a->kind) {
	case FA_DUP2:
		if (a->fd == a->newfd) /* as glibc: the fd is inherited */
			return fcntl(a->fd, F_SETFD, 0) == -1 ? errno : 0;
		return dup2(a->fd, a->newfd) == -1 ? errno : 0;
	case FA_OPEN:
		if ((fd = open(a->path, a->oflag, a->mode)) == -1)
			return errno;
		if (fd != a->fd) {
			if (dup2(fd, a->fd) == -1)
				return errno;
			close(fd);
		}
		return 0;
	case FA_CLOSE:
		/* As glibc: only a descriptor out of range is an error. */
		if (close(a->fd) == -1 && a->fd < 0)
			return EBADF;
		return 0;
	case FA_CHDIR:
		return chdir(a->path) == -1 ? errno : 0;
	default:
		return fchdir(a->fd) == -1 ? errno : 0;
	}
}

/* Closes what exec would: every descriptor marked close-on-exec but
 * keep. By system calls: the shim's own open and readdir stay out. */
static void
close_on_exec(int keep)
{
	char buf[4096];
	long n;
	int d = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/fd",
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (d == -1)
		return;
	while ((n = syscall(SYS_getdents64, d, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			/* struct linux_dirent64: ino, off, reclen, type, name */
			unsigned short reclen;
			const char *name = buf + off + 19;
			int fd, fl;
			memcpy(&reclen, buf + off + 16, sizeof(reclen));
			off += reclen;
			if (name[0] < '0' || name[0] > '9')
				continue;
			fd = atoi(name);
			if (fd != d && fd != keep &&
			    (fl = fcntl(fd, F_GETFD)) != -1 && (fl & FD_CLOEXEC))
				close(fd);
		}
	}
	close(d);
}

/* Tells the parent why the child cannot be the stub, and ends it as
 * glibc's posix_spawn child does. */
static void __attribute__((noreturn))
child_failed(int report, int err)
{
	(void)!write(report, &err, sizeof(err));
	_exit(MIG_EXIT_NOTFOUND);
}

/* The rest of what exec would do, and the stub's loop: report (-1 for
 * none) closes once nothing can fail any more, and the signal mask
 * becomes mask. */
static void __attribute__((noreturn))
become_stub(int report, const sigset_t *mask, char **av, char **env)
{
	close_on_exec(report);
	/* The environment the exec'd stub would have: the caller's, without
	 * the shim's variables. */
	mig__env_strip(env);
	environ = env;
	mig__sock = mig__shim.sock;
	if (report >= 0)
		close(report);
	sigprocmask(SIG_SETMASK, mask, NULL);
	mig__run("", av + 4, MIG_JOB_PLACE);
}

static void __attribute__((noreturn))
child(int report, const struct fa_action *v, int n,
    const posix_spawnattr_t *attr, short flags, const sigset_t *mask,
    char **av, char **env)
{
	sigset_t set;
	int top = 3, fd;

	/* Our report pipe above every descriptor the actions name. */
	for (int i = 0; i < n; i++) {
		if (v[i].fd >= top)
			top = v[i].fd + 1;
		if (v[i].newfd >= top)
			top = v[i].newfd + 1;
	}
	if ((fd = fcntl(report, F_DUPFD_CLOEXEC, top)) == -1)
		child_failed(report, errno);
	close(report);
	report = fd;
	if (flags & POSIX_SPAWN_SETSIGDEF) {
		posix_spawnattr_getsigdefault(attr, &set);
		reset_signals(&set);
	} else {
		reset_signals(NULL);
	}
	if ((flags & POSIX_SPAWN_SETSID) && setsid() == -1)
		child_failed(report, errno);
	if (flags & POSIX_SPAWN_SETPGROUP) {
		pid_t pg;
		posix_spawnattr_getpgroup(attr, &pg);
		if (setpgid(0, pg) == -1)
			child_failed(report, errno);
	}
	if (flags & (POSIX_SPAWN_SETSCHEDULER | POSIX_SPAWN_SETSCHEDPARAM)) {
		struct sched_param sp;
		int policy = 0, r;
		posix_spawnattr_getschedparam(attr, &sp);
		posix_spawnattr_getschedpolicy(attr, &policy);
		r = (flags & POSIX_SPAWN_SETSCHEDULER) ?
		    sched_setscheduler(0, policy, &sp) :
		    sched_setparam(0, &sp);
		if (r == -1)
			child_failed(report, errno);
	}
	if ((flags & POSIX_SPAWN_RESETIDS) &&
	    (setgid(getgid()) == -1 || setuid(getuid()) == -1))
		child_failed(report, errno);
	for (int i = 0; i < n; i++) {
		int err = act(&v[i]);
		if (err != 0)
			child_failed(report, err);
	}
	if (flags & POSIX_SPAWN_SETSIGMASK)
		posix_spawnattr_getsigmask(attr, &set);
	else
		set = *mask;
	become_stub(report, &set, av, env);
}

int
mig__spawn_stub(pid_t *pidp, const posix_spawn_file_actions_t *fa,
    const posix_spawnattr_t *attr, char **av, char **env)
{
	const struct fa_action *v = NULL;
	sigset_t all, old;
	short flags = 0;
	int n = 0, p[2], err = 0;
	ssize_t got;
	pid_t pid;

	if (mig__shim.sock[0] == '\0' || exec_wanted() || !one_thread() ||
	    (attr != NULL && (posix_spawnattr_getflags(attr, &flags) != 0 ||
	    (flags & ~KNOWN_FLAGS) != 0)))
		return -1;
	if (fa != NULL) {
		struct fa_rec *r;
		pthread_mutex_lock(&recs_lock);
		/* Every action libc holds must be one we recorded. */
		if ((r = find(fa)) != NULL && !r->bad && r->n == fa->__used) {
			v = r->v;
			n = r->n;
		}
		pthread_mutex_unlock(&recs_lock);
		if (v == NULL && fa->__used > 0)
			return -1;
	}
	MIG_REAL(real_fork, "fork");
	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	/* No handler of the caller's may run in the child. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if ((pid = real_fork()) == 0) {
		close(p[0]);
		child(p[1], v, n, attr, flags, &old, av, env);
	}
	err = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(p[1]);
	if (pid == -1) {
		close(p[0]);
		return err;
	}
	/* The child says why it failed, or closes the pipe once it is the
	 * stub: posix_spawn's errors come back as its own. */
	while ((got = read(p[0], &err, sizeof(err))) == -1 && errno == EINTR)
		;
	close(p[0]);
	if (got == (ssize_t)sizeof(err)) {
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		return err;
	}
	if (pidp != NULL)
		*pidp = pid;
	return 0;
}

/* Is this process's memory its own? Not in a child of clone(CLONE_VM)
 * (a vfork made by system call), which must exec: its parent runs on
 * when it does. */
static int
own_memory(void)
{
	pid_t me = (pid_t)syscall(SYS_getpid);
	long r;

	if (mig__forked == me)
		return 1;
	r = syscall(SYS_kcmp, me, (pid_t)syscall(SYS_getppid), KCMP_VM, 0, 0);
	return r == 1 || r == 2;
}

void
mig__exec_stub(char **av, char **env)
{
	sigset_t all, old;

	/* A process with one thread and memory of its own, as exec would
	 * leave it: a child of fork (vfork is fork under the shim), a shell
	 * running its last command. */
	if (mig__shim.sock[0] == '\0' || exec_wanted() || !one_thread() ||
	    !own_memory())
		return;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	reset_signals(NULL);
	become_stub(-1, &old, av, env);
}

int
mig__stub_reach(const char *sock, int *fdp, char *why, size_t n)
{
	char err[PATH_MAX + 128];
	int r;

	err[0] = '\0';
	if ((r = mig__sock_connect(sock, fdp, err, sizeof(err))) != 0 &&
	    r != MIG_EUNSAFE)
		r = MIG_ENODAEMON;
	mig__reach_why(r, err, why, n);
	return r;
}

int
mig__stub_first(const char *sock)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(sock, '/'), *mark = NULL;

	for (int i = 0; i < mig__shim.nvars; i++)
		if (strncmp(mig__shim.vars[i], MIG_BUILD_VAR,
		    sizeof(MIG_BUILD_VAR) - 1) == 0)
			mark = mig__shim.vars[i] + sizeof(MIG_BUILD_VAR) - 1;
	if (slash == NULL || slash == sock ||
	    (size_t)(slash - sock) >= sizeof(dir))
		return 1;
	memcpy(dir, sock, (size_t)(slash - sock));
	dir[slash - sock] = '\0';
	return mig__build_first_in(dir, mark);
}
