/*
 * reload.c: the hosts file and the key, read again while the daemon
 * runs: on SIGHUP, and whenever either changes (a watch on the config
 * folder, since editors replace files by renaming). New hosts are dialed
 * on the next tick; hosts gone from it take no new jobs and their links
 * close once the jobs this home runs there are done; this host's own
 * line applies to what comes next: its slots, its files keyword (told to
 * every home again, for the jobs they place next), its priority, idle and
 * owner-cpu (read where they are used). A new key is used by the next
 * handshakes; links up stay, since their session keys no longer depend on
 * it. A bad file changes nothing: the log and mig hosts say why, until a
 * good one is read. A daemon of a Slurm allocation reads neither: its
 * hosts and key are the allocation's.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "homed.h"

static void
reload_hosts(struct homed *d, const char *why)
{
	struct mig_hosts h = { NULL, 0 };
	const struct mig_host *me;
	char path[PATH_MAX + 8], err[512];
	uint32_t files;
	int r;

	/* An allocation's hosts are its nodes, whatever a file says. */
	if (d->slurm != NULL) {
		mig__log(MIG_LOG_INFO, "hosts from Slurm job %s: the hosts file "
		    "is not read (%s)", d->slurm_job, why);
		return;
	}
	snprintf(path, sizeof(path), "%s/hosts", d->confdir);
	if (mig__hosts_load(path, &h, err, sizeof(err)) != 0) {
		snprintf(d->hosts_error, sizeof(d->hosts_error),
		    "%s; keeping the hosts read before", err);
		mig__log(MIG_LOG_WARN, "%s", d->hosts_error);
		return;
	}
	if ((r = mig__peers_update(d, &h)) != 0) {
		snprintf(d->hosts_error, sizeof(d->hosts_error),
		    "cannot apply %s: %s", path, mig_strerror(r));
		mig__log(MIG_LOG_WARN, "%s", d->hosts_error);
		mig__hosts_free(&h);
		return;
	}
	d->hosts_error[0] = '\0';
	me = mig__hosts_find(&h, d->name);
	d->slots = me != NULL && me->slots != 0 ? me->slots :
	    (uint32_t)sysconf(_SC_NPROCESSORS_ONLN);
	files = me != NULL ? me->files : MIG_FILES_AUTO;
	mig__hosts_free(&d->hosts);
	d->hosts = h;
	mig__log(MIG_LOG_INFO, "%s read again (%s): %zu hosts", path, why,
	    h.n);
	/* Where it listens is decided once, at start. */
	if (me != NULL && d->no_listen == NULL && !d->listen_given &&
	    (strcmp(me->addr, d->listen_addr) != 0 ||
	    me->port != d->listen_port))
		mig__log(MIG_LOG_WARN, "this host's line now says %s:%u; it "
		    "listens on %s:%u until it starts again", me->addr,
		    me->port, d->listen_addr, d->listen_port);
	if (files != d->files) {
		d->files = files;
		mig__fs_mode_changed(d);
	}
	mig__load_changed(d); /* the slots may have changed */
}

/* A daemon that started without a key, or without hosts, opens its port
 * once it has both (a host name in its line is resolved here, on the loop,
 * once in the daemon's life). */
static void
listen_late(struct homed *d)
{

	const struct mig_host *me = mig__hosts_find(&d->hosts, d->name);
	int r;

	if (d->no_listen == NULL || !d->have_key || d->hosts.n == 0 ||
	    d->listener.type == UV_TCP) /* tried once: the handle is used */
		return;
	if (me != NULL && !d->listen_given) {
		strlcpy(d->listen_addr, me->addr, sizeof(d->listen_addr));
		d->listen_port = me->port;
	}
	if ((r = mig__listen_start(d)) != 0) {
		mig__log(MIG_LOG_WARN, "cannot listen on %s:%u: %s; start "
		    "mig-homed again to listen", d->listen_addr,
		    d->listen_port, r == MIG_ECONFIG ? "bad address" :
		    uv_strerror(r));
		return;
	}
	d->no_listen = NULL;
	mig__log(MIG_LOG_INFO, "peers on %s:%u", d->listen_addr,
	    d->listen_port);
}

static void
reload_key(struct homed *d, const char *why)
{
	uint8_t key[MIG_KEY_BYTES];
	char path[PATH_MAX + 8], err[512];
	int r;

	/* An allocation's key is its own, made by home for its nodes. */
	if (d->slurm != NULL) {
		mig__log(MIG_LOG_INFO, "key of Slurm job %s: the key file is "
		    "not read (%s)", d->slurm_job, why);
		return;
	}
	snprintf(path, sizeof(path), "%s/key", d->confdir);
	r = mig__key_load(path, key, err, sizeof(err));
	if (r == MIG__ERR(ENOENT) && !d->have_key)
		return;
	if (r != 0) {
		snprintf(d->key_error, sizeof(d->key_error), "%s; %s", err,
		    d->have_key ? "keeping the key read before" :
		    "no key: no links");
		mig__log(MIG_LOG_WARN, "%s", d->key_error);
		mig__wipe(key, sizeof(key));
		return;
	}
	d->key_error[0] = '\0';
	if (d->have_key && memcmp(key, d->key, sizeof(key)) == 0) {
		mig__wipe(key, sizeof(key));
		return;
	}
	memcpy(d->key, key, sizeof(key));
	mig__wipe(key, sizeof(key));
	d->have_key = 1;
	mig__log(MIG_LOG_INFO, "%s read again (%s): new links use it; the "
	    "links up stay", path, why);
	listen_late(d);
}

static void
on_hup(uv_signal_t *s, int signo)
{
	reload_hosts(s->data, "SIGHUP");
	reload_key(s->data, "SIGHUP");
	listen_late(s->data);
}

static void
on_change(uv_fs_event_t *w, const char *file, int events, int status)
{
	if (status != 0 || file == NULL)
		return;
	if (strcmp(file, "hosts") == 0) {
		reload_hosts(w->data, "it changed");
		listen_late(w->data);
	} else if (strcmp(file, "key") == 0) {
		reload_key(w->data, "it changed");
	}
}

void
mig__reload_init(struct homed *d)
{
	uv_signal_init(d->loop, &d->sighup);
	d->sighup.data = d;
	uv_signal_start(&d->sighup, on_hup, SIGHUP);
	uv_fs_event_init(d->loop, &d->confwatch);
	d->confwatch.data = d;
	/* A Slurm daemon reads neither file: nothing to watch. */
	if (d->slurm == NULL && uv_fs_event_start(&d->confwatch, on_change, d->confdir, 0) != 0)
		mig__log(MIG_LOG_WARN, "cannot watch %s; send SIGHUP after "
		    "editing the hosts file or the key", d->confdir);
}

void
mig__reload_stop(struct homed *d)
{
	uv_close((uv_handle_t *)&d->sighup, NULL);
	uv_close((uv_handle_t *)&d->confwatch, NULL);
}
