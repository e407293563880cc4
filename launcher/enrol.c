/*
 * enrol.c: mig hosts add NAME ssh:DEST, mig hosts remove NAME. Adding
 * writes the hosts line, whose change the daemon reads at once, and
 * checks it the way a user would: a job on the new host. The daemon's
 * ssh checks the host's mig and pushes home's build if it lacks it
 * (homed/transport/ssh.c), so when `true` ran there the host is enrolled;
 * if it did not, the line goes again and the job's reason is said.
 * Removing takes the line out; the daemon drains the host, and a host
 * daemon that home's ssh started stops on its own once unused.
 *
 * With --tcp, ssh serves once: after that job, one ssh session installs
 * home's key and hosts file on the host and starts its daemon on its own
 * (host_add), home's line becomes "NAME ADDR[:PORT] # ssh:DEST", and
 * `true` must run over TCP; else all is put back (host_remove). Removing
 * a line that notes "# ssh:DEST" runs host_remove too.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launcher.h"

#define MIG_HOSTS_MAX (1 << 20)
/* A first link may push home's build: the daemon's boot has 60 s. */
#define MIG_ENROL_TRIES 5
/* --tcp: home's TCP dial backs off while the host's daemon restarts. */
#define MIG_TCP_TRIES 40

static void
hosts_path(char *dir, size_t dsize, char *path, size_t psize)
{
	if (mig_config_dir(dir, dsize) != 0 ||
	    mig_path(path, psize, dir, "hosts") != 0)
		mig__fatal("config dir path too long");
}

/* The hosts file's text ("" when there is none), checked as the daemon
 * checks it, and parsed into *h. */
static char *
hosts_read(const char *path, struct mig_hosts *h, size_t *len)
{
	char err[512], *text = NULL;
	int r;

	r = mig__slurp_owned(path, "hosts file", MIG_HOSTS_MAX, &text, len,
	    err, sizeof(err));
	if (r == MIG__ERR(ENOENT)) {
		if ((text = strdup("")) == NULL)
			mig__fatal("out of memory");
		*len = 0;
	} else if (r != 0) {
		mig__fatal("%s", err);
	}
	if (mig__hosts_parse(text, *len, path, h, err, sizeof(err)) != 0)
		mig__fatal("%s", err);
	return text;
}

/* Replaces the hosts file by text, whole (a new file renamed over it). */
static void
hosts_write(const char *dir, const char *path, const char *text, size_t n)
{
	char tmp[PATH_MAX + 16];
	int fd;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		mig__fatal("cannot create %s: %s", dir, strerror(errno));
	snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0644)) == -1)
		mig__fatal("cannot write %s: %s", tmp, strerror(errno));
	if (mig__write_full(fd, text, n) != 0 || fsync(fd) != 0 ||
	    close(fd) != 0 || rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		mig__fatal("cannot write %s: %s", path, strerror(e));
	}
}

/* text without the line(s) of host name. */
static size_t
drop_line(char *text, size_t len, const char *name)
{
	size_t in = 0, out = 0, nl = strlen(name);

	while (in < len) {
		char *end = memchr(text + in, '\n', len - in);
		size_t n = end != NULL ? (size_t)(end - (text + in)) + 1 :
					 len - in;
		const char *w = text + in + strspn(text + in, " \t");
		if (!(strncmp(w, name, nl) == 0 && (w[nl] == ' ' ||
		    w[nl] == '\t'))) {
			memmove(text + out, text + in, n);
			out += n;
		}
		in += n;
	}
	return out;
}

/* `mig -h name true`: 0, or its status with its last stderr line in
 * why. */
static int
try_host(const char *name, char *why, size_t n)
{
	char self[PATH_MAX], buf[512];
	ssize_t k, got = 0;
	int p[2], status;
	pid_t pid;

	if ((k = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		mig__fatal("cannot tell where this mig is");
	self[k] = '\0';
	if (pipe2(p, O_CLOEXEC) == -1 || (pid = fork()) == -1)
		mig__fatal("cannot run mig -h %s true: %s", name,
		    strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(p[1], 2);
		execl(self, "mig", "-h", name, "true", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while ((k = read(p[0], buf + got, sizeof(buf) - 1 - (size_t)got)) > 0)
		got += k;
	close(p[0]);
	buf[got] = '\0';
	while (got > 0 && buf[got - 1] == '\n')
		buf[--got] = '\0';
	snprintf(why, n, "%s", strncmp(buf, "mig: ", 5) == 0 ? buf + 5 : buf);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* What a host's shell runs first: x, the mig-homed that runs there
 * (the one home's ssh link started, so home's build; where its
 * /proc/PID/exe cannot be read, as of a daemon that is not dumpable to
 * its own user, the build that found it running), c, its config
 * folder. No single quote: it goes to the login shell in one. */
#define HOST_FIND \
    "c=\"${MIG_CONFIG_DIR:-${XDG_CONFIG_HOME:-$HOME/.config}/mig}\"; " \
    "u=\"${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user\"; x=; " \
    "for h in \"${XDG_CACHE_HOME:-$HOME/.cache}\"/mig/*/bin/mig-homed; do " \
    "p=$(\"$h\" --status 2>/dev/null | " \
    "sed -n \"s/.*running, pid \\([0-9]*\\),.*/\\1/p\"); " \
    "if test -n \"$p\"; then x=$(readlink \"/proc/$p/exe\" 2>/dev/null); " \
    "test -n \"$x\" || x=\"$h\"; break; fi; " \
    "done; "

/* Installs the key and hosts file (stdin: the key's length, a newline,
 * the key, the hosts text) and starts x on its own: a systemd user unit
 * where systemctl --user works, else x in the background. $1: NAME. */
static const char host_add[] = HOST_FIND
    "test -n \"$x\" || { echo \"no mig-homed runs there\" >&2; exit 1; }; "
    "umask 077; mkdir -p \"$c\" && read n && "
    "head -c \"$n\" >\"$c/key.part$$\" && cat >\"$c/hosts.part$$\" && "
    "mv -f \"$c/key.part$$\" \"$c/key\" && "
    "mv -f \"$c/hosts.part$$\" \"$c/hosts\" || "
    "{ rm -f \"$c/key.part$$\" \"$c/hosts.part$$\"; exit 1; }; "
    "\"$x\" --stop >/dev/null || exit 1; "
    "if systemctl --user show-environment >/dev/null 2>&1; then "
    "mkdir -p \"$u\" && printf \"[Unit]\\nDescription=mig-homed\\n"
    "[Service]\\nExecStart=%s -f --name %s\\n[Install]\\n"
    "WantedBy=default.target\\n\" \"$x\" \"$1\" >\"$u/mig-homed.service\" "
    "&& systemctl --user daemon-reload && "
    "systemctl --user enable --now mig-homed.service >/dev/null 2>&1; "
    "else \"$x\" --name \"$1\" </dev/null >/dev/null; fi";

/* Undoes host_add: stops the daemon, takes the unit, key and hosts file
 * away. */
static const char host_remove[] = HOST_FIND
    "if test -f \"$u/mig-homed.service\"; then "
    "systemctl --user disable --now mig-homed.service >/dev/null 2>&1; "
    "rm -f \"$u/mig-homed.service\"; "
    "systemctl --user daemon-reload >/dev/null 2>&1; "
    "elif test -n \"$x\"; then \"$x\" --stop >/dev/null; fi; "
    "rm -f \"$c/key\" \"$c/hosts\"";

/* Runs script on dest over ssh ($MIG_SSH, as the daemon does) with name
 * as its $1 and in on its stdin: 0, or non-zero with ssh's or the
 * script's last stderr line in why. */
static int
run_ssh(const char *dest, const char *script, const char *name,
    const char *in, size_t n, char *why, size_t wn)
{
	char cmd[4096], buf[2048];
	struct mig_ssh_argv a;
	int pin[2], perr[2], status;
	ssize_t k, got = 0;
	pid_t pid;

	if ((size_t)snprintf(cmd, sizeof(cmd), "sh -c '%s' sh %s", script,
	    name) >= sizeof(cmd))
		mig__fatal("ssh script too long");
	/* A MIG_SSH it cannot use fails as ssh would, so what was changed
	 * is put back and said. */
	if (mig__ssh_argv(getenv("MIG_SSH"), dest, cmd, &a, why, wn) != 0)
		return 1;
	if (pipe2(pin, O_CLOEXEC) == -1 || pipe2(perr, O_CLOEXEC) == -1 ||
	    (pid = fork()) == -1)
		mig__fatal("cannot run ssh: %s", strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(pin[0], 0);
		dup2(null, 1);
		dup2(perr[1], 2);
		execvp(a.argv[0], a.argv);
		dprintf(2, "cannot run %s: %s\n", a.argv[0], strerror(errno));
		_exit(127);
	}
	close(pin[0]);
	close(perr[1]);
	(void)mig__write_full(pin[1], in, n);
	close(pin[1]);
	while ((k = read(perr[0], buf + got, sizeof(buf) - 1 -
	    (size_t)got)) > 0)
		got += k;
	close(perr[0]);
	buf[got] = '\0';
	while (got > 0 && buf[got - 1] == '\n')
		buf[--got] = '\0';
	{
		char *last = strrchr(buf, '\n');
		snprintf(why, wn, "%s", last != NULL ? last + 1 : buf);
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (why[0] == '\0')
		snprintf(why, wn, "ssh %s failed", dest);
	return 1;
}

/* The ssh destination dest's host, when it is a plain name or address
 * (after any user@): the TCP address's default. */
static int
dest_host(const char *dest, char *out, size_t n)
{
	const char *h = strrchr(dest, '@');

	h = h != NULL ? h + 1 : dest;
	if (*h == '\0' || strlen(h) >= n || strspn(h,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
	    != strlen(h))
		return -1;
	snprintf(out, n, "%s", h);
	return 0;
}

/* The ssh destination a TCP-enrolled line notes ("# ssh:DEST") in out:
 * 0, or -1 when it notes none. */
static int
line_dest(const char *text, size_t len, const char *name, char *out,
    size_t n)
{
	size_t in = 0, nl = strlen(name);

	while (in < len) {
		const char *s = text + in, *end = memchr(s, '\n', len - in);
		size_t k = end != NULL ? (size_t)(end - s) : len - in;
		const char *w = s + strspn(s, " \t"), *note;
		in += k + 1;
		if (strncmp(w, name, nl) != 0 || (w[nl] != ' ' &&
		    w[nl] != '\t'))
			continue;
		if ((note = memmem(s, k, "# ssh:", 6)) == NULL)
			return -1;
		note += 2;
		if ((size_t)(s + k - note) >= n)
			return -1;
		memcpy(out, note, (size_t)(s + k - note));
		out[s + k - note] = '\0';
		out[strcspn(out, " \t")] = '\0';
		return 0;
	}
	return -1;
}

static int
add(const char *name, const char *dest, int tcp, const char *addr)
{
	char dir[PATH_MAX], path[PATH_MAX], line[256], why[512], err[256];
	char tline[600], host[256], kpath[PATH_MAX + 8];
	struct mig_hosts h, one;
	size_t len, orig, base, klen = 0, hn, o;
	char *text, *key = NULL, *in = NULL;
	int r = 0;

	snprintf(line, sizeof(line), "%s %s\n", name, dest);
	if (strncmp(dest, "ssh:", 4) != 0)
		mig__fatal("usage: mig hosts add NAME ssh:DEST [--tcp "
		    "[ADDR[:PORT]]]");
	if (mig__hosts_parse(line, strlen(line), "the new line", &one, err,
	    sizeof(err)) != 0)
		mig__fatal("%s", err);
	mig__hosts_free(&one);
	if (tcp) {
		if (addr != NULL && (*addr == '\0' || addr[strcspn(addr,
		    " \t\n#")] != '\0'))
			mig__fatal("--tcp: bad address '%s' (ADDR[:PORT])",
			    addr);
		if (addr == NULL && dest_host(dest + 4, host,
		    sizeof(host)) != 0)
			mig__fatal("--tcp: %s is no plain host name: say "
			    "--tcp ADDR[:PORT]", dest);
		if ((size_t)snprintf(tline, sizeof(tline), "%s %s # %s\n",
		    name, addr != NULL ? addr : host, dest) >= sizeof(tline))
			mig__fatal("--tcp: address too long");
		if (mig__hosts_parse(tline, strlen(tline), "the new line",
		    &one, err, sizeof(err)) != 0)
			mig__fatal("%s", err);
		if (one.v[0].ssh)
			mig__fatal("--tcp: %s is no TCP address", addr);
		mig__hosts_free(&one);
		/* Home's key, read before anything changes. */
		if (mig_config_dir(dir, sizeof(dir)) != 0 ||
		    mig_path(kpath, sizeof(kpath), dir, "key") != 0)
			mig__fatal("config dir path too long");
		r = mig__slurp_owned(kpath, "key", 4096, &key, &klen, err,
		    sizeof(err));
		if (r == MIG__ERR(ENOENT))
			mig__fatal("--tcp: no key in %s (run 'mig keygen')",
			    kpath);
		if (r != 0)
			mig__fatal("%s", err);
	}
	hosts_path(dir, sizeof(dir), path, sizeof(path));
	text = hosts_read(path, &h, &len);
	if (mig__hosts_find(&h, name) != NULL)
		mig__fatal("%s is in %s already ('mig hosts remove %s' first)",
		    name, path, name);
	mig__hosts_free(&h);
	orig = len;
	if ((text = realloc(text, len + strlen(line) + sizeof(tline) + 2)) ==
	    NULL)
		mig__fatal("out of memory");
	if (len > 0 && text[len - 1] != '\n')
		text[len++] = '\n';
	base = len;
	memcpy(text + len, line, strlen(line));
	hosts_write(dir, path, text, len + strlen(line));
	/* The daemon reads the file again when it changes; until then the
	 * host is unknown to it. */
	for (int i = 0; i < MIG_ENROL_TRIES; i++) {
		r = try_host(name, why, sizeof(why));
		if (r == 0 || strstr(why, "unknown host") == NULL)
			break;
		usleep(200000);
	}
	if (r != 0) {
		hosts_write(dir, path, text, orig);
		free(text);
		mig__fatal("%s not added (%s); %s is as it was", name, why,
		    path);
	}
	if (!tcp) {
		free(text);
		printf("%s: added (%s), up\n", name, dest);
		return 0;
	}
	/* The host's hosts file: home's, NAME's line the TCP one; on ssh's
	 * stdin after the key. */
	memcpy(text + base, tline, strlen(tline));
	hn = base + strlen(tline);
	if ((in = malloc(32 + klen + hn)) == NULL)
		mig__fatal("out of memory");
	o = (size_t)snprintf(in, 32, "%zu\n", klen);
	memcpy(in + o, key, klen);
	memcpy(in + o + klen, text, hn);
	explicit_bzero(key, klen);
	free(key);
	/* Home says TCP first: its ssh link goes, and home dials no ssh
	 * while the host's daemon is started again. */
	hosts_write(dir, path, text, hn);
	r = run_ssh(dest + 4, host_add, name, in, o + klen + hn, why,
	    sizeof(why));
	explicit_bzero(in, o + klen);
	free(in);
	/* Home's dial backs off while the host's daemon restarts. */
	if (r == 0) {
		for (int i = 1; (r = try_host(name, why, sizeof(why))) != 0 &&
		    i < MIG_TCP_TRIES; i++)
			usleep(500000);
	}
	if (r != 0) {
		char ignore[256];
		hosts_write(dir, path, text, orig);
		free(text);
		(void)run_ssh(dest + 4, host_remove, name, "", 0, ignore,
		    sizeof(ignore));
		mig__fatal("%s not added over TCP (%s); %s is as it was",
		    name, why, path);
	}
	free(text);
	printf("%s: added (%s over TCP, enrolled over %s), up\n", name,
	    addr != NULL ? addr : host, dest);
	return 0;
}

static int
remove_host(const char *name)
{
	char dir[PATH_MAX], path[PATH_MAX], dest[256], why[512];
	struct mig_hosts h;
	size_t len;
	char *text;
	int noted;

	hosts_path(dir, sizeof(dir), path, sizeof(path));
	text = hosts_read(path, &h, &len);
	if (mig__hosts_find(&h, name) == NULL)
		mig__fatal("%s is not in %s", name, path);
	mig__hosts_free(&h);
	noted = line_dest(text, len, name, dest, sizeof(dest)) == 0 &&
	    strncmp(dest, "ssh:", 4) == 0 && dest[4] != '-';
	hosts_write(dir, path, text, drop_line(text, len, name));
	free(text);
	if (!noted) {
		printf("%s: removed; its jobs drain\n", name);
		return 0;
	}
	/* Enrolled with --tcp: its daemon, key and hosts file go too. */
	if (run_ssh(dest + 4, host_remove, name, "", 0, why,
	    sizeof(why)) != 0)
		printf("%s: removed; its daemon over %s not stopped (%s)\n",
		    name, dest, why);
	else
		printf("%s: removed; its daemon over %s stopped\n", name,
		    dest);
	return 0;
}

int
mig__enrol_main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[0], "add") == 0)
		return add(argv[1], argv[2], 0, NULL);
	if ((argc == 4 || argc == 5) && strcmp(argv[0], "add") == 0 &&
	    strcmp(argv[3], "--tcp") == 0)
		return add(argv[1], argv[2], 1, argc == 5 ? argv[4] : NULL);
	if (argc == 2 && strcmp(argv[0], "remove") == 0)
		return remove_host(argv[1]);
	mig__fatal("usage: mig hosts add NAME ssh:DEST [--tcp [ADDR[:PORT]]] "
	    "| mig hosts remove NAME");
	return MIG_EXIT_FAILURE;
}
