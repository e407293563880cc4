/* preload.h: the parts of libmig.so; nothing here is exported. */
#ifndef MIG_PRELOAD_H
#define MIG_PRELOAD_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#define MIG_HIDDEN __attribute__((visibility("hidden")))

enum { MIG_ROLE_NONE, MIG_ROLE_HOME, MIG_ROLE_REMOTE };

#define MIG_SHIM_MAXVARS 16

/* What the shim learnt at start-up; read-only afterwards. */
struct mig_shim {
	int role;                 /* MIG_ROLE_* */
	char self[PATH_MAX];      /* what children preload: this library,
				   * then the host's (__MIG_PRELOAD) */
	char stub[PATH_MAX];      /* home role: the mig launcher */
	char policy[4096];        /* home role: ':'-separated programs */
	char sock[PATH_MAX];      /* remote role: the host daemon's socket */
	int ident_fd;             /* remote role: the identity page, or -1 */
	unsigned job;             /* remote role: the job, as the daemon names it */
	char *vars[MIG_SHIM_MAXVARS]; /* "__MIG_x=y" to pass on */
	int nvars;
	char store[8192];         /* the strings vars point to */
	size_t used;
};

extern MIG_HIDDEN struct mig_shim mig__shim;

/* env.c */
MIG_HIDDEN void mig__env_init(void);
/* The environment a child gets (see libmig/shimenv.h). */
MIG_HIDDEN ssize_t mig__env_child(char *const envp[], char **out, size_t nout,
    char *buf, size_t nbuf);

/* call.c */
/*
 * Runs a call of calls.def at home: args[0..nargs) in, the result in
 * *ret with errno set as the call at home left it. Returns 0, or -1 when
 * the call could not be forwarded (the caller then acts here).
 */
MIG_HIDDEN int mig__call(int call, int nargs, const long *args, long *ret);

/* real.c */
/* The next definition of a symbol after ours: libc's. */
MIG_HIDDEN void *mig__real(const char *name);
#define MIG_REAL(var, name) \
	((var) != NULL ? (var) : ((var) = (__typeof__(var))mig__real(name)))

/* exec.c: the exec family, spawn, system and popen */
#include <spawn.h>
#include <stdio.h>
MIG_HIDDEN void mig__exec_init(void);
MIG_HIDDEN int mig__execve(const char *path, char *const argv[],
    char *const envp[]);
MIG_HIDDEN int mig__execvpe(const char *file, char *const argv[],
    char *const envp[]);
MIG_HIDDEN int mig__execveat(int dirfd, const char *path, char *const argv[],
    char *const envp[], int flags);
MIG_HIDDEN int mig__fexecve(int fd, char *const argv[], char *const envp[]);
MIG_HIDDEN int mig__spawn(pid_t *pid, const char *file,
    const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
    char *const argv[], char *const envp[], int search);
MIG_HIDDEN int mig__system(const char *cmd);
MIG_HIDDEN FILE *mig__popen(const char *cmd, const char *mode);
MIG_HIDDEN int mig__pclose(FILE *f);

#endif
