/*
 * homed.h: the parts of mig-homed, in layers (docs/design.md):
 *
 *   roles      home/ (jobs, placement, placeholders, forwarded calls),
 *              host/ (spawn, stdio relay, identity page, descendants),
 *              cluster.c (the peer table: load, clock), views.c
 *   transport  transport/ (peer links: dial, accept, handshake, records,
 *              liveness; the control socket: accept, credentials, frames)
 *   loop       libuv, and children.c (forks and reaping)
 *
 * The transport delivers each checked frame to the handler a role
 * registered for its type, and tells subscribers when a link comes up or
 * goes down and when a local client goes away; it never calls a role by
 * name. Sending never frees anything: a failed link or client is marked
 * and torn down on the next loop turn, from one place.
 *
 * The daemon's state hangs off one struct homed, reached from every
 * libuv handle's data (directly or through the client, link or job the
 * handle belongs to).
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
#define MIG_KX_BYTES 32    /* an X25519 public or secret key */
#define MIG_HASH_BYTES 32  /* the transcript hash, the handshake secret */
/* What a record adds to its frame: the length word and the tag. */
#define MIG_RECORD_OVERHEAD (4 + MIG_TAG_BYTES)
/* A record carries one frame: length word, sealed frame, tag. */
#define MIG_RECORD_MAX (MIG_FRAME_HDR + MIG_FRAME_MAX + MIG_TAG_BYTES)
#define MIG_HANDSHAKE_MS 5000
/* Before authentication a peer gets almost nothing: handshake frames of
 * their real size at most, a small read buffer, and only so many
 * pending handshakes, in all and from one address. */
#define MIG_HANDSHAKE_FRAME_MAX 512
#define MIG_PREAUTH_MAX 64
#define MIG_PREAUTH_PER_ADDR 16
#define MIG_CONNECT_MS 5000
/* A link silent for this long is dead (--ping-timeout). Pings go out
 * every second, so a few lost ones are forgiven. */
#define MIG_PING_TIMEOUT_MS 6000

#define MIG_CIPHER_CHACHA 0
#define MIG_CIPHER_AES256GCM 0x1

struct client;
struct link;
struct peer;
struct job;
struct rjob;
struct homed;
struct fs_home;
struct fs_host;
struct fs_learn;
struct exact;
struct mig_plan;
struct view;
struct pending;

typedef void mig__link_fn(struct link *l, const struct mig_frame *f);
typedef void mig__client_fn(struct client *c, const struct mig_frame *f);

/* Who hears of links and clients coming and going. */
struct watcher {
	void (*link_up)(struct link *l);
	/* The link is gone; code and why say what happened. Called once
	 * per link, also for links that never came up. */
	void (*link_down)(struct link *l, int code, const char *why);
	void (*client_gone)(struct client *c);
};

#define MIG_WATCHERS 8

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
	char standin[PATH_MAX];        /* mig-standin, "" when not found */
	char preload[2 * PATH_MAX];    /* what jobs preload: shim + host's */
	char **hostenv;                /* "NAME=value" passed to every job */
	char listen_addr[64];
	uint16_t listen_port;
	uint32_t ping_timeout_ms;      /* a silent link is dead after this */
	const char *no_listen;         /* why no TCP port is open, or NULL */
	uv_pipe_t control;
	uv_tcp_t listener;
	uv_signal_t sigchld, sigterm, sigint, sighup;
	uv_fs_event_t confwatch;       /* the config folder, for hosts */
	uv_idle_t reaper;              /* runs the deferred teardowns */
	uv_timer_t tick;               /* load, pings and redials, 1 s */
	int stopping;
	/* The transport's registry, filled by the roles at start-up. */
	mig__link_fn *link_handlers[MIG_M__COUNT];
	mig__client_fn *client_handlers[MIG_M__COUNT];
	struct watcher watchers[MIG_WATCHERS];
	int nwatchers;
	TAILQ_HEAD(, client) clients;
	TAILQ_HEAD(, link) links;      /* every open link, up or not */
	TAILQ_HEAD(, peer) peers;
	TAILQ_HEAD(, child) children;  /* forked, not yet reaped */
	TAILQ_HEAD(, pidwatch) pidwatches; /* other processes watched */
	/* The cluster: this host's load as last pushed. */
	uint32_t slots;                /* this host's: hosts file, else CPUs */
	uint32_t files;                /* this host's MIG_FILES_* (hosts file) */
	uint32_t last_load;            /* running count last pushed */
	uint32_t trimmed_at;           /* job counters at the last trim */
	/* The home role. */
	uint32_t next_job;
	uint32_t local_running;        /* placed here by the home role */
	uint32_t done;                 /* jobs run here, for mig hosts */
	struct history *history;       /* run times by program */
	size_t nhistory;
	TAILQ_HEAD(, job) jobs;
	TAILQ_HEAD(, hold) holds;      /* placeholders */
	struct psrow *recent;          /* ring of the last jobs that ended */
	uint32_t nrecent;              /* rows ever added */
	char history_path[PATH_MAX];   /* where history is kept, "" if nowhere */
	int history_dirty;             /* changed since last saved */
	/* The host role. */
	uint32_t next_token;           /* names host-role jobs locally */
	uint32_t next_seq;             /* numbers forwarded calls */
	TAILQ_HEAD(, rjob) rjobs;
	TAILQ_HEAD(, pending) pendings; /* served jobs waiting for a view */
	TAILQ_HEAD(, callwait) calls;  /* forwarded calls awaiting home */
	TAILQ_HEAD(, desc) descs;      /* jobs' other processes */
	/* The fs role (fs/): serving our files to hosts, and the views of
	 * other homes' files that their jobs run in here. */
	struct fs_home *fs_home;
	struct fs_host *fs_host;
	struct fs_learn *fs_learn;     /* access sets by program (learn.c) */
	struct exact *exact;           /* homes' mounts, proofs (exact.c) */
};

/* children.c: forks and reaping, for every role */
struct child {
	TAILQ_ENTRY(child) entry;
	pid_t pid;
	void (*exited)(void *arg, int status); /* NULL: just reap it */
	void *arg;
};

/* Forks with every signal blocked; the child starts with default
 * dispositions and an empty mask, so no handler of the daemon's (libuv's
 * included) ever runs in it. Returns as fork does. */
pid_t mig__fork(void);
/* Calls exited(arg, status) when pid is reaped; 0 or MIG_E*. */
int mig__child_watch(struct homed *d, pid_t pid,
    void (*exited)(void *arg, int status), void *arg);
/* Forgets the callback; the child is still reaped when it ends. */
void mig__child_forget(struct homed *d, pid_t pid);
/* Calls exited(arg) when process pid (not a child: any process of the
 * user's) ends, through a pidfd; 0 or MIG_E*. */
int mig__pid_watch(struct homed *d, pid_t pid, void (*exited)(void *arg),
    void *arg);
/* Forgets the watch of arg (its callback will not run); NULL: all. */
void mig__pid_unwatch(struct homed *d, void *arg);
/* Reaps every ended child (SIGCHLD). */
void mig__children_reap(struct homed *d);
void mig__children_free(struct homed *d);

/* transport/crypto.c */
struct mig_session {
	uint32_t cipher; /* MIG_CIPHER_* agreed in the handshake */
	struct {
		uint8_t key[32];
		uint64_t counter;
	} tx, rx;
};

int mig__crypto_init(void);
void mig__random(void *p, size_t n);
/* Zeroes n bytes in a way the compiler keeps (secrets). */
void mig__wipe(void *p, size_t n);
/* An ephemeral X25519 key pair: a random secret and its public half;
 * 0 or MIG_EINTERNAL. The caller wipes sk once it is used. */
int mig__kx_keypair(uint8_t sk[MIG_KX_BYTES], uint8_t pk[MIG_KX_BYTES]);
/* The public half of a given secret (tests fix secrets with it). */
int mig__kx_public(const uint8_t sk[MIG_KX_BYTES], uint8_t pk[MIG_KX_BYTES]);
/* The handshake transcript: the initiator's HELLO payload and the
 * acceptor's without its proof, byte for byte as sent. */
void mig__transcript(const uint8_t *hello_i, size_t ilen,
    const uint8_t *hello_a, size_t alen, uint8_t th[MIG_HASH_BYTES]);
/* The handshake secret, from the pre-shared key, X25519 of our ephemeral
 * secret and the peer's public key, and the transcript. 0, or MIG_EAUTH
 * when peer_pk is of small order (secret zeroed). */
int mig__hs_secret(const uint8_t key[MIG_KEY_BYTES],
    const uint8_t sk[MIG_KX_BYTES], const uint8_t peer_pk[MIG_KX_BYTES],
    const uint8_t th[MIG_HASH_BYTES], uint8_t secret[MIG_HASH_BYTES]);
/* The proof one side sends: initiator set for the initiator's. */
void mig__proof(const uint8_t secret[MIG_HASH_BYTES], int initiator,
    uint8_t out[MIG_PROOF_BYTES]);
/* Constant-time comparison: 0 or MIG_EAUTH. */
int mig__proof_check(const uint8_t a[MIG_PROOF_BYTES],
    const uint8_t b[MIG_PROOF_BYTES]);
/* The ciphers this machine runs fast (MIG_CIPHER_* bits). */
int mig__cipher_local(void);
/* Derives both directions' keys from the handshake secret; ciphers is
 * what both sides offer. */
void mig__session_init(struct mig_session *s,
    const uint8_t secret[MIG_HASH_BYTES], int initiator, uint32_t ciphers);
void mig__session_wipe(struct mig_session *s);
/* Seals n bytes into out (n + MIG_TAG_BYTES), authenticating ad too. */
int mig__seal(struct mig_session *s, const uint8_t *plain, size_t n,
    const uint8_t *ad, size_t adlen, uint8_t *out);
/* Opens a record of n bytes into out (n - MIG_TAG_BYTES); MIG_EAUTH on
 * any tampering, replay or reordering. */
int mig__open(struct mig_session *s, const uint8_t *c, size_t n,
    const uint8_t *ad, size_t adlen, uint8_t *out);
/* A whole frame of n bytes as a record into out (MIG_RECORD_OVERHEAD + n
 * bytes): u32 sealed length, which is also the associated data, then the
 * sealed frame. 0, MIG_ETOOBIG or MIG_EAUTH (counter exhausted). */
int mig__record_seal(struct mig_session *s, const uint8_t *frame, size_t n,
    uint8_t *out);
/* Opens the record at the start of p[0..avail) into plain, and decodes
 * its frame into *f (pointing into plain). 0 with *used the record's
 * size; MIG_EAGAIN when it is not all there; MIG_EPROTO for a length no
 * record has or a frame that does not fill its record; MIG_EAUTH when it
 * does not open (altered, replayed, reordered). Nothing but 0 lets the
 * caller go on. */
int mig__record_open(struct mig_session *s, const uint8_t *p, size_t avail,
    struct mig_buf *plain, struct mig_frame *f, size_t *used);

/* transport/registry.c: who handles what */
void mig__on_link_frame(struct homed *d, uint16_t type, mig__link_fn *fn);
void mig__on_client_frame(struct homed *d, uint16_t type, mig__client_fn *fn);
void mig__watch(struct homed *d, const struct watcher *w);
/* The transport's side: deliveries and notices. */
int mig__deliver_link(struct link *l, const struct mig_frame *f);
int mig__deliver_client(struct client *c, const struct mig_frame *f);
void mig__notify_up(struct link *l);
void mig__notify_down(struct link *l, int code, const char *why);
void mig__notify_client_gone(struct client *c);
/* Asks the reaper to run on the next loop turn. */
void mig__reap_soon(struct homed *d);
void mig__reaper_init(struct homed *d);

/* transport/control.c: the unix socket for local programs */
struct client {
	TAILQ_ENTRY(client) entry;
	struct homed *d;
	uv_pipe_t pipe;
	struct mig_buf in;
	struct job *job;      /* home role: the job this stub runs */
	struct hold *hold;    /* home role: the placeholder this is */
	int closing;          /* marked: torn down on the next turn */
	int closed;           /* torn down: its handle is closing */
	int hello;            /* HELLO received */
};

int mig__control_start(struct homed *d);
void mig__control_stop(struct homed *d);
/* Queues one frame to the client; never frees anything. */
int mig__client_send(struct client *c, uint16_t type, uint16_t flags,
    const void *payload, size_t n);
void mig__client_error(struct client *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Marks the client gone; the reaper tears it down next turn. */
void mig__client_close(struct client *c);
/* fd, one end of a socket pair whose other end a child of ours holds,
 * becomes a client (which says HELLO as any other); 0 or an errno, fd
 * closed on failure. */
int mig__client_adopt(struct homed *d, int fd);
void mig__clients_reap(struct homed *d);

/* transport/link.c: links between daemons */
enum link_state {
	LINK_RESOLVING,  /* looking up the peer's address (initiator) */
	LINK_CONNECTING, /* TCP connect under way (initiator) */
	LINK_HELLO,      /* waiting for the other side's HELLO */
	LINK_AUTH,       /* acceptor: waiting for the initiator's AUTH */
	LINK_UP,
	LINK_FAILED,     /* marked: torn down on the next turn */
	LINK_CLOSED      /* torn down: its handles are closing */
};

struct link {
	TAILQ_ENTRY(link) entry;
	struct homed *d;
	struct peer *peer;    /* NULL until the handshake names it */
	uv_tcp_t tcp;
	uv_connect_t connect;
	uv_getaddrinfo_t resolve;
	uv_timer_t timer;     /* handshake deadline */
	enum link_state state;
	int initiator;
	int was_up;           /* reached LINK_UP once */
	uint64_t last_rx;     /* loop time of the last frame received */
	uint8_t ni[MIG_NONCE_BYTES], na[MIG_NONCE_BYTES];
	char peer_name[MIG_NAME_MAX];
	uint32_t ciphers;     /* acceptor: offered by both sides */
	/* The handshake's secrets, wiped once used (and when it fails). */
	uint8_t esk[MIG_KX_BYTES];    /* our ephemeral secret */
	uint8_t epk[MIG_KX_BYTES];    /* its public half */
	uint8_t secret[MIG_HASH_BYTES]; /* acceptor: until AUTH checks */
	/* The initiator's HELLO payload, as sent or received, for the
	 * transcript. */
	uint8_t hello_i[MIG_HANDSHAKE_FRAME_MAX];
	size_t hello_ilen;
	struct mig_session sess;
	struct mig_buf in;    /* received, not yet processed */
	struct mig_buf plain; /* one opened record */
	char desc[128];       /* "host1 127.0.0.2:7410" for log lines */
	char from[64];        /* acceptor: the peer's address */
	int fail_code;        /* why it failed, for link_down */
	char fail_why[160];
	int handles;          /* open handles, freed at zero */
};

/* The cluster's members: one per line of the hosts file but our own. */
struct peer {
	TAILQ_ENTRY(peer) entry;
	struct homed *d;
	char name[MIG_NAME_MAX];
	char addr[64];
	uint16_t port;
	uint32_t slots;       /* the hosts file's SLOTS, 0: unset */
	int removed;          /* gone from the hosts file: drains, then
			       * stays as a record, never dialed again */
	struct link *link;    /* the link in use, once up */
	struct link *dialing;
	int last_error;       /* why the last link failed */
	char last_why[160];
	/* Kept by cluster.c from LOAD and PONG. */
	uint32_t host_slots;  /* as the host last said (LOAD) */
	uint32_t running;     /* jobs running there, as it last said */
	uint32_t load100;     /* its load average x100 */
	uint32_t freemem;     /* MiB */
	uint64_t rtt_ns;      /* last round trip */
	uint64_t best_rtt_ns; /* smallest of the recent round trips */
	int64_t offset_ns;    /* its clock minus ours, at best_rtt_ns */
	int have_offset;
	uint64_t offset_age;  /* pings since best_rtt_ns was measured */
	/* Kept by the home role. */
	uint32_t mine;        /* jobs this home runs there now */
	uint32_t done;        /* jobs this home ran there */
	/* Kept by the transport (link.c), over every link to it: frames and
	 * their sealed bytes as on the wire, per message type. */
	struct traffic {
		uint64_t frames[MIG_M__COUNT];
		uint64_t bytes[MIG_M__COUNT];
	} tx, rx;
};

int mig__peers_init(struct homed *d);
/* The hosts file changed: new hosts are dialed, removed ones drain. */
int mig__peers_update(struct homed *d, const struct mig_hosts *hosts);
int mig__listen_start(struct homed *d);
void mig__links_stop(struct homed *d);
struct peer *mig__peer_find(struct homed *d, const char *name);
/* Makes sure a link to p is up or on its way. */
void mig__peer_dial(struct peer *p);
/* Sends one frame over an up link; MIG_ELINK on any other. A failure
 * marks the link failed and frees nothing. */
int mig__link_send(struct link *l, uint16_t type, uint16_t flags,
    uint32_t stream, const void *payload, size_t n);
/* Marks the link failed (logged once); torn down on the next turn. */
void mig__link_fail(struct link *l, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Pings every up link and closes the silent ones (the tick). */
void mig__links_tick(struct homed *d);
void mig__links_reap(struct homed *d);

/* transport/handshake.c */
/* Starts the handshake on a connected link (both sides). */
void mig__handshake_start(struct link *l);
/* Feeds plain handshake frames from l->in; returns bytes used. Fails
 * the link on anything but a well-formed, authentic handshake. */
size_t mig__handshake_read(struct link *l);

/* A HELLO as read off the wire (pointers into its payload). */
struct mig_hello {
	uint32_t version;
	const uint8_t *nonce;  /* MIG_NONCE_BYTES */
	char name[MIG_NAME_MAX]; /* checked: letters, digits, '.', '-', '_' */
	uint32_t ciphers;      /* MIG_CIPHER_* bits offered */
	const uint8_t *epk;    /* MIG_KX_BYTES: the sender's ephemeral key */
	const uint8_t *proof;  /* the acceptor's proof; NULL from an initiator */
	size_t body;           /* payload bytes before the proof: what the
				* transcript holds */
};

/* Parses a HELLO payload, the acceptor's (with its proof) when acceptor
 * is set. 0; MIG_EVERSION with h->version set when the version is not
 * ours (nothing else is read); MIG_EPROTO when malformed. */
int mig__hello_parse(const uint8_t *p, size_t n, int acceptor,
    struct mig_hello *h);
/* Appends a HELLO payload but for the proof: version, nonce, name,
 * ciphers, ephemeral key. */
int mig__hello_put(struct mig_buf *b, const uint8_t nonce[MIG_NONCE_BYTES],
    const char *name, uint32_t ciphers, const uint8_t epk[MIG_KX_BYTES]);
/* Parses an AUTH payload: 0 with *proof pointing into p, or MIG_EPROTO. */
int mig__auth_parse(const uint8_t *p, size_t n, const uint8_t **proof);
/* transport/link.c, for handshake.c */
int mig__link_write_plain(struct link *l, const struct mig_buf *frame);
void mig__link_up(struct link *l);

/* reload.c: the hosts file read again, on SIGHUP and when it changes */
void mig__reload_init(struct homed *d);
void mig__reload_stop(struct homed *d);

/* cluster.c: load pushes and the clock, per peer */
void mig__cluster_init(struct homed *d);
void mig__tick_start(struct homed *d);
/* Pushes this host's load to every up link now, if it changed. */
void mig__push_load(struct homed *d);
/* Jobs running on this host, whoever placed them. */
uint32_t mig__running_here(struct homed *d);

/* views.c: mig hosts, mig ps, mig policy */
void mig__views_init(struct homed *d);

/* home/jobfsm.c: a job at home, as a state machine without I/O */
enum job_state {
	JOB_QUEUED,  /* waits for a free slot anywhere (placed by policy) */
	JOB_DIALING, /* waits for the link to its named host (mig -h) */
	JOB_RUNNING, /* EXEC sent over the link */
	JOB_LOCAL,   /* answered LOCAL: runs here, ends with its socket */
	JOB_DONE
};

enum job_event {
	JEV_PLACED_THERE, /* placement picked a peer whose link is up */
	JEV_PLACED_HERE,  /* placement picked this host */
	JEV_LINK_UP,      /* the named host's link came up */
	JEV_LINK_DOWN,    /* the job's link (or the dial) failed */
	JEV_REFUSED,      /* the host was full */
	JEV_ERROR,        /* the host refused it otherwise */
	JEV_EXIT,         /* the host says it ended */
	JEV_CLIENT_GONE,  /* the stub went away */
	JEV_LOCAL_EXIT,   /* the program the stub runs itself ended */
	JEV__COUNT
};

/* What the glue does after a transition, in this order. */
#define JACT_SEND_EXEC 0x01   /* EXEC over the peer's link */
#define JACT_SEND_LOCAL 0x02  /* LOCAL to the stub */
#define JACT_SEND_KILL 0x04   /* KILL to the host */
#define JACT_FAIL 0x08        /* a mig: error to the stub (255) */
#define JACT_REQUEUE 0x10     /* forget the host, wait for placement */
#define JACT_FINISH 0x20      /* held output, then EXIT, to the stub */
#define JACT_END 0x40         /* free the job, slots may have freed */

/* Applies ev to a job in *state; restart says the job may run again
 * elsewhere. Returns JACT_* bits; an event that does not apply in a
 * state returns 0 and leaves it. */
int mig__job_step(enum job_state *state, enum job_event ev, int restart);
const char *mig__job_state_name(enum job_state s);

/* home/job.c: the home role's jobs */
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
	int32_t home_pid;    /* the stub's pid */
	int32_t home_pgid;   /* the stub's process group and session */
	int32_t home_sid;
	int32_t remote_pid;  /* once STARTED */
	uint64_t start_ns;   /* monotonic, when placed */
	uint32_t runs;       /* how many times it was sent to a host */
	int watched;         /* LOCAL: its pid is watched for its end */
	int home_only;       /* a host lacked its files: it runs here */
	uint64_t fs_mark;    /* its link's fs requests when EXEC went out */
	/* A restartable job's output waits here until it ends, so a run
	 * cut short by a lost host prints nothing. */
	struct mig_buf held;
	size_t unacked[3];   /* stub acks still owed for released output */
	size_t window[3];    /* output relayed to the stub, not acked yet */
	char prog[64];       /* basename of argv[0], for history */
	char cmd[160];       /* the command line, for mig ps */
	char why[96];        /* why it runs where it runs, for mig ps */
	char files[160];     /* how it sees home's files there (STARTED) */
	char end[24];        /* how it ended, for mig ps --recent */
};

/* A line of mig ps: a job now, or one that ended (d->recent). */
struct psrow {
	int32_t home_pid;
	int32_t remote_pid;
	uint64_t ms;         /* elapsed, or how long it ran */
	char host[MIG_NAME_MAX];
	char state[24];
	char why[96];
	char files[160];     /* how it sees home's files */
	char cmd[160];
};

#define MIG_RECENT 256   /* finished jobs mig ps --recent can show */

/* Output a restartable job may hold before it is released (and the job
 * is no longer restartable). */
#define MIG_HELD_MAX (1u << 20)

void mig__home_init(struct homed *d);
struct job *mig__job_find(struct homed *d, uint32_t id);
/* Places queued jobs while slots are free; call when slots free up. */
void mig__place_queued(struct homed *d);

/* home/place.c: placement at exec time */
/* Picks a host for a job, given this host's free slots: a peer, or NULL
 * for this host; *full when none has a free slot. */
struct peer *mig__place_pick(struct homed *d, int64_t here, int *full);

/* home/history.c: run times by program */
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

void mig__history_add(struct homed *d, const char *prog, uint64_t ms,
    int placed);
/* 1 when the history says prog is too short-lived to place. */
int mig__history_short(struct homed *d, const char *prog);
uint32_t mig__history_median(const struct history *h);
void mig__history_free(struct homed *d);
/* Reads the history kept by an earlier daemon; writes it when dirty. */
void mig__history_load(struct homed *d);
void mig__history_save(struct homed *d);

/* home/calls.c: forwarded calls, run at home from calls.def */
void mig__calls_init(struct homed *d);
/* Runs the CALL payload p; returns MIG_EPROTO if malformed. */
int mig__call_run(const uint8_t *p, size_t len, uint32_t *seq, int64_t *ret,
    int *err);

/* home/hold.c: pids at home for the processes placed jobs start */
struct hold {
	TAILQ_ENTRY(hold) entry;
	struct homed *d;
	uint32_t job;        /* the job's id */
	struct link *link;   /* the link the job's HOLD came over */
	pid_t pid;           /* the placeholder: the home pid */
	pid_t host_pid;
	struct client *client; /* its connection, once it called */
	int ended;           /* its process or job ended: placeholder killed;
			      * the entry goes when it is reaped */
};

void mig__holds_init(struct homed *d);
/* The job ended (or runs again elsewhere): its placeholders go. */
void mig__holds_job_end(struct homed *d, uint32_t job);
void mig__holds_stop(struct homed *d);
/* 1 when pid is the home pid of one of the job's processes. */
int mig__holds_has(struct homed *d, uint32_t job, pid_t pid);

/* host/rjobfsm.c: a job on this host, as a state machine without I/O */
enum rjob_state {
	RJOB_STARTING, /* forked; waits for the exec report */
	RJOB_RUNNING,  /* exec'd */
	RJOB_DRAINING, /* the process ended; output still flowing */
	RJOB_DONE
};

enum rjob_event {
	REV_EXEC_OK,     /* the report pipe closed on exec */
	REV_EXEC_FAILED, /* the report said why it failed */
	REV_EXITED,      /* the process was reaped */
	REV_OUTPUT_DONE, /* stdout and stderr both reached EOF (or closed) */
	REV_LINK_DOWN,   /* its home is gone */
	REV_KILL,        /* its home says the stub is gone */
	REV_STOP,        /* the daemon stops */
	REV__COUNT
};

#define RACT_SEND_STARTED 0x01
#define RACT_SEND_FAILED 0x02 /* why exec failed, as a shell would say */
#define RACT_KILL 0x04        /* its subreaper kills all of it */
#define RACT_SEND_EXIT 0x08
#define RACT_DETACH 0x10      /* no home to tell any more */
#define RACT_END 0x20         /* close its pipes and free it */

struct rjob_fsm {
	enum rjob_state state;
	unsigned exited : 1;   /* reaped */
	unsigned drained : 1;  /* output at EOF */
	unsigned orphan : 1;   /* no home link any more */
};

int mig__rjob_step(struct rjob_fsm *m, enum rjob_event ev);
const char *mig__rjob_state_name(enum rjob_state s);

/* host/spawn.c: the host role's jobs */
struct rjob {
	TAILQ_ENTRY(rjob) entry;
	struct homed *d;
	struct link *link;   /* NULL once the link is gone */
	uint32_t id;
	struct rjob_fsm fsm;
	pid_t subreaper;     /* our child, the job's subreaper (subreaper.c) */
	int statusfd;        /* where the subreaper leaves the leader's status */
	pid_t pid;           /* the leader, once its report says (else 0) */
	int status;          /* from waitpid */
	int32_t exec_report[3]; /* the leader's pid; on failure stage, errno */
	uv_pipe_t report;    /* the exec report's read end */
	size_t report_got;
	uv_pipe_t pipes[3];  /* the job's stdin, stdout, stderr (our ends) */
	int open[3];         /* pipes[i] is open */
	int done[3];         /* stdout/stderr reached EOF or were closed */
	int reading[3];
	size_t unacked[3];
	int handles;         /* open handles, freed at zero */
	struct mig_ident *ident; /* the job's identity page (shared) */
	uint32_t token;      /* how its processes name it here (__MIG_JOB) */
	char *argv0;         /* for the report of a failed exec */
	char *cwd;
	char files[200];     /* how it sees home's files (STARTED) */
};

void mig__host_init(struct homed *d);
/* host/subreaper.c: finds mig-reaper (at start-up). */
void mig__subreaper_init(void);
/* Runs, in a child of the daemon's, the subreaper of a job:
 * forks the leader (which runs leader(arg) and must not return), and
 * when it ends, or on SIGTERM, or when the daemon dies, kills every
 * process left under it, writes the leader's wait status to statusfd
 * and exits. */
void mig__subreaper_run(pid_t daemon, int statusfd,
    void (*leader)(void *arg), void *arg) __attribute__((noreturn));
/* The leader's status that a subreaper left in its pipe; -1 if none. */
int mig__subreaper_status(int fd, int *status);
struct rjob *mig__rjob_by_token(struct homed *d, uint32_t token);
void mig__rjobs_stop(struct homed *d);
/* Jobs running here for other homes. */
uint32_t mig__rjobs_running(struct homed *d);

/* host/relay.c: the job's stdio over the link */
void mig__relay_init(struct homed *d);
/* Starts relaying the job's pipes, once it runs. */
void mig__relay_start(struct rjob *rj);
/* Closes our end of pipe fd (0, 1 or 2). */
void mig__relay_close(struct rjob *rj, int fd);
/* host/spawn.c, for relay.c: stdout or stderr is done; a handle of the
 * job closed (the last one of a finished job frees it). */
void mig__rjob_handle_closed(uv_handle_t *h);
void mig__rjob_output_done(struct rjob *rj, int fd);
void mig__rjob_send(struct rjob *rj, uint16_t type, uint16_t flags,
    const void *p, size_t n);
struct rjob *mig__rjob_find(struct link *l, uint32_t id);

/* host/ident.c: the identity page */
#define MIG_IDENT_FDNO 100
/* Makes a job's page; returns the fd the job inherits (read-only to it). */
int mig__ident_new(const struct mig_job *job, const struct peer *home,
    struct mig_ident **idp);
void mig__ident_clock(struct mig_ident *id, const struct peer *home);
/* Which of the job's fds 0-2 (the pipes fds) stand for a terminal at
 * home (flags: MIG_JOB_ISATTY0...). */
void mig__ident_stdio(struct mig_ident *id, uint32_t flags, const int fds[3]);
void mig__ident_free(struct mig_ident *id);

/* host/desc.c: the host half of forwarded calls and placeholders */
struct callwait {
	TAILQ_ENTRY(callwait) entry;
	struct client *client;
	uint32_t seq;
	uint32_t token;      /* HOLD: the job, as named here */
	pid_t host_pid;      /* HOLD: the process that wants a home pid */
};

struct desc {
	TAILQ_ENTRY(desc) entry;
	struct homed *d;
	struct rjob *rj;
	pid_t host_pid, home_pid;  /* its end is watched (mig__pid_watch) */
	int slot;            /* its line in the identity page */
};

void mig__desc_init(struct homed *d);
/* The job's processes are forgotten (it ended). */
void mig__descs_job_end(struct rjob *rj);
/* A signal from home for one of the job's processes. */
void mig__desc_signal(struct rjob *rj, pid_t host_pid, int sig);

/* fs/serve.c: the fs role at home, answering hosts' views */
void mig__fs_home_init(struct homed *d);
void mig__fs_home_free(struct homed *d);
/* How host p's jobs see this home's files, as it said at link up: for
 * mig hosts. */
const char *mig__fs_peer_files(struct homed *d, struct peer *p);
/* Its hosts file keyword (MIG_FILES_*), -1 before it said. */
int mig__fs_peer_keyword(struct homed *d, struct peer *p);

/* Sends host l, just before job id's EXEC, the paths prog's jobs used
 * in recent runs as they are now (MIG_M_FS_PRIME), when l's host may run
 * it in a served view. */
void mig__fs_prime(struct homed *d, struct link *l, uint32_t id,
    const char *prog);

/* fs/learn.c: learned access sets, by program (home side) */
/* Request number k of link l's view asks about path (NULL: nothing to
 * learn from it). */
void mig__learn_seen(struct homed *d, struct link *l, const char *path);
/* The fs requests link l's view has made so far. */
uint64_t mig__fs_mark(struct homed *d, struct link *l);
/* A job placed over l (its EXEC went at mark) ended: the paths asked
 * since join prog's set. Returns how many fs requests l made since. */
uint64_t mig__fs_learn(struct homed *d, struct link *l, const char *prog,
    uint64_t mark);
/* prog's set, most recent first; owned by learn.c, valid until the next
 * call into it. */
char *const *mig__learn_set(struct homed *d, const char *prog, size_t *n);
void mig__learn_link_down(struct homed *d, struct link *l);
void mig__learn_free(struct homed *d);

/* fs/view.c: the fs role on a host: one served view per home link */
void mig__fs_host_init(struct homed *d);
/* Ends every view (the daemon stops). */
void mig__fs_host_stop(struct homed *d);
void mig__fs_host_free(struct homed *d);
/* 1 when this host can run jobs in a served view (the probe, run once);
 * else 0, with the reason in *why. */
int mig__fs_served(struct homed *d, const char **why);
/* Job id of home link l runs in that link's view: calls fn(arg, v, NULL)
 * once the view is ready (at once if it is), or fn(arg, NULL, why) if it
 * cannot be made or the link goes first. The first call for a link
 * starts its view. From this call on, the view answers from nothing
 * learned before the job was placed but what home sent with it. plan
 * (fs/proof.c, may be NULL) says which of this host's mounts a new view
 * binds in; a view made already keeps its own. */
void mig__view_want(struct homed *d, struct link *l, uint32_t id,
    const struct mig_plan *plan,
    void (*fn)(void *arg, struct view *v, const char *why), void *arg);
/* A job of home link l ended (job: its subreaper's pid): calls fn(arg,
 * 1) once every file the job made in l's view is home, complete, with
 * its mode (at once when there is no view or nothing to send), or
 * fn(arg, 0) when the view ends first. Files of jobs that ended before
 * and files no job can be told from go with it. */
void mig__view_settle(struct homed *d, struct link *l, pid_t job,
    void (*fn)(void *arg, int ok), void *arg);
/* fs/exact.c: how each job sees its home's files here */
enum mig_exact_mode {
	MIG_EXACT_OWN,      /* in this host's own files: they are home's */
	MIG_EXACT_VIEW,     /* in the view: home's, served but for plan */
	MIG_EXACT_REFUSE,   /* not here: code, and text says why */
	MIG_EXACT_GONE,     /* the link went first: nothing to do */
};

struct mig_exact {
	enum mig_exact_mode mode;
	int code;                   /* MIG_EXACT_REFUSE's mig error */
	const struct mig_plan *plan; /* VIEW: the binds, valid during the
	                             * call; NULL: all served */
	char text[400];             /* the files the job sees, or why not */
};

typedef void mig__exact_fn(void *arg, const struct mig_exact *e);

void mig__exact_init(struct homed *d);
/* Stops watching this home's mount table (the daemon stops). */
void mig__exact_stop(struct homed *d);
void mig__exact_free(struct homed *d);
/* Decides how job (of home link l) sees its home's files here: calls
 * fn(arg, e) once, at once or from a later loop turn; job must live
 * until then. */
void mig__exact_decide(struct homed *d, struct link *l,
    const struct mig_job *job, mig__exact_fn *fn, void *arg);

/* As home: what host l proved of our files (mig hosts): -1 when it has
 * not said yet, else 1 when its own files are ours, 0 when not; then
 * *proven and *unproven (our other mounts, and its own that hide ours)
 * are mount points, one a line, valid until the next frame. */
int mig__exact_peer(struct homed *d, struct link *l, const char **proven,
    const char **unproven);

/* In a job's forked child: enters the view (user and mount namespaces,
 * then chroot to its root). 0 or an errno. */
int mig__view_enter(const struct view *v);

#endif
