/*
 * lanes.c: what home keeps of each host that may run its jobs in a
 * served view: a lane per link (whether a job of ours went over it, the
 * requests waiting while one is answered off the loop, what its view
 * fetched and seeded), and per host what it said of its files
 * (MIG_M_FS_MODE) and the bytes its views had (MIG_M_FS_TALLY), for mig
 * hosts and mig ps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "home.h"

struct lane *
mig__lane_of(struct fs_home *h, struct link *l)
{
	struct lane *ln;

	TAILQ_FOREACH(ln, &h->lanes, entry)
		if (ln->link == l)
			return ln;
	if ((ln = calloc(1, sizeof(*ln))) == NULL)
		return NULL;
	ln->link = l;
	TAILQ_INSERT_TAIL(&h->lanes, ln, entry);
	return ln;
}

void
mig__lane_free(struct fs_home *h, struct lane *ln)
{
	TAILQ_REMOVE(&h->lanes, ln, entry);
	mig_buf_free(&ln->held);
	free(ln);
}

static struct peer_files *
peer_of(struct fs_home *h, struct peer *p)
{
	struct peer_files *nv;

	for (size_t i = 0; i < h->nfiles; i++)
		if (h->files[i].peer == p)
			return &h->files[i];
	if ((nv = realloc(h->files, (h->nfiles + 1) * sizeof(*nv))) == NULL)
		return NULL;
	h->files = nv;
	memset(&nv[h->nfiles], 0, sizeof(*nv));
	nv[h->nfiles].peer = p;
	return &nv[h->nfiles++];
}

/* Whether peer p said its jobs may run in a served view. */
int
mig__fs_serves(const struct fs_home *h, const struct peer *p)
{
	for (size_t i = 0; i < h->nfiles; i++)
		if (h->files[i].peer == p)
			return h->files[i].serves;
	return 0;
}

void
mig__on_fs_mode(struct link *l, const struct mig_frame *f)
{
	struct fs_home *h = l->d->fs_home;
	struct peer_files *pf;
	uint32_t files, served;
	struct mig_rd rd;
	char *why = NULL;

	proto_rd_init(&rd, f->payload, f->len);
	if (proto_get_u32(&rd, &files) != 0 || proto_get_u32(&rd, &served) != 0 ||
	    proto_get_str(&rd, &why) != 0 || proto_rd_done(&rd) != 0 ||
	    files > MIG_FILES_SERVED || l->peer == NULL) {
		free(why);
		mig__link_fail(l, MIG_EPROTO, "malformed FS_MODE");
		return;
	}
	if ((pf = peer_of(h, l->peer)) == NULL) {
		free(why);
		return;
	}
	pf->serves = served && files != MIG_FILES_SHARED;
	/* Names and reasons reach a terminal: printable ASCII only. */
	for (char *c = why; *c != '\0'; c++)
		if (*c < ' ' || *c > '~')
			*c = '?';
	if (files == MIG_FILES_SHARED)
		snprintf(pf->text, sizeof(pf->text), "shared");
	else if (served && files == MIG_FILES_SERVED)
		snprintf(pf->text, sizeof(pf->text), "served");
	else if (served)
		snprintf(pf->text, sizeof(pf->text), "served");
	else if (files == MIG_FILES_SERVED)
		snprintf(pf->text, sizeof(pf->text), "unavailable: %s", why);
	else
		snprintf(pf->text, sizeof(pf->text), "proven only (served "
		    "unavailable: %s)", why);
	pf->files = (int)files;
	free(why);
}

int
mig__fs_peer_keyword(struct homed *d, struct peer *p)
{
	struct fs_home *h = d->fs_home;

	for (size_t i = 0; h != NULL && i < h->nfiles; i++)
		if (h->files[i].peer == p)
			return h->files[i].files;
	return -1;
}

const char *
mig__fs_peer_files(struct homed *d, struct peer *p)
{
	struct fs_home *h = d->fs_home;

	for (size_t i = 0; h != NULL && i < h->nfiles; i++)
		if (h->files[i].peer == p)
			return h->files[i].text;
	return "-";
}

/* The host's view counts from 0 when it begins, and only up: a count
 * below what its lane holds is a new view's. */
void
mig__on_fs_tally(struct link *l, const struct mig_frame *f)
{
	struct fs_home *h = l->d->fs_home;
	struct peer_files *pf;
	uint64_t fetched, seeded;
	struct lane *ln;
	struct mig_rd rd;

	proto_rd_init(&rd, f->payload, f->len);
	if (proto_get_u64(&rd, &fetched) != 0 ||
	    proto_get_u64(&rd, &seeded) != 0 || proto_rd_done(&rd) != 0 ||
	    l->peer == NULL) {
		mig__link_fail(l, MIG_EPROTO, "malformed FS_TALLY");
		return;
	}
	if ((ln = mig__lane_of(h, l)) == NULL || (pf = peer_of(h, l->peer)) ==
	    NULL)
		return;
	if (fetched < ln->fetched || seeded < ln->seeded)
		ln->fetched = ln->seeded = 0;
	pf->fetched += fetched - ln->fetched;
	pf->seeded += seeded - ln->seeded;
	ln->fetched = fetched;
	ln->seeded = seeded;
}

void
mig__fs_tally(struct homed *d, struct link *l, uint64_t *fetched,
    uint64_t *seeded)
{
	struct fs_home *h = d->fs_home;
	struct lane *ln;

	*fetched = *seeded = 0;
	if (h == NULL)
		return;
	TAILQ_FOREACH(ln, &h->lanes, entry)
		if (ln->link == l) {
			*fetched = ln->fetched;
			*seeded = ln->seeded;
		}
}

void
mig__fs_peer_tally(struct homed *d, struct peer *p, uint64_t *fetched,
    uint64_t *seeded)
{
	struct fs_home *h = d->fs_home;

	*fetched = *seeded = 0;
	for (size_t i = 0; h != NULL && i < h->nfiles; i++)
		if (h->files[i].peer == p) {
			*fetched = h->files[i].fetched;
			*seeded = h->files[i].seeded;
		}
}
