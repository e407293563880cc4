/*
 * fs.h: the pieces of served mode (docs/design.md, "Served file view") that stand
 * on their own: the host's content-addressed object cache, the home's
 * table of file hashes, and the probe that says whether this host can
 * serve at all. Private to mig-homed and its tests (library migfs).
 *
 * Every function returns 0 or a negative MIG_E* code (a system error is
 * MIG__ERR(errno)). Two errno codes have a fixed meaning here:
 *   MIG__ERR(ENOENT)   no such object (or it was corrupt and is gone)
 *   MIG__ERR(EBADMSG)  content does not match the key it was given
 */
#ifndef MIG_FS_H
#define MIG_FS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "mig/mig.h"

/* Keys and hashes: BLAKE2b-256 (libsodium crypto_generichash). */
#define MIG_HASH_BYTES 32
#define MIG_HASH_HEX (2 * MIG_HASH_BYTES + 1)

/* hash.c */
/* The hash of a buffer. */
void mig__hash_buf(const void *p, size_t n, uint8_t out[MIG_HASH_BYTES]);
/* The hash of everything fd holds from offset 0 to EOF (pread: the file
 * offset is left alone). *sizep, when not NULL, gets the bytes hashed. */
int mig__hash_fd(int fd, uint8_t out[MIG_HASH_BYTES], uint64_t *sizep);
/* A quick hash of a path for in-memory tables (FNV-1a), not of content. */
size_t mig__path_hash(const char *p);
/* Lower-case hex of a hash, NUL-terminated, into hex[MIG_HASH_HEX]. */
void mig__hash_hex(const uint8_t h[MIG_HASH_BYTES], char hex[MIG_HASH_HEX]);
/* The reverse; MIG_EPROTO unless s is exactly 64 hex digits. */
int mig__hash_unhex(const char *s, uint8_t h[MIG_HASH_BYTES]);

/* cache.c */
/*
 * The host's persistent object cache for one user: each object is a
 * file named by the hex hash of its content, under DIR/xx/ (xx: the
 * first byte). Objects arrive through a temporary file in DIR/tmp/ that
 * is renamed into place only once its hash matched the expected key,
 * so a crash leaves at worst a stray temporary file (removed by the next
 * open), never a wrong object under a key. An object is hashed again the
 * first time it is opened after mig__cache_open, and again whenever its
 * file is not the one checked (inode, size, mtime, ctime), so a file
 * damaged or swapped on disk is removed rather than served. Symbolic
 * links are never followed below dir, and an object must be a regular
 * file of the user's that nobody else may write to.
 *
 * Bounded: when the objects' sizes add up to more than the cap, the least
 * recently used objects are removed until they fit. Use is recorded in
 * each file's mtime (set at put and at every get), which is how the order
 * survives a restart. An object the caller holds (between get and
 * release) is never evicted.
 *
 * A cache may be used from several threads: its table has a lock, and
 * hashing happens outside it. Several processes may share a folder (the
 * files are the truth; each process counts only what it saw).
 */
struct mig_cache;
struct mig_cache_writer;

/* The default folder: $XDG_CACHE_HOME/mig/objects, else
 * $HOME/.cache/mig/objects. MIG_ETOOBIG when it does not fit in buf;
 * MIG_ECONFIG when neither variable is set. */
int mig__cache_default_dir(char *buf, size_t size);
/* Opens (creating it and its parents, mode 0700) the cache in dir with a
 * cap of cap bytes; the table is rebuilt from the files there, and the
 * cap enforced at once. *cp is the caller's (mig__cache_close).
 * MIG_EUNSAFE, with a sentence in why when given, if dir, its parent or
 * its tmp/ is not the user's alone (mig__dir_make: a symbolic link,
 * another user's, writable by group or others). */
int mig__cache_open(const char *dir, uint64_t cap, struct mig_cache **cp,
    char *why, size_t size);
/* Frees the table; objects stay on disk. Accepts NULL. Objects still
 * held by a caller stay open for their fds (the fds are the caller's). */
void mig__cache_close(struct mig_cache *c);

/* Stores n bytes whose hash must be key; MIG__ERR(EBADMSG) if it is not,
 * MIG_ETOOBIG if n alone is over the cap. Storing a key that is already
 * there succeeds and changes nothing but its use time. */
int mig__cache_put(struct mig_cache *c, const uint8_t key[MIG_HASH_BYTES],
    const void *p, size_t n);

/* Streaming put for big objects: begin, write any number of times, then
 * commit (checks the hash, renames into place, frees w) or abort (frees
 * w, leaves nothing). Commit frees w also when it fails. */
int mig__cache_begin(struct mig_cache *c, const uint8_t key[MIG_HASH_BYTES],
    struct mig_cache_writer **wp);
int mig__cache_write(struct mig_cache_writer *w, const void *p, size_t n);
int mig__cache_commit(struct mig_cache_writer *w);
void mig__cache_abort(struct mig_cache_writer *w);

/* Stores everything fd holds, from offset 0 to its end (pread: fd's
 * offset is left alone), as put does: MIG__ERR(EBADMSG) when its hash is
 * not key (also when it changed while copied). Blocks as long as the
 * file is big. */
int mig__cache_put_fd(struct mig_cache *c, const uint8_t key[MIG_HASH_BYTES],
    int fd);

/*
 * Opens the object for key: *fdp is a new O_RDONLY|O_CLOEXEC fd, owned by
 * the caller, and the object is held (not evictable) until
 * mig__cache_release(c, key). MIG__ERR(ENOENT) when there is no such
 * object, also when it failed its check and was removed. Counts as a use.
 */
int mig__cache_get(struct mig_cache *c, const uint8_t key[MIG_HASH_BYTES],
    int *fdp);
/* Ends one hold that mig__cache_get took (it does not close the fd). */
void mig__cache_release(struct mig_cache *c,
    const uint8_t key[MIG_HASH_BYTES]);
/* 1 if the cache has key (no check, no use), else 0. */
int mig__cache_has(struct mig_cache *c, const uint8_t key[MIG_HASH_BYTES]);

/* A small file of the caller's beside the objects, DIR/name (name: one
 * word of letters, neither two hex digits nor "tmp"), such as a host's
 * table of its own files' hashes (fs/seed.c). Written whole through
 * tmp/ and renamed into place; read whole (at most max bytes, else
 * MIG_ETOOBIG) into *pp, the caller's to free. Reading takes only the
 * user's own regular file that nobody else may write (MIG_EUNSAFE),
 * never through a symbolic link; MIG__ERR(ENOENT) when there is none. */
int mig__cache_note_write(struct mig_cache *c, const char *name,
    const void *p, size_t n);
int mig__cache_note_read(struct mig_cache *c, const char *name, size_t max,
    uint8_t **pp, size_t *np);

struct mig_cache_stats {
	uint64_t bytes;     /* sizes of the objects in the table, added up */
	uint64_t objects;   /* objects in the table */
	uint64_t evicted;   /* objects removed to honour the cap */
	uint64_t corrupt;   /* objects removed because their hash was wrong */
};
void mig__cache_stats(struct mig_cache *c, struct mig_cache_stats *st);

/* hashdb.c */
/*
 * The home's hash table: a file's hash is computed once per (dev, inode,
 * size, mtime, ctime) and kept, so a second build fetches by key without
 * rereading anything. A file whose ctime is not yet in the past of the
 * clock that stamps files (changed within the current tick) is hashed
 * but not kept: a change in that same tick would leave every field of
 * the tuple as it was ("racy git"). At most max entries; the least
 * recently used goes first. Not thread-safe: one thread at a time.
 */
struct mig_hashdb;

/* The hash function; tests inject one that counts. NULL: mig__hash_fd. */
typedef int (*mig_hashfn)(int fd, uint8_t out[MIG_HASH_BYTES],
    uint64_t *sizep);

int mig__hashdb_new(size_t max, mig_hashfn fn, struct mig_hashdb **dbp);
void mig__hashdb_free(struct mig_hashdb *db);
/* The hash of the regular file open on fd, whose fstat is *st (NULL: it
 * is taken here). MIG__ERR(EINVAL) for anything but a regular file;
 * MIG__ERR(EAGAIN) if the file kept changing while it was hashed. */
int mig__hashdb_fd(struct mig_hashdb *db, int fd, const struct stat *st,
    uint8_t out[MIG_HASH_BYTES]);
/* The hash kept for the file state *st (an lstat or fstat), without
 * reading the file; MIG__ERR(ENOENT) when none is kept for it. */
int mig__hashdb_peek(struct mig_hashdb *db, const struct stat *st,
    uint8_t out[MIG_HASH_BYTES]);
/* mig__hashdb_fd in two halves, so the hashing may run on another
 * thread: compute touches no table (any thread; *st is the state before,
 * and becomes the state hashed), keep files its result (the table's
 * thread). */
struct mig_hashdb_done {
	unsigned computed;  /* calls of the hash function */
	int keep;           /* the state hashed may be kept */
};
int mig__hashdb_compute(struct mig_hashdb *db, int fd, struct stat *st,
    uint8_t out[MIG_HASH_BYTES], struct mig_hashdb_done *done);
void mig__hashdb_keep(struct mig_hashdb *db, const struct stat *st,
    const uint8_t hash[MIG_HASH_BYTES], const struct mig_hashdb_done *done);
/* The same by path (opened O_RDONLY|O_NOFOLLOW|O_NONBLOCK). */
int mig__hashdb_path(struct mig_hashdb *db, const char *path,
    uint8_t out[MIG_HASH_BYTES]);

/* The table as bytes, to be kept in a file (a host's table of its own
 * files' hashes lives across restarts, fs/seed.c): u32 magic "MIGH",
 * u32 version 1, u32 n, n x (u64 dev, ino, size, mtime s, u32 ns, u64
 * ctime s, u32 ns, bytes hash), least recently used first. load adds
 * what b holds (as most recently used, in that order; the cap holds);
 * MIG_EPROTO when malformed, with what was read before kept. A hash read
 * back is a hint, never proof: whoever uses a file's content checks it. */
struct mig_buf;
int mig__hashdb_save(const struct mig_hashdb *db, struct mig_buf *b);
int mig__hashdb_load(struct mig_hashdb *db, const uint8_t *p, size_t len);

struct mig_hashdb_stats {
	uint64_t computed;  /* hashes computed (calls of the hash function) */
	uint64_t hits;      /* answers from the table */
	uint64_t entries;   /* entries held now */
	uint64_t evicted;   /* entries dropped for the cap */
};
void mig__hashdb_stats(const struct mig_hashdb *db,
    struct mig_hashdb_stats *st);

/* seed.c */
/*
 * Content seeding: a file of this host's own stands in for one of home's
 * when its content has the hash home named. Candidates are the file at
 * the same path here, then the files of the same size in the indexed
 * folders; a candidate is used only when its hash is the key, and it goes
 * into the object cache through a writer that checks the hash again as
 * it copies: a path, a size or a table entry alone is never trusted. The
 * hashes of this host's files are kept by (dev, inode, size, mtime,
 * ctime) in a table saved beside the objects, so a file is read once per
 * version, across restarts too. May be used from several threads (a
 * lock); all but new, free, dirty and stats block (the thread pool's).
 */
struct mig_seeds;

struct mig_seed_stats {
	uint64_t indexed;      /* files in the index */
	int index_full;        /* the walk stopped at the index's bound */
	uint64_t finds;        /* objects looked for */
	uint64_t seeded;       /* of them, found here and put in the cache */
	uint64_t seeded_bytes;
	uint64_t hashed;       /* files of this host's hashed */
};

/* dirs: the indexed folders, absolute, joined by ':' ("": the same path
 * only); fn as for mig__hashdb_new (NULL: mig__hash_fd). */
int mig__seeds_new(const char *dirs, mig_hashfn fn, struct mig_seeds **sp);
void mig__seeds_free(struct mig_seeds *s);
/* The table, read from c's folder (none there: nothing) or written there
 * when it changed since (mig__cache_note_*). */
int mig__seeds_load(struct mig_seeds *s, struct mig_cache *c);
int mig__seeds_save(struct mig_seeds *s, struct mig_cache *c);
/* 1 when the table changed since it was saved. */
int mig__seeds_dirty(struct mig_seeds *s);
/* Walks the indexed folders (no symbolic link followed, no file read)
 * and makes the new index the one finds use. */
int mig__seeds_index(struct mig_seeds *s);
/* Puts into c the content of size bytes whose hash is key, from the file
 * at path here or one of the index's of that size: 0 when it is in c now,
 * MIG__ERR(ENOENT) when no file here has it (or those that may have are
 * past the bounds of one find: 64 looked at, 8 hashed). */
int mig__seeds_find(struct mig_seeds *s, struct mig_cache *c,
    const char *path, uint64_t size, const uint8_t key[MIG_HASH_BYTES]);
void mig__seeds_stats(struct mig_seeds *s, struct mig_seed_stats *st);

/* proof.c */
/*
 * Which of home's subtrees a host has as the very same files. Home
 * names its mount points (from /proc/self/mountinfo, less /proc, /sys,
 * /dev and /run, which every view takes from the host) with the st_dev
 * and st_ino of each, and its boot id; a host with the same boot id that
 * finds the same dev and ino at the same path has that mount proven. A
 * network file system's mount is proven on any machine that mounts the
 * same source at the same path, whose root has the same inode (but under
 * FUSE, whose inodes are the host's own) and that reads back the token
 * file home wrote in its root, with the same inode and ctime. A mount of
 * the host's where home has none shadows (an "extra").
 */
struct mig_buf;

#define MIG_BOOT_ID_MAX 40
#define MIG_MOUNTS_MAX 4096

/* A network file system's mount (netproof.c): its identity, and home's
 * token file in its root, which a host must read back the same. */
#define MIG_TOKEN_HEX 32
#define MIG_NET_MAX 1024

struct mig_mount {
	char *path;
	uint64_t dev, ino;     /* of the mount point, as lstat says */
	int ok;                /* 1: dev and ino are known */
	char *net;             /* "FSTYPE SOURCE ROOT" (mountinfo's escapes)
	                        * of a network file system; NULL otherwise */
	char *tokname;         /* home's token file in its root, and what */
	char token[MIG_TOKEN_HEX + 1]; /* it holds ("": no token) */
	uint64_t tino, tsec;   /* the token file's inode and ctime */
	uint32_t tnsec;
	int tokok;             /* here: home's token read back at path */
};

struct mig_mounts {
	char boot[MIG_BOOT_ID_MAX];
	struct mig_mount *m;   /* sorted by path, each path once */
	size_t n;
};

struct mig_proof {
	int same_boot;
	uint8_t *proven;       /* per mount of home's: 1 if proven here */
	char **extra;          /* this host's mounts where home has none */
	size_t nextra;
	int all;               /* every mount proven, no extra: the host's
	                        * own files are home's */
};

/* One bind of the view, parents first: the host's own mount at path
 * (with the mounts below it), or the served folder at path. */
struct mig_plan_step {
	char *path;
	int host;
};

struct mig_plan {
	struct mig_plan_step *step;
	size_t n;
	unsigned gen;          /* which of home's lists it was made from
	                        * (fs/exact.c) */
};

/* Whether path is m or below it ("/" holds every absolute path). */
int mig__path_under(const char *path, const char *m);
/* The mount points of a mountinfo text (no dev or ino, no boot id). */
int mig__mountinfo_parse(const char *text, size_t len, struct mig_mounts *ms);
/* This process's mount points, each lstat'ed, and the boot id. Blocks:
 * off the loop. */
int mig__mounts_local(struct mig_mounts *ms);
int mig__boot_id(char boot[MIG_BOOT_ID_MAX]);
void mig__mounts_free(struct mig_mounts *ms);
/* MIG_M_FS_MOUNTS: str boot id, u32 n, n x (str path, u64 dev, u64 ino,
 * then from protocol MIG_PROTO_NETPROOF on: str net, str token file, str
 * token, u64 its ino, u64 its ctime's seconds, u32 nanoseconds), empty
 * strings for a mount that is not a network file system's or has no
 * token. proto is the link's: a protocol-4 peer (0.1.0) reads the first
 * three fields alone, and its list proves no network mount. The decoder
 * takes only clean absolute paths, each once, no pinned folder, token
 * files named .mig-proof-*, tokens of MIG_TOKEN_HEX hex digits;
 * MIG_EPROTO otherwise. */
#define MIG_PROTO_NETPROOF 5
int mig__mounts_put(struct mig_buf *b, const struct mig_mounts *ms,
    uint32_t proto);
int mig__mounts_get(const void *p, size_t len, uint32_t proto,
    struct mig_mounts *ms);
/* MIG_M_FS_PROVEN: u32 all, then the proven mount points of home's, and
 * the others with the extras, each list as u32 n, n x str. The decoder gives each list as one
 * string, a path a line, made printable; MIG_EPROTO when malformed. */
int mig__proven_put(struct mig_buf *b, const struct mig_mounts *home,
    const struct mig_proof *pf);
int mig__proven_get(const void *p, size_t len, int *all, char **proven,
    char **unproven);
/* netproof.c: network file systems. The identity of a mount of fstype
 * from source with root (mountinfo's fields) in *net, malloc'ed, when
 * fstype is a network file system's; else *net NULL. */
int mig__net_ident(const char *fstype, const char *source, const char *root,
    char **net);
/* As home, blocking: token (MIG_TOKEN_HEX hex digits) in file tokname
 * in the root of each network mount of ms this user can write, kept
 * when it is there already, and the file's identity noted. */
void mig__net_tokens(struct mig_mounts *ms, const char *tokname,
    const char *token);
/* As host, blocking: whether home's mount h is read back at here, the
 * host's own mount at the same path (sets here->tokok). */
void mig__net_check(const struct mig_mount *h, struct mig_mount *here);
/* Whether here proves home's network mount h (pure, after
 * mig__net_check). */
int mig__net_proven(const struct mig_mount *h, const struct mig_mount *here);

/* The proof of home's mounts against here's (the same paths, as this
 * host sees them); mig__proof_run makes here's itself (blocks). */
int mig__proof_compare(const struct mig_mounts *home,
    const struct mig_mounts *here, struct mig_proof *pf);
int mig__proof_run(const struct mig_mounts *home, struct mig_proof *pf);
void mig__proof_free(struct mig_proof *pf);
/* 1 when path lies in a proven mount of home's and under no extra mount
 * below that one: this host's own files at path are home's. */
int mig__proof_covers(const struct mig_mounts *home,
    const struct mig_proof *pf, const char *path);
/* The binds that make a view home's tree: a proven mount from the host,
 * whatever else served. */
int mig__proof_plan(const struct mig_mounts *home, const struct mig_proof *pf,
    struct mig_plan *pl);
void mig__plan_free(struct mig_plan *pl);
/* What mig ps says of a job in a view of plan: "served", and the
 * mounts of the host's own bound in. */
void mig__plan_text(const struct mig_plan *pl, char *buf, size_t size);
/* In the view's keeper, over the served tree mounted at root: -1 with
 * the reason in err when a step fails. */
int mig__plan_apply(const struct mig_plan *pl, const char *root, char *err,
    size_t errsize);

/* probe.c */
/*
 * Can this host serve home's files (served mode)? The probe really tries:
 * a forked child enters a new user and mount namespace, writes its
 * uid_map and gid_map, opens the FUSE device read-write and mounts a FUSE
 * file system with it (never served: it is gone with the child). What
 * failed, and the sysctls and kernel version that explain it, become one
 * short human sentence in why. A probe runs only what it is given; the
 * real ones are mig__fs_probe.
 */
struct mig_fs_probe {
	int served;        /* 1: served mode works here */
	char why[160];     /* when not: the reason, e.g. "no /dev/fuse" */
};

struct mig_fs_probe_opts {
	const char *fuse_dev;  /* NULL: /dev/fuse */
	const char *sysctl;    /* NULL: /proc/sys (where the knobs are read) */
	const char *mnt;       /* NULL: /tmp (mounted over in the child only) */
};

/* Returns 0 with the answer in *out, or an error if the probe itself
 * could not run (fork failed). Waits for its child (waitpid): for tests
 * and tools; mig-homed runs the two halves below. */
int mig__fs_probe(struct mig_fs_probe *out);
int mig__fs_probe_with(const struct mig_fs_probe_opts *o,
    struct mig_fs_probe *out);

/* A probe under way: its child, and the pipe its report comes on. */
struct mig_fs_probe_run {
	struct mig_fs_probe_opts o;
	pid_t pid;
	int fd;
};

/* Forks the probe's child with forkfn (fork, or a daemon's own) and
 * returns at once: 0 with run->pid to be reaped by the caller, or an
 * error (nothing is left open). The options' strings must outlive run. */
int mig__fs_probe_start(const struct mig_fs_probe_opts *o,
    pid_t (*forkfn)(void), struct mig_fs_probe_run *run);
/* Once run->pid was reaped: the answer into *out; closes run's pipe.
 * Never blocks (the child's end closed the pipe). */
void mig__fs_probe_finish(struct mig_fs_probe_run *run,
    struct mig_fs_probe *out);

/* wire.c */
/* The folder of absolute path ("/" for "/" and its children) into buf
 * of size bytes: 0, EINVAL for a relative path, ENAMETOOLONG. */
int mig__path_folder(const char *path, char *buf, size_t size);
/*
 * The served view's requests (MIG_M_FS_REQ, host to home; ops in the
 * frame's flags, the request's number in its stream) and their answers
 * (MIG_M_FS_REP: i32 errno, then, when it is 0, what the op returns).
 * Paths are absolute, as the job sees them (home's own paths).
 *
 *   op          request                          answer
 *   LSTAT       str path                         attr
 *   READDIR     str path, u32 first entry        u32 n, n x (str name,
 *                                                u32 type, u64 ino), u32 eof
 *   READLINK    str path                         str target
 *   OPEN        str path                         attr, bytes hash
 *   FETCH       str path, bytes hash, u64 off,   bytes data (short at EOF)
 *               u32 len (at most MIG_FS_CHUNK)
 *   MKDIR       str path, u32 mode               attr
 *   UNLINK      str path                         -
 *   RMDIR       str path                         -
 *   RENAME      str from, str to, u32 flags      -
 *   SYMLINK     str target, str path             attr
 *   LINK        str from, str to                 attr
 *   CREATE      str path, u32 mode, u32 excl     attr
 *   SETATTR     str path, u32 what (MIG_FS_SET_*), u32 mode, u64 size,
 *               u64 asec, u32 ansec, u64 msec, u32 mnsec      attr
 *   PUT_BEGIN   str path, u32 mode               u32 handle
 *   PUT_DATA    u32 handle, bytes data           -
 *   PUT_COMMIT  u32 handle                       attr
 *   PUT_BATCH   u32 n, n x (str path, u32 mode,  u32 n, n x (u32 errno,
 *               bytes data)                      attr when 0)
 *
 * Over protocol 6 and later, the answer to a change in a folder (MKDIR,
 * UNLINK, RMDIR, SYMLINK, LINK, CREATE) ends with that folder's state
 * just after the change: u32 errno (0: it exists), attr when 0. The
 * folder is the path's (LINK: to's); a host that knows it need not ask
 * (the kernel asks for a folder's attributes again after each change).
 *
 * PUT_BATCH (protocol 5 on; home fails a link of 4 that sends it) puts
 * whole files, each as PUT_BEGIN, PUT_DATA and PUT_COMMIT would, with
 * the same checks: 1 to MIG_FS_BATCH_FILES files of at most
 * MIG_FS_BATCH_FILE bytes each, answered in the order asked.
 *
 * Before the EXEC of a job its host may run in a view, home sends
 * MIG_M_FS_PRIME: u32 n, then n x (str path, u32 errno (0: it exists),
 * and when 0: attr, u32 what (MIG_FS_PRIME_*), bytes hash if HASH,
 * bytes target if TARGET), each sampled as the job was placed.
 *
 * attr: u32 mode, nlink, uid, gid, own (1: uid is home's user, 2: gid is
 * its group), u64 size, blocks, ino (home's dev and ino mixed, so files
 * of different file systems never share one), rdev, then atime, mtime,
 * ctime as u64 seconds and u32 nanoseconds.
 */
enum mig_fs_op {
	MIG_FS_LSTAT = 1,
	MIG_FS_READDIR,
	MIG_FS_READLINK,
	MIG_FS_OPEN,
	MIG_FS_FETCH,
	MIG_FS_MKDIR,
	MIG_FS_UNLINK,
	MIG_FS_RMDIR,
	MIG_FS_RENAME,
	MIG_FS_SYMLINK,
	MIG_FS_LINK,
	MIG_FS_CREATE,
	MIG_FS_SETATTR,
	MIG_FS_PUT_BEGIN,
	MIG_FS_PUT_DATA,
	MIG_FS_PUT_COMMIT,
	MIG_FS_PUT_BATCH,
	MIG_FS__COUNT
};

#define MIG_FS_SET_MODE 0x1
#define MIG_FS_SET_SIZE 0x2
#define MIG_FS_SET_ATIME 0x4
#define MIG_FS_SET_MTIME 0x8
#define MIG_FS_SET_ATIME_NOW 0x10
#define MIG_FS_SET_MTIME_NOW 0x20

#define MIG_FS_PRIME_HASH 0x1   /* a regular file's hash follows */
#define MIG_FS_PRIME_TARGET 0x2 /* a symbolic link's target follows */

/* Bytes of file content per FETCH or PUT_DATA frame. */
#define MIG_FS_CHUNK (512u << 10)
/* The first protocol with PUT_BATCH; what one may hold. */
#define MIG_PROTO_BATCH 5
/* The first protocol whose changes answer with their folder's state. */
#define MIG_PROTO_FOLDER 6
#define MIG_FS_BATCH_FILES 64
#define MIG_FS_BATCH_FILE (64u << 10)

struct mig_buf;
struct mig_rd;

/* One file of a PUT_BATCH request: data points into the payload. */
struct mig_fs_putfile {
	char *path;           /* as a request's path */
	uint32_t mode;
	const uint8_t *data;
	size_t ndata;         /* at most MIG_FS_BATCH_FILE */
};

/* What home answered for one file of a PUT_BATCH. */
struct mig_fs_putrep {
	uint32_t err;         /* 0, or the errno its put failed with */
	struct stat attr;     /* when err is 0 */
};

/* A request as home reads it (mig__fs_req_parse). The fields an op does
 * not carry stay 0 or NULL; data points into the payload parsed. */
struct mig_fs_req {
	uint16_t op;
	char *path;           /* all but PUT_DATA, PUT_COMMIT, PUT_BATCH;
	                       * RENAME, LINK: from. Absolute, canonical
	                       * (no empty, "." or ".." component), under
	                       * PATH_MAX */
	char *to;             /* RENAME, LINK: as path */
	char *target;         /* SYMLINK: any string */
	uint32_t mode;        /* MKDIR, CREATE, SETATTR, PUT_BEGIN */
	uint32_t first;       /* READDIR: the first entry */
	uint32_t flags;       /* RENAME */
	uint32_t excl;        /* CREATE */
	uint32_t what;        /* SETATTR: MIG_FS_SET_* */
	uint32_t handle;      /* PUT_DATA, PUT_COMMIT */
	uint32_t len;         /* FETCH: at most MIG_FS_CHUNK */
	uint64_t off;         /* FETCH: at most INT64_MAX */
	uint64_t size;        /* SETATTR: at most INT64_MAX */
	uint64_t asec, msec;  /* SETATTR */
	uint32_t ansec, mnsec; /* SETATTR: under 10^9 */
	const uint8_t *data;  /* FETCH: the hash; PUT_DATA: the bytes */
	size_t ndata;         /* FETCH: MIG_HASH_BYTES */
	struct mig_fs_putfile *files; /* PUT_BATCH: nfiles of them, owned */
	size_t nfiles;
};

/* Reads the payload p of n bytes of a request with op op into *q, which
 * the caller frees (mig__fs_req_free) on success; on failure nothing is
 * held and *q is zeroed. MIG_EPROTO for an unknown op, a field missing,
 * out of range or left over, or a path not absolute and canonical. */
int mig__fs_req_parse(uint16_t op, const uint8_t *p, size_t n,
    struct mig_fs_req *q);
void mig__fs_req_free(struct mig_fs_req *q);

/* One entry of a READDIR answer. */
struct mig_fs_dirent {
	char *name;           /* NUL-free, no '/' */
	uint32_t type;        /* a d_type, as home sent it */
	uint64_t ino;
};

/* An answer as a host reads it (mig__fs_rep_parse). Past a nonzero err
 * nothing follows; the fields an op does not carry stay 0 or NULL, and
 * key and data point into the payload parsed. */
struct mig_fs_rep {
	uint16_t op;
	uint32_t err;         /* 0, or the errno the op failed with */
	struct stat attr;     /* all that answer with attr, and OPEN */
	const uint8_t *key;   /* OPEN: MIG_HASH_BYTES */
	char *target;         /* READLINK: under PATH_MAX */
	struct mig_fs_dirent *ents; /* READDIR: nents of them, owned */
	size_t nents;
	uint32_t eof;         /* READDIR: no page follows (when not 0) */
	const uint8_t *data;  /* FETCH: at most MIG_FS_CHUNK bytes */
	size_t ndata;
	uint32_t handle;      /* PUT_BEGIN */
	struct mig_fs_putrep *puts; /* PUT_BATCH: nputs of them, owned */
	size_t nputs;
	int has_folder;       /* protocol 6, a change: its folder's state */
	uint32_t folder_err;  /* 0, or what lstat of the folder failed with */
	struct stat folder;
};

/* 1 when, over protocol proto, op's answer ends with its folder's state. */
int mig__fs_op_folder(uint16_t op, uint32_t proto);
/* Reads the payload p of n bytes of the answer to a request with op op,
 * over a link of protocol proto, into *a, which the caller frees (mig__fs_rep_free) on success; on
 * failure nothing is held and *a is zeroed. What home says is its user's
 * becomes uid and gid (mig__fs_get_attr). MIG_EPROTO for an unknown op, a
 * field missing or out of range, or bytes left over; as the host always
 * read them, bytes after an answer that is attr alone, and a PUT_DATA
 * answer's after its errno, are not looked at. */
int mig__fs_rep_parse(uint16_t op, uint32_t proto, const uint8_t *p,
    size_t n, uid_t uid, gid_t gid, struct mig_fs_rep *a);
void mig__fs_rep_free(struct mig_fs_rep *a);

/* Appends the attributes st; uid and gid are home's user. */
int mig__fs_put_attr(struct mig_buf *b, const struct stat *st, uid_t uid,
    gid_t gid);
/* Reads attributes into *st; what home says is its user's becomes uid
 * and gid (the host's user). 0 or MIG_EPROTO. */
int mig__fs_get_attr(struct mig_rd *r, struct stat *st, uid_t uid,
    gid_t gid);

#endif
