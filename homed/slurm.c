/*
 * slurm.c: hosts from a Slurm allocation (docs/design.md, "Hosts from
 * Slurm").
 *
 * Home: inside an allocation (SLURM_JOB_ID) with no hosts file, the hosts
 * are the allocation's nodes, named by `scontrol show hostnames`, each
 * with its CPUs from SLURM_JOB_CPUS_PER_NODE as its slots. Home makes a
 * fresh key for the allocation, listens on a port the kernel picks, and
 * starts one host daemon per node with one srun; each dials home with
 * the key it found in its environment. Home is ready (its starter goes
 * on) once every node has linked, or after MIG_SLURM_START_MS; it stops
 * when srun ends, which it does when the allocation ends.
 *
 * Node (mig-homed --slurm-node, as srun starts it): named SLURMD_NODENAME,
 * with folders of its own under the job's temporary folder (several
 * nodes may share a machine), no TCP port, and two hosts: itself and its
 * home, which it dials. Its link to home is its life: once up and then
 * gone, or never up within MIG_SLURM_START_MS, the node daemon stops
 * (a home that starts again has another key: the node could not rejoin).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "homed.h"

extern char **environ;

/* How long the nodes get to link, from home's start or the node's. */
#define MIG_SLURM_START_MS 60000
#define MIG_SLURM_NODES 4096

struct slurm {
	int node;             /* this daemon is a node's, not home's */
	pid_t srun;           /* home: the step's srun, 0 once it ended */
	uint32_t nodes;       /* home: nodes of the allocation */
	uv_timer_t deadline;  /* the nodes' time to link */
	uv_signal_t usr1;     /* node: home's "stop", as srun passes it on */
	char **env;           /* home: srun's environment, key included */
	char *list;           /* home: "n1:2,n2:2", each node's slots */
	char base[PATH_MAX];  /* node: its folders' parent, under TMPDIR */
};

/* Stops the daemon as SIGTERM does (main.c's handler, on the loop). */
static void
stop_daemon(void)
{
	kill(getpid(), SIGTERM);
}

/*
 * The node names of the allocation, one a line, from scontrol (which
 * knows every form of Slurm's host lists). Run before the loop starts,
 * as reading the hosts file is; its child is waited for here.
 */
static int
node_names(const char *job, const char *list, char **out, char *err,
    size_t errsize)
{
	char *argv[] = { (char *)"scontrol", (char *)"show",
		(char *)"hostnames", (char *)list, NULL };
	posix_spawn_file_actions_t fa;
	struct mig_buf b = { NULL, 0, 0 };
	int p[2], status = -1, r = MIG_ECONFIG;
	pid_t pid;
	ssize_t n;

	*out = NULL;
	if (pipe2(p, O_CLOEXEC) == -1) {
		snprintf(err, errsize, "pipe: %s", strerror(errno));
		return MIG__ERR(errno);
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	r = posix_spawnp(&pid, "scontrol", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	mig__close(p[1]);
	if (r != 0) {
		snprintf(err, errsize, "Slurm job %s: cannot run scontrol: %s",
		    job, strerror(r));
		mig__close(p[0]);
		return MIG__ERR(r);
	}
	for (;;) {
		if (mig_buf_reserve(&b, 4096) != 0)
			break;
		if ((n = read(p[0], b.data + b.len, b.cap - b.len - 1)) < 0 &&
		    errno == EINTR)
			continue;
		if (n <= 0 || b.len + (size_t)n > (1 << 20))
			break;
		b.len += (size_t)n;
	}
	mig__close(p[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	r = MIG_ECONFIG;
	if (b.data == NULL || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(err, errsize, "Slurm job %s: 'scontrol show hostnames "
		    "%s' failed", job, list);
		goto out;
	}
	b.data[b.len] = '\0';
	*out = (char *)b.data;
	b.data = NULL;
	r = 0;
 out:
	mig_buf_free(&b);
	return r;
}

static void
on_deadline(uv_timer_t *t)
{
	struct homed *d = t->data;
	uint32_t up = 0;
	struct peer *p;

	if (d->slurm->node) {
		mig__log(MIG_LOG_WARN, "Slurm job %s: no link to home within "
		    "%d s; stopping", d->slurm_job, MIG_SLURM_START_MS / 1000);
		stop_daemon();
		return;
	}
	TAILQ_FOREACH(p, &d->peers, entry)
		up += p->link != NULL;
	mig__log(MIG_LOG_WARN, "Slurm job %s: %u of %u nodes linked within "
	    "%d s; going on with those%s", d->slurm_job, up, d->slurm->nodes,
	    MIG_SLURM_START_MS / 1000, up > 0 ? "" : ", and this host's CPUs");
	/* With no node, jobs would wait for ever: home takes them. */
	if (up == 0) {
		d->slots = (uint32_t)sysconf(_SC_NPROCESSORS_ONLN);
		mig__load_changed(d);
	}
	mig__tell_ready(d);
}

static void
on_link_up(struct link *l)
{
	struct homed *d = l->d;
	uint32_t up = 0;
	struct peer *p;

	if (d->slurm->node) {
		uv_timer_stop(&d->slurm->deadline);
		return;
	}
	TAILQ_FOREACH(p, &d->peers, entry)
		up += p->link != NULL;
	if (up == d->slurm->nodes) {
		mig__log(MIG_LOG_INFO, "Slurm job %s: all %u nodes linked",
		    d->slurm_job, up);
		uv_timer_stop(&d->slurm->deadline);
		mig__tell_ready(d);
	}
}

static void
on_link_down(struct link *l, int code, const char *why)
{
	struct homed *d = l->d;

	if (!d->slurm->node || !l->was_up || d->stopping)
		return;
	mig__log(MIG_LOG_INFO, "Slurm job %s: the link to home is gone (%s); "
	    "stopping", d->slurm_job, why);
	stop_daemon();
}

static void
on_usr1(uv_signal_t *s, int signo)
{
	struct homed *d = s->data;

	mig__log(MIG_LOG_INFO, "Slurm job %s: home stops the allocation's "
	    "daemons; stopping", d->slurm_job);
	stop_daemon();
}

static void
on_srun_exit(void *arg, int status)
{
	struct homed *d = arg;

	d->slurm->srun = 0;
	if (d->stopping)
		return;
	mig__log(MIG_LOG_INFO, "Slurm job %s: srun ended (%s %d): the "
	    "allocation's host daemons are gone; stopping", d->slurm_job,
	    WIFSIGNALED(status) ? "signal" : "status",
	    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	stop_daemon();
}

/* srun's environment: ours, and what the nodes need to dial home. */
static int
make_env(struct homed *d)
{
	char hex[2 * MIG_KEY_BYTES + 1];
	size_t n = 0, i = 0;
	char **env;

	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + 4, sizeof(*env))) == NULL)
		return MIG__ERR(ENOMEM);
	for (size_t k = 0; k < n; k++)
		if (strncmp(environ[k], "MIG_SLURM_", 10) != 0)
			env[i++] = environ[k];
	for (size_t k = 0; k < MIG_KEY_BYTES; k++)
		snprintf(hex + 2 * k, 3, "%02x", d->key[k]);
	/* "*" is the address srun was started from, as each node has it. */
	if (asprintf(&env[i++], "MIG_SLURM_KEY=%s", hex) == -1 ||
	    asprintf(&env[i++], "MIG_SLURM_HOME=%s %s:%u", d->name,
	    strcmp(d->listen_addr, "0.0.0.0") == 0 ||
	    strcmp(d->listen_addr, "::") == 0 ? "*" : d->listen_addr,
	    d->listen_port) == -1 ||
	    asprintf(&env[i++], "MIG_SLURM_NODES=%s", d->slurm->list) == -1)
		return MIG__ERR(ENOMEM);
	mig__wipe(hex, sizeof(hex));
	d->slurm->env = env;
	return 0;
}

int
mig__slurm_home(struct homed *d, const char *job, int listen_given,
    char *err, size_t errsize)
{
	const char *list = getenv("SLURM_JOB_NODELIST");
	const char *spec = getenv("SLURM_JOB_CPUS_PER_NODE");
	static uint32_t cpus[MIG_SLURM_NODES];
	struct mig_hosts h = { NULL, 0 };
	char *names = NULL, *line, *save = NULL, *nodes = NULL;
	size_t ncpus = 0, len = 0;
	int r = MIG_ECONFIG;

	if (list == NULL || spec == NULL) {
		snprintf(err, errsize, "Slurm job %s: SLURM_JOB_NODELIST or "
		    "SLURM_JOB_CPUS_PER_NODE is not set", job);
		goto out;
	}
	if (mig__slurm_cpus(spec, cpus, MIG_SLURM_NODES, &ncpus) != 0) {
		snprintf(err, errsize, "Slurm job %s: cannot read "
		    "SLURM_JOB_CPUS_PER_NODE='%s'", job, spec);
		goto out;
	}
	if ((r = node_names(job, list, &names, err, errsize)) != 0)
		goto out;
	r = MIG_ECONFIG;
	if ((h.v = calloc(ncpus + 1, sizeof(*h.v))) == NULL ||
	    (nodes = calloc(1, ncpus * (MIG_NAME_MAX + 12) + 1)) == NULL) {
		r = MIG__ERR(ENOMEM);
		goto out;
	}
	for (line = strtok_r(names, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		struct mig_host *n = &h.v[1 + h.n];
		if (h.n == ncpus) {
			snprintf(err, errsize, "Slurm job %s: %s has more "
			    "nodes than SLURM_JOB_CPUS_PER_NODE='%s'", job,
			    list, spec);
			goto out;
		}
		if (!mig__name_valid(line)) {
			snprintf(err, errsize, "Slurm job %s: node name '%.64s' "
			    "is not letters, digits, '.', '-' and '_'", job,
			    line);
			goto out;
		}
		strlcpy(n->name, line, sizeof(n->name));
		n->slots = cpus[h.n];
		n->dialin = 1;
		len += (size_t)sprintf(nodes + len, "%s%s:%u", h.n ? "," : "",
		    line, cpus[h.n]);
		h.n++;
	}
	if (h.n != ncpus || h.n == 0) {
		snprintf(err, errsize, "Slurm job %s: %s names %zu nodes, but "
		    "SLURM_JOB_CPUS_PER_NODE='%s' gives CPUs for %zu", job,
		    list, h.n, spec, ncpus);
		goto out;
	}
	/* Home's own line: its name must be none of the nodes' (a batch
	 * script runs on the first node, whose name home's may be). */
	for (size_t i = 1; i <= h.n; i++)
		if (strcmp(h.v[i].name, d->name) == 0)
			strlcat(d->name, "-home", sizeof(d->name));
	strlcpy(h.v[0].name, d->name, sizeof(h.v[0].name));
	if (!listen_given) {
		strlcpy(d->listen_addr, "0.0.0.0", sizeof(d->listen_addr));
		d->listen_port = 0;
	}
	strlcpy(h.v[0].addr, d->listen_addr, sizeof(h.v[0].addr));
	h.v[0].port = d->listen_port;
	h.n++;
	if ((d->slurm = calloc(1, sizeof(*d->slurm))) == NULL) {
		r = MIG__ERR(ENOMEM);
		goto out;
	}
	d->slurm->nodes = (uint32_t)(h.n - 1);
	strlcpy(d->slurm_job, job, sizeof(d->slurm_job));
	/* The allocation's own key: made here, given to its nodes only. */
	mig__random(d->key, sizeof(d->key));
	d->have_key = 1;
	/* Home's CPUs are not the allocation's: every slot is a node's. */
	d->slots = 0;
	mig__hosts_free(&d->hosts);
	d->hosts = h;
	h.v = NULL;
	d->slurm->list = nodes;
	nodes = NULL;
	r = 0;
 out:
	free(h.v);
	free(names);
	free(nodes);
	return r;
}

/* A node's folders: its own, under the job's temporary folder, into
 * base. */
static int
node_dirs(const char *job, const char *name, char *base, char *err,
    size_t errsize)
{
	const char *tmp = getenv("TMPDIR");
	static const char *const sub[][2] = { { "MIG_RUNTIME_DIR", "run" },
		{ "MIG_CONFIG_DIR", "config" }, { "XDG_CACHE_HOME", "cache" },
		{ "XDG_STATE_HOME", "state" } };
	char path[PATH_MAX + 16], why[PATH_MAX + 128];

	if (tmp == NULL || *tmp != '/')
		tmp = "/tmp";
	if (snprintf(base, PATH_MAX, "%s/mig-%u-slurm-%s-%s", tmp,
	    (unsigned)getuid(), job, name) >= PATH_MAX) {
		snprintf(err, errsize, "Slurm node: folder name too long");
		return MIG_ETOOBIG;
	}
	if (mkdir(base, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errsize, "cannot create %s: %s", base,
		    strerror(errno));
		return MIG__ERR(errno);
	}
	if (mig__rundir_check(base, why, sizeof(why)) != 0) {
		snprintf(err, errsize, "%s: refusing to use it", why);
		return MIG_EUNSAFE;
	}
	for (size_t i = 0; i < sizeof(sub) / sizeof(*sub); i++) {
		snprintf(path, sizeof(path), "%s/%s", base, sub[i][1]);
		setenv(sub[i][0], path, 1);
	}
	return 0;
}

int
mig__slurm_node(struct homed *d, char *err, size_t errsize)
{
	const char *job = getenv("SLURM_JOB_ID"), *name =
	    getenv("SLURMD_NODENAME"), *launch = getenv("SLURM_LAUNCH_NODE_IPADDR");
	char *key = getenv("MIG_SLURM_KEY"), *home = getenv("MIG_SLURM_HOME");
	const char *nodes = getenv("MIG_SLURM_NODES"), *at;
	char line[256], base[PATH_MAX];
	struct mig_hosts h = { NULL, 0 };
	unsigned long slots = 0;
	int r = MIG_ECONFIG;

	if (job == NULL || name == NULL || key == NULL || home == NULL ||
	    nodes == NULL || strspn(job, "0123456789") != strlen(job) ||
	    strlen(job) == 0 || strlen(job) > 20) {
		snprintf(err, errsize, "--slurm-node: not a node of a Slurm "
		    "job started by mig-homed (SLURM_JOB_ID, SLURMD_NODENAME or "
		    "MIG_SLURM_* missing)");
		goto out;
	}
	if (!mig__name_valid(name)) {
		snprintf(err, errsize, "--slurm-node: node name '%.64s' is not "
		    "letters, digits, '.', '-' and '_'", name);
		goto out;
	}
	/* This node's slots, from home's list "n1:2,n2:2". */
	for (at = nodes; at != NULL; at = strchr(at, ',')) {
		at += *at == ',';
		if (strncmp(at, name, strlen(name)) == 0 &&
		    at[strlen(name)] == ':') {
			slots = strtoul(at + strlen(name) + 1, NULL, 10);
			break;
		}
	}
	if (slots == 0 || slots > 4096) {
		snprintf(err, errsize, "--slurm-node: %s is not one of the "
		    "job's nodes (%.200s)", name, nodes);
		goto out;
	}
	if ((r = mig__key_parse(key, strlen(key), "MIG_SLURM_KEY", d->key, err,
	    errsize)) != 0)
		goto out;
	d->have_key = 1;
	/* The key goes no further: out of the environment our children
	 * get, then wiped, name and all, where /proc/PID/environ reads it. */
	unsetenv("MIG_SLURM_KEY");
	mig__wipe(key - sizeof("MIG_SLURM_KEY"), strlen(key) +
	    sizeof("MIG_SLURM_KEY"));
	at = strstr(home, " *:");
	if (at != NULL && launch != NULL)
		snprintf(line, sizeof(line), "%.*s %s%s\n", (int)(at - home),
		    home, launch, at + 2);
	else
		snprintf(line, sizeof(line), "%s\n", home);
	if ((r = mig__hosts_parse(line, strlen(line), "MIG_SLURM_HOME", &h,
	    err, errsize)) != 0 || h.n != 1) {
		r = MIG_ECONFIG;
		goto out;
	}
	if ((r = node_dirs(job, name, base, err, errsize)) != 0)
		goto out;
	if ((d->slurm = calloc(1, sizeof(*d->slurm))) == NULL) {
		r = MIG__ERR(ENOMEM);
		goto out;
	}
	d->slurm->node = 1;
	strlcpy(d->slurm->base, base, sizeof(d->slurm->base));
	strlcpy(d->slurm_job, job, sizeof(d->slurm_job));
	strlcpy(d->name, name, sizeof(d->name));
	d->slots = (uint32_t)slots;
	d->no_listen = "a Slurm node: it dials its home";
	d->hosts = h;
	h.v = NULL;
	r = 0;
 out:
	mig__hosts_free(&h);
	return r;
}

/* The nodes' step: one task a node, sharing the allocation's CPUs with
 * whatever else runs in it (--overlap). */
static int
start_srun(struct homed *d)
{
	char self[PATH_MAX], nnodes[32];
	char *argv[16];
	int i = 0;
	ssize_t n;
	pid_t pid;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		return MIG__ERR(errno);
	self[n] = '\0';
	snprintf(nnodes, sizeof(nnodes), "--nodes=%u", d->slurm->nodes);
	argv[i++] = (char *)"srun";
	argv[i++] = nnodes;
	argv[i++] = (char *)"--ntasks-per-node=1";
	argv[i++] = (char *)"--overlap";
	argv[i++] = (char *)"--kill-on-bad-exit=0";
	argv[i++] = (char *)"--quiet";
	argv[i++] = (char *)"--job-name=mig-homed";
	/* Not where mig make ran: a node may lack that folder, and a
	 * daemon holding it would keep it busy. */
	argv[i++] = (char *)"--chdir=/";
	argv[i++] = self;
	argv[i++] = (char *)"-f";
	argv[i++] = (char *)"--slurm-node";
	if (geteuid() == 0)
		argv[i++] = (char *)"--allow-root";
	argv[i] = NULL;
	if ((pid = mig__fork()) == -1)
		return MIG__ERR(errno);
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		if (null >= 0)
			dup2(null, 0);
		dup2(2, 1);
		mig__exec_raw("srun", argv, d->slurm->env);
		_exit(127);
	}
	d->slurm->srun = pid;
	return mig__child_watch(d, pid, on_srun_exit, d);
}

int
mig__slurm_start(struct homed *d)
{
	static const struct watcher w = { .link_up = on_link_up,
		.link_down = on_link_down };
	int r;

	if (d->slurm == NULL)
		return 0;
	mig__watch(d, &w);
	uv_timer_init(d->loop, &d->slurm->deadline);
	d->slurm->deadline.data = d;
	uv_timer_start(&d->slurm->deadline, on_deadline, MIG_SLURM_START_MS, 0);
	if (d->slurm->node) {
		uv_signal_init(d->loop, &d->slurm->usr1);
		d->slurm->usr1.data = d;
		uv_signal_start(&d->slurm->usr1, on_usr1, SIGUSR1);
		return 0;
	}
	if ((r = make_env(d)) != 0 || (r = start_srun(d)) != 0)
		return r;
	mig__log(MIG_LOG_INFO, "Slurm job %s: %u nodes, started with srun "
	    "(pid %d); they dial %s:%u", d->slurm_job, d->slurm->nodes,
	    (int)d->slurm->srun, d->listen_addr, d->listen_port);
	return 0;
}

void
mig__slurm_stop(struct homed *d)
{
	if (d->slurm == NULL)
		return;
	uv_close((uv_handle_t *)&d->slurm->deadline, NULL);
	/* Once stopping, a node ignores home's "stop" (its link may have
	 * said so first): the signal's default would end it before it
	 * removed its cache. */
	if (d->slurm->node) {
		uv_close((uv_handle_t *)&d->slurm->usr1, NULL);
		signal(SIGUSR1, SIG_IGN);
	}
	/* srun passes SIGUSR1 on to the nodes' daemons, which stop as they
	 * would on SIGTERM. srun itself takes SIGTERM (and SIGHUP) as
	 * "kill the step" and SIGKILLs them: no cleanup. It is our child
	 * until reaped, so its pid names nobody else. */
	if (d->slurm->srun > 0)
		kill(d->slurm->srun, SIGUSR1);
}

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)(flag == FTW_DP ? rmdir(path) : unlink(path));
	return 0;
}

void
mig__slurm_free(struct homed *d)
{
	char path[PATH_MAX + 16];

	if (d->slurm == NULL)
		return;
	/* A node's objects and history were the job's alone (up to the
	 * cache's 1 GiB): they go with it; its log stays, in run/. */
	if (d->slurm->node) {
		snprintf(path, sizeof(path), "%s/cache", d->slurm->base);
		nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
		snprintf(path, sizeof(path), "%s/state", d->slurm->base);
		nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	}
	if (d->slurm->env != NULL)
		for (char **e = d->slurm->env; *e != NULL; e++)
			if (strncmp(*e, "MIG_SLURM_", 10) == 0) {
				mig__wipe(*e, strlen(*e));
				free(*e);
			}
	free(d->slurm->env);
	free(d->slurm->list);
	free(d->slurm);
	d->slurm = NULL;
}
