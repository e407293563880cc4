/*
 * shim.c: libmig.so's constructor and its entry points that start
 * programs (exec, posix_spawn and its file actions, system, popen);
 * remote.c has those of the remote role. The LD_PRELOAD
 * shim lives inside arbitrary programs: it links libc only, keeps all
 * but these symbols hidden (libmig.version), and never exits or aborts:
 * when something fails it calls the real function.
 */
#include <dirent.h>
#include <fcntl.h>
#include <mqueue.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "preload.h"

extern char **environ;

__attribute__((constructor)) static void
shim_init(void)
{
	mig__env_init();
	mig__exec_init();
	mig__ident_init();
}

/* execl and friends: the variadic arguments, counted and copied onto the
 * stack (they may run in a vfork child). */
#define ARGV_FROM_VA(arg0, ap, argv, envp_out)                         \
	size_t n_ = 1;                                                 \
	va_start(ap, arg0);                                            \
	while (va_arg(ap, char *) != NULL)                             \
		n_++;                                                  \
	va_end(ap);                                                    \
	char *argv[n_ + 1];                                            \
	va_start(ap, arg0);                                            \
	argv[0] = (char *)(arg0);                                      \
	for (size_t i_ = 1; i_ <= n_; i_++)                            \
		argv[i_] = va_arg(ap, char *);                         \
	envp_out;                                                      \
	va_end(ap)

__attribute__((visibility("default"))) int
execve(const char *path, char *const argv[], char *const envp[])
{
	return mig__execve(path, argv, envp);
}

__attribute__((visibility("default"))) int
execv(const char *path, char *const argv[])
{
	return mig__execve(path, argv, environ);
}

__attribute__((visibility("default"))) int
execvp(const char *file, char *const argv[])
{
	return mig__execvpe(file, argv, environ);
}

__attribute__((visibility("default"))) int
execvpe(const char *file, char *const argv[], char *const envp[])
{
	return mig__execvpe(file, argv, envp);
}

__attribute__((visibility("default"))) int
execl(const char *path, const char *arg, ...)
{
	va_list ap;
	ARGV_FROM_VA(arg, ap, argv, (void)0);
	return mig__execve(path, argv, environ);
}

__attribute__((visibility("default"))) int
execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	ARGV_FROM_VA(arg, ap, argv, (void)0);
	return mig__execvpe(file, argv, environ);
}

__attribute__((visibility("default"))) int
execle(const char *path, const char *arg, ...)
{
	char *const *envp;
	va_list ap;
	ARGV_FROM_VA(arg, ap, argv, envp = va_arg(ap, char *const *));
	return mig__execve(path, argv, envp);
}

__attribute__((visibility("default"))) int
fexecve(int fd, char *const argv[], char *const envp[])
{
	return mig__fexecve(fd, argv, envp);
}

__attribute__((visibility("default"))) int
execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
    int flags)
{
	return mig__execveat(dirfd, path, argv, envp, flags);
}

__attribute__((visibility("default"))) int
posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
    const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	return mig__spawn(pid, path, fa, attr, argv, envp, 0);
}

__attribute__((visibility("default"))) int
posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
    const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	return mig__spawn(pid, file, fa, attr, argv, envp, 1);
}

__attribute__((visibility("default"))) int
posix_spawn_file_actions_init(posix_spawn_file_actions_t *fa)
{
	return mig__fa_init(fa);
}

__attribute__((visibility("default"))) int
posix_spawn_file_actions_destroy(posix_spawn_file_actions_t *fa)
{
	return mig__fa_destroy(fa);
}

__attribute__((visibility("default"))) int
posix_spawn_file_actions_adddup2(posix_spawn_file_actions_t *fa, int fd,
    int newfd)
{
	return mig__fa_adddup2(fa, fd, newfd);
}

__attribute__((visibility("default"))) int
posix_spawn_file_actions_addopen(posix_spawn_file_actions_t *restrict fa,
    int fd, const char *restrict path, int oflag, mode_t mode)
{
	return mig__fa_addopen(fa, fd, path, oflag, mode);
}

__attribute__((visibility("default"))) int
posix_spawn_file_actions_addclose(posix_spawn_file_actions_t *fa, int fd)
{
	return mig__fa_addclose(fa, fd);
}

__attribute__((visibility("default"))) int
posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *restrict fa,
    const char *restrict path)
{
	return mig__fa_addchdir(fa, path);
}

__attribute__((visibility("default"))) int
posix_spawn_file_actions_addfchdir_np(posix_spawn_file_actions_t *fa, int fd)
{
	return mig__fa_addfchdir(fa, fd);
}

__attribute__((visibility("default"))) int
system(const char *cmd)
{
	return mig__system(cmd);
}

__attribute__((visibility("default"))) FILE *
popen(const char *cmd, const char *mode)
{
	return mig__popen(cmd, mode);
}

__attribute__((visibility("default"))) int
pclose(FILE *f)
{
	return mig__pclose(f);
}
