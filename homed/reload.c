/*
 * reload.c: the hosts file, read again while the daemon runs: on SIGHUP,
 * and whenever it changes (a watch on the config folder, since editors
 * replace files by renaming). New hosts are dialed on the next tick;
 * hosts gone from it take no new jobs and their links close once the
 * jobs this home runs there are done; this host's own slots follow its
 * line. A file with a bad line changes nothing and says why in the log.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "homed.h"

static void
reload(struct homed *d, const char *why)
{
	struct mig_hosts h = { NULL, 0 };
	const struct mig_host *me;
	char path[PATH_MAX + 8], err[512];
	int r;

	/* An allocation's hosts are its nodes, whatever a file says. */
	if (d->slurm != NULL) {
		mig__log(MIG_LOG_INFO, "hosts from Slurm job %s: the hosts file "
		    "is not read (%s)", d->slurm_job, why);
		return;
	}
	snprintf(path, sizeof(path), "%s/hosts", d->confdir);
	if (mig__hosts_load(path, &h, err, sizeof(err)) != 0) {
		mig__log(MIG_LOG_WARN, "%s; keeping the hosts read before",
		    err);
		return;
	}
	if ((r = mig__peers_update(d, &h)) != 0) {
		mig__log(MIG_LOG_WARN, "cannot apply %s: %s", path,
		    mig_strerror(r));
		mig__hosts_free(&h);
		return;
	}
	me = mig__hosts_find(&h, d->name);
	d->slots = me != NULL && me->slots != 0 ? me->slots :
	    (uint32_t)sysconf(_SC_NPROCESSORS_ONLN);
	mig__hosts_free(&d->hosts);
	d->hosts = h;
	mig__log(MIG_LOG_INFO, "%s read again (%s): %zu hosts", path, why,
	    h.n);
	mig__load_changed(d); /* the slots may have changed */
}

static void
on_hup(uv_signal_t *s, int signo)
{
	reload(s->data, "SIGHUP");
}

static void
on_change(uv_fs_event_t *w, const char *file, int events, int status)
{
	if (status == 0 && file != NULL && strcmp(file, "hosts") == 0)
		reload(w->data, "it changed");
}

void
mig__reload_init(struct homed *d)
{
	uv_signal_init(d->loop, &d->sighup);
	d->sighup.data = d;
	uv_signal_start(&d->sighup, on_hup, SIGHUP);
	uv_fs_event_init(d->loop, &d->confwatch);
	d->confwatch.data = d;
	if (uv_fs_event_start(&d->confwatch, on_change, d->confdir, 0) != 0)
		mig__log(MIG_LOG_WARN, "cannot watch %s; send SIGHUP after "
		    "editing the hosts file", d->confdir);
}

void
mig__reload_stop(struct homed *d)
{
	uv_close((uv_handle_t *)&d->sighup, NULL);
	uv_close((uv_handle_t *)&d->confwatch, NULL);
}
