/* launcher.h: the parts of the mig command. */
#ifndef MIG_LAUNCHER_H
#define MIG_LAUNCHER_H

#include "core.h"

/* Printed as "mig: ...", then exit MIG_EXIT_FAILURE. */
#define mig__fatal(...) mig__die(MIG_EXIT_FAILURE, __VA_ARGS__)

/* run.c: runs argv through the local daemon on host ("" to let it
 * place the job) and ends as the job did: its exit status, or death by
 * its signal. MIG_JOB_* flags. */
void mig__run(const char *host, char **argv, uint32_t flags)
    __attribute__((noreturn));
/* The daemon a stub talks to, when the shim named it ("" or NULL: the
 * runtime folder's). */
extern const char *mig__sock;

/* Connects to the daemon at sock (NULL or "": the runtime folder's,
 * started when autostart is set) and returns the fd; on failure, one
 * mig: line naming the folder and what is wrong, and exit 255. */
int mig__reach(const char *sock, int autostart);

/* Reports a failed exec as a shell would and exits 127 or 126. */
void mig__exec_failed(const char *cmd, int err) __attribute__((noreturn));

/* home.c: mig CMD... runs CMD here with the shim in home role, or, when
 * CMD is a program the policy places, places it (the compiler wrapper). */
int mig__home_main(char **argv) __attribute__((noreturn));
/* The effective policy into out; exits with a mig: line on a bad file. */
void mig__policy(char *out, size_t size);

/* rsh.c: mig-rsh [-l user] [-n] host command... */
int mig__rsh_main(int argc, char **argv);

/* views.c: mig hosts|ps|policy [--json] */
int mig__view_main(int argc, char **argv);

/* standin.c: mig --standin HOST PID WHAT (started by mig-homed) */
int mig__standin_main(int argc, char **argv);

/* keygen.c: mig keygen [-f] */
int mig__keygen_main(int argc, char **argv);

#endif
