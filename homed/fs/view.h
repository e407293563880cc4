/*
 * view.h: the fs role's host half, shared by view.c (the view's life:
 * namespaces, mount, requests to home) and fuse.c (the FUSE operations
 * and the table of nodes). Private to mig-homed.
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
	 * unanswered (a window, fuse.c put_more), and the first error. */
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

/* What home sent just before a job's EXEC, until that EXEC arrives. */
struct prime {
	TAILQ_ENTRY(prime) entry;
	struct link *link;
	uint32_t id;          /* the job */
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
	struct absent *absent[NODE_BUCKETS]; /* absent.c */
	size_t nabsent;
	TAILQ_HEAD(, node) created; /* made here, content not home yet */
	TAILQ_HEAD(, settle) settles;
	int invals;           /* invalidations on the thread pool (inval.c) */
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
	int probed;
	struct mig_cache *cache;
	char tmpdir[PATH_MAX];
	TAILQ_HEAD(, prime) primes;
};

/* view.c */
/* Sends op with payload p to home; q->done runs with the answer, parsed
 * (mig__fs_rep_parse), or with an errno (and a NULL) if home failed the
 * op, the answer did not parse (EIO: the link fails), or it cannot be sent
 * or the link goes (EIO). done owns q: it frees it (mig__freq_free) or
 * asks again with it; a is freed once done returns. */
void mig__view_ask(struct view *v, struct freq *q, uint16_t op,
    const struct mig_buf *p);
struct freq *mig__freq_new(struct view *v, fuse_req_t req);
void mig__freq_free(struct freq *q);
/* A local file for content written in the view; -1 on failure. */
int mig__view_tmpfile(struct view *v);
/* Whether path is a mount point in the view (the host's /proc, /dev,
 * /sys, /run, the runtime dir) or above one: the kernel's entry for it
 * must stay, as dropping it would detach the mount. */
int mig__view_pinned(const struct view *v, const char *path);
/* fuse.c: a put st waited for ended; the last one ends st. */
void mig__view_settle_put(struct view *v, struct settle *st);
/* The job a process in the view belongs to: its ancestor that is the
 * daemon's child, the job's subreaper (spawn.c); 0 when none is. */
pid_t mig__view_job_of(pid_t pid);
/* inval.c: an invalidation run ended (after its job was told). */
void mig__view_inval_done(struct view *v);

/* absent.c */
/* path was looked up and is absent: 1 when the kernel may keep that
 * (it is recorded), 0 when it must not. */
int mig__absent_add(struct view *v, const char *path);
/* The view made path: the kernel's entry for it is no longer absent. */
void mig__absent_drop(struct view *v, const char *path);
/* The view renamed from to to: the names under from moved along. */
void mig__absent_rename(struct view *v, const char *from, const char *to);
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
/* The node the path index holds for path, or NULL. */
struct node *mig__node_by_path(struct view *v, const char *path);
void mig__nodes_init(struct view *v);
/* Sends home every file st's job made in the view, and those of jobs
 * that ended before, counting the puts in st->pending. */
void mig__nodes_settle(struct view *v, struct settle *st);
void mig__nodes_free(struct view *v);
/* Asks home about every name the kernel holds that the view does not
 * know now, then runs iv (mig__inval_go). */
void mig__nodes_check(struct view *v, struct inval *iv);
/* Adds to iv every node and entry the kernel may hold that what the view
 * knows now does not confirm; 0 or ENOMEM. */
int mig__nodes_stale(struct view *v, struct inval *iv);

/* inval.c */
/* Entry and attribute timeouts given to the kernel: the view invalidates
 * what changed at each job's arrival (mig__inval_run). */
#define VIEW_TIMEOUT 86400.0
struct inval *mig__inval_new(struct view *v);
void mig__inval_free(struct inval *iv);
/* Adds an item; 0 or ENOMEM. */
int mig__inval_add(struct inval *iv, uint64_t ino, uint64_t parent,
    const char *name, int pages);
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
