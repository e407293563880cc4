/*
 * main.c: mig-homed's start-up: options, configuration, the refusal to
 * run as root, the single-instance lock, going to the background, the
 * event loop, its once-a-second tick and a clean stop on SIGTERM.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "homed.h"

/* --help: the usage on stdout, status 0; a bad option: stderr, 2. */
static void
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: mig-homed [-f] [--name NAME] [--listen ADDR[:PORT]] "
	    "[--log FILE]\n"
	    "                 [--ping-timeout SECONDS] [--idle-exit SECONDS] "
	    "[--allow-root] [-v]\n"
	    "                 [--owner-cpu-cgroup DIR]\n"
	    "       mig-homed -f --slurm-node (as its home starts it)\n"
	    "       mig-homed --status | --stop\n"
	    "       mig-homed --stdio | --help | --version\n");
	exit(status);
}

/* How long a daemon that mig-homed --stdio started lives unused. */
#define MIG_STDIO_IDLE_S 600

/* The daemon's start-up failures exit 1, with one mig: line. */
#define die(...) mig__die(1, __VA_ARGS__)

/* --stdio: the --idle-exit of a daemon it starts, MIG_IDLE_EXIT seconds
 * in the host's environment (sshd's SetEnv, for one), else 600. */
static unsigned
stdio_idle(void)
{
	const char *e = getenv("MIG_IDLE_EXIT");
	char *end;
	unsigned long v;

	if (e == NULL || *e == '\0')
		return MIG_STDIO_IDLE_S;
	v = strtoul(e, &end, 10);
	if (*e < '0' || *e > '9' || *end != '\0' || v == 0 || v > 7 * 86400)
		die("bad MIG_IDLE_EXIT '%s': seconds from 1 to 604800", e);
	return (unsigned)v;
}

/*
 * The runtime folder is ours alone: made 0700. One that was there
 * already and fails the clients' own check (libmig/rundir.c: another
 * user's, a symlink, open to others) is refused with the way out, as
 * whoever made it may listen or read in it.
 */
static void
make_rundir(const char *dir)
{
	char why[PATH_MAX + 128];

	if (mkdir(dir, 0700) == -1) {
		if (errno != EEXIST)
			die("cannot create %s: %s", dir, strerror(errno));
	} else if (chmod(dir, 0700) == -1) {
		/* The umask may have taken bits from the folder just made. */
		die("cannot chmod 0700 %s: %s", dir, strerror(errno));
	}
	if (mig__rundir_check(dir, why, sizeof(why)) != 0)
		die("%s: refusing to serve there; if it is yours, 'chmod 0700' "
		    "it, else have it removed (by its owner or root), or set "
		    "MIG_RUNTIME_DIR to a folder of your own, mode 0700", why);
}

/* Holds homed.pid locked while the daemon runs; a second one stops. */
static int
take_lock(const char *dir)
{
	char path[PATH_MAX], pid[32];
	int fd;

	if (mig_path(path, sizeof(path), dir, "homed.pid") != 0)
		die("runtime dir path too long");
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		die("%s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		ssize_t n = read(fd, pid, sizeof(pid) - 1);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		fprintf(stderr, "mig: a daemon already runs for %s (pid %s)\n",
		    dir, pid);
		exit(3);
	}
	return fd;
}

static void
write_pid(int fd)
{
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());

	if (ftruncate(fd, 0) == 0)
		(void)!pwrite(fd, pid, (size_t)n, 0);
}

static void
find_shim(struct homed *d)
{
	const char *e = getenv("MIG_SHIM");

	/* MIG_SHIM= (empty) runs jobs without the shim. */
	if (e != NULL)
		strlcpy(d->shim, e, sizeof(d->shim));
	else if (mig__beside_self("libmig.so", d->shim, sizeof(d->shim)) != 0)
		d->shim[0] = '\0';
	/* argv[1] is the room the placeholders' titles are written in. */
	static char room[MIG_STANDIN_TITLE];
	static char *const argv[] = { (char *)"mig-standin", room, NULL };
	char standin[PATH_MAX];

	memset(room, '.', sizeof(room) - 1);
	if (mig__beside_self("mig-standin", standin, sizeof(standin)) != 0)
		standin[0] = '\0';
	mig__server_init(&d->standins, standin, "placeholder server", argv);
}

/* Every job holds a few descriptors here: take all the system allows. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * MIG_HOST_ENV names variables of the daemon's own environment that its
 * jobs get too: a host's LD_PRELOAD (loaded after the shim, and kept in
 * the job's children), and whatever that needs. The test cluster runs a
 * host under libfaketime this way, so that its jobs see its clock. They
 * are the host's, not the shim's: the program sees them.
 */
static void
host_env(struct homed *d)
{
	const char *names = getenv("MIG_HOST_ENV"), *p;
	size_t n = 0;

	strlcpy(d->preload, d->shim, sizeof(d->preload));
	if (names == NULL || *names == '\0' || d->shim[0] == '\0')
		return;
	if ((d->hostenv = calloc(32, sizeof(char *))) == NULL)
		die("out of memory");
	for (p = names; *p != '\0' && n < 30;) {
		size_t w = strcspn(p, ":");
		char name[128];
		const char *v;
		if (w > 0 && w < sizeof(name)) {
			memcpy(name, p, w);
			name[w] = '\0';
			if ((v = getenv(name)) == NULL)
				;
			else if (strcmp(name, "LD_PRELOAD") == 0)
				snprintf(d->preload, sizeof(d->preload),
				    "%s %s", d->shim, v);
			else if (asprintf(&d->hostenv[n++], "%s=%s", name,
			    v) == -1)
				die("out of memory");
		}
		p += w + (p[w] == ':');
	}
	if (strcmp(d->preload, d->shim) != 0 &&
	    asprintf(&d->hostenv[n++], "__MIG_PRELOAD=%s", d->preload) == -1)
		die("out of memory");
}

static void daemon_stop(struct homed *d, const char *why);

/* --idle-exit: a daemon that --stdio started for a home over ssh stops
 * once nobody used it (no link, job or client) for that long. */
static void
idle_check(struct homed *d)
{
	uint64_t now = uv_now(d->loop);

	if (d->idle_exit_ms == 0)
		return;
	if (!TAILQ_EMPTY(&d->links) || !TAILQ_EMPTY(&d->rjobs) ||
	    !TAILQ_EMPTY(&d->jobs) || !TAILQ_EMPTY(&d->clients)) {
		d->idle_since = 0;
		return;
	}
	if (d->idle_since == 0)
		d->idle_since = now;
	else if (now - d->idle_since >= d->idle_exit_ms)
		daemon_stop(d, "unused for the --idle-exit time");
}

/* While jobs run, the history goes to disk at most this often: each
 * second cost a build about 3% of the home daemon's CPU. */
#define HISTORY_SAVE_MS 30000

/* Once a second: this host's load to the peers, pings and redials, the
 * history to disk when it changed and no job runs (or HISTORY_SAVE_MS
 * passed). */
static void
on_tick(uv_timer_t *t)
{
	struct homed *d = t->data;

	idle_check(d);
	if (d->stopping)
		return;
	mig__cluster_tick(d);
	mig__links_tick(d);
	if (TAILQ_EMPTY(&d->jobs) ||
	    uv_now(d->loop) - d->history_saved >= HISTORY_SAVE_MS) {
		mig__history_save(d);
		d->history_saved = uv_now(d->loop);
	}
	/* Idle again after work: what the jobs' buffers took goes back to
	 * the system (glibc keeps freed memory otherwise). */
	if (TAILQ_EMPTY(&d->jobs) && TAILQ_EMPTY(&d->rjobs) &&
	    TAILQ_EMPTY(&d->clients) && d->next_job + d->next_token !=
	    d->trimmed_at) {
		malloc_trim(0);
		d->trimmed_at = d->next_job + d->next_token;
	}
}

void
mig__tell_ready(struct homed *d)
{
	if (d->ready_fd < 0)
		return;
	(void)!write(d->ready_fd, "", 1);
	mig__close(d->ready_fd);
	d->ready_fd = -1;
}

static void
daemon_stop(struct homed *d, const char *why)
{
	if (d->stopping)
		return;
	d->stopping = 1;
	mig__log(MIG_LOG_INFO, "stopping: %s", why);
	mig__slurm_stop(d);
	mig__handover_stop(d);
	mig__rjobs_stop(d);
	mig__fs_host_stop(d);
	mig__exact_stop(d);
	mig__control_stop(d);
	mig__links_stop(d);
	mig__holds_stop(d);
	mig__pid_unwatch(d, NULL);
	uv_close((uv_handle_t *)&d->reaper, NULL);
	uv_close((uv_handle_t *)&d->sigterm, NULL);
	uv_close((uv_handle_t *)&d->sigint, NULL);
	mig__reload_stop(d);
	uv_close((uv_handle_t *)&d->tick, NULL);
	uv_close((uv_handle_t *)&d->sigchld, NULL);
}

static void
on_stop(uv_signal_t *s, int signo)
{
	char why[32];

	snprintf(why, sizeof(why), "signal %d", signo);
	daemon_stop(s->data, why);
}

static void
on_sigchld(uv_signal_t *s, int signo)
{
	mig__children_reap(s->data);
}

static void
parse_listen(struct homed *d, const char *arg)
{
	struct mig_hosts h;
	char line[256], err[256];

	/* One parser for addresses: the hosts file's. */
	snprintf(line, sizeof(line), "x %s", arg);
	if (mig__hosts_parse(line, strlen(line), "--listen", &h, err,
	    sizeof(err)) != 0 || h.n != 1)
		die("bad --listen '%s': %s", arg, err);
	strlcpy(d->listen_addr, h.v[0].addr, sizeof(d->listen_addr));
	d->listen_port = h.v[0].port;
	d->listen_given = 1;
	mig__hosts_free(&h);
}

/* --ping-timeout, --idle-exit: seconds, with a fraction if wanted, 0.5
 * to max. */
static uint32_t
parse_seconds(const char *opt, const char *arg, double max)
{
	char *end;
	double v = strtod(arg, &end);

	if (end == arg || *end != '\0' || !(v >= 0.5 && v <= max))
		die("bad %s '%s': seconds from 0.5 to %.0f", opt, arg, max);
	return (uint32_t)(v * 1000);
}

static void
stop_walk(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "name", required_argument, NULL, 'n' },
		{ "listen", required_argument, NULL, 'l' },
		{ "log", required_argument, NULL, 'L' },
		{ "allow-root", no_argument, NULL, 'R' },
		{ "ping-timeout", required_argument, NULL, 'P' },
		{ "owner-cpu-cgroup", required_argument, NULL, 'C' },
		{ "idle-exit", required_argument, NULL, 'I' },
		{ "stdio", no_argument, NULL, 'T' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "slurm-node", no_argument, NULL, 'N' },
		{ "status", no_argument, NULL, 'S' },
		{ "stop", no_argument, NULL, 'X' },
		{ NULL, 0, NULL, 0 },
	};
	struct homed d;
	const char *logfile = NULL, *e;
	char path[PATH_MAX + 16], err[512], self_why[400] = "";
	int foreground = 0, allow_root = 0, verbose = 0, c, lockfd, logfd = 2;
	int slurm_node = 0, listen_given, life = -1, named = 0, stdio = 0;
	int ready[2] = { -1, -1 };
	const struct mig_host *me;
	int r;

	/* Before the key is read: other processes of the user may not read
	 * this one's memory (/proc/PID/mem, ptrace), which holds the key and
	 * the links' session keys. What it execs is dumpable again. */
	(void)prctl(PR_SET_DUMPABLE, 0);
	memset(&d, 0, sizeof(d));
	d.ready_fd = -1;
	d.ping_timeout_ms = MIG_PING_TIMEOUT_MS;
	d.proto_max = MIG_PROTO_VERSION;
	TAILQ_INIT(&d.children);
	TAILQ_INIT(&d.pidwatches);
	TAILQ_INIT(&d.clients);
	TAILQ_INIT(&d.peers);
	TAILQ_INIT(&d.links);
	TAILQ_INIT(&d.jobs);
	TAILQ_INIT(&d.rjobs);
	TAILQ_INIT(&d.calls);
	TAILQ_INIT(&d.descs);
	TAILQ_INIT(&d.holds);
	while ((c = getopt_long(argc, argv, "fv", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			foreground = 1;
			break;
		case 'n':
			strlcpy(d.name, optarg, sizeof(d.name));
			named = 1;
			break;
		case 'S':
		case 'X':
			life = c == 'X';
			break;
		case 'l':
			parse_listen(&d, optarg);
			break;
		case 'L':
			logfile = optarg;
			break;
		case 'R':
			allow_root = 1;
			break;
		case 'P':
			d.ping_timeout_ms = parse_seconds("--ping-timeout",
			    optarg, 3600);
			break;
		case 'I':
			d.idle_exit_ms = parse_seconds("--idle-exit", optarg,
			    7 * 86400);
			break;
		case 'T':
			stdio = 1;
			break;
		case 'C':
			d.cpu_cgroup = optarg;
			if (mig__owner_cpu_check(optarg, err, sizeof(err)) != 0)
				die("bad --owner-cpu-cgroup '%s': %s", optarg, err);
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(0);
			break;
		case 'V':
			printf("mig-homed %s\n", mig_build_string());
			exit(0);
		case 'N':
			slurm_node = 1;
			break;
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	if (life >= 0) {
		if (mig_runtime_dir(d.rundir, sizeof(d.rundir)) != 0 ||
		    mig_path(d.sockpath, sizeof(d.sockpath), d.rundir,
			"homed.sock") != 0)
			die("runtime dir path too long");
		return mig__life(d.rundir, d.sockpath, life);
	}
	if ((e = getenv("MIG_ALLOW_ROOT")) != NULL && strcmp(e, "1") == 0)
		allow_root = 1;
	if (geteuid() == 0 && !allow_root)
		die("mig-homed serves one user's jobs and runs as that user: "
		    "start it as that user, not as root (to serve root's own "
		    "jobs anyway, add --allow-root or set MIG_ALLOW_ROOT=1)");
	if (mig__crypto_init() != 0)
		die("libsodium failed to start");
	/* A node's folders come first: everything below reads them. Its
	 * name is Slurm's (SLURMD_NODENAME), never found by address: its
	 * one line is home's, which on a shared machine is bound here too. */
	if (slurm_node) {
		if (mig__slurm_node(&d, err, sizeof(err)) != 0)
			die("%s", err);
		named = 1;
	}
	/* For tests only: play a daemon of an older protocol (it speaks
	 * protocols up to MIG_PROTO_MAX, and from 4 or that one up). */
	if ((e = getenv("MIG_PROTO_MAX")) != NULL && *e != '\0') {
		char *end;
		unsigned long v = strtoul(e, &end, 10);
		if (*end != '\0' || v < 1 || v > MIG_PROTO_VERSION)
			die("bad MIG_PROTO_MAX '%s': a protocol from 1 to %d "
			    "(for tests only)", e, MIG_PROTO_VERSION);
		d.proto_max = (uint32_t)v;
	}
	if (d.name[0] == '\0' && (e = getenv("MIG_HOST")) != NULL &&
	    *e != '\0') {
		strlcpy(d.name, e, sizeof(d.name));
		named = 1;
	}
	if (d.name[0] == '\0' && gethostname(d.name, sizeof(d.name)) != 0)
		die("cannot tell this host's name: use --name");
	if (mig_config_dir(d.confdir, sizeof(d.confdir)) != 0 ||
	    mig_runtime_dir(d.rundir, sizeof(d.rundir)) != 0 ||
	    mig_path(d.sockpath, sizeof(d.sockpath), d.rundir,
		"homed.sock") != 0)
		die("config or runtime dir path too long");
	if (stdio) {
		ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
		if (n <= 0)
			die("cannot tell where this mig-homed is");
		path[n] = '\0';
		mig__handover_run(d.rundir, path, stdio_idle());
	}
	snprintf(path, sizeof(path), "%s/hosts", d.confdir);
	if (!slurm_node && mig__hosts_load(path, &d.hosts, err,
	    sizeof(err)) != 0)
		die("%s", err);
	/* Not named, and no line bears the system's name: the line whose
	 * address is this host's, if one alone is (self.c). */
	if (!named && mig__hosts_find(&d.hosts, d.name) == NULL &&
	    d.hosts.n > 0) {
		const char *line;
		char why[200];
		if (mig__self_line(&d.hosts, &line, why, sizeof(why)) == 0) {
			snprintf(self_why, sizeof(self_why), "this host is "
			    "'%s' of the hosts file (its system name is "
			    "'%s'): %s", line, d.name, why);
			strlcpy(d.name, line, sizeof(d.name));
		} else {
			snprintf(self_why, sizeof(self_why), "no line of the "
			    "hosts file is named '%s', this host's system "
			    "name, and %s: start mig-homed with --name NAME",
			    d.name, why);
		}
	}
	snprintf(path, sizeof(path), "%s/key", d.confdir);
	r = slurm_node ? 0 : mig__key_load(path, d.key, err, sizeof(err));
	if (r == 0)
		d.have_key = 1;
	else if (r != MIG__ERR(ENOENT))
		die("%s", err);
	listen_given = d.listen_addr[0] != '\0';
	if (d.listen_addr[0] == '\0') {
		if ((me = mig__hosts_find(&d.hosts, d.name)) != NULL) {
			strlcpy(d.listen_addr, me->addr, sizeof(d.listen_addr));
			d.listen_port = me->port;
		} else {
			strlcpy(d.listen_addr, "0.0.0.0", sizeof(d.listen_addr));
			d.listen_port = MIG_DEFAULT_PORT;
		}
	}
	me = mig__hosts_find(&d.hosts, d.name);
	if (!slurm_node) /* a node's are set: its share of the allocation */
		d.slots = me != NULL && me->slots != 0 ? me->slots :
		    (uint32_t)sysconf(_SC_NPROCESSORS_ONLN);
	d.files = me != NULL ? me->files : MIG_FILES_AUTO;
	if (!slurm_node && d.hosts.n == 0 && (e = mig__slurm_job()) != NULL &&
	    mig__slurm_home(&d, e, listen_given, err, sizeof(err)) != 0)
		die("%s", err);
	strlcpy(d.seed, me != NULL && me->seed[0] != '\0' ? me->seed :
	    MIG_SEED_DEFAULT, sizeof(d.seed));
	find_shim(&d);
	host_env(&d);
	mig__history_load(&d);
	make_rundir(d.rundir);
	lockfd = take_lock(d.rundir);
	/* A Slurm node's log stays on the node, in its own folder. */
	if (logfile == NULL && (!foreground || slurm_node)) {
		snprintf(path, sizeof(path), "%s/homed.log", d.rundir);
		logfile = path;
	}
	if (logfile != NULL &&
	    (logfd = open(logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		 0600)) == -1)
		die("%s: %s", logfile, strerror(errno));
	if (!foreground) {
		pid_t pid;
		char byte;
		if (pipe2(ready, O_CLOEXEC) == -1 || (pid = fork()) == -1)
			die("cannot go to the background: %s", strerror(errno));
		if (pid > 0) {
			/* Exit 0 once the child listens, else as it did. */
			close(ready[1]);
			exit(read(ready[0], &byte, 1) == 1 ? 0 : 1);
		}
		close(ready[0]);
		setsid();
		d.ready_fd = ready[1];
	}
	write_pid(lockfd);
	mig__log_init("mig-homed", logfd, verbose ? MIG_LOG_DEBUG :
						    MIG_LOG_INFO);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	{
		/* Whoever started us may have blocked signals (a launcher
		 * waiting on its own); we start with none blocked, so
		 * SIGTERM always stops us. */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
	}

	d.loop = uv_default_loop();
	/* The transport first, then the roles register what they handle. */
	mig__reaper_init(&d);
	mig__cluster_init(&d);
	mig__views_init(&d);
	mig__home_init(&d);
	mig__holds_init(&d);
	mig__calls_init(&d);
	mig__host_init(&d);
	mig__owner_init(&d);
	mig__drain_init(&d);
	mig__owners_init(&d);
	mig__relay_init(&d);
	mig__desc_init(&d);
	mig__fs_home_init(&d);
	mig__fs_host_init(&d);
	mig__exact_init(&d);
	uv_signal_init(d.loop, &d.sigchld);
	uv_signal_init(d.loop, &d.sigterm);
	uv_signal_init(d.loop, &d.sigint);
	d.sigchld.data = d.sigterm.data = d.sigint.data = &d;
	uv_signal_start(&d.sigchld, on_sigchld, SIGCHLD);
	uv_signal_start(&d.sigterm, on_stop, SIGTERM);
	uv_signal_start(&d.sigint, on_stop, SIGINT);
	mig__reload_init(&d);
	if ((r = mig__peers_init(&d)) != 0)
		die("%s", mig_strerror(r));
	/* Without a key nobody can link to us, and without a hosts file we
	 * know nobody to link with: then no port is open at all. */
	if (!d.have_key)
		d.no_listen = "no key here (run 'mig keygen')";
	else if (d.hosts.n == 0)
		d.no_listen = "no hosts file";
	if (d.no_listen == NULL && (r = mig__listen_start(&d)) == UV_EADDRINUSE)
		die("cannot listen on %s:%u: address already in use (another "
		    "user's mig-homed? the default port is 7410 + uid %% 20000); "
		    "give this host a line 'NAME ADDR:PORT' with a free port in "
		    "%s/hosts, or start mig-homed with --listen ADDR:PORT",
		    d.listen_addr, d.listen_port, d.confdir);
	if (d.no_listen == NULL && r != 0)
		die("cannot listen on %s:%u: %s", d.listen_addr, d.listen_port,
		    r == MIG_ECONFIG ? "bad address" : uv_strerror(r));
	if ((r = mig__control_start(&d)) != 0)
		die("cannot listen on %s: %s", d.sockpath, uv_strerror(r));
	if ((r = mig__handover_listen(&d)) != 0)
		die("cannot listen on %s/link.sock: %s", d.rundir,
		    uv_strerror(r));
	uv_timer_init(d.loop, &d.tick);
	d.tick.data = &d;
	uv_timer_start(&d.tick, on_tick, 0, 1000);
	if (d.no_listen != NULL)
		mig__log(MIG_LOG_INFO, "%s: serving %s, %u slots; no TCP port "
		    "open: %s%s", d.name, d.sockpath, d.slots, d.no_listen,
		    d.shim[0] != '\0' ? "" :
					 " (no libmig.so: jobs run unshimmed)");
	else
		mig__log(MIG_LOG_INFO, "%s: serving %s, peers on %s:%u, %u "
		    "slots%s", d.name, d.sockpath, d.listen_addr,
		    d.listen_port, d.slots, d.shim[0] != '\0' ? "" :
		    " (no libmig.so: jobs run unshimmed)");
	if (self_why[0] != '\0')
		mig__log(mig__hosts_find(&d.hosts, d.name) != NULL ?
		    MIG_LOG_INFO : MIG_LOG_WARN, "%s", self_why);
	if (!foreground) {
		int null = open("/dev/null", O_RDWR);
		/* A Slurm home is ready once its nodes have linked. */
		if (d.slurm == NULL)
			mig__tell_ready(&d);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(logfd, 2);
			if (null > 2)
				close(null);
		}
	}
	if ((r = mig__slurm_start(&d)) != 0)
		die("Slurm job %s: cannot start the nodes' daemons with srun: %s",
		    d.slurm_job, mig_strerror(r));
	uv_run(d.loop, UV_RUN_DEFAULT);
	/* Whatever is still open after a stop is closed now. */
	uv_walk(d.loop, stop_walk, NULL);
	uv_run(d.loop, UV_RUN_DEFAULT);
	uv_loop_close(d.loop);
	mig__children_free(&d);
	mig__fs_host_free(&d);
	mig__exact_free(&d);
	mig__fs_home_free(&d);
	mig__hosts_free(&d.hosts);
	mig__bundle_free(&d);
	mig__history_save(&d);
	mig__history_free(&d);
	mig__slurm_free(&d);
	free(d.recent);
	for (size_t i = 0; d.hostenv != NULL && d.hostenv[i] != NULL; i++)
		free(d.hostenv[i]);
	free(d.hostenv);
	mig__log(MIG_LOG_INFO, "stopped");
	unlink(d.sockpath);
	return 0;
}
