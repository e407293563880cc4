/*
 * stub.h: a job seen from home (stub.c), shared by the mig launcher and
 * libmig.so. The launcher runs it as "mig --stub" and "mig -h"; the shim
 * runs it in a child it forked for a placed program, with no exec. It
 * ends with _exit or the job's signal only, never exit(): in a child of
 * the shim's, the caller's atexit handlers and stdio buffers are not ours.
 */
#ifndef MIG_STUB_H
#define MIG_STUB_H

#include <stddef.h>
#include <stdint.h>

#define MIG_HIDDEN_STUB __attribute__((visibility("hidden")))

/* The daemon the stub talks to ("" or NULL: the runtime folder's). */
extern MIG_HIDDEN_STUB const char *mig__sock;

/* Runs argv through the local daemon on host ("" to let it place the
 * job) and ends as the job did: its exit status, or death by its
 * signal. MIG_JOB_* flags. The job's environment is environ. */
MIG_HIDDEN_STUB void mig__run(const char *host, char **argv, uint32_t flags)
    __attribute__((noreturn));

/* Reports a failed exec as a shell would and exits 127 or 126. */
MIG_HIDDEN_STUB void mig__exec_failed(const char *cmd, int err)
    __attribute__((noreturn));

/* The line a stub says when it cannot reach its daemon (r, a MIG_E*
 * code, and err, what the connection said), into why. */
MIG_HIDDEN_STUB void mig__reach_why(int r, const char *err, char *why,
    size_t n);

/*
 * Each program that runs the stub defines these two.
 * mig__stub_reach connects to the daemon at sock: 0 with the fd in *fdp,
 * or a MIG_E* code with a mig__reach_why line in why.
 * mig__stub_first: should this stub say that the daemon at sock is
 * gone? 2: yes, the first of its build; 0: no, another of its build said
 * it; 1: yes, it belongs to no build mig make marked.
 */
MIG_HIDDEN_STUB int mig__stub_reach(const char *sock, int *fdp, char *why,
    size_t n);
MIG_HIDDEN_STUB int mig__stub_first(const char *sock);

/* once.c: the daemon's loss said once per build. mig make puts
 * "__MIG_BUILD=..." into var (n bytes) for make's environment, and
 * removes from the runtime folder dir the marks of builds that ended. */
MIG_HIDDEN_STUB void mig__build_mark(const char *dir, char *var, size_t n);
/* mig__stub_first for the build marked mark (the value of __MIG_BUILD,
 * NULL when there is none), whose daemon's socket is in folder dir. */
MIG_HIDDEN_STUB int mig__build_first_in(const char *dir, const char *mark);
#define MIG_BUILD_VAR "__MIG_BUILD="

#endif
