/*
 * core.h: internal interfaces of libmigcore.a, shared by the launcher,
 * the daemon and the tests. Not installed.
 */
#ifndef MIG_CORE_H
#define MIG_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mig/mig.h"
#include "rundir.h"

/* io.c */
/* Read or write exactly n bytes, retrying on EINTR and waiting out
 * EAGAIN. read_full returns MIG_EAGAIN at EOF before n bytes. */
int mig__read_full(int fd, void *p, size_t n);
int mig__write_full(int fd, const void *p, size_t n);
/* close(2) that keeps errno. */
void mig__close(int fd);

/* config.c */
struct mig_host {
	char name[MIG_NAME_MAX];
	char addr[64];  /* numeric IPv4 or IPv6 address, or a host name;
			 * with ssh set, the ssh destination */
	uint16_t port;  /* 0 with ssh */
	int ssh;        /* "ssh:DEST": the link runs over ssh to DEST */
	uint32_t slots; /* 0: as many as the host has CPUs */
	uint32_t files; /* MIG_FILES_*: how its jobs see home's files */
	uint32_t priority; /* MIG_PRIO_*: how it runs others' jobs */
	uint32_t idle_s;   /* "idle N[s]": available N s after its owner's
			    * last activity (0: unless owner-cpu, not
			    * watched) */
	uint32_t owner_cpu_milli; /* "owner-cpu X": CPUs (x1000) its owner's
				   * programs may use before it is busy */
	int dialin;       /* never dialed: it dials us (a Slurm node) */
	/* "seed DIR[:DIR...]" or "seed off": the folders whose files may
	 * stand in for home's of the same hash in a served view, besides
	 * the same path (fs/seed.c); "" when not given (MIG_SEED_DEFAULT). */
	char seed[256];
};

/* The folders a host indexes for content seeding when its line says
 * nothing; "off" turns seeding off. */
#define MIG_SEED_DEFAULT "/usr"
#define MIG_SEED_OFF "off"

/* A host's files (the hosts file's optional keyword): by default a job
 * runs in the host's own files when the host has its cwd, else in a
 * served view of home's files, where the host can serve; "shared" never
 * serves, "served" always does. */
#define MIG_FILES_AUTO 0
#define MIG_FILES_SHARED 1
#define MIG_FILES_SERVED 2

/* How a host runs the jobs of other homes (keyword "priority"): at
 * SCHED_IDLE with their session's CPU group (autogroup) at nice 19 (the
 * default; "lowest", its name in earlier builds, says the same), at nice
 * 19, or as their home asked. */
#define MIG_PRIO_IDLE 0
#define MIG_PRIO_LOW 1
#define MIG_PRIO_NORMAL 2

struct mig_hosts {
	struct mig_host *v;
	size_t n;
};

/*
 * Parses a hosts file's text: one "NAME ADDR[:PORT]|ssh:DEST [SLOTS]
 * [shared|served] [priority idle|low|normal] [idle N[s]]
 * [owner-cpu X] [seed DIRS|off]" a line (SLOTS and
 * the keywords in any order),
 * '#' starts a comment, blank lines are skipped. On a bad line returns
 * MIG_ECONFIG with "FILE:LINE: problem" in err. where names the file in
 * messages. *hosts is owned by the caller (mig_hosts_free).
 */
int mig__hosts_parse(const char *text, size_t len, const char *where,
    struct mig_hosts *hosts, char *err, size_t errsize);
/* Reads a whole regular file of at most max bytes into a malloc'd
 * buffer; anything else (a FIFO, a device) is MIG_ECONFIG, at once. */
int mig__slurp(const char *path, size_t max, char **textp, size_t *lenp);
/* mig__slurp for a file the user's programs trust (what names it in
 * messages: "hosts file"): also refused, MIG_EUNSAFE, when it is not the
 * euid's or is writable by group or others. On failure err says why in
 * one line, but for a missing file (MIG__ERR(ENOENT), err untouched). */
int mig__slurp_owned(const char *path, const char *what, size_t max,
    char **textp, size_t *lenp, char *err, size_t errsize);
/* Reads and parses a file; a missing file is an empty table. */
int mig__hosts_load(const char *path, struct mig_hosts *hosts, char *err,
    size_t errsize);
/* 1 when s may name a host: 1-63 letters, digits, '-', '_' or '.'. */
int mig__name_valid(const char *s);
const struct mig_host *mig__hosts_find(const struct mig_hosts *hosts,
    const char *name);
void mig__hosts_free(struct mig_hosts *hosts);

/*
 * Loads the key file (64 hex digits and an optional newline). A file
 * that is not a regular file, not the user's, or readable or writable
 * by group or others is refused with MIG_EKEY and a message saying so
 * in err; a missing file gives MIG__ERR(ENOENT).
 */
int mig__key_load(const char *path, uint8_t key[MIG_KEY_BYTES], char *err,
    size_t errsize);
/* The key from a key file's text; where names the file in err. */
int mig__key_parse(const char *text, size_t len, const char *where,
    uint8_t key[MIG_KEY_BYTES], char *err, size_t errsize);
/* Writes a new key (mode 0600); refuses to overwrite unless force. */
int mig__key_write(const char *path, const uint8_t key[MIG_KEY_BYTES],
    int force);

/* port.c */
/* The default port of the user with this uid (mig_default_port() is
 * the caller's). */
uint16_t mig__port_for_uid(unsigned long uid);
/* Where this host's daemon listens, as mig-homed picks it without
 * --listen: its own line of the hosts file, found by $MIG_HOST or the
 * host name, else 0.0.0.0 and the default port. Returns 0. */
int mig__listen_addr(const struct mig_hosts *hosts, struct mig_host *out);
/* 1 when a listener holds addr:port (a numeric address), else 0. */
int mig__port_taken(const char *addr, uint16_t port);

/* policy.c */
/* The effective policy from a policy file's text: the user's patterns
 * (marked '='), then the defaults that the user's "!pattern" lines
 * leave, ':'-separated into out. A bad line gives MIG_ECONFIG and
 * "WHERE:LINE: problem" in err. */
int mig__policy_parse(const char *text, size_t len, const char *where,
    char *out, size_t size, char *err, size_t errsize);
/* The same from the file at path; a missing file is an empty one. */
int mig__policy_load(const char *path, char *out, size_t size, char *err,
    size_t errsize);

/* relro.c */
/* Makes the program's relocated data read-only again (RELRO), which
 * musl's start does not do in a static PIE. Called first in main by the
 * static per-job programs. */
void mig__relro(void);

/* rawexec.c */
/* The file execvp would run for file, searching path (NULL: the default
 * one), into buf. Returns 0 or an error. */
int mig__path_search(const char *file, const char *path, char *buf,
    size_t size);
/* execvpe by system call, never through a preloaded shim. Returns only
 * on failure, with the error. */
int mig__exec_raw(const char *file, char *const argv[], char *const envp[]);

/* Finds a file of mig's beside the running program, or in ../lib/mig
 * from it (as installed). Returns 0 or MIG__ERR(ENOENT). */
int mig__beside_self(const char *name, char *buf, size_t size);

/* slurm.c */
/* Expands SLURM_JOB_CPUS_PER_NODE ("2(x3),1": 2, 2, 2, 1) into cpus, at
 * most max of them, *n set. 0; MIG_ECONFIG for text of another form (a
 * count of 0 included); MIG_ETOOBIG past max. */
int mig__slurm_cpus(const char *spec, uint32_t *cpus, size_t max, size_t *n);
/* The Slurm job whose nodes are this user's hosts: SLURM_JOB_ID, when it
 * is set, there is no hosts file and MIG_SLURM is not 0; else NULL. */
const char *mig__slurm_job(void);

/* sshcmd.c */
#define MIG_SSH_WORDS 32 /* words of $MIG_SSH at the most */
struct mig_ssh_argv {
	char words[1024];                /* $MIG_SSH's words, NUL-split */
	char *argv[MIG_SSH_WORDS + 9];   /* the command, NULL-terminated */
};
/*
 * The command that runs cmd on the ssh destination dest: text ($MIG_SSH;
 * NULL or "" is "ssh") split at spaces and tabs, quotes being no more
 * than characters of a word, then "-T -o BatchMode=yes -o
 * ConnectTimeout=10 -- dest cmd". a->argv points into a->words and at
 * dest and cmd, which must outlive it. 0; MIG_ECONFIG when text has no
 * word, more than MIG_SSH_WORDS or more than 1023 bytes, with a sentence
 * saying so in err.
 */
int mig__ssh_argv(const char *text, const char *dest, const char *cmd,
    struct mig_ssh_argv *a, char *err, size_t errsize);

/* log.c */
enum { MIG_LOG_ERR, MIG_LOG_WARN, MIG_LOG_INFO, MIG_LOG_DEBUG };
/* Log lines go to fd (stderr by default) as "time prog[pid]: text". */
void mig__log_init(const char *prog, int fd, int level);
void mig__log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* One "mig: ..." line on stderr, then exit(status). */
void mig__die(int status, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));

#endif
