/*
 * view.c: the fs role's host half: one served view per home link. At
 * the first job of a home whose cwd this host lacks, the daemon opens
 * the FUSE device, starts serving it from the loop (fuse.c answers the
 * kernel, by asking home over the link: ask.c), and forks a keeper
 * (keeper.c) that makes the view: a new user namespace (the user mapped
 * to itself) and mount namespace, the FUSE file system mounted on an
 * empty folder of the runtime dir, and this host's own /proc, /sys, /dev
 * and /run, and the runtime dir itself (the jobs' shim talks to this
 * daemon), mounted over home's. Once the keeper says it is done, the daemon opens its
 * namespaces (/proc/KEEPER/ns/user and ns/mnt) and lets it go: the
 * namespaces live on in those fds, and each served job's child enters
 * them (helpers/start.c, given mig__view_ns) before its chdir and exec.
 *
 * The view ends with its link: the requests still waiting are answered
 * EIO, the FUSE connection closes (the kernel aborts what is left) and
 * the namespaces go with their last process.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "view.h"

#define CACHE_CAP (1ull << 30)

struct fetch;

static void
notify_waiters(struct view *v)
{
	struct view_waiter *w;

	while ((w = TAILQ_FIRST(&v->waiters)) != NULL) {
		TAILQ_REMOVE(&v->waiters, w, entry);
		if (v->state == VIEW_READY)
			w->fn(w->arg, v, NULL);
		else
			w->fn(w->arg, NULL, v->why);
		free(w);
	}
}

static void on_handle_closed(uv_handle_t *h);

/* The keeper's socket: closing it lets the keeper go. */
static void
ctl_close(struct view *v)
{
	if (v->ctlfd >= 0 && !uv_is_closing((uv_handle_t *)&v->ctl))
		uv_close((uv_handle_t *)&v->ctl, on_handle_closed);
}

static void
view_failed(struct view *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
view_failed(struct view *v, const char *fmt, ...)
{
	va_list ap;

	if (v->state == VIEW_FAILED)
		return;
	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
	v->state = VIEW_FAILED;
	mig__log(MIG_LOG_WARN, "served view for %s: %s",
	    v->link != NULL && v->link->peer != NULL ? v->link->peer->name :
						       "?", v->why);
	ctl_close(v);
	notify_waiters(v);
}

static void
view_free(struct view *v)
{
	TAILQ_REMOVE(&v->d->fs_host->views, v, entry);
	mig__fhs_free(v);
	mig__dirls_free(v);
	mig__nodes_free(v);
	mig__known_clear(v);
	mig__absent_free(v);
	if (v->se != NULL)
		fuse_session_destroy(v->se); /* closes the FUSE fd */
	else
		mig__close(v->fusefd);
	free(v->buf.mem);
	mig__plan_free(&v->plan);
	mig__close(v->userfd);
	mig__close(v->mntfd);
	mig__close(v->ctlfd);
	free(v);
}

static void
on_handle_closed(uv_handle_t *h)
{
	struct view *v = h->data;

	if (h == (uv_handle_t *)&v->ctl) {
		mig__close(v->ctlfd);
		v->ctlfd = -1;
	}
	if (--v->handles == 0 && v->ending)
		view_free(v);
}

static void
on_fuse(uv_poll_t *p, int status, int events)
{
	struct view *v = p->data;
	int r;

	/* While ending, invalidations on the thread pool may wait on a
	 * request (inval.c): those are still read, and fail at once. */
	for (int i = 0; i < 32 && (!v->ending || v->invals > 0); i++) {
		r = fuse_session_receive_buf(v->se, &v->buf);
		if (r == -EAGAIN || r == -EINTR)
			return;
		if (r <= 0 || fuse_session_exited(v->se)) {
			/* The mount is gone (unmounted, or aborted). */
			uv_poll_stop(p);
			view_failed(v, "the view was unmounted (%s)",
			    strerror(r < 0 ? -r : ENODEV));
			return;
		}
		v->fuse_reqs++;
		fuse_session_process_buf(v->se, &v->buf);
	}
}

static void
on_keeper_exit(void *arg, int status)
{
	struct view *v = arg;

	v->keeper = 0;
	if (v->state == VIEW_STARTING)
		view_failed(v, "the view's keeper ended before the view was "
		    "ready (status %d)", status);
}

/* Stage 1: the device, mounted; from now on it is served. */
static int
serve_device(struct view *v, int fd)
{
	char *argv[] = { (char *)"mig-homed", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);
	char fdpath[32];

	v->fusefd = fd;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1)
		return errno;
	v->se = fuse_session_new(&args, &mig__view_ops, sizeof(mig__view_ops),
	    v);
	/* Parsing the options copies them into args, ours to free. */
	fuse_opt_free_args(&args);
	if (v->se == NULL)
		return ENOMEM;
	snprintf(fdpath, sizeof(fdpath), "/dev/fd/%d", fd);
	if (fuse_session_mount(v->se, fdpath) != 0)
		return EINVAL;
	uv_poll_init(v->d->loop, &v->poll, fd);
	v->poll.data = v;
	v->handles++;
	uv_poll_start(&v->poll, UV_READABLE, on_fuse);
	return 0;
}

static void
on_ctl(uv_poll_t *p, int status, int events)
{
	struct view *v = p->data;
	struct keeper_report rep;
	char cbuf[CMSG_SPACE(sizeof(int))], path[64];
	struct iovec iov = { &rep, sizeof(rep) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	ssize_t n;
	int fd = -1, e;

	if ((n = recvmsg(v->ctlfd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT)) < 0 &&
	    (errno == EAGAIN || errno == EINTR))
		return;
	for (c = CMSG_FIRSTHDR(&mh); n > 0 && c != NULL;
	    c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
	if (n != (ssize_t)sizeof(rep)) {
		mig__close(fd);
		view_failed(v, "the view's keeper ended without a word");
		return;
	}
	rep.msg[sizeof(rep.msg) - 1] = '\0';
	if (rep.err != 0) {
		mig__close(fd);
		view_failed(v, "%s", rep.msg);
		return;
	}
	if (rep.stage == 1) {
		if (fd < 0 || v->se != NULL) {
			mig__close(fd);
			view_failed(v, "the view's keeper sent no device");
		} else if ((e = serve_device(v, fd)) != 0) {
			view_failed(v, "cannot serve the view: %s", strerror(e));
		}
		return;
	}
	mig__close(fd);
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)v->keeper);
	v->userfd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)v->keeper);
	v->mntfd = open(path, O_RDONLY | O_CLOEXEC);
	if (v->se == NULL || v->userfd < 0 || v->mntfd < 0) {
		view_failed(v, "cannot open the view's namespaces: %s",
		    strerror(errno));
		return;
	}
	/* The keeper may go: the namespaces live on in our fds. */
	ctl_close(v);
	v->state = VIEW_READY;
	mig__log(MIG_LOG_INFO, "served view for %s ready at %s",
	    v->link->peer->name, v->root);
	notify_waiters(v);
}

static int
open_cache(struct homed *d)
{
	struct fs_host *h = d->fs_host;
	char dir[PATH_MAX], why[PATH_MAX + 128];
	int r = 0;

	if (h->cache != NULL)
		return 0;
	/* Objects run in jobs: a folder another user could write to is
	 * refused, and the cache kept in the runtime folder instead. */
	if (mig__cache_default_dir(dir, sizeof(dir)) != 0 ||
	    (r = mig__cache_open(dir, CACHE_CAP, &h->cache, why,
	    sizeof(why))) != 0) {
		if (r == MIG_EUNSAFE)
			mig__log(MIG_LOG_WARN, "refusing the object cache "
			    "in %s: %s", dir, why);
		if (mig_path(dir, sizeof(dir), d->rundir, "objects") != 0)
			return MIG_ETOOBIG;
		if ((r = mig__cache_open(dir, CACHE_CAP, &h->cache, NULL,
		    0)) != 0)
			return r;
	}
	mig__log(MIG_LOG_INFO, "object cache in %s", dir);
	return 0;
}

/* Starts the view for its link; it may fail at once (state FAILED). */
static void
view_start(struct view *v)
{
	struct homed *d = v->d;
	int sp[2] = { -1, -1 }, r;
	pid_t pid;

	if ((r = open_cache(d)) != 0) {
		view_failed(v, "no object cache: %s", mig_strerror(r));
		return;
	}
	mig__seeds_start(v);
	snprintf(v->root, sizeof(v->root), "%s/view-%s", d->rundir,
	    v->link->peer->name);
	if (mkdir(v->root, 0700) == -1 && errno != EEXIST) {
		view_failed(v, "%s: %s", v->root, strerror(errno));
		return;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1) {
		view_failed(v, "socketpair: %s", strerror(errno));
		return;
	}
	if ((pid = mig__fork()) == -1) {
		view_failed(v, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		close(sp[0]);
		mig__view_keeper(v->root, d->rundir, &v->plan, sp[1]);
	}
	v->keeper = pid;
	mig__child_watch(d, pid, on_keeper_exit, v);
	v->ctlfd = sp[0];
	sp[0] = -1;
	uv_poll_init(d->loop, &v->ctl, v->ctlfd);
	v->ctl.data = v;
	v->handles++;
	uv_poll_start(&v->ctl, UV_READABLE | UV_DISCONNECT, on_ctl);
 out:
	mig__close(sp[0]);
	mig__close(sp[1]);
}

void
mig__views_probed(struct homed *d)
{
	struct fs_host *h = d->fs_host;
	struct view *v;

	TAILQ_FOREACH(v, &h->views, entry) {
		if (v->state != VIEW_STARTING || v->keeper != 0 ||
		    v->ctlfd >= 0)
			continue;
		if (h->probe.served)
			view_start(v);
		else
			view_failed(v, "served mode is unavailable here: %s",
			    h->probe.why);
	}
}

static void
prime_free(struct fs_host *h, struct prime *pr)
{
	TAILQ_REMOVE(&h->primes, pr, entry);
	free(pr->p);
	free(pr);
}

static struct prime *
prime_find(struct fs_host *h, struct link *l, uint32_t id)
{
	struct prime *pr;

	TAILQ_FOREACH(pr, &h->primes, entry)
		if (pr->link == l && pr->id == id)
			return pr;
	return NULL;
}

/* Frees link l's primes older than seq (all of them: UINT64_MAX). */
static void
primes_drop(struct fs_host *h, struct link *l, uint64_t seq)
{
	struct prime *pr, *next;

	TAILQ_FOREACH_SAFE(pr, &h->primes, entry, next)
		if (pr->link == l && pr->seq < seq)
			prime_free(h, pr);
}

/* Kept until the job's mode is decided. A link whose jobs never run in
 * the view (its own files are home's) would pile them up: past
 * PRIMES_MAX, its oldest goes. */
#define PRIMES_MAX 64

static void
on_fs_prime(struct link *l, const struct mig_frame *f)
{
	struct fs_host *h = l->d->fs_host;
	struct prime *pr, *oldest = NULL;
	size_t n = 0;

	TAILQ_FOREACH(pr, &h->primes, entry)
		if (pr->link == l && n++ == 0)
			oldest = pr;
	if (n >= PRIMES_MAX)
		prime_free(h, oldest);
	if ((pr = calloc(1, sizeof(*pr))) == NULL ||
	    (pr->p = malloc(f->len > 0 ? f->len : 1)) == NULL) {
		free(pr);
		return;
	}
	memcpy(pr->p, f->payload, f->len);
	pr->n = f->len;
	pr->link = l;
	pr->id = f->stream;
	pr->seq = ++h->prime_seq;
	TAILQ_INSERT_TAIL(&h->primes, pr, entry);
}

void
mig__view_prime_drop(struct homed *d, struct link *l, uint32_t id)
{
	struct prime *pr = prime_find(d->fs_host, l, id);

	if (pr != NULL)
		prime_free(d->fs_host, pr);
}

/* Job id of link l was placed: the view trusts nothing sampled before
 * that, and knows what home sampled for it. Jobs placed at once are
 * decided in any order: a prime older than the one the table holds is
 * not applied (a job running already would see older states), and the
 * table, all of it sampled after this job's placement, stays. */
static void
view_placed(struct view *v, struct link *l, uint32_t id)
{
	struct fs_host *h = v->d->fs_host;
	struct prime *pr = prime_find(h, l, id);
	int r;

	if (pr != NULL && pr->seq < v->primed) {
		primes_drop(h, l, pr->seq + 1);
		return;
	}
	mig__known_clear(v);
	if (pr == NULL)
		return;
	v->primed = pr->seq;
	if ((r = mig__known_prime(v, pr->p, pr->n)) != 0) {
		mig__known_clear(v);
		if (r == MIG_EPROTO)
			mig__view_bad(v, "prime");
	}
	/* Older jobs' primes can no longer be applied. */
	primes_drop(h, l, pr->seq + 1);
}

void
mig__view_inval_done(struct view *v)
{
	if (v->ending && v->invals == 0 && v->poll.data == v &&
	    !uv_is_closing((uv_handle_t *)&v->poll))
		uv_close((uv_handle_t *)&v->poll, on_handle_closed);
	if (--v->handles == 0 && v->ending)
		view_free(v);
}

/* A copy of plan for the view's keeper. */
static int
plan_copy(struct mig_plan *to, const struct mig_plan *from)
{
	memset(to, 0, sizeof(*to));
	if (from == NULL)
		return 0;
	to->gen = from->gen;
	if (from->n == 0)
		return 0;
	if ((to->step = calloc(from->n, sizeof(*to->step))) == NULL)
		return MIG__ERR(ENOMEM);
	for (; to->n < from->n; to->n++) {
		to->step[to->n].host = from->step[to->n].host;
		if ((to->step[to->n].path = strdup(from->step[to->n].path)) ==
		    NULL)
			return MIG__ERR(ENOMEM);
	}
	return 0;
}

/* Whether two plans make the same binds (plans are sorted by path). */
static int
plan_same(const struct mig_plan *a, const struct mig_plan *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (a->step[i].host != b->step[i].host ||
		    strcmp(a->step[i].path, b->step[i].path) != 0)
			return 0;
	return 1;
}

void
mig__view_want(struct homed *d, struct link *l, uint32_t id,
    const struct mig_plan *plan,
    void (*fn)(void *arg, struct view *v, const char *why), void *arg)
{
	struct view *v = mig__view_find(d, l);
	struct view_waiter *w;
	struct inval *iv;

	if (v == NULL) {
		if ((v = calloc(1, sizeof(*v))) == NULL) {
			fn(arg, NULL, "out of memory");
			return;
		}
		v->d = d;
		v->id = ++d->fs_host->next_view;
		v->link = l;
		v->state = VIEW_STARTING;
		v->userfd = v->mntfd = v->fusefd = v->ctlfd = -1;
		TAILQ_INIT(&v->reqs);
		TAILQ_INIT(&v->waiters);
		TAILQ_INIT(&v->fetches);
		TAILQ_INIT(&v->created);
		TAILQ_INIT(&v->fhs);
		TAILQ_INIT(&v->dirls);
		TAILQ_INIT(&v->settles);
		mig__nodes_init(v);
		TAILQ_INSERT_TAIL(&d->fs_host->views, v, entry);
		if (plan_copy(&v->plan, plan) != 0)
			view_failed(v, "out of memory");
		/* Else it starts once the probe answers (mig__views_probed). */
		else if (mig__fs_probed(d))
			view_start(v);
	}
	/* A view binds what was proven of home's list when it was made. If
	 * home's mounts changed since in a way that changes the binds (a new
	 * mount of home's under a bound one would be hidden), it stays for
	 * the jobs in it, but takes no more. A change that leaves the binds
	 * as they are (a mount anywhere served) changes nothing here. */
	if (plan != NULL && plan->gen != v->plan.gen &&
	    !plan_same(plan, &v->plan)) {
		fn(arg, NULL, "home's mounts changed since this host's view "
		    "of them was made; it takes new jobs again after the link "
		    "comes up anew");
		return;
	}
	view_placed(v, l, id);
	if (v->state == VIEW_READY) {
		/* The job starts once the kernel forgot what changed. */
		if ((iv = mig__inval_new(v)) == NULL) {
			fn(arg, NULL, "out of memory");
			return;
		}
		iv->fn = fn;
		iv->arg = arg;
		mig__nodes_check(v, iv);
		return;
	}
	if (v->state == VIEW_FAILED) {
		fn(arg, NULL, v->why);
		return;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		fn(arg, NULL, "out of memory");
		return;
	}
	w->fn = fn;
	w->arg = arg;
	TAILQ_INSERT_TAIL(&v->waiters, w, entry);
}

void
mig__view_files(const struct view *v, char *buf, size_t size)
{
	mig__plan_text(&v->plan, buf, size);
}

const char *
mig__view_ns(const struct view *v, int *userfd, int *mntfd)
{
	*userfd = v->userfd;
	*mntfd = v->mntfd;
	return v->root;
}

static void
view_end(struct view *v)
{
	struct freq *q;

	if (v->ending)
		return;
	if (v->state != VIEW_FAILED)
		view_failed(v, "its home link is gone");
	v->link = NULL;
	v->ending = 1;
	/* Whatever waits on home now fails. Answers may ask again; asking
	 * fails at once from here on. */
	while ((q = TAILQ_FIRST(&v->reqs)) != NULL) {
		TAILQ_REMOVE(&v->reqs, q, entry);
		q->done(q, EIO, NULL);
	}
	mig__settles_end(v);
	if (v->keeper > 0) {
		mig__child_forget(v->d, v->keeper);
		kill(v->keeper, SIGKILL);
	}
	if (v->handles > 0) {
		if (v->poll.data == v && v->invals == 0 &&
		    !uv_is_closing((uv_handle_t *)&v->poll))
			uv_close((uv_handle_t *)&v->poll, on_handle_closed);
		ctl_close(v);
	} else {
		view_free(v);
	}
}


static void
on_link_down(struct link *l, int code, const char *why)
{
	struct view *v = mig__view_find(l->d, l);

	primes_drop(l->d->fs_host, l, UINT64_MAX);
	if (v != NULL)
		view_end(v);
}

void
mig__fs_host_init(struct homed *d)
{
	static const struct watcher w = { .link_up = mig__fs_link_up,
		.link_down = on_link_down };
	struct fs_host *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		mig__die(1, "out of memory");
	TAILQ_INIT(&h->views);
	TAILQ_INIT(&h->primes);
	strlcpy(h->tmpdir, d->rundir, sizeof(h->tmpdir));
	d->fs_host = h;
	mig__on_link_frame(d, MIG_M_FS_REP, mig__on_fs_rep);
	mig__on_link_frame(d, MIG_M_FS_PRIME, on_fs_prime);
	mig__watch(d, &w);
}

void
mig__fs_host_stop(struct homed *d)
{
	struct view *v, *next;

	if (d->fs_host == NULL)
		return;
	TAILQ_FOREACH_SAFE(v, &d->fs_host->views, entry, next)
		view_end(v);
}

void
mig__fs_host_free(struct homed *d)
{
	struct fs_host *h = d->fs_host;

	if (h == NULL)
		return;
	while (!TAILQ_EMPTY(&h->views))
		view_free(TAILQ_FIRST(&h->views));
	while (!TAILQ_EMPTY(&h->primes))
		prime_free(h, TAILQ_FIRST(&h->primes));
	mig__seeds_stop(h);
	mig__cache_close(h->cache);
	free(h);
	d->fs_host = NULL;
}
