/*
 * home.h: the fs role's home half, shared by serve.c (the requests of
 * hosts' views answered), prime.c (what a job's host is told before its
 * EXEC) and lanes.c (a lane per link, and what each host said), in that
 * order, calls going down. Private to those; the rest of the daemon uses
 * homed.h.
 */
#ifndef MIG_FS_HOME_H
#define MIG_FS_HOME_H

#include "fs.h"
#include "homed.h"

/* What a host said of its files (MIG_M_FS_MODE), and what its views
 * fetched from us and seeded from its own files, over all its links
 * (MIG_M_FS_TALLY). */
struct peer_files {
	struct peer *peer;
	int serves;          /* its jobs may run in a served view */
	int files;           /* its hosts file keyword, MIG_FILES_* */
	char text[200];
	uint64_t fetched, seeded;
};

/* A link's requests: while one is answered off the loop, the next ones
 * wait here, in order. */
struct lane {
	TAILQ_ENTRY(lane) entry;
	struct link *link;   /* NULL once the link is gone */
	int placed;          /* a job of ours went over it (mig__fs_prime) */
	unsigned warned;     /* refusals logged: 1 unplaced, 2 kernel files */
	int busy;            /* a hash runs for it on the thread pool */
	struct mig_buf held; /* frames waiting, as received */
	uint64_t fetched, seeded; /* its view's, as last told (FS_TALLY) */
};

struct hashwork;

struct fs_home {
	struct homed *d;
	struct mig_hashdb *db;
	struct fs_puts *puts;   /* files on their way in (write.c) */
	struct peer_files *files;
	size_t nfiles;
	TAILQ_HEAD(, lane) lanes;
	struct hashwork *later; /* set by an op that answers later */
};

/* lanes.c */
/* Link l's lane, made when it has none; NULL when out of memory. */
struct lane *mig__lane_of(struct fs_home *h, struct link *l);
void mig__lane_free(struct fs_home *h, struct lane *ln);
/* Whether peer p said its jobs may run in a served view. */
int mig__fs_serves(const struct fs_home *h, const struct peer *p);
/* MIG_M_FS_MODE and MIG_M_FS_TALLY, from a host. */
void mig__on_fs_mode(struct link *l, const struct mig_frame *f);
void mig__on_fs_tally(struct link *l, const struct mig_frame *f);

#endif
