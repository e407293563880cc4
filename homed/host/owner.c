/*
 * owner.c: a host's owner comes first. The jobs of other homes run below
 * the owner's programs (SCHED_IDLE in a session at nice 19, or nice 19,
 * or as their home asked: the hosts file's "priority idle|low|normal" on
 * this host's line, for placed jobs and mig -h jobs alike: both run on
 * somebody's machine).
 *
 * While the host is busy (mig evict, run by its owner, or the owner's
 * activity, activity.c, where its hosts file line asks) it takes no new
 * job (spawn.c refuses EXEC with MIG_EBUSY) and the jobs it runs stop
 * using its CPU at once: a restartable job (a compiler whose output its
 * home still holds) gets SIGTERM, and after a short grace its home is
 * told MIG_EBUSY (and runs it again elsewhere) and its subreaper kills
 * whatever is left; any other job is frozen (freeze.c) and goes on where it
 * stood once the host is available again. Homes hear of the state from
 * BUSY, sent on every change and to each home whose link comes up.
 * A tick four times a second polls the activity (a terminal's access
 * time is one stat; the CPU is measured over windows of a second or
 * more), and freezes what started or forked since (a served job whose
 * view was still being made when the host turned busy). A poll once a
 * second alone would use up the whole second the jobs have to stop.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "homed.h"

/* rjob->owner */
#define OWNER_EVICTED 1
#define OWNER_FROZEN 2

/* How long an evicted job has between SIGTERM and SIGKILL. */
#define GRACE_MS 300
/* How often the owner's activity is polled, and the shortest window
 * over which its CPU use is measured. */
#define TICK_MS 250
#define CPU_WINDOW_MS 1000

int
mig__owner_priority(struct homed *d)
{
	const struct mig_host *me = mig__hosts_find(&d->hosts, d->name);

	return me != NULL ? (int)me->priority : MIG_PRIO_IDLE;
}

static void
send_busy(struct homed *d, struct link *l)
{
	struct mig_buf b = { NULL, 0, 0 };

	if (proto_put_u32(&b, (uint32_t)d->busy) == 0 &&
	    proto_put_str(&b, d->busy_why) == 0)
		mig__link_send(l, MIG_M_BUSY, 0, 0, b.data, b.len);
	mig_buf_free(&b);
}

/* The state, and why, to every home linked now. */
static void
tell_homes(struct homed *d)
{
	struct link *l;

	TAILQ_FOREACH(l, &d->links, entry)
		if (l->state == LINK_UP)
			send_busy(d, l);
}

/* Tells rj's home to run it again elsewhere, and kills what is left of
 * it: from now on it sends nothing (its home no longer waits for it). */
static void
send_away(struct homed *d, struct rjob *rj)
{
	struct mig_buf b = { NULL, 0, 0 };
	char msg[160];

	snprintf(msg, sizeof(msg), "%s: its owner is using it (%s)", d->name,
	    d->busy_why[0] != '\0' ? d->busy_why : "no longer");
	if (proto_put_u32(&b, (uint32_t)MIG_EBUSY) == 0 &&
	    proto_put_str(&b, msg) == 0)
		mig__rjob_send(rj, MIG_M_ERROR, 0, b.data, b.len);
	mig_buf_free(&b);
	mig__rjob_kill(rj);
}

static void
on_grace(uv_timer_t *t)
{
	struct homed *d = t->data;
	struct rjob *rj, *next;

	TAILQ_FOREACH_SAFE(rj, &d->rjobs, entry, next)
		if (rj->owner == OWNER_EVICTED && rj->link != NULL &&
		    rj->fsm.state != RJOB_DONE)
			send_away(d, rj);
}

/*
 * A job that may run again elsewhere: SIGTERM now, so it stops and
 * cleans up, then after the grace its home is told and the rest killed.
 * Its home hears nothing before that, so the job never runs twice at
 * once (both writing the same object file). One that ends within the
 * grace sends its EXIT as usual; its home, told the host is busy (BUSY
 * went first on the same link), runs it again all the same.
 */
static void
evict(struct homed *d, struct rjob *rj)
{
	mig__log(MIG_LOG_INFO, "job %u (pid %d): owner back (%s); evicting "
	    "it, its home runs it again", rj->id, (int)rj->pid, d->busy_why);
	rj->owner = OWNER_EVICTED;
	if (rj->pid > 0) {
		kill(-rj->pid, SIGTERM);
		if (!uv_is_active((uv_handle_t *)&d->owner_grace))
			uv_timer_start(&d->owner_grace, on_grace, GRACE_MS, 0);
	} else {
		send_away(d, rj);
	}
}

/* Busy: restartable jobs go, the others stop (again: new processes). */
static void
enforce(struct homed *d)
{
	struct rjob *rj, *next;

	TAILQ_FOREACH_SAFE(rj, &d->rjobs, entry, next) {
		if (rj->link == NULL || rj->fsm.state == RJOB_DONE ||
		    rj->fsm.exited || rj->owner == OWNER_EVICTED)
			continue;
		if (rj->flags & MIG_JOB_RESTART) {
			evict(d, rj);
			continue;
		}
		if (rj->owner != OWNER_FROZEN)
			mig__log(MIG_LOG_INFO, "job %u (pid %d): owner back "
			    "(%s); frozen", rj->id, (int)rj->pid,
			    d->busy_why);
		mig__job_freeze(rj->subreaper);
		rj->owner = OWNER_FROZEN;
	}
}

static void
set_busy(struct homed *d, int busy, const char *why)
{
	struct rjob *rj;

	busy = busy != 0;
	if (busy == d->busy)
		return;
	d->busy = busy;
	strlcpy(d->busy_why, why, sizeof(d->busy_why));
	mig__log(MIG_LOG_INFO, busy ? "busy (%s): taking no new jobs" :
	    "available again (%s)", why[0] != '\0' ? why : "not watched");
	tell_homes(d);
	if (busy) {
		enforce(d);
		return;
	}
	TAILQ_FOREACH(rj, &d->rjobs, entry) {
		if (rj->owner != OWNER_FROZEN)
			continue;
		mig__log(MIG_LOG_INFO, "job %u (pid %d): resumed", rj->id,
		    (int)rj->pid);
		mig__job_thaw(rj->subreaper);
		rj->owner = 0;
	}
}

/* Busy while evicted, or for idle_s after the owner's last activity (a
 * terminal touched, or owner-cpu exceeded), when this host's hosts file
 * line asks for either. why says which, as mig hosts shows it: "owner
 * input 3s ago", "owner cpu 0.83", "mig evict"; while available, "owner
 * idle" (watched) or "" (not). */
static void
check(struct homed *d)
{
	const struct mig_host *me = mig__hosts_find(&d->hosts, d->name);
	uint32_t idle_s = me != NULL ? me->idle_s : 0;
	uint32_t cpu = me != NULL ? me->owner_cpu_milli : 0;
	int64_t now = (int64_t)time(NULL), t, used;
	uint64_t ms = uv_now(d->loop);
	char why[64] = "";

	if (cpu == 0)
		d->cpu_at_ms = 0; /* a window starts when it is watched */
	if (idle_s == 0 && cpu == 0) {
		d->owner_seen = d->owner_cpu_seen = 0;
	} else {
		if (idle_s == 0)
			idle_s = 60;
		if ((t = mig__owner_tty_seen(d)) > d->owner_seen)
			d->owner_seen = t;
		if (cpu != 0 && ms - d->cpu_at_ms >= CPU_WINDOW_MS &&
		    (used = mig__owner_cpu(d, ms)) > cpu) {
			d->owner_cpu_seen = now;
			d->owner_cpu_used = used;
		}
		if (now - d->owner_cpu_seen < (int64_t)idle_s &&
		    d->owner_cpu_seen >= d->owner_seen)
			snprintf(why, sizeof(why), "owner cpu %.2f",
			    d->owner_cpu_used / 1000.0);
		else if (now - d->owner_seen < (int64_t)idle_s)
			snprintf(why, sizeof(why), "owner input %llds ago",
			    (long long)(now > d->owner_seen ?
			    now - d->owner_seen : 0));
	}
	if (d->evicted)
		strlcpy(why, "mig evict", sizeof(why));
	if ((why[0] != '\0') != d->busy) {
		set_busy(d, why[0] != '\0', why[0] != '\0' ? why :
		    idle_s != 0 || cpu != 0 ? "owner idle" : "");
		return;
	}
	if (!d->busy) {
		/* Watched or not, since the hosts file was read again. */
		if (strcmp(d->busy_why, idle_s != 0 || cpu != 0 ?
		    "owner idle" : "") != 0) {
			strlcpy(d->busy_why, idle_s != 0 || cpu != 0 ?
			    "owner idle" : "", sizeof(d->busy_why));
			tell_homes(d);
		}
		return;
	}
	/* Still busy, maybe for another reason now: homes hear the new
	 * one (mig hosts), and what started since is stopped. */
	if (strcmp(d->busy_why, why) != 0) {
		strlcpy(d->busy_why, why, sizeof(d->busy_why));
		tell_homes(d);
	}
	enforce(d);
}

static void
on_tick(uv_timer_t *t)
{
	struct homed *d = t->data;

	if (!d->stopping)
		check(d);
}

void
mig__owner_evict(struct homed *d, int on)
{
	d->evicted = on != 0;
	check(d);
}

/* Every home hears the state, and why, when its link comes up. */
static void
on_link_up(struct link *l)
{
	send_busy(l->d, l);
}

void
mig__owner_init(struct homed *d)
{
	static const struct watcher w = { .link_up = on_link_up };

	uv_timer_init(d->loop, &d->owner_tick);
	uv_timer_init(d->loop, &d->owner_grace);
	d->owner_tick.data = d;
	d->owner_grace.data = d;
	uv_timer_start(&d->owner_tick, on_tick, TICK_MS, TICK_MS);
	uv_unref((uv_handle_t *)&d->owner_tick);
	uv_unref((uv_handle_t *)&d->owner_grace);
	mig__watch(d, &w);
}
