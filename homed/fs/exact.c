/*
 * exact.c: how each placed job sees its home's files on this host
 * (docs/design.md, "Mode, per job"). Every job sees home's tree: this
 * host's own files only where they are proven to be home's (proof.c),
 * served everywhere else.
 *
 * As home: at each link up, this daemon's mount points and boot id go to
 * the host (MIG_M_FS_MOUNTS, read off the loop). As host: the link's
 * list is kept, proven once for mig hosts (MIG_M_FS_PROVEN back) and
 * again for every job, on the thread pool: every mount proven and no
 * mount of this host's own shadowing any, and the job runs in this
 * host's files as they are; else in the served view, with the proven
 * mounts bound into it from this host; and a host that cannot serve
 * takes the job only if its cwd, program and path arguments all lie in
 * proven files. A job that comes before its home's list waits for it.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "homed.h"
#include "fs.h"

/* A home's mount list, shared by the proofs that use it. */
struct hmounts {
	int refs;
	struct mig_mounts m;
};

/* A link's files: as host, what its home sent; as home, what its host
 * proved of ours (for mig hosts). */
struct homefs {
	TAILQ_ENTRY(homefs) entry;
	struct link *link;
	struct hmounts *hm;     /* NULL until its MOUNTS came */
	unsigned gen;           /* bumped when its list changes */
	int said;               /* its PROVEN came */
	int all;                /* its own files are ours */
	char *proven, *unproven; /* mount points, one a line */
};

/* Work on the thread pool: home's mount list (as home) or a proof (as
 * host: for a job, or for mig hosts when fn is NULL). */
struct ework {
	TAILQ_ENTRY(ework) entry;
	uv_work_t req;
	struct homed *d;
	struct link *link;      /* NULL once the link is gone */
	struct hmounts *hm;     /* the proof's input; NULL: list ours */
	const struct mig_job *job; /* the caller's, until fn runs */
	int can_serve;
	mig__exact_fn *fn;
	void *arg;
	int queued;             /* waits for home's list (not on the pool) */
	/* results */
	int r;
	struct mig_mounts mine;
	struct mig_proof pf;
	struct mig_plan plan;
	char what[PATH_MAX + 64]; /* first path not proven */
};

struct exact {
	struct homed *d;
	TAILQ_HEAD(, homefs) homes;
	TAILQ_HEAD(, ework) works;
	uv_poll_t mounts;       /* our mount table changed: POLLPRI */
	int mountsfd;
	int watching;           /* mounts is open */
	/* Our token in the root of each network mount (netproof.c), fixed
	 * for this daemon's life: read by the pool's threads. */
	char tokname[NAME_MAX + 1];
	char token[MIG_TOKEN_HEX + 1];
	/* One thread at a time checks or writes the token files: two links'
	 * lists made at once would each write one, and the second, renamed
	 * over the first, would make the first list's ctime wrong. */
	uv_mutex_t tokens;
};

static void
hm_put(struct hmounts *hm)
{
	if (hm != NULL && --hm->refs == 0) {
		mig__mounts_free(&hm->m);
		free(hm);
	}
}

static void
homefs_free(struct exact *x, struct homefs *h)
{
	TAILQ_REMOVE(&x->homes, h, entry);
	hm_put(h->hm);
	free(h->proven);
	free(h->unproven);
	free(h);
}

static struct homefs *
homefs_find(struct exact *x, struct link *l)
{
	struct homefs *h;

	TAILQ_FOREACH(h, &x->homes, entry)
		if (h->link == l)
			return h;
	return NULL;
}

static void
ework_free(struct exact *x, struct ework *w)
{
	TAILQ_REMOVE(&x->works, w, entry);
	hm_put(w->hm);
	mig__mounts_free(&w->mine);
	mig__proof_free(&w->pf);
	mig__plan_free(&w->plan);
	free(w);
}

/* The path arguments of a job: absolute ones, the part of an option
 * after its '=' or its leading -X when it is a path, and relative ones
 * under cwd. */
static int
arg_path(const char *cwd, const char *a, char *buf, size_t size)
{
	const char *p = a;

	if (a[0] == '-') {
		if ((p = strchr(a, '/')) == NULL)
			return 0;
		if (p[-1] != '=' && p != a + 2)
			return 0;
	}
	if (p[0] == '/')
		return snprintf(buf, size, "%s", p) < (int)size;
	return snprintf(buf, size, "%s/%s", cwd, p) < (int)size;
}

/* Drops "." and ".." from an absolute path in place; 0 if it rises above
 * the root. */
static int
tidy(char *p)
{
	char *o = p, *s = p;

	while (*s != '\0') {
		while (*s == '/')
			s++;
		if (*s == '\0')
			break;
		if (s[0] == '.' && (s[1] == '/' || s[1] == '\0')) {
			s++;
			continue;
		}
		if (s[0] == '.' && s[1] == '.' && (s[2] == '/' || s[2] == '\0')) {
			s += 2;
			while (o > p && *--o != '/')
				;
			continue;
		}
		*o++ = '/';
		while (*s != '/' && *s != '\0')
			*o++ = *s++;
	}
	if (o == p)
		*o++ = '/';
	*o = '\0';
	return 1;
}

/* Whether every path the job names lies in proven files here. */
static int
job_covered(struct ework *w)
{
	const struct mig_job *job = w->job;
	const char *path = NULL;
	char buf[PATH_MAX];

	for (char **e = job->envp; *e != NULL; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			path = *e + 5;
	snprintf(buf, sizeof(buf), "%s", job->cwd);
	if (!tidy(buf) || !mig__proof_covers(&w->hm->m, &w->pf, buf)) {
		snprintf(w->what, sizeof(w->what), "its cwd %s", job->cwd);
		return 0;
	}
	if (strchr(job->argv[0], '/') == NULL ?
	    mig__path_search(job->argv[0], path, buf, sizeof(buf)) != 0 :
	    !arg_path(job->cwd, job->argv[0], buf, sizeof(buf))) {
		snprintf(w->what, sizeof(w->what), "its program %s",
		    job->argv[0]);
		return 0;
	}
	if (buf[0] != '/')
		return 0;
	if (!tidy(buf) || !mig__proof_covers(&w->hm->m, &w->pf, buf)) {
		snprintf(w->what, sizeof(w->what), "its program %s", buf);
		return 0;
	}
	for (size_t i = 1; job->argv[i] != NULL; i++) {
		if (!arg_path(job->cwd, job->argv[i], buf, sizeof(buf)))
			continue;
		if (!tidy(buf) || !mig__proof_covers(&w->hm->m, &w->pf, buf)) {
			snprintf(w->what, sizeof(w->what), "%s", buf);
			return 0;
		}
	}
	return 1;
}

static void
work(uv_work_t *req)
{
	struct ework *w = req->data;

	if (w->hm == NULL) {
		struct exact *x = w->d->exact;

		if ((w->r = mig__mounts_local(&w->mine)) == 0) {
			uv_mutex_lock(&x->tokens);
			mig__net_tokens(&w->mine, x->tokname, x->token);
			uv_mutex_unlock(&x->tokens);
		}
		return;
	}
	if ((w->r = mig__proof_run(&w->hm->m, &w->pf)) != 0) {
		/* Nothing proven: a job that can be served is, all of it. */
		if (w->job != NULL && w->can_serve)
			w->r = 0;
		return;
	}
	if (w->job == NULL || w->pf.all)
		return;
	if (w->can_serve) {
		unsigned gen = w->plan.gen;
		w->r = mig__proof_plan(&w->hm->m, &w->pf, &w->plan);
		w->plan.gen = gen;
	}
	else if (!job_covered(w))
		w->r = MIG_ENOCWD;
}


static void
send_proven(struct link *l, const struct ework *w)
{
	struct mig_buf b = { NULL, 0, 0 };

	if (mig__proven_put(&b, &w->hm->m, &w->pf) == 0)
		mig__link_send(l, MIG_M_FS_PROVEN, 0, 0, b.data, b.len);
	mig_buf_free(&b);
}

static void
work_done(uv_work_t *req, int status)
{
	struct ework *w = req->data;
	struct exact *x = w->d->exact;
	struct mig_buf b = { NULL, 0, 0 };
	struct mig_exact e = { MIG_EXACT_GONE, 0, NULL, "" };

	if (w->hm == NULL) {
		/* As home: our list, for the host, whose jobs wait for it.
		 * Without one, an empty list (no boot id): nothing proven,
		 * all served. */
		if (w->link != NULL && w->r != 0) {
			mig__log(MIG_LOG_WARN, "link %s: cannot list this "
			    "home's mounts (%s): none will be proven there",
			    w->link->desc, mig_strerror(w->r));
			mig__mounts_free(&w->mine);
			memset(&w->mine, 0, sizeof(w->mine));
		}
		if (w->link != NULL && mig__mounts_put(&b, &w->mine,
		    w->link->proto) == 0)
			mig__link_send(w->link, MIG_M_FS_MOUNTS, 0, 0, b.data,
			    b.len);
		mig_buf_free(&b);
		ework_free(x, w);
		return;
	}
	if (w->fn == NULL) {
		if (w->link != NULL && w->r == 0)
			send_proven(w->link, w);
		ework_free(x, w);
		return;
	}
	if (w->link == NULL)
		;
	else if (w->r == 0 && w->pf.all) {
		e.mode = MIG_EXACT_OWN;
		snprintf(e.text, sizeof(e.text), "this host's own files "
		    "(every mount proven home's)");
	} else if (w->r == 0 && w->can_serve) {
		e.mode = MIG_EXACT_VIEW;
		e.plan = &w->plan;
		mig__plan_text(&w->plan, e.text, sizeof(e.text));
	} else if (w->r == 0) {
		e.mode = MIG_EXACT_OWN;
		snprintf(e.text, sizeof(e.text), "this host's own files "
		    "(its paths proven home's; served mode unavailable)");
	} else if (w->r == MIG_ENOCWD) {
		const char *why = "";
		mig__fs_served(w->d, &why);
		e.mode = MIG_EXACT_REFUSE;
		e.code = MIG_ENOCWD;
		snprintf(e.text, sizeof(e.text), "cannot serve home's files "
		    "(%s), and %s is not proven to be home's here", why,
		    w->what);
	} else {
		e.mode = MIG_EXACT_REFUSE;
		e.code = w->r;
		snprintf(e.text, sizeof(e.text), "cannot compare this host's "
		    "files with home's: %s", mig_strerror(w->r));
	}
	w->fn(w->arg, &e);
	ework_free(x, w);
}

static struct ework *
ework_new(struct homed *d, struct link *l)
{
	struct ework *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	w->d = d;
	w->link = l;
	w->req.data = w;
	TAILQ_INSERT_TAIL(&d->exact->works, w, entry);
	return w;
}

static int
ework_queue(struct ework *w)
{
	int r = uv_queue_work(w->d->loop, &w->req, work, work_done);

	return r == 0 ? 0 : MIG_EINTERNAL;
}

void
mig__exact_decide(struct homed *d, struct link *l, const struct mig_job *job,
    mig__exact_fn *fn, void *arg)
{
	struct homefs *h = homefs_find(d->exact, l);
	struct mig_exact e = { MIG_EXACT_REFUSE, MIG_ENOCWD, NULL, "" };
	const char *why = "";
	struct ework *w;

	if (d->files == MIG_FILES_SHARED) {
		e.mode = MIG_EXACT_OWN;
		snprintf(e.text, sizeof(e.text), "shared (its hosts file)");
		fn(arg, &e);
		return;
	}
	if (d->files == MIG_FILES_SERVED) {
		if (mig__fs_served(d, &why)) {
			e.mode = MIG_EXACT_VIEW;
			snprintf(e.text, sizeof(e.text), "served (its hosts "
			    "file)");
		} else {
			snprintf(e.text, sizeof(e.text), "served mode is "
			    "unavailable here: %s", why);
		}
		fn(arg, &e);
		return;
	}
	if (h == NULL || (w = ework_new(d, l)) == NULL) {
		e.code = MIG__ERR(ENOMEM);
		snprintf(e.text, sizeof(e.text), "out of memory");
		fn(arg, &e);
		return;
	}
	w->job = job;
	w->fn = fn;
	w->arg = arg;
	w->can_serve = mig__fs_served(d, &why);
	if (h->hm == NULL) {
		w->queued = 1;
		return;
	}
	w->hm = h->hm;
	w->plan.gen = h->gen;
	h->hm->refs++;
	if (ework_queue(w) != 0) {
		e.code = MIG_EINTERNAL;
		snprintf(e.text, sizeof(e.text), "cannot queue the proof");
		ework_free(d->exact, w);
		fn(arg, &e);
	}
}

/* As home: what the host proved of our files. */
static void
on_proven(struct link *l, const struct mig_frame *f)
{
	struct homefs *h = homefs_find(l->d->exact, l);
	char *proven = NULL, *unproven = NULL;
	int all, r;

	if ((r = mig__proven_get(f->payload, f->len, &all, &proven,
	    &unproven)) != 0) {
		if (r == MIG_EPROTO)
			mig__link_fail(l, MIG_EPROTO, "malformed FS_PROVEN");
		return;
	}
	if (h == NULL) {
		free(proven);
		free(unproven);
		return;
	}
	free(h->proven);
	free(h->unproven);
	h->proven = proven;
	h->unproven = unproven;
	h->all = all;
	h->said = 1;
}

int
mig__exact_peer(struct homed *d, struct link *l, const char **proven,
    const char **unproven)
{
	struct homefs *h = homefs_find(d->exact, l);

	if (h == NULL || !h->said)
		return -1;
	*proven = h->proven;
	*unproven = h->unproven;
	return h->all;
}

static int
mounts_same(const struct mig_mounts *a, const struct mig_mounts *b)
{
	if (strcmp(a->boot, b->boot) != 0 || a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->m[i].path, b->m[i].path) != 0 ||
		    a->m[i].dev != b->m[i].dev || a->m[i].ino != b->m[i].ino)
			return 0;
	return 1;
}

/* As host: home's mount points, at link up and whenever they change. */
static void
on_mounts(struct link *l, const struct mig_frame *f)
{
	struct exact *x = l->d->exact;
	struct homefs *h = homefs_find(x, l);
	struct hmounts *hm;
	struct ework *w, *next;

	if (h == NULL)
		return;
	if ((hm = calloc(1, sizeof(*hm))) == NULL)
		return;
	if (mig__mounts_get(f->payload, f->len, l->proto, &hm->m) != 0) {
		free(hm);
		mig__link_fail(l, MIG_EPROTO, "malformed FS_MOUNTS");
		return;
	}
	hm->refs = 1;
	if (h->hm != NULL && !mounts_same(&h->hm->m, &hm->m))
		h->gen++;
	hm_put(h->hm);
	h->hm = hm;
	/* Proven once for mig hosts, then for the jobs that waited. */
	if ((w = ework_new(l->d, l)) != NULL) {
		w->hm = hm;
		hm->refs++;
		if (ework_queue(w) != 0)
			ework_free(x, w);
	}
	TAILQ_FOREACH_SAFE(w, &x->works, entry, next) {
		if (w->link != l || !w->queued)
			continue;
		w->queued = 0;
		w->hm = hm;
		w->plan.gen = h->gen;
		hm->refs++;
		if (ework_queue(w) != 0) {
			struct mig_exact e = { MIG_EXACT_REFUSE, MIG_EINTERNAL,
				NULL, "cannot queue the proof" };
			mig__exact_fn *fn = w->fn;
			void *arg = w->arg;
			ework_free(x, w);
			fn(arg, &e);
		}
	}
}

/* As home: our mount table changed; every host hears the new list. */
static void
on_mounts_changed(uv_poll_t *p, int status, int events)
{
	struct exact *x = p->data;
	struct homefs *h;
	struct ework *w;

	if (status < 0) {
		mig__log(MIG_LOG_WARN, "watching this home's mounts: %s",
		    uv_strerror(status));
		uv_poll_stop(p);
		return;
	}
	TAILQ_FOREACH(h, &x->homes, entry)
		if ((w = ework_new(x->d, h->link)) != NULL &&
		    ework_queue(w) != 0)
			ework_free(x, w);
}

static void
on_link_up(struct link *l)
{
	struct exact *x = l->d->exact;
	struct homefs *h;
	struct ework *w;

	if ((h = calloc(1, sizeof(*h))) != NULL) {
		h->link = l;
		TAILQ_INSERT_TAIL(&x->homes, h, entry);
	}
	if ((w = ework_new(l->d, l)) != NULL && ework_queue(w) != 0)
		ework_free(x, w);
}

static void
on_link_down(struct link *l, int code, const char *why)
{
	struct exact *x = l->d->exact;
	struct homefs *h = homefs_find(x, l);
	struct ework *w, *next;

	if (h != NULL)
		homefs_free(x, h);
	TAILQ_FOREACH_SAFE(w, &x->works, entry, next) {
		if (w->link != l)
			continue;
		w->link = NULL;
		if (w->queued) {
			/* Never on the pool: it ends here. */
			struct mig_exact e = { MIG_EXACT_GONE, 0, NULL, "" };
			mig__exact_fn *fn = w->fn;
			void *arg = w->arg;
			ework_free(x, w);
			fn(arg, &e);
		}
	}
}

/* Our token and its file's name, .mig-proof-NAME-UID-RUN (RUN: 8 hex
 * digits of a hash of our runtime folder): one per home, so homes
 * sharing a network file system leave each other's alone, also homes of
 * one name and user on one machine (test clusters, Slurm jobs). */
static void
token_init(struct exact *x, const struct homed *d)
{
	uint8_t rnd[MIG_TOKEN_HEX / 2], run[4];
	char runhex[2 * sizeof(run) + 1];
	size_t n;

	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(x->token, sizeof(x->token), rnd, sizeof(rnd));
	crypto_generichash(run, sizeof(run), (const uint8_t *)d->rundir,
	    strlen(d->rundir), NULL, 0);
	sodium_bin2hex(runhex, sizeof(runhex), run, sizeof(run));
	n = (size_t)snprintf(x->tokname, sizeof(x->tokname), ".mig-proof-%.64s",
	    d->name);
	for (size_t i = 11; i < n; i++)
		if (!isalnum((unsigned char)x->tokname[i]) &&
		    strchr("._-", x->tokname[i]) == NULL)
			x->tokname[i] = '_';
	snprintf(x->tokname + n, sizeof(x->tokname) - n, "-%u-%s",
	    (unsigned)geteuid(), runhex);
}

void
mig__exact_init(struct homed *d)
{
	static const struct watcher w = { .link_up = on_link_up,
		.link_down = on_link_down };

	if ((d->exact = calloc(1, sizeof(*d->exact))) == NULL ||
	    uv_mutex_init(&d->exact->tokens) != 0)
		mig__die(1, "out of memory");
	TAILQ_INIT(&d->exact->homes);
	TAILQ_INIT(&d->exact->works);
	d->exact->d = d;
	token_init(d->exact, d);
	/* The kernel flags a change of our mount table as POLLPRI. */
	d->exact->mountsfd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (d->exact->mountsfd < 0 || uv_poll_init(d->loop, &d->exact->mounts,
	    d->exact->mountsfd) != 0)
		mig__log(MIG_LOG_WARN, "cannot watch this home's mounts: hosts "
		    "learn of a change at their next link up");
	else {
		d->exact->mounts.data = d->exact;
		d->exact->watching = 1;
		uv_poll_start(&d->exact->mounts, UV_PRIORITIZED,
		    on_mounts_changed);
	}
	mig__on_link_frame(d, MIG_M_FS_MOUNTS, on_mounts);
	mig__on_link_frame(d, MIG_M_FS_PROVEN, on_proven);
	mig__watch(d, &w);
}

void
mig__exact_stop(struct homed *d)
{
	struct exact *x = d->exact;

	if (x != NULL && x->watching) {
		x->watching = 0;
		uv_close((uv_handle_t *)&x->mounts, NULL);
	}
}

void
mig__exact_free(struct homed *d)
{
	struct exact *x = d->exact;
	struct homefs *h;

	if (x == NULL)
		return;
	/* Work still on the pool ends with the loop; none is left here
	 * once the loop has run down. */
	while ((h = TAILQ_FIRST(&x->homes)) != NULL)
		homefs_free(x, h);
	/* The poll handle was closed at the stop (mig__exact_stop). */
	mig__close(x->mountsfd);
	uv_mutex_destroy(&x->tokens);
	free(x);
	d->exact = NULL;
}
