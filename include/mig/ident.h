/*
 * ident.h: the identity page of a placed process.
 *
 * The host daemon makes one page per job (a memfd, inherited by the job
 * at the descriptor named by __MIG_IDENT_FD) and keeps it current; the
 * shim in remote role maps it read-only and answers getpid(), uname(),
 * clock_gettime(CLOCK_REALTIME) and friends from it without a system
 * call. Writers bump seq to odd, write, bump it to even; readers retry
 * while seq is odd or changed under them (a seqlock: no locks, safe in
 * signal handlers).
 */
#ifndef MIG_IDENT_H
#define MIG_IDENT_H

#include <stdint.h>

#define MIG_IDENT_MAGIC 0x3147494du /* "MIG1" */
#define MIG_IDENT_SIZE 4096
#define MIG_IDENT_PIDS 440
/* The descriptor a placed job finds its page at (__MIG_IDENT_FD). */
#define MIG_IDENT_FDNO 100

struct mig_ident {
	uint32_t magic;        /* MIG_IDENT_MAGIC */
	uint32_t size;         /* sizeof(struct mig_ident) */
	uint32_t seq;          /* seqlock: odd while being written */
	uint32_t flags;        /* MIG_IDENT_* */
	int64_t offset_ns;     /* home CLOCK_REALTIME minus this host's */
	int32_t pid;           /* at home: the stub's pid */
	int32_t ppid;          /* at home: the stub's parent */
	int32_t pgid;          /* at home: the stub's process group */
	int32_t sid;           /* at home: the stub's session */
	int32_t host_pid;      /* the placed process's pid on this host */
	int32_t pad;
	char nodename[65];     /* home uname().nodename */
	char domainname[65];   /* home uname().domainname */
	/* The job's other processes: each has a pid at home too, held by a
	 * placeholder process there (docs/design.md). host_pid 0: free. */
	struct {
		int32_t host_pid;
		int32_t home_pid;
	} pids[MIG_IDENT_PIDS];
	/* Which of fds 0-2 are terminals at home, and the pipes this host
	 * gave the job for them: while a fd is still that pipe, isatty()
	 * answers as at home (gcc's colours under mig make in a terminal). */
	uint32_t stdio_tty;    /* bit fd set: a terminal at home */
	uint32_t pad2;
	uint64_t stdio_dev[3];
	uint64_t stdio_ino[3];
};

#define MIG_IDENT_CLOCK 0x1 /* offset_ns has been measured */

#endif
