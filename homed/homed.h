/*
 * homed.h: the parts of mig-homed. The daemon's state hangs off one
 * struct homed, reached from every libuv handle's data (directly or
 * through the client, link or job the handle belongs to).
 */
#ifndef MIG_HOMED_H
#define MIG_HOMED_H

#include <limits.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <uv.h>

#include "core.h"
#include "mig/ident.h"
#include "mig/proto.h"

#define MIG_NONCE_BYTES 32
#define MIG_PROOF_BYTES 32
#define MIG_TAG_BYTES 16
/* A record carries one frame: length word, sealed frame, tag. */
#define MIG_RECORD_MAX (MIG_FRAME_HDR + MIG_FRAME_MAX + MIG_TAG_BYTES)
#define MIG_HANDSHAKE_MS 5000
#define MIG_CONNECT_MS 5000

#define MIG_CIPHER_CHACHA 0
#define MIG_CIPHER_AES256GCM 0x1

struct client;
struct link;
struct peer;
struct job;
struct rjob;

/* A placed process's call or HOLD, sent home, awaiting the answer. */
struct callwait {
	TAILQ_ENTRY(callwait) entry;
	struct client *client;
	uint32_t seq;
	uint32_t token;      /* HOLD: the job, as named here */
	pid_t host_pid;      /* HOLD: the process that wants a home pid */
};

/* Host role: a process a job started, and its pid at home. */
struct desc {
	TAILQ_ENTRY(desc) entry;
	struct homed *d;
	struct rjob *rj;
	pid_t host_pid, home_pid;
	int pidfd;
	uv_poll_t poll;      /* on its pidfd: readable when it ends */
	int slot;            /* its line in the identity page */
};

/* Home role: a placeholder process holding a home pid for a process a
 * placed job started on its host (ARCHITECTURE §7). */
struct hold {
	TAILQ_ENTRY(hold) entry;
	uint32_t job;        /* the job's id */
	pid_t pid;           /* the placeholder: the home pid */
	pid_t host_pid;
	struct client *client; /* its connection, once it called */
	int gone;            /* its process ended on the host */
};

struct homed {
	uv_loop_t *loop;
	char name[MIG_NAME_MAX];       /* this host's name in the hosts file */
	struct mig_hosts hosts;
	uint8_t key[MIG_KEY_BYTES];
	int have_key;
	char confdir[PATH_MAX];
	char rundir[PATH_MAX];
	char sockpath[PATH_MAX];
	char shim[PATH_MAX];           /* libmig.so, "" when not found */
	char preload[2 * PATH_MAX];    /* what jobs preload: shim + host's */
	char **hostenv;                /* "NAME=value" passed to every job */
	char listen_addr[64];
	uint16_t listen_port;
	uv_pipe_t control;
	uv_tcp_t listener;
	uv_signal_t sigchld, sigterm, sigint, sighup;
	int stopping;
	uint32_t next_job;
	uint32_t slots;                /* this host's: hosts file, else CPUs */
	uint32_t local_running;        /* placed here by the home role */
	uint32_t done;                 /* jobs run here, for mig hosts */
	uv_timer_t tick;               /* load, pings and redials, 1 s */
	uint32_t last_load;            /* running count last pushed */
	uint32_t trimmed_at;           /* job counters at the last trim */
	struct history *history;       /* run times by program */
	size_t nhistory;
	uint32_t next_token;           /* names host-role jobs locally */
	uint32_t next_seq;             /* numbers forwarded calls */
	TAILQ_HEAD(, callwait) calls;  /* forwarded calls awaiting home */
	TAILQ_HEAD(, desc) descs;      /* host role: jobs' other processes */
	TAILQ_HEAD(, hold) holds;      /* home role: placeholders */
	TAILQ_HEAD(, client) clients;
	TAILQ_HEAD(, peer) peers;
	TAILQ_HEAD(, link) links;      /* every open link, up or not */
	TAILQ_HEAD(, job) jobs;        /* home role */
	TAILQ_HEAD(, rjob) rjobs;      /* host role */
};

/* crypto.c */
struct mig_session {
	uint32_t cipher; /* MIG_CIPHER_* agreed in the handshake */
	struct {
		uint8_t key[32];
		uint64_t counter;
	} tx, rx;
};

int mig__crypto_init(void);
void mig__random(void *p, size_t n);
/* The proof one side sends: initiator set for the initiator's. */
void mig__proof(const uint8_t key[MIG_KEY_BYTES], int initiator,
    const uint8_t ni[MIG_NONCE_BYTES], const uint8_t na[MIG_NONCE_BYTES],
    const char *name_i, const char *name_a, uint8_t out[MIG_PROOF_BYTES]);
/* Constant-time comparison: 0 or MIG_EAUTH. */
int mig__proof_check(const uint8_t a[MIG_PROOF_BYTES],
    const uint8_t b[MIG_PROOF_BYTES]);
/* The ciphers this machine runs fast (MIG_CIPHER_* bits). */
int mig__cipher_local(void);
/* Derives both directions' keys; ciphers is what both sides offer. */
void mig__session_init(struct mig_session *s, const uint8_t key[MIG_KEY_BYTES],
    int initiator, const uint8_t ni[MIG_NONCE_BYTES],
    const uint8_t na[MIG_NONCE_BYTES], const char *name_i,
    const char *name_a, uint32_t ciphers);
void mig__session_wipe(struct mig_session *s);
/* Seals n bytes into out (n + MIG_TAG_BYTES), authenticating ad too. */
int mig__seal(struct mig_session *s, const uint8_t *plain, size_t n,
    const uint8_t *ad, size_t adlen, uint8_t *out);
/* Opens a record of n bytes into out (n - MIG_TAG_BYTES); MIG_EAUTH on
 * any tampering, replay or reordering. */
int mig__open(struct mig_session *s, const uint8_t *c, size_t n,
    const uint8_t *ad, size_t adlen, uint8_t *out);

/* control.c: the unix socket for local programs */
struct client {
	TAILQ_ENTRY(client) entry;
	struct homed *d;
	uv_pipe_t pipe;
	struct mig_buf in;
	struct job *job;      /* the job this stub runs, if any */
	struct hold *hold;    /* the placeholder this is, if one */
	int closing;
	int hello;            /* HELLO received */
};

int mig__control_start(struct homed *d);
void mig__control_stop(struct homed *d);
/* Queues one frame to the stub. */
int mig__client_send(struct client *c, uint16_t type, uint16_t flags,
    const void *payload, size_t n);
void mig__client_error(struct client *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void mig__client_close(struct client *c);

/* peer.c: links between daemons */
enum link_state {
	LINK_CONNECTING, /* TCP connect under way (initiator) */
	LINK_HELLO,      /* waiting for the other side's HELLO */
	LINK_AUTH,       /* acceptor: waiting for the initiator's AUTH */
	LINK_UP,
	LINK_CLOSING
};

struct link {
	TAILQ_ENTRY(link) entry;
	struct homed *d;
	struct peer *peer;    /* NULL until the handshake names it */
	uv_tcp_t tcp;
	uv_connect_t connect;
	uv_timer_t timer;     /* handshake deadline */
	enum link_state state;
	int initiator;
	uint8_t ni[MIG_NONCE_BYTES], na[MIG_NONCE_BYTES];
	char peer_name[MIG_NAME_MAX];
	uint32_t ciphers;     /* offered by the initiator */
	struct mig_session sess;
	struct mig_buf in;    /* received, not yet processed */
	struct mig_buf plain; /* one opened record */
	char desc[128];       /* "host1 127.0.0.2:7410" for log lines */
	int handles;          /* open handles, freed at zero */
};

struct peer {
	TAILQ_ENTRY(peer) entry;
	struct homed *d;
	char name[MIG_NAME_MAX];
	char addr[64];
	uint16_t port;       /* 0: not in our hosts file, cannot dial it */
	uint32_t slots;
	struct link *link;   /* the link in use, once up */
	struct link *dialing;
	int last_error;      /* why the last dial failed */
	char last_why[160];
	uint32_t host_slots; /* as the host last said (LOAD) */
	uint32_t running;    /* jobs running there, as it last said */
	uint32_t load100;    /* its load average x100 */
	uint32_t freemem;    /* MiB */
	uint32_t mine;       /* jobs this home runs there now */
	uint32_t done;       /* jobs this home ran there */
	uint64_t rtt_ns;     /* last round trip */
	uint64_t best_rtt_ns;   /* smallest of the recent round trips */
	int64_t offset_ns;      /* its clock minus ours, at best_rtt_ns */
	int have_offset;
	uint64_t offset_age;    /* pings since best_rtt_ns was measured */
};

int mig__peers_init(struct homed *d);
int mig__listen_start(struct homed *d);
void mig__peers_stop(struct homed *d);
struct peer *mig__peer_find(struct homed *d, const char *name);
/* Makes sure a link to p is up or on its way; jobs wait for it. */
void mig__peer_dial(struct peer *p);
/* The periodic work: load pushes, pings, redials. */
void mig__tick_start(struct homed *d);
/* Pushes this host's load to every up link now. */
void mig__push_load(struct homed *d);
/* Sends one frame over an up link. */
int mig__link_send(struct link *l, uint16_t type, uint16_t flags,
    uint32_t stream, const void *payload, size_t n);

/* job.c: home role */
enum job_state {
	JOB_WAITING, /* for its link, or queued for a free slot */
	JOB_RUNNING, /* EXEC sent */
	JOB_LOCAL    /* answered LOCAL: runs here, ends with its socket */
};

struct job {
	TAILQ_ENTRY(job) entry;
	struct homed *d;
	uint32_t id;
	enum job_state state;
	struct client *client;
	struct peer *peer;
	struct link *link;   /* set once EXEC went out */
	uint8_t *req;        /* the RUN payload, sent on as EXEC */
	size_t reqlen;
	uint32_t flags;      /* MIG_JOB_* */
	int queued;          /* waits in the placement queue */
	int32_t home_pid;    /* the stub's pid */
	int32_t remote_pid;  /* once STARTED */
	uint64_t start_ns;   /* monotonic, when placed */
	char prog[64];       /* basename of argv[0], for history */
	char cmd[160];       /* the command line, for mig ps */
};

/* place.c: placement at exec time, the queue, run-time history */
struct history {
	char prog[64];
	uint32_t n;          /* runs recorded, up to MIG_HISTORY_RUNS */
	uint32_t next;
	uint32_t ms[16];     /* the last runs' wall times */
	uint32_t placed;     /* of those, how many ran elsewhere */
};

#define MIG_HISTORY_RUNS 16
/* A program whose median run is shorter gains nothing from placement. */
#define MIG_SHORT_RUN_MS 25


void mig__job_run(struct client *c, const struct mig_frame *f);
/* Places waiting jobs while slots are free; call when slots free up. */
void mig__place_queued(struct homed *d);
/* Picks a host for j: a peer, or NULL for this host; *full when none has
 * a free slot. */
struct peer *mig__place_pick(struct homed *d, struct job *j, int *full);
void mig__history_add(struct homed *d, const char *prog, uint64_t ms,
    int placed);
/* 1 when the history says prog is too short-lived to place. */
int mig__history_short(struct homed *d, const char *prog);
void mig__history_free(struct homed *d);
/* Views for mig hosts, mig ps and mig policy. */
void mig__view_hosts(struct client *c);
void mig__view_ps(struct client *c);
void mig__view_history(struct client *c);
void mig__job_from_client(struct job *j, const struct mig_frame *f);
void mig__job_client_gone(struct job *j);
void mig__job_from_link(struct link *l, const struct mig_frame *f);
void mig__jobs_link_up(struct peer *p);
void mig__jobs_link_down(struct peer *p, struct link *l, int code,
    const char *why);
struct job *mig__job_find(struct homed *d, uint32_t id);

/* calls.c: forwarded calls, run at home from calls.def */
void mig__calls_init(void);
/* Runs the CALL payload p; returns MIG_EPROTO if malformed. */
int mig__call_run(const uint8_t *p, size_t len, uint32_t *seq, int64_t *ret,
    int *err);
/* job.c: a CALL from the host running job f->stream */
void mig__job_call(struct link *l, const struct mig_frame *f);

/* hold.c: pids at home for the processes placed jobs start */
void mig__hold_new(struct link *l, const struct mig_frame *f);
void mig__hold_standin(struct client *c, const struct mig_frame *f);
void mig__hold_signal(struct client *c, const struct mig_frame *f);
void mig__hold_client_gone(struct client *c);
void mig__hold_gone(struct link *l, const struct mig_frame *f);
void mig__holds_job_end(struct homed *d, uint32_t job);

/* spawn.c: host role */
struct rjob {
	TAILQ_ENTRY(rjob) entry;
	struct homed *d;
	struct link *link;   /* NULL once the link is gone */
	uint32_t id;
	pid_t pid;
	uv_pipe_t pipes[3];  /* the job's stdin, stdout, stderr (our ends) */
	int open[3];         /* pipes[i] is open */
	int done[3];         /* stdout/stderr reached EOF or were closed */
	int reading[3];
	size_t unacked[3];
	int exited;
	int status;          /* from waitpid */
	int handles;         /* open handles, freed at zero */
	int finished;        /* EXIT sent */
	struct mig_ident *ident; /* the job's identity page (shared) */
	uint32_t token;      /* how its processes name it here (__MIG_JOB) */
};

void mig__rjob_exec(struct link *l, const struct mig_frame *f);
void mig__rjob_from_link(struct link *l, const struct mig_frame *f);
void mig__rjobs_link_down(struct link *l);
/* The clock offset to l's home changed: tell its jobs' identity pages. */
void mig__rjobs_clock(struct link *l);
void mig__rjobs_reap(struct homed *d);
/* A process of a job here asks for a call at home / the answer came. */
void mig__rjob_call(struct client *c, const struct mig_frame *f);
void mig__rjob_callret(struct link *l, const struct mig_frame *f);
void mig__calls_client_gone(struct client *c);
void mig__rjob_hold(struct client *c, const struct mig_frame *f);
void mig__rjob_holdret(struct link *l, const struct mig_frame *f);
void mig__rjobs_stop(struct homed *d);
/* Jobs running here for other homes. */
uint32_t mig__rjobs_running(struct homed *d);

#endif
