/*
 * view.h: the fs role's host half, shared by view.c (the view's life),
 * keeper.c (its namespaces and mounts), fuse.c (the FUSE operations),
 * files.c, dirs.c, ask.c (requests to home), nodes.c (the table of
 * nodes), fetch.c (contents into the cache), writeback.c (written files
 * going home), inval.c (what the kernel caches, kept true), absent.c,
 * known.c, pool.c and served.c. Private to mig-homed.
 */
#ifndef MIG_VIEW_H
#define MIG_VIEW_H

#define FUSE_USE_VERSION 35

#include <fuse_lowlevel.h>

#include "fs.h"
#include "homed.h"

/* A file or folder the kernel knows, by its path at home. */
struct node {
	uint64_t id;          /* the FUSE node id */
	uint64_t nlookup;     /* lookups the kernel has not forgotten */
	char *path;
	int detached;         /* removed or replaced: not in the path index */
	struct node *next_id, *next_path; /* hash chains */
	struct stat attr;     /* as home last said */
	struct stat told;     /* home's attributes as the kernel was last told */
	int has_told;
	int gone;             /* home said the name is gone, or another kind */
	int has_key;          /* key: the content the kernel's pages hold */
	uint8_t key[MIG_HASH_BYTES];
	/* Written in the view: a local file holds the content until a
	 * flush sends it home. */
	int wfd;              /* -1: none */
	int refs;             /* open handles on wfd */
	int dirty;            /* written since the last put began */
	int putting;          /* a put is on its way home */
	/* The put on its way: home's handle, what is sent, what is still
	 * unanswered (a window, writeback.c put_more), and the first error. */
	uint32_t put_id;
	off_t put_off;
	int put_inflight;
	int put_all_sent;     /* the last chunk is out (or must not go) */
	int put_sending;      /* in put_more: an answer must not re-enter */
	int put_err;
	TAILQ_HEAD(, freq) flushes; /* FLUSHes waiting for a put */
	/* Made in the view: its content goes home when a job ends
	 * (mig__view_settle), not at each close. */
	int created;          /* on the view's created list */
	TAILQ_ENTRY(node) created_entry;
	pid_t owner;          /* the job that made it (mig__view_job_of) */
	struct settle *settle; /* the job's end that waits for its put */
};

/* A request to home in flight, and what to do with the answer. */
struct freq {
	TAILQ_ENTRY(freq) entry;
	struct view *v;
	uint32_t seq;
	uint16_t op;
	/* err: 0 or an errno; a: the answer, when err is 0. */
	void (*done)(struct freq *q, int err, struct mig_fs_rep *a);
	fuse_req_t req;       /* NULL: no FUSE request waits on it */
	struct fuse_file_info fi; /* a copy: open and create answer later */
	struct node *node;
	char *path;           /* what was asked for, owned */
	char *path2;          /* rename's target, owned */
	uint8_t key[MIG_HASH_BYTES];
	uint64_t u64;
	uint32_t u32;
	void *arg;
	/* fetch.c: the object for an open is had (fd), or not (err). */
	void (*got)(struct freq *q, int err, int fd);
};

/* What a view knows of a path at home without asking (known.c). */
struct known {
	struct known *next;   /* hash chain */
	char *path;
	int err;              /* 0: attr holds; else what lstat failed with */
	struct stat attr;
	int has_key;          /* key is the content's hash */
	uint8_t key[MIG_HASH_BYTES];
	char *target;         /* a symbolic link's, or NULL */
};

/* What home sent just before a job's EXEC, until the job's mode is
 * decided (exact.c, on the thread pool: home may place more jobs on the
 * link meanwhile, each with its own). */
struct prime {
	TAILQ_ENTRY(prime) entry;
	struct link *link;
	uint32_t id;          /* the job */
	uint64_t seq;         /* arrival order, over all links */
	uint8_t *p;           /* the payload, MIG_M_FS_PRIME's */
	size_t n;
};

enum view_state {
	VIEW_STARTING,        /* the keeper is making the namespaces */
	VIEW_READY,
	VIEW_FAILED           /* why says why; served jobs are refused */
};

/* A job's end, waiting for the files it made in the view to be home. */
struct settle {
	TAILQ_ENTRY(settle) entry;
	pid_t job;            /* its subreaper's pid */
	uint32_t pending;     /* puts it waits for */
	void (*fn)(void *arg, int ok);
	void *arg;
};

struct view_waiter {
	TAILQ_ENTRY(view_waiter) entry;
	void (*fn)(void *arg, struct view *v, const char *why);
	void *arg;
};

#define NODE_BUCKETS 4096

/* One per home link: what that home's served jobs see. */
struct view {
	TAILQ_ENTRY(view) entry;
	struct homed *d;
	uint64_t id;          /* names it across a loop turn (pool.c) */
	struct link *link;    /* NULL once the link is gone */
	enum view_state state;
	char why[256];
	char root[PATH_MAX];  /* the mount point, in the view's namespace */
	struct mig_plan plan; /* this host's proven mounts bound into it */
	int userfd, mntfd;    /* /proc/KEEPER/ns/{user,mnt} */
	int fusefd;
	struct fuse_session *se;
	struct fuse_buf buf;
	uv_poll_t poll;
	pid_t keeper;
	uv_poll_t ctl;        /* the keeper's socket: its reports */
	int ctlfd;            /* the keeper waits for its EOF */
	int handles;          /* open handles, freed at zero */
	int ending;
	uint32_t next_seq;
	TAILQ_HEAD(, freq) reqs;
	TAILQ_HEAD(, view_waiter) waiters;
	TAILQ_HEAD(, fetch) fetches;
	struct node *by_id[NODE_BUCKETS], *by_path[NODE_BUCKETS];
	uint64_t next_node;
	uint64_t nodes;
	struct known *known[NODE_BUCKETS];
	size_t nknown;
	uint64_t primed;      /* the newest prime known holds (its seq) */
	struct absent *absent[NODE_BUCKETS]; /* absent.c */
	size_t nabsent;
	TAILQ_HEAD(, node) created; /* made here, content not home yet */
	TAILQ_HEAD(, fh) fhs; /* open files (files.c) */
	TAILQ_HEAD(, dirl) dirls; /* open folders (dirs.c) */
	TAILQ_HEAD(, settle) settles;
	int invals;           /* invalidations on the thread pool (inval.c) */
	/* Contents had for the cache: fetched from home, or seeded from
	 * this host's own files (fetch.c); as last told home (ask.c). */
	uint64_t fetched, seeded;
	uint64_t told_fetched, told_seeded;
	uint64_t fuse_reqs;   /* FUSE requests read, for the log */
	uint64_t fuse_logged; /* fuse_reqs when last logged */
};

/* What the kernel may cache and a job's prime does not confirm: told to
 * forget it before the job starts (inval.c). */
struct inval_item {
	uint64_t ino;
	uint64_t parent;      /* 0: no entry to drop */
	char *name;           /* the entry's name in parent, owned */
	int pages;            /* drop the file's pages too */
};

struct inval {
	uv_work_t work;
	struct view *v;
	struct inval_item *items;
	size_t n, cap;
	void (*fn)(void *arg, struct view *v, const char *why);
	void *arg;
	uint32_t asking;      /* lstats of the kernel's names still at home */
};

/* The host half's state (homed.h: d->fs_host). */
struct fs_host {
	TAILQ_HEAD(, view) views;
	struct mig_fs_probe probe;
	int probed;           /* probe holds the answer */
	int probing;          /* prun's child runs (served.c) */
	struct mig_fs_probe_run prun;
	struct mig_cache *cache;
	/* Content seeding (fetch.c, seed.c): NULL when the hosts file
	 * turns it off; the index is made again at each view's start. */
	struct mig_seeds *seeds;
	int indexing;         /* a walk of the indexed folders runs */
	int seeds_saving;     /* the table is being saved */
	uint64_t seeds_saved; /* uv_now when it was last saved */
	char tmpdir[PATH_MAX];
	TAILQ_HEAD(, prime) primes;
	uint64_t prime_seq;   /* the last prime's seq */
	uint64_t next_view;   /* the last view's id */
};

/* Work for the thread pool on behalf of a view (pool.c). */
struct vwork {
	uv_work_t req;
	struct homed *d;
	uint64_t view;        /* the view's id */
	void (*fn)(struct vwork *w);
	void (*done)(struct vwork *w, struct view *v);
};

/* view.c */
/* inval.c: an invalidation run ended (after its job was told). */
void mig__view_inval_done(struct view *v);
/* served.c: the probe answered; the views that waited for it start, or
 * fail with its reason. */
void mig__views_probed(struct homed *d);

/* keeper.c */
/* What the keeper tells the daemon on their socket, one message a step;
 * the first carries the FUSE device's fd. */
struct keeper_report {
	int32_t err;          /* 0: the step is done */
	int32_t stage;        /* 1: FUSE is mounted (serve it now), 2: ready */
	char msg[248];
};
/* The keeper, in view.c's forked child: makes the view at root (plan's
 * binds, the host's folders, the runtime dir rundir) and reports each
 * step on sock (the first with the FUSE device's fd); it ends when the
 * daemon closes its end, or at once on a failure. */
void mig__view_keeper(const char *root, const char *rundir,
    const struct mig_plan *plan, int sock) __attribute__((noreturn));
/* Whether path is a mount point in the view (the host's /proc, /dev,
 * /sys, /run, the runtime dir) or above one: the kernel's entry for it
 * must stay, as dropping it would detach the mount. */
int mig__view_pinned(const struct view *v, const char *path);

/* served.c */
/* The watcher's link_up: tells home this host's mode (MIG_M_FS_MODE),
 * at once or when the probe answers. */
void mig__fs_link_up(struct link *l);
/* Whether the probe has answered. */
int mig__fs_probed(struct homed *d);

/* absent.c */
/* path was looked up and is absent: 1 when the kernel may keep that
 * (it is recorded), 0 when it must not. */
int mig__absent_add(struct view *v, const char *path);
/* The view made path: the kernel's entry for it is no longer absent. */
void mig__absent_drop(struct view *v, const char *path);
/* The view renamed from to to: the names under from moved along; with
 * exchange (RENAME_EXCHANGE) those under to moved to from. */
void mig__absent_rename(struct view *v, const char *from, const char *to,
    int exchange);
/* Adds to iv every absent name the prime (the known table) does not
 * confirm, and forgets it; 0 or ENOMEM. */
int mig__absent_stale(struct view *v, struct inval *iv);
void mig__absent_free(struct view *v);

/* known.c */
/* Forgets everything: a job was placed after it was learned. */
void mig__known_clear(struct view *v);
/* What is known of path, or NULL. */
struct known *mig__known_get(struct view *v, const char *path);
/* Home's answers: an lstat (err, or *st), an open (*st and the hash), a
 * readlink (for a link known already). */
void mig__known_attr(struct view *v, const char *path, int err,
    const struct stat *st);
void mig__known_key(struct view *v, const char *path, const struct stat *st,
    const uint8_t key[MIG_HASH_BYTES]);
void mig__known_target(struct view *v, const char *path, const char *target);
/* The view changed path: it and its folder are asked home again. */
void mig__known_drop(struct view *v, const char *path);
/* Whether path is known to be at home as st says (the same version). */
int mig__known_same(struct view *v, const char *path, const struct stat *st);
/* Adds a MIG_M_FS_PRIME payload; 0, MIG_EPROTO or an out-of-memory
 * code (what was read so far stays). */
int mig__known_prime(struct view *v, const uint8_t *p, size_t len);

/* fuse.c */
extern const struct fuse_lowlevel_ops mig__view_ops;

/* files.c, dirs.c: their FUSE operations, for fuse.c's table. */
void mig__op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void mig__op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi);
void mig__op_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
    size_t size, off_t off, struct fuse_file_info *fi);
void mig__op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void mig__op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
    struct fuse_file_info *fi);
void mig__op_release(fuse_req_t req, fuse_ino_t ino,
    struct fuse_file_info *fi);
void mig__op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
    mode_t mode, struct fuse_file_info *fi);
void mig__op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
    mode_t mode, dev_t rdev);
/* The view ends: the files and folders the kernel still had open. */
void mig__fhs_free(struct view *v);
void mig__dirls_free(struct view *v);
void mig__op_opendir(fuse_req_t req, fuse_ino_t ino,
    struct fuse_file_info *fi);
void mig__op_releasedir(fuse_req_t req, fuse_ino_t ino,
    struct fuse_file_info *fi);
void mig__op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi);

/* ask.c */
/* Sends op with payload p to home; q->done runs with the answer, parsed
 * (mig__fs_rep_parse), or with an errno (and a NULL) if home failed the
 * op, the answer did not parse (EIO: the link fails), or it cannot be sent
 * or the link goes (EIO). done owns q: it frees it (mig__freq_free) or
 * asks again with it; a is freed once done returns. */
void mig__view_ask(struct view *v, struct freq *q, uint16_t op,
    const struct mig_buf *p);
struct freq *mig__freq_new(struct view *v, fuse_req_t req);
void mig__freq_free(struct freq *q);
/* Tells home what the view fetched and seeded so far (MIG_M_FS_TALLY),
 * when it changed since last told: before a job's EXIT. */
void mig__view_tally(struct view *v);
/* Something home sent did not parse: the link fails, with a log line. */
void mig__view_bad(struct view *v, const char *what);
/* MIG_M_FS_REP: an answer from home, to the ask in flight with its
 * number and op (view.c registers it). */
void mig__on_fs_rep(struct link *l, const struct mig_frame *f);
/* A request about parent's path (name NULL) or name in it, with
 * q->node = parent; NULL when it is answered already (ENOMEM,
 * ENAMETOOLONG). */
struct freq *mig__freq_path(struct view *v, fuse_req_t req,
    struct node *parent, const char *name);
/* The same for folder node id parent (ESTALE when it is gone). */
struct freq *mig__freq_entry(fuse_req_t req, fuse_ino_t parent,
    const char *name);
/* Appends path to b; on failure answers ENOMEM, frees q and b, and
 * returns -1. */
int mig__freq_payload(struct freq *q, struct mig_buf *b, const char *path);
/* Sends q (op, payload b) if b was built whole (failed is 0), else
 * answers ENOMEM; b is freed either way. */
void mig__freq_send(struct view *v, struct freq *q, uint16_t op,
    struct mig_buf *b, int failed);
/* Asks op about q->path alone; done gets the answer. */
void mig__freq_ask(struct view *v, struct freq *q, uint16_t op,
    void (*done)(struct freq *, int, struct mig_fs_rep *));
/* Replies to q's request with n's entry. */
void mig__reply_entry(struct freq *q, struct node *n);
/* A lookup of a name that is not there (err): an entry the kernel keeps
 * when absent.c records it, else the error. */
void mig__reply_absent(struct freq *q, int err);
/* The node at q->path, with attributes *st; NULL (answered) on failure. */
struct node *mig__entry_node(struct freq *q, const struct stat *st);
/* An answer with attributes that names a node: replies its entry. */
void mig__done_entry(struct freq *q, int err, struct mig_fs_rep *a);

/* nodes.c */
/* The node with FUSE id id, or NULL. */
struct node *mig__node_get(struct view *v, uint64_t id);
/* The node the path index holds for path, or NULL. */
struct node *mig__node_by_path(struct view *v, const char *path);
/* Takes n out of the path index: removed or replaced at home. */
void mig__node_detach(struct view *v, struct node *n);
void mig__node_free(struct view *v, struct node *n);
void mig__nodes_init(struct view *v);
void mig__nodes_free(struct view *v);
/* The kernel's entry for n, as (folder node, name within buf, a copy of
 * n->path), or that of its nearest ancestor in the table. */
void mig__node_entry(struct view *v, struct node *n, char *buf,
    uint64_t *parent, const char **name);
/* The view renamed from to to (exchange: RENAME_EXCHANGE). */
void mig__nodes_rename(struct view *v, const char *from, const char *to,
    int exchange);
/* parent's path joined with name into *out; 0, ENAMETOOLONG or ENOMEM. */
int mig__node_join(const struct node *parent, const char *name, char **out);
/* What the kernel is told of n's attributes, into *st. */
void mig__node_attr(struct node *n, struct stat *st);
/* The node at path, now with attributes *st, looked up once more; NULL
 * when out of memory. */
struct node *mig__node_at(struct view *v, const char *path,
    const struct stat *st);

/* fetch.c */
/* Gets the object q->key (of size bytes, at q->path) into the cache,
 * then calls got(q, 0, fd) with an fd on it that got owns (with the
 * cache's hold on q->key), or got(q, err, -1). */
void mig__object_get(struct view *v, struct freq *q, uint64_t size,
    void (*got)(struct freq *q, int err, int fd));
/* Fails every open still waiting for an object (the view ends). */
void mig__fetches_free(struct view *v);
/* The view starts: this host's seeding table is read (the first time)
 * and its indexed folders walked, on the thread pool. */
void mig__seeds_start(struct view *v);
/* The daemon stops: the table is saved (blocks; the loop has ended). */
void mig__seeds_stop(struct fs_host *h);

/* writeback.c */
/* Sends n's local content home (a put); its FLUSHes wait on it. */
void mig__put_start(struct view *v, struct node *n);
/* Sends home every file st's job made in the view, and those of jobs
 * that ended before, counting the puts in st->pending. */
void mig__nodes_settle(struct view *v, struct settle *st);
/* The view ends: every job's end that waits is told its files are not
 * all home. */
void mig__settles_end(struct view *v);
/* The job a process in the view belongs to: its ancestor that is the
 * daemon's child, the job's subreaper (spawn.c); 0 when none is. */
pid_t mig__view_job_of(pid_t pid);
/* A local file for content written in the view; -1 on failure. */
int mig__view_tmpfile(struct view *v);

/* pool.c */
/* The view with id, or NULL when it is gone. */
struct view *mig__view_by_id(struct homed *d, uint64_t id);
/* The view of home link l, or NULL. */
struct view *mig__view_find(struct homed *d, struct link *l);
/* Runs fn(w) on the thread pool, then done(w, v) on the loop, with v
 * the view looked up again (NULL when it ended meanwhile). w is the
 * caller's until done, which frees it; fn must touch no view, node or
 * link, only what w carries (and the object cache, which has a lock). */
void mig__pool_queue(struct view *v, struct vwork *w,
    void (*fn)(struct vwork *w),
    void (*done)(struct vwork *w, struct view *v));

/* inval.c */
/* Entry and attribute timeouts given to the kernel: the view invalidates
 * what changed at each job's arrival (mig__inval_run). */
#define VIEW_TIMEOUT 86400.0
struct inval *mig__inval_new(struct view *v);
void mig__inval_free(struct inval *iv);
/* Adds an item; 0 or ENOMEM. */
int mig__inval_add(struct inval *iv, uint64_t ino, uint64_t parent,
    const char *name, int pages);
/* Asks home about every name the kernel holds that the view does not
 * know now, then runs iv (mig__inval_go). */
void mig__nodes_check(struct view *v, struct inval *iv);
/* Adds to iv every node and entry the kernel may hold that what the view
 * knows now does not confirm; 0 or ENOMEM. */
int mig__nodes_stale(struct view *v, struct inval *iv);
/* Tells the kernel, off the loop (a notify may wait on a lock a FUSE
 * request holds, and only the loop answers those), then calls
 * iv->fn(iv->arg, v, NULL) on the loop, or with why if the view failed
 * meanwhile; iv is freed. */
void mig__inval_run(struct inval *iv);
/* What the view knows is complete for iv's job: lists what is stale
 * (mig__nodes_stale) and runs iv, or fails its job if the view did. */
void mig__inval_go(struct inval *iv);
/* One node's attributes, from the loop: takes no lock a request holds. */
void mig__inval_attr(struct view *v, uint64_t ino);

#endif
