/*
 * homed.h: the parts of mig-homed, in layers (docs/design.md):
 *
 *   top        main.c (start, tick, stop), cluster.c (the peer table:
 *              load, clock), views.c, reload.c, self.c (this host's
 *              line), life.c (--status, --stop)
 *   roles      home/ (jobs, placement, placeholders, forwarded calls),
 *              host/ (spawn, stdio relay, identity page, descendants)
 *   files      fs/ (files served to hosts, views of homes' files)
 *   transport  transport/ (peer links: dial, accept, handshake, records,
 *              liveness; the control socket: accept, credentials, frames;
 *              the registry of handlers and events), load.c (jobs
 *              running here, counted by the roles)
 *   loop       libuv, and children.c (forks and reaping)
 *
 * The transport delivers each checked frame to the handler a role
 * registered for its type, and tells subscribers when a link comes up or
 * goes down, when a local client goes away, when the load here or at a
 * peer changes and when a peer's clock is measured anew; it never calls
 * a role by name, no role calls another, and the served view (fs/, a
 * layer below the job roles, which ask it) calls neither job role
 * (scripts/layers checks).
 * Sending never frees anything: a failed link or client is marked and
 * torn down on the next loop turn, from one place.
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

#include <sodium/crypto_aead_aes256gcm.h>
#include <uv.h>

#include "core.h"
#include "mig/ident.h"
#include "mig/proto.h"
#include "helpers/serve.h"
#include "helpers/start.h"

#define MIG_NONCE_BYTES 32
#define MIG_PROOF_BYTES 32
#define MIG_TAG_BYTES 16
#define MIG_KX_BYTES 32    /* an X25519 public or secret key */
#define MIG_HASH_BYTES 32  /* the transcript hash, the handshake secret */
/* What a record adds to its frame: the length word and the tag. */
#define MIG_RECORD_OVERHEAD (4 + MIG_TAG_BYTES)
/* A record carries one frame: length word, sealed frame, tag. */
#define MIG_RECORD_MAX (MIG_FRAME_HDR + MIG_FRAME_MAX + MIG_TAG_BYTES)
/* Before authentication a peer gets almost nothing: handshake frames of
 * their real size at most, a small read buffer, a slot in a pool of
 * pending handshakes, and little time (transport/preauth.c). */
#define MIG_HANDSHAKE_FRAME_MAX 512
#define MIG_HANDSHAKE_MS 5000
#define MIG_HANDSHAKE_BUSY_MS 1000 /* once its pool is half full */
#define MIG_PREAUTH_MAX 64       /* strangers' pool: other addresses */
#define MIG_PREAUTH_PER_ADDR 16  /* ... of which from one address */
#define MIG_PREAUTH_KNOWN 8      /* each hosts-file address's own pool */
#define MIG_PREAUTH_LINES 10     /* log lines about them per window */
#define MIG_PREAUTH_WINDOW_MS 10000
#define MIG_PREAUTH_ADDRS 32     /* addresses a summary tells apart */
#define MIG_CONNECT_MS 5000
/* A link silent for this long is dead (--ping-timeout). Pings go out
 * every second, so a few lost ones are forgiven. */
#define MIG_PING_TIMEOUT_MS 6000

#define MIG_CIPHER_CHACHA 0
#define MIG_CIPHER_AES256GCM 0x1

struct client;
struct child_ref;
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

typedef void mig__link_fn(struct link *l, const struct mig_frame *f);
typedef void mig__client_fn(struct client *c, const struct mig_frame *f);

/* Who hears of links and clients coming and going. */
struct watcher {
	void (*link_up)(struct link *l);
	/* The link is gone; code and why say what happened. Called once
	 * per link, also for links that never came up. */
	void (*link_down)(struct link *l, int code, const char *why);
	void (*client_gone)(struct client *c);
	/* 1 while the role needs p's link: a host gone from the hosts file
	 * keeps it until no watcher does. */
	int (*keeps)(struct peer *p);
	/* Jobs running here, this host's slots or a peer's load changed
	 * (load.c): a slot may be free. Told on the next loop turn. */
	void (*load_changed)(struct homed *d);
	/* A new, truer offset of l's peer's clock (cluster.c). */
	void (*clock_changed)(struct link *l);
};

/* Registered at start-up; one more is a fatal error, said at start. */
#define MIG_WATCHERS 16

/* Who runs the jobs counted in load.c. */
enum load_kind {
	LOAD_HOME, /* placed here by this host's home role */
	LOAD_HOST, /* run here for a home, this one or another */
	LOAD__COUNT
};

/* What the log says of connections not proved, per window (preauth.c). */
struct preauth {
	uint64_t since;       /* loop time + 1 the window began; 0: none */
	uint32_t lines;       /* lines said in it of failed handshakes */
	uint32_t dropped;     /* oldest pending dropped for newer ones */
	uint32_t unsaid;      /* failed handshakes past the lines */
	uint32_t naddrs;      /* addresses of those two */
	int more_addrs;       /* more than MIG_PREAUTH_ADDRS */
	char addrs[MIG_PREAUTH_ADDRS][64];
};

/* server.c: a helper server of ours (helpers/serve.h) */
struct server {
	char path[PATH_MAX];  /* the program, "" when not found */
	const char *what;     /* what the log calls it */
	char *const *argv;    /* its arguments */
	pid_t pid;            /* the server, our child; 0 when none */
	int fd;               /* our end of its socket; -1 when none */
};
/* home/hold.c: a placeholder's title, with its NUL */
#define MIG_STANDIN_TITLE MIG_SERVE_MSG

/* Buckets of the table of jobs by id (home/job.c). */
#define MIG_JOB_BUCKETS 1024

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
	struct server standins;        /* the placeholder server */
	struct server reapers;         /* the job subreapers' server */
	pid_t spare;                   /* a subreaper waiting for a job, 0 */
	int spare_fd;                  /* its socket; -1 when none */
	char preload[2 * PATH_MAX];    /* what jobs preload: shim + host's */
	char **hostenv;                /* "NAME=value" passed to every job */
	char listen_addr[64];
	uint16_t listen_port;
	int listen_given;              /* by --listen, not the hosts file */
	uint32_t ping_timeout_ms;      /* a silent link is dead after this */
	uint32_t proto_max;            /* the highest protocol our links
					* speak: MIG_PROTO_VERSION, lower
					* only for tests (MIG_PROTO_MAX) */
	const char *no_listen;         /* why no TCP port is open, or NULL */
	char hosts_error[320];         /* why the hosts file last read again
					* was refused (the hosts before stay),
					* "" once one applies (reload.c) */
	char key_error[320];           /* the same for the key */
	uv_pipe_t control;
	uv_tcp_t listener;
	uv_pipe_t handover;            /* link.sock: ssh'd homes' stdio */
	uint32_t idle_exit_ms;         /* --idle-exit: stop when unused */
	struct bundle *bundle;         /* this build, for ssh hosts */
	uint64_t idle_since;           /* loop time it became unused, 0 */
	uv_signal_t sigchld, sigterm, sigint, sighup;
	uv_fs_event_t confwatch;       /* the config folder, for hosts */
	uv_idle_t reaper;              /* runs the deferred teardowns */
	uv_prepare_t flush;            /* a turn's writes, before the loop
	                                * waits (registry.c) */
	int corked;                    /* links and clients with bytes to
	                                * flush */
	uv_timer_t tick;               /* load, pings and redials, 1 s */
	int stopping;
	/* The transport's registry, filled by the roles at start-up. */
	mig__link_fn *link_handlers[MIG_M__COUNT];
	mig__client_fn *client_handlers[MIG_M__COUNT];
	struct watcher watchers[MIG_WATCHERS];
	int nwatchers;
	struct preauth preauth;
	TAILQ_HEAD(, client) clients;
	TAILQ_HEAD(, link) links;      /* every open link, in the order made */
	uint32_t next_link;            /* names links (struct link's id) */
	TAILQ_HEAD(, peer) peers;
	TAILQ_HEAD(, child) children;  /* forked, not yet reaped */
	TAILQ_HEAD(, pidwatch) pidwatches; /* other processes watched */
	/* The load (load.c) and the cluster: this host's load as last
	 * pushed. */
	uint32_t running[LOAD__COUNT]; /* jobs running here, by who runs them */
	int load_pending;              /* load_changed not told yet */
	uint32_t slots;                /* this host's: hosts file, else CPUs */
	uint32_t files;                /* this host's MIG_FILES_* (hosts file) */
	char seed[256];                /* folders indexed for content seeding,
	                                * ':'-joined, or MIG_SEED_OFF */
	uint32_t last_load;            /* running count last pushed */
	uv_timer_t load_settle;        /* pushes it once it settles */
	uint32_t trimmed_at;           /* job counters at the last trim */
	/* The home role. */
	uint32_t next_job;
	uint32_t done;                 /* jobs run here, for mig hosts */
	struct history *history;       /* run times by program */
	size_t nhistory;
	TAILQ_HEAD(, job) jobs;
	/* The jobs waiting for a slot (JOB_QUEUED), oldest first, and every
	 * job by its id: placing and a host's frames touch those alone. */
	TAILQ_HEAD(jobq, job) queue;
	struct job *job_ids[MIG_JOB_BUCKETS];
	TAILQ_HEAD(, hold) holds;      /* placeholders */
	struct psrow *recent;          /* ring of the last jobs that ended */
	uint32_t nrecent;              /* rows ever added */
	char history_path[PATH_MAX];   /* where history is kept, "" if nowhere */
	int history_dirty;             /* changed since last saved */
	uint64_t history_saved;        /* uv_now when last saved */
	/* The host role. */
	uint32_t next_token;           /* names host-role jobs locally */
	uint32_t next_seq;             /* numbers forwarded calls */
	TAILQ_HEAD(, rjob) rjobs;
	uv_timer_t held;               /* sends the jobs' held frames */
	int holding;                   /* jobs holding frames */
	TAILQ_HEAD(, callwait) calls;  /* forwarded calls awaiting home */
	TAILQ_HEAD(, desc) descs;      /* jobs' other processes */
	/* The fs role (fs/): serving our files to hosts, and the views of
	 * other homes' files that their jobs run in here. */
	struct fs_home *fs_home;
	struct fs_host *fs_host;
	struct fs_learn *fs_learn;     /* access sets by program (learn.c) */
	/* The owner (host/owner.c): while busy this host takes nothing new
	 * and the jobs of other homes stop using its CPU. */
	int busy;
	char busy_why[64];
	int evicted;                   /* mig evict, until mig evict --end */
	int64_t owner_seen;            /* the owner's last input (s) */
	int64_t owner_cpu_seen;        /* last time over owner-cpu (s) */
	int64_t owner_cpu_used;        /* the CPUs it used then, x1000 */
	uint64_t cpu_busy, cpu_mig;    /* CPU ticks at the last poll: all, */
	uint64_t cpu_at_ms;            /* mig's own (the daemon and jobs) */
	char *cpu_cgroup;              /* --owner-cpu-cgroup, or NULL */
	uv_timer_t owner_tick;         /* polls activity, enforces busy */
	uv_timer_t owner_grace;        /* evicted jobs' SIGTERM grace */
	struct exact *exact;           /* homes' mounts, proofs (exact.c) */
	/* Hosts from a Slurm allocation (slurm.c). */
	struct slurm *slurm;           /* NULL: hosts from the hosts file */
	char slurm_job[24];            /* its job id, "" when none */
	int ready_fd;                  /* tells the starter we serve; -1 */
};

/* self.c: this host's line of the hosts file, by address. 0 with *name
 * (pointing into hosts) the one line whose address is bound here;
 * MIG_ENOHOST when none is, MIG_ECONFIG when several are. why says which
 * and how, for the log. Blocking (the resolver): at start-up only. */
int mig__self_line(const struct mig_hosts *hosts, const char **name,
    char *why, size_t size);

/* life.c: mig-homed --status (stop 0) and --stop (stop 1) for the daemon
 * of runtime folder dir, whose socket is sock; prints what it found and
 * returns the exit status (0, 1 or 3, as mig-homed(8) says). */
int mig__life(const char *dir, const char *sock, int stop);

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
/* Calls exited(arg, status) when pid is reaped (in place of what was
 * to be called for it); 0 or MIG_E*. */
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
/* After the loop: reaps what ended, telling nobody, and forgets all. */
void mig__children_free(struct homed *d);

/* transport/crypto.c */
struct mig_session {
	uint32_t cipher; /* MIG_CIPHER_* agreed in the handshake */
	struct {
		uint8_t key[32];
		uint64_t counter;
		/* AES-256-GCM: the key expanded once, not per record. */
		crypto_aead_aes256gcm_state aes;
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

/* transport/handshake.c: the handshake as a function without I/O */
enum mig_hs_event {
	MIG_HS_NEED_MORE, /* no whole message yet: call again with more */
	MIG_HS_SEND,      /* a message was read; out holds the answer */
	MIG_HS_PROVEN,    /* the peer proved the key: hs->sess and hs->peer
			   * are set (out may hold a last message) */
	MIG_HS_FAIL       /* hs->code and hs->why say why (out may hold a
			   * last message: an acceptor's version answer) */
};

enum mig_hs_state { MIG_HS_HELLO, MIG_HS_AUTH, MIG_HS_DONE };

struct mig_hs {
	enum mig_hs_state state;
	int initiator;
	const uint8_t *key;    /* the user's key: outlives the handshake */
	const struct mig_hosts *hosts; /* acceptor: who may call */
	char self[MIG_NAME_MAX];
	char peer[MIG_NAME_MAX]; /* initiator: whom it dialed; acceptor: who
				  * called (proved only once PROVEN) */
	uint32_t ciphers;      /* acceptor: offered by both sides */
	uint32_t min, max;     /* the protocols we speak: this build's,
				* unless the link lowered max (MIG_PROTO_MAX,
				* for tests) */
	uint32_t proto;        /* PROVEN: the highest both speak */
	/* acceptor, optional: 1 when epk is the ephemeral key of one of
	 * this daemon's own dials (it called itself). */
	int (*ours)(void *arg, const uint8_t epk[MIG_KX_BYTES]);
	void *ours_arg;
	/* The secrets, wiped once used and when it fails. */
	uint8_t esk[MIG_KX_BYTES];     /* our ephemeral secret */
	uint8_t epk[MIG_KX_BYTES];     /* its public half */
	uint8_t secret[MIG_HASH_BYTES]; /* acceptor: until AUTH checks */
	/* The initiator's HELLO payload, as sent or received, for the
	 * transcript. */
	uint8_t hello_i[MIG_HANDSHAKE_FRAME_MAX];
	size_t hello_ilen;
	struct mig_session sess; /* PROVEN: the link's keys */
	int code;              /* FAIL: MIG_E* */
	char why[160];         /* FAIL: a sentence for the log */
};

/* A handshake for one link: initiator says it dials (and peer names whom
 * it dialed); an acceptor takes names of hosts but self. key and hosts
 * must outlive it. */
void mig__hs_init(struct mig_hs *hs, int initiator, const uint8_t *key,
    const char *self, const char *peer, const struct mig_hosts *hosts);
/* The first message, appended to out: the initiator's HELLO (MIG_HS_SEND
 * or MIG_HS_FAIL); an acceptor waits (MIG_HS_NEED_MORE). */
enum mig_hs_event mig__hs_start(struct mig_hs *hs, struct mig_buf *out);
/* Reads at most one message from p[0..n): *used says how many bytes it
 * took; whatever is to be sent is appended to out, to be sent whatever
 * the event. After PROVEN or FAIL the handshake is over; bytes past
 * *used are the peer's first records. */
enum mig_hs_event mig__hs_step(struct mig_hs *hs, const uint8_t *p,
    size_t n, size_t *used, struct mig_buf *out);
/* Forgets everything, secrets included. */
void mig__hs_wipe(struct mig_hs *hs);

/* A HELLO as read off the wire (pointers into its payload). */
struct mig_hello {
	uint32_t version;      /* the lowest protocol the sender speaks */
	uint32_t max;          /* its highest (the same for builds before
				* 0.2.0, which speak one) */
	const uint8_t *nonce;  /* MIG_NONCE_BYTES */
	char name[MIG_NAME_MAX]; /* checked: letters, digits, '.', '-', '_' */
	uint32_t ciphers;      /* MIG_CIPHER_* bits offered */
	const uint8_t *epk;    /* MIG_KX_BYTES: the sender's ephemeral key */
	const uint8_t *proof;  /* the acceptor's proof; NULL from an initiator */
	size_t body;           /* payload bytes before the proof: what the
				* transcript holds */
};

/*
 * Parses a HELLO payload, the acceptor's (with its proof) when acceptor
 * is set. The version word is the lowest protocol the sender speaks; the
 * ciphers word's bits 16-23 its highest (0: only the lowest, as every
 * build before protocol 5 said, and which protocol 4 ignores), its low
 * 16 bits the ciphers. 0; MIG_EVERSION with h->version (and h->max) set
 * for a refusal's bare answer, the version word alone; MIG_EPROTO when
 * malformed, with h->version set when the word was there (a HELLO of
 * another protocol's format).
 */
int mig__hello_parse(const uint8_t *p, size_t n, int acceptor,
    struct mig_hello *h);
#define MIG_HELLO_MAX_SHIFT 16
/* Appends a HELLO payload but for the proof: the protocols min..max,
 * nonce, name, ciphers, ephemeral key. */
int mig__hello_put(struct mig_buf *b, uint32_t min, uint32_t max,
    const uint8_t nonce[MIG_NONCE_BYTES], const char *name,
    uint32_t ciphers, const uint8_t epk[MIG_KX_BYTES]);
/* A stdio link's HELLO, both ways: version, name, build (printable ASCII:
 * the release and build id as mig --version says them, "0.2.0 (git
 * 1a2b3c4)"; builds before 0.2.0's last said "mig-homed 0.2.0"). */
#define MIG_BUILD_MAX 64
int mig__hello_plain_put(struct mig_buf *b, const char *name,
    const char *build);
/* 0; MIG_EVERSION with *version set; MIG_EPROTO when malformed. */
int mig__hello_plain_parse(const uint8_t *p, size_t n, uint32_t *version,
    char name[MIG_NAME_MAX], char build[MIG_BUILD_MAX]);
/* Parses a BUILD payload (a link's first frame from a peer of protocol 5
 * or later): 0 with build set, or MIG_EPROTO for anything but one
 * printable string that fits. */
int mig__build_parse(const uint8_t *p, size_t n, char build[MIG_BUILD_MAX]);
/* Parses an AUTH payload: 0 with *proof pointing into p, or MIG_EPROTO. */
int mig__auth_parse(const uint8_t *p, size_t n, const uint8_t **proof);

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
void mig__notify_clock(struct link *l);
/* Asks the reaper to run on the next loop turn. */
void mig__reap_soon(struct homed *d);
/* What a link or client was sent in this loop turn: its bytes go out in
 * one write before the loop waits (registry.c). */
struct cork {
	struct mig_buf buf;
	int on;               /* buf holds bytes: counted in d->corked */
};
/* Bytes were added to k->buf. */
void mig__cork_added(struct homed *d, struct cork *k);
/* k's bytes to one write on s, if it has any (k is left empty and the
 * write frees them); 0 or a libuv error. */
int mig__cork_flush(struct homed *d, struct cork *k, uv_stream_t *s);
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
	struct cork cork;     /* frames of this loop turn, not yet written */
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
/* What each client was sent in this loop turn goes out, in one write a
 * client (registry.c, before the loop waits). */
void mig__clients_flush(struct homed *d);

/* transport/link.c: links between daemons */
enum link_state {
	LINK_BOOT,       /* ssh: the host's mig is checked or pushed (ssh.c) */
	LINK_RESOLVING,  /* looking up the peer's address (initiator) */
	LINK_CONNECTING, /* TCP connect under way (initiator) */
	LINK_HANDSHAKE,  /* the handshake (hs) under way */
	LINK_UP,
	LINK_FAILED,     /* marked: torn down on the next turn */
	LINK_CLOSED      /* torn down: its handles are closing */
};

struct link {
	TAILQ_ENTRY(link) entry;
	struct homed *d;
	uint32_t id;          /* never 0, reused after 2^32 links: what
			       * outlives a loop turn keeps this, not a
			       * pointer (mig__link_by_id) */
	struct peer *peer;    /* NULL until the handshake names it */
	uv_tcp_t tcp;         /* a TCP link's socket (unused on stdio) */
	uv_pipe_t pin, pout;  /* a stdio link's: what it reads (the child's
			       * end of a socket pair, or fd 0 handed over)
			       * and, if apart, what it writes (fd 1) */
	uv_pipe_t perr;       /* the child's stderr, read for the reason */
	uv_stream_t *rd, *wr; /* where it reads and writes: tcp or pipes */
	int stdio;            /* over a child's or a caller's stdio */
	int plain;            /* frames go unsealed (ssh protects them) */
	pid_t child;          /* the process it runs over (ssh), or 0 */
	struct child_ref *child_ref; /* what its watch holds (stdio.c) */
	int hold;             /* acceptor: closed at its end, which ends the
			       * mig-homed --stdio that handed it over */
	int child_exited;     /* ... was reaped, with child_status */
	int child_status;
	int err_eof;          /* its stderr reached EOF (or was never open) */
	int in_eof;           /* the stream reached EOF; waits for the
			       * child's end to say why */
	char err_line[160];   /* the child's last line on stderr */
	struct mig_buf errbuf; /* its stderr, not a whole line yet */
	uv_connect_t connect;
	uv_getaddrinfo_t resolve;
	uv_timer_t timer;     /* handshake deadline */
	enum link_state state;
	int initiator;
	int was_up;           /* reached LINK_UP once */
	uint32_t unused_ticks; /* replaced by another link of its peer: the
			       * ticks in a row it carried no job */
	uint64_t last_rx;     /* loop time of the last frame received */
	uint32_t deadline;    /* ms the handshake was given */
	uint32_t proto;       /* once up: the protocol both ends speak */
	char build[MIG_BUILD_MAX]; /* the peer's release and build id, as its
			       * BUILD or stdio HELLO said; "" until then,
			       * and over protocol 4, which never says */
	struct mig_hs hs;     /* the handshake, wiped once it ended */
	struct mig_session sess;
	struct mig_buf in;    /* received, not yet processed */
	struct mig_buf opened; /* one opened record */
	struct cork cork;     /* what this loop turn queued to send */
	char desc[128];       /* "host1 (127.0.0.2:7410)" for log lines; an
			       * acceptor's is the address until proved */
	char from[64];        /* acceptor: the peer's address */
	int known;            /* acceptor: from a hosts-file address */
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
	int dialin;           /* it dials us, never we it (a Slurm node) */
	int removed;          /* gone from the hosts file: drains, then
			       * stays as a record, never dialed again */
	int ssh;              /* addr is an ssh destination (ssh.c) */
	int dynamic;          /* not in the hosts file: a home that came
			       * over ssh (stdio.c); never dialed */
	uint64_t next_dial;   /* ssh: loop time before which no redial */
	uint32_t backoff_ms;  /* ssh: the wait after the next failure */
	struct link *link;    /* the link in use, once up */
	struct link *dialing;
	uint8_t ip[16];       /* what its name last resolved to (IPv6 or */
	int have_ip;          /* IPv4-mapped), for preauth.c */
	int last_error;       /* why the last link failed */
	char last_why[160];   /* ... as mig hosts shows it (WHY): whatever
			       * a link's end said, the handshake's refusal
			       * included */
	int self;             /* its line names this host (a dial reached
			       * this daemon): not dialed again until the
			       * hosts file is read again */
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
	int drained;          /* mig drain: nothing new is placed there */
	int busy;             /* its owner uses it (BUSY), until link down */
	char busy_why[64];    /* and why, or how it watches its owner */
	uint32_t evictions;   /* jobs of this home it evicted (run again) */
	uint32_t freezes;     /* and froze */
	/* Kept by the transport (link.c), over every link to it: frames and
	 * their sealed bytes as on the wire, per message type. */
	struct traffic {
		uint64_t frames[MIG_M__COUNT];
		uint64_t bytes[MIG_M__COUNT];
	} tx, rx;
};

/* transport/peers.c: the peer table */
int mig__peers_init(struct homed *d);
/* The hosts file changed: new hosts are dialed, removed ones drain. */
int mig__peers_update(struct homed *d, const struct mig_hosts *hosts);
struct peer *mig__peer_find(struct homed *d, const char *name);
/* The peer a home that came over ssh names itself as: the hosts file's,
 * or a new one never dialed; NULL when out of memory. */
struct peer *mig__peer_answer(struct homed *d, const char *name);
/* 1 while a role needs p's link (watchers' keeps). */
int mig__peer_kept(struct peer *p);
/* Dials every known peer without a link (the tick). */
void mig__peers_tick(struct homed *d);

/* transport/tcp.c: TCP links, dialed and accepted */
int mig__listen_start(struct homed *d);
/* Makes sure a link to p is up or on its way (ssh.c's for ssh lines). */
void mig__peer_dial(struct peer *p);

/* transport/link.c */
void mig__links_stop(struct homed *d);
/* What each link queued in this loop turn goes out, in one write a link
 * (registry.c, before the loop waits). */
void mig__links_flush(struct homed *d);
/* A new link (initiator or not), in the daemon's list; NULL when out of
 * memory. Its reader and writer are its TCP handle until set. */
struct link *mig__link_new(struct homed *d, int initiator);
/* Drops one of the link's handles or requests; the last frees it. */
void mig__link_unref(struct link *l);
/* Sends the key handshake's first message (hs initialised). */
void mig__link_handshake(struct link *l);
/* Starts reading l->rd in state st. */
void mig__link_start_read(struct link *l, enum link_state st);
/* Queues n bytes as they are (boot talk, handshake); 0 or MIG_E*, and a
 * failure fails the link. */
int mig__link_write(struct link *l, const void *p, size_t n);
/* The handshake proved the peer, or a stdio link's peer was named: the
 * link is up. */
void mig__link_up(struct link *l);
/* The open link of that id (failed or not), or NULL once it is torn
 * down: what waits across loop turns keeps a link's id and looks it up
 * at use. */
struct link *mig__link_by_id(struct homed *d, uint32_t id);
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
/* For preauth.c: fails a link not proved without a line of its own. */
void mig__link_drop(struct link *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* transport/stdio.c: links over a process's stdio, frames unsealed */
/* A link over a child of ours: argv runs with a socket pair as its stdin
 * and stdout and a pipe as its stderr, whose last line says why when it
 * ends. The link starts in state st (LINK_BOOT lets ssh.c talk first,
 * LINK_HANDSHAKE starts the plain handshake). 0 or MIG_E*; the link, in
 * *out, is p's dialing link. */
int mig__stdio_spawn(struct peer *p, char *const argv[], enum link_state st,
    struct link **out);
/* A link over the stdin and stdout (one or two fds) that came with the
 * last read of ipc: an acceptor that waits for the plain HELLO. hold is
 * closed when the link ends (also on failure). 0 or MIG_E*. */
int mig__stdio_adopt(struct homed *d, uv_pipe_t *ipc, int hold,
    const char *from);
/* The plain handshake: the initiator's HELLO (once booted). */
void mig__stdio_hello(struct link *l);
/* Reads handshake frames of a plain link from l->in; bytes used. */
size_t mig__stdio_hs_read(struct link *l);
/* The stream of a stdio link reached EOF: its child's end says why. */
void mig__stdio_eof(struct link *l);
/* The teardown of a stdio link: its stderr pipe, its child. */
void mig__stdio_reap(struct link *l, uv_close_cb closed);

/* transport/ssh.c: links over ssh, home's build pushed */
/* Dials ssh peer p (mig__peer_dial's, for ssh lines). */
void mig__ssh_dial(struct peer *p);
/* LINK_BOOT: reads the host's lines from l->in; bytes used. */
size_t mig__ssh_boot_read(struct link *l);
/* A link of an ssh peer failed: the next dial waits longer. */
void mig__ssh_backoff(struct peer *p, int was_up);

/* transport/bundle.c: this build, for hosts that lack it */
/* The folder hosts keep this build in (VERSION-HASH), or NULL while it
 * is being made (the first call starts that) or when it cannot be: then
 * *why says why (why may be NULL). */
const char *mig__bundle_dir(struct homed *d, const char **why);
/* The build as a tar, once mig__bundle_dir gave its folder. */
const struct mig_buf *mig__bundle_tar(struct homed *d);
void mig__bundle_free(struct homed *d);

/* transport/handover.c: mig-homed --stdio hands its stdio to the
 * daemon of this user here (starting one), over link.sock */
int mig__handover_listen(struct homed *d);
void mig__handover_stop(struct homed *d);
/* mig-homed --stdio: never returns. argv0 starts a daemon if none runs;
 * idle its --idle-exit. */
void mig__handover_run(const char *rundir, const char *self, unsigned idle)
    __attribute__((noreturn));

/* transport/preauth.c: connections that have not proved the key */
/* Gives acceptor link l (l->from set) a slot, dropping the oldest of its
 * pool when full; returns the ms its handshake may take. */
uint32_t mig__preauth_admit(struct homed *d, struct link *l);
/* 1 when a line may be logged of an unproven link from addr that
 * failed; else 0, and the window's summary counts it. */
int mig__preauth_say(struct homed *d, const char *addr);
/* The tick: the summary line of a window that ended. */
void mig__preauth_tick(struct homed *d);
/* A dial of p reached sa: connections from there are p's. */
void mig__preauth_resolved(struct peer *p, const struct sockaddr *sa);

/* reload.c: the hosts file and the key read again, on SIGHUP and when
 * either changes */
void mig__reload_init(struct homed *d);
void mig__reload_stop(struct homed *d);

/* load.c: jobs running on this host */
/* The role kind runs delta more jobs here (negative: fewer); the
 * watchers hear load_changed on the next loop turn. */
void mig__load_add(struct homed *d, enum load_kind kind, int delta);
/* Jobs running on this host, whoever placed them. */
uint32_t mig__load_running(const struct homed *d);
/* Something else that frees or takes slots changed (this host's slots,
 * a peer's load): load_changed on the next loop turn. */
void mig__load_changed(struct homed *d);

/* slurm.c: hosts from a Slurm allocation */
/* Home: the allocation's nodes become the hosts (job is its id), with a
 * fresh key and, unless listen_given, a port the kernel picks. 0, or a
 * MIG_E* code with one sentence in err. */
int mig__slurm_home(struct homed *d, const char *job, int listen_given,
    char *err, size_t errsize);
/* mig-homed --slurm-node: this daemon is a node's, from what home put in
 * its environment; its folders are set. 0, or a code with err. */
int mig__slurm_node(struct homed *d, char *err, size_t errsize);
/* Once listening: home starts the nodes with srun; both watch their
 * links. 0 or a MIG_E* code. */
int mig__slurm_start(struct homed *d);
void mig__slurm_stop(struct homed *d);
void mig__slurm_free(struct homed *d);
/* main.c: tells the process that started the daemon in the background
 * that it serves (once; later calls do nothing). */
void mig__tell_ready(struct homed *d);

/* cluster.c: load pushes and the clock, per peer */
void mig__cluster_init(struct homed *d);
/* Sends this host's load over every up link (main.c's tick). */
void mig__cluster_tick(struct homed *d);

/* views.c: mig hosts, mig ps, mig policy */
void mig__views_init(struct homed *d);
struct job;
/* Why job j runs where it does, as mig ps says it, into out. */
void mig__job_why(const struct job *j, char *out, size_t n);
/* The bytes of home's files j's view fetched and seeded while it ran
 * (neighbours' on its host included), so far or in all. */
void mig__job_bytes(const struct job *j, uint64_t *fetched,
    uint64_t *seeded);

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
	TAILQ_ENTRY(job) qentry; /* on d->queue while queued */
	int queued;
	struct job *next_id; /* d->job_ids' chain */
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
	int frozen;          /* its host froze it (owner back) at least once */
	int holds_full;      /* it had all the home pids it may (said) */
	uint64_t fs_mark;    /* its link's fs requests when EXEC went out */
	/* Its link's view's bytes fetched and seeded when EXEC went out,
	 * then (tallied, at its EXIT) those since (fs/lanes.c). */
	uint64_t fetched, seeded;
	int tallied;
	/* A restartable job's output waits here until it ends, so a run
	 * cut short by a lost host prints nothing. */
	struct mig_buf held;
	size_t unacked[3];   /* stub acks still owed for released output */
	size_t window[3];    /* output relayed to the stub, not acked yet */
	char prog[64];       /* basename of argv[0], for history */
	char cmd[160];       /* the command line, for mig ps */
	char why[96];        /* why it runs where it runs, for mig ps */
	char again[80];      /* why it was placed again ("host1 lost") */
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
	char why[160];       /* a job's why, and why it was placed again */
	char files[160];     /* how it sees home's files */
	char cmd[160];
	uint64_t fetched;    /* bytes its view fetched from home meanwhile */
	uint64_t seeded;     /* and seeded from its host's files instead */
};

#define MIG_RECENT 256   /* finished jobs mig ps --recent can show */

/* Output a restartable job may hold before it is released (and the job
 * is no longer restartable). */
#define MIG_HELD_MAX (1u << 20)

void mig__home_init(struct homed *d);
/* home/jobtab.c: the job with id, or NULL */
struct job *mig__job_find(struct homed *d, uint32_t id);
/* j joins the table of jobs by id; or leaves it, and the queue. */
void mig__jobs_add(struct homed *d, struct job *j);
void mig__jobs_remove(struct homed *d, struct job *j);
/* j is on d->queue exactly while it is JOB_QUEUED, in the order of the
 * jobs' arrival (ids, which wrap), as d->jobs has them: called after
 * each change of j->state. */
void mig__job_queue_sync(struct homed *d, struct job *j);

/* home/place.c: placement at exec time */
/* Picks a host for a job, given this host's free slots: a peer, or NULL
 * for this host; *full when none has a free slot. */
struct peer *mig__place_pick(struct homed *d, int64_t here, int *full);
/* The slots this home may fill on p: what p said, at most its hosts
 * file line's SLOTS when that is set; and how many of them are free. */
uint32_t mig__place_slots(const struct peer *p);
int64_t mig__place_free(const struct peer *p);

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
/* 1 when a job's end (it was in state was, ev ended it) tells how long
 * its program ran; watched: a job run here had its program's end watched. */
int mig__history_timed(enum job_state was, enum job_event ev, int watched);
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

/* server.c (struct server above): path may be NULL (not found). */
void mig__server_init(struct server *s, const char *path, const char *what,
    char *const argv[]);
/* One request to the server, started first when it does not run: n
 * bytes of p with nfds descriptors of fds (not taken); the clone it
 * made for it is a child of ours, whose pid goes in *pid. 0, MIG_E* (the
 * server's errno), MIG__ERR(EAGAIN) when nothing was asked (the last
 * server is not reaped yet, or it was found gone), or MIG__ERR(EPIPE)
 * or MIG__ERR(ETIMEDOUT) when it failed after the request (killed). */
int mig__server_ask(struct homed *d, struct server *s, const void *p,
    size_t n, const int *fds, size_t nfds, pid_t *pid);
/* Hangs up on the server, which ends. */
void mig__server_stop(struct server *s);

/* home/hold.c: pids at home for the processes placed jobs start */
struct hold {
	TAILQ_ENTRY(hold) entry;
	struct homed *d;
	uint32_t job;        /* the job's id */
	uint32_t link;       /* the id of the link the job's HOLD came over */
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
	RJOB_VIEW,     /* served: waits for its link's view */
	RJOB_STARTING, /* forked; waits for the exec report */
	RJOB_RUNNING,  /* exec'd */
	RJOB_DRAINING, /* the process ended; output still flowing */
	RJOB_DONE
};

enum rjob_event {
	REV_VIEW_READY,  /* its view is ready */
	REV_VIEW_FAILED, /* its view cannot be made */
	REV_SPAWN_FAILED, /* no process could be started (pipes, fork) */
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
#define RACT_SPAWN 0x40       /* start its process (in its view) */
#define RACT_RELAY 0x80       /* relay its stdio */
#define RACT_SEND_ERROR 0x100 /* a mig error: why it never started */

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
	uv_poll_t status_poll; /* statusfd, read as soon as it is written */
	int reaped;          /* the subreaper's own exit was seen */
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
	int ident_full;      /* its table of pids was full once (said) */
	uint32_t token;      /* how its processes name it here (__MIG_JOB);
			      * what waits across loop turns keeps this */
	char *argv0;         /* for the report of a failed exec */
	char *cwd;
	struct mig_job *job; /* VIEW: the job, until it starts */
	const struct view *view; /* VIEW: its view, during REV_VIEW_READY */
	int err;             /* SEND_ERROR: the MIG_E* code */
	char why[256];       /* SEND_ERROR: what failed */
	uint32_t flags;      /* the job's MIG_JOB_* */
	int owner;           /* host/owner.c: OWNER_EVICTED, OWNER_FROZEN */
	char files[200];     /* how it sees home's files (STARTED) */
	struct mig_buf held; /* frames held back (mig__rjob_send) */
};

void mig__host_init(struct homed *d);
/* host/subreaper.c: finds mig-reaper (at start-up). */
void mig__subreaper_init(struct homed *d);
/* Hangs up on the subreaper server and its spare (the daemon stops). */
void mig__subreaper_stop(struct homed *d);
/* Starts the subreaper of a job (helpers/start.h), with fds[i] (-1:
 * none) as its descriptor i; it starts the leader, which execs argv
 * with envp. The subreaper's pid, or -1 with errno. */
pid_t mig__subreaper_start(struct homed *d, struct mig_start *s,
    const int fds[START_FD_COUNT], char **argv, char **envp);
/* The leader's status that a subreaper left in its pipe; -1 if none. */
int mig__subreaper_status(int fd, int *status);
struct rjob *mig__rjob_by_token(struct homed *d, uint32_t token);
/* host/spawn.c, for exec.c: runs event ev on rj and does what the state
 * machine says (rj may be freed); rj's end; why rj never started (for
 * RACT_SEND_ERROR, returns code); a job that never started ended with a
 * mig error, "host: what". */
void mig__rjob_event(struct rjob *rj, enum rjob_event ev);
void mig__rjob_free(struct rjob *rj);
int mig__rjob_failed(struct rjob *rj, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void mig__rjob_refuse(struct link *l, uint32_t id, int code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void mig__rjobs_stop(struct homed *d);

/* host/leader.c: what a job's leader gets (helpers/start.c runs it) */
/* The environment the program starts with: home's envp, plus the shim
 * in remote role (libmig/shimenv.c) naming the job by token. The vector
 * points into envp and into *buf, which also holds our own variables;
 * the caller frees both. NULL when out of memory. */
char **mig__leader_env(struct homed *d, char **envp, char **buf,
    int identfd, uint32_t token);
/* The job's pipes, its exec report's and its subreaper's status pipe;
 * 0 or MIG_E*. */
int mig__leader_pipes(int p[3][2], int report[2], int status[2]);
/* A terminal on this host for the job in place of its stdin and stdout
 * pipes (mig -t); 0 or MIG_E*. */
int mig__leader_pty(const struct mig_job *job, int p[3][2]);
void mig__leader_close(int p[3][2], int report[2], int status[2]);
/* The job as its subreaper is told it: job's umask, nice, limits and
 * cwd, this host's priority for it, and v's root when served (s points
 * into job and v). */
void mig__leader_start(struct homed *d, const struct mig_job *job,
    const struct view *v, int has_ident, struct mig_start *s);

/* host/spawn.c, for owner.c: ends rj as if its home had asked (KILL). */
void mig__rjob_kill(struct rjob *rj);

/* host/owner.c: the host's owner comes first */
void mig__owner_init(struct homed *d);
/* This host's MIG_PRIO_* (its hosts file line). */
int mig__owner_priority(struct homed *d);
/* mig evict (on) or mig evict --end: the host turns busy (takes nothing
 * new; restartable jobs are evicted, the others frozen), or is available
 * (frozen jobs resume) unless its owner's activity keeps it busy. */
void mig__owner_evict(struct homed *d, int on);

/* host/activity.c: the owner's activity, from cheap reads. */
/* The newest access time of a terminal (utmp sessions and /dev/pts),
 * the jobs' own terminals left out; 0 when none. */
int64_t mig__owner_tty_seen(struct homed *d);
/* Thousandths of a CPU used since the last call by everything but this
 * daemon and its jobs; -1 on the first call or when it cannot tell. */
int64_t mig__owner_cpu(struct homed *d, uint64_t now_ms);
/* --owner-cpu-cgroup dir: 0 when dir's cpu.stat can be read, else
 * MIG_E* with why in err. */
int mig__owner_cpu_check(const char *dir, char *err, size_t n);

/* host/freeze.c: stops and resumes every process of a job under its
 * subreaper (not the subreaper). 0 or MIG_E*. */
int mig__job_freeze(pid_t subreaper);
int mig__job_thaw(pid_t subreaper);
/* The processes under subreaper into v (at most max); how many. */
size_t mig__job_pids(pid_t subreaper, pid_t *v, size_t max);

/* home/drain.c: mig drain and mig evict requests, and hosts' BUSY */
void mig__drain_init(struct homed *d);

/* owners.c: mig drain, undrain and evict, as asked by a client. */
void mig__owners_init(struct homed *d);

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
/* Sends a frame of the job's home. STARTED and OUTPUT_EOF wait, up to
 * HOLD_MS, for the next frame of the job (a short job's STARTED, EOFs
 * and EXIT wake its home once); mig__rjob_release sends them now, before
 * a frame of the job that goes another way. */
void mig__rjob_send(struct rjob *rj, uint16_t type, uint16_t flags,
    const void *p, size_t n);
void mig__rjob_release(struct rjob *rj);
/* The timer of held frames: at start-up, and closed at the stop. */
void mig__rjob_hold_init(struct homed *d);
void mig__rjob_hold_stop(struct homed *d);
struct rjob *mig__rjob_find(struct link *l, uint32_t id);

/* host/ident.c: the identity page */
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
	struct client *client; /* NULL: it went; a HOLD still waits, so
				* that a late home pid is given back */
	uint16_t type;       /* MIG_M_CALL or MIG_M_HOLD */
	uint32_t seq;
	uint32_t link;       /* the id of the job's link: only its answer
			      * counts, and its end answers */
	uint32_t job;        /* the job, as its home names it (stream) */
	uint32_t token;      /* the job, as named here */
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

/* fs/serve.c, prime.c, lanes.c: the fs role at home, answering hosts'
 * views */
void mig__fs_home_init(struct homed *d);
void mig__fs_home_free(struct homed *d);
/* How host p's jobs see this home's files, as it said at link up: for
 * mig hosts. */
const char *mig__fs_peer_files(struct homed *d, struct peer *p);
/* Its hosts file keyword (MIG_FILES_*), -1 before it said. */
int mig__fs_peer_keyword(struct homed *d, struct peer *p);
/* fs/lanes.c: bytes of our files link l's view fetched from us, and
 * seeded from its host's own files instead, as it last said (before a
 * job's EXIT); the same for host p over all its links. */
void mig__fs_tally(struct homed *d, struct link *l, uint64_t *fetched,
    uint64_t *seeded);
void mig__fs_peer_tally(struct homed *d, struct peer *p, uint64_t *fetched,
    uint64_t *seeded);

/* fs/prime.c: sends host l, just before job id's EXEC, the paths prog's
 * jobs used in recent runs as they are now (MIG_M_FS_PRIME), when l's
 * host may run it in a served view. */
void mig__fs_prime(struct homed *d, struct link *l, uint32_t id,
    const char *prog);

/* fs/write.c: the writes of hosts' views, at home */
struct fs_puts;
struct mig_fs_req;
/* The files on their way in (PUT_BEGIN to PUT_COMMIT) of all links;
 * NULL when out of memory. */
struct fs_puts *mig__fs_puts_new(void);
void mig__fs_puts_free(struct fs_puts *p);
/* Link l went: its files on their way in are removed. */
void mig__fs_puts_link_down(struct fs_puts *p, struct link *l);
/* Does write request q (MKDIR to PUT_COMMIT) of link l: 0 or an errno;
 * what the op answers is appended to out. */
int mig__fs_write(struct fs_puts *p, struct link *l,
    const struct mig_fs_req *q, struct mig_buf *out);
/* Appends the attributes of path (lstat) to out: 0 or an errno. */
int mig__fs_put_lstat(const char *path, struct mig_buf *out);
/* Puts n bytes at data home as path, whole, with mode, as PUT_BEGIN to
 * PUT_COMMIT do (a file of a PUT_BATCH): 0 with its attributes appended
 * to out, or an errno (nothing left behind). */
int mig__fs_put_whole(const char *path, uint32_t mode, const uint8_t *data,
    size_t n, struct mig_buf *out);

/* fs/learn.c: learned access sets, by program (home side) */
/* What a view's request did to its path. */
enum learn_kind {
	LEARN_NONE,          /* nothing to learn from it */
	LEARN_USED,          /* looked up, read or opened: its jobs need it */
	LEARN_MADE,          /* made by the view */
	LEARN_GONE,          /* removed by the view */
};
/* The next request of link l's view did kind to path (NULL with
 * LEARN_NONE). */
void mig__learn_seen(struct homed *d, struct link *l, const char *path,
    enum learn_kind kind);
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
/* fs/served.c: 1 when this host can run jobs in a served view (the
 * probe, run once, off the loop), or may (its answer is not in yet: the
 * view waits for it); else 0, with the reason in *why. */
int mig__fs_served(struct homed *d, const char **why);
/* This host's files keyword (d->files) changed: every home is told again
 * (FS_MODE), for the jobs it places next. */
void mig__fs_mode_changed(struct homed *d);
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
/* Job id of home link l does not run in the view: what home sent with
 * it for the view (MIG_M_FS_PRIME) goes. */
void mig__view_prime_drop(struct homed *d, struct link *l, uint32_t id);
/* fs/writeback.c: a job of home link l ended (job: its subreaper's
 * pid): calls fn(arg, 1) once every file the job made in l's view is
 * home, complete, with its mode (at once when there is no view or
 * nothing to send), or fn(arg, 0) when the view ends first. Files of
 * jobs that ended before and files no job can be told from go with it. */
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

/* What a job's leader enters (helpers/start.c): the view's user and
 * mount namespaces (descriptors the view keeps) and its root there. */
const char *mig__view_ns(const struct view *v, int *userfd, int *mntfd);
/* How a job in view v sees home's files, for mig ps: the binds v was
 * made with, which may be older than the job's own proof. */
void mig__view_files(const struct view *v, char *buf, size_t size);

#endif
