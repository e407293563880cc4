/* launcher.h: the parts of the mig command. */
#ifndef MIG_LAUNCHER_H
#define MIG_LAUNCHER_H

#include "core.h"
#include "mig/proto.h"
#include "stub.h"

/* Printed as "mig: ...", then exit MIG_EXIT_FAILURE. */
#define mig__fatal(...) mig__die(MIG_EXIT_FAILURE, __VA_ARGS__)

/* reach.c: connects to the daemon at sock (NULL or "": the runtime
 * folder's, started when autostart is set) and returns the fd; on
 * failure, one mig: line saying why (the folder and what is wrong with
 * it, or a taken port), and exit 255. */
int mig__reach(const char *sock, int autostart);
/* The same, but a failure returns its MIG_E* code with that line in
 * why, for a caller that may go on without a daemon. */
int mig__try_reach(const char *sock, int autostart, int *fdp, char *why,
    size_t n);

/* run.c: MIG_JOB_TTY when the job gets a terminal on its host, as ssh
 * decides: tty counts -t (2 or more: -tt), -1 is -T; with none, only a
 * login (no command) at a terminal gets one. */
uint32_t mig__want_tty(int tty, int command);

/* home.c: mig CMD... runs CMD here with the shim in home role, or, when
 * CMD is a program the policy places, places it (the compiler wrapper).
 * make and ninja without a job count get one job per slot of the
 * cluster; verbose says so on stderr. */
int mig__home_main(char **argv, int verbose) __attribute__((noreturn));
/* The effective policy into out; exits with a mig: line on a bad file. */
void mig__policy(char *out, size_t size);

/* rsh.c: mig-rsh [-l user] [-n] host command... */
int mig__rsh_main(int argc, char **argv);

/* views.c: mig hosts|ps|policy [--json] */
int mig__view_main(int argc, char **argv);
/* The slots of the hosts whose link is up, home's included, and how many
 * hosts those are, from the local daemon; exits with a mig: line when it
 * cannot tell. */
/* The slots of the hosts up (home's included) that can take jobs run
 * from cwd, how many hosts those are, and how many up hosts cannot (they
 * cannot serve home's files and did not prove cwd's). */
void mig__cluster_slots(const char *cwd, uint32_t *slots, uint32_t *up,
    uint32_t *left);
/* Asks the local daemon one question (type, payload p of n bytes); the
 * answer of the same type is in *f, its bytes in answer. Exits with a
 * mig: line (the daemon's own on an ERROR answer) when it fails. */
void mig__ask(uint16_t type, const void *p, size_t n, struct mig_buf *answer,
    struct mig_frame *f);

/* owner.c: mig drain|undrain HOST, mig evict [--end] */
int mig__owner_main(int argc, char **argv);


/* enrol.c: mig hosts add NAME ssh:DEST | mig hosts remove NAME */
int mig__enrol_main(int argc, char **argv);

/* keygen.c: mig keygen [-f] */
int mig__keygen_main(int argc, char **argv);

#endif
