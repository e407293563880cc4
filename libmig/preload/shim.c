/*
 * shim.c: libmig.so's entry points, and nothing else. The LD_PRELOAD
 * shim lives inside arbitrary programs: it links libc only, keeps all
 * but these symbols hidden (libmig.version), and never exits or aborts:
 * when something fails it calls the real function.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "preload.h"

extern char **environ;

__attribute__((constructor)) static void
shim_init(void)
{
	mig__env_init();
	mig__exec_init();
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
