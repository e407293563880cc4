/*
 * enrol.c: mig hosts add NAME ssh:DEST, mig hosts remove NAME. Adding
 * writes the hosts line, whose change the daemon reads at once, and
 * checks it the way a user would: a job on the new host. The daemon's
 * ssh checks the host's mig and pushes home's build if it lacks it
 * (homed/transport/ssh.c), so when `true` ran there the host is enrolled;
 * if it did not, the line goes again and the job's reason is said.
 * Removing takes the line out; the daemon drains the host, and a host
 * daemon that home's ssh started stops on its own once unused.
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

static int
add(const char *name, const char *dest)
{
	char dir[PATH_MAX], path[PATH_MAX], line[256], why[512], err[256];
	struct mig_hosts h, one;
	size_t len;
	char *text;
	int r = 0;

	snprintf(line, sizeof(line), "%s %s\n", name, dest);
	if (strncmp(dest, "ssh:", 4) != 0)
		mig__fatal("usage: mig hosts add NAME ssh:DEST");
	if (mig__hosts_parse(line, strlen(line), "the new line", &one, err,
	    sizeof(err)) != 0)
		mig__fatal("%s", err);
	mig__hosts_free(&one);
	hosts_path(dir, sizeof(dir), path, sizeof(path));
	text = hosts_read(path, &h, &len);
	if (mig__hosts_find(&h, name) != NULL)
		mig__fatal("%s is in %s already ('mig hosts remove %s' first)",
		    name, path, name);
	mig__hosts_free(&h);
	if ((text = realloc(text, len + strlen(line) + 2)) == NULL)
		mig__fatal("out of memory");
	if (len > 0 && text[len - 1] != '\n')
		text[len++] = '\n';
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
		hosts_write(dir, path, text, drop_line(text, len +
		    strlen(line), name));
		free(text);
		mig__fatal("%s not added (%s); %s is as it was", name, why,
		    path);
	}
	free(text);
	printf("%s: added (%s), up\n", name, dest);
	return 0;
}

static int
remove_host(const char *name)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct mig_hosts h;
	size_t len;
	char *text;

	hosts_path(dir, sizeof(dir), path, sizeof(path));
	text = hosts_read(path, &h, &len);
	if (mig__hosts_find(&h, name) == NULL)
		mig__fatal("%s is not in %s", name, path);
	mig__hosts_free(&h);
	hosts_write(dir, path, text, drop_line(text, len, name));
	free(text);
	printf("%s: removed; its jobs drain\n", name);
	return 0;
}

int
mig__enrol_main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[0], "add") == 0)
		return add(argv[1], argv[2]);
	if (argc == 2 && strcmp(argv[0], "remove") == 0)
		return remove_host(argv[1]);
	mig__fatal("usage: mig hosts add NAME ssh:DEST | mig hosts remove "
	    "NAME");
	return MIG_EXIT_FAILURE;
}
