/* config.c: the config and runtime folders, the hosts file, the key. */
#include <ctype.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"
#include "rundir.h"
#include "mig/proto.h"

static int
put_path(char *buf, size_t size, const char *a, const char *b)
{
	int n = snprintf(buf, size, "%s%s", a, b);

	return n < 0 || (size_t)n >= size ? MIG_ETOOBIG : 0;
}

int
mig_path(char *buf, size_t size, const char *dir, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= size ? MIG_ETOOBIG : 0;
}

static const char *
home_dir(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h != NULL && *h != '\0')
		return h;
	pw = getpwuid(getuid());
	return pw != NULL ? pw->pw_dir : "/";
}

int
mig_config_dir(char *buf, size_t size)
{
	const char *e;

	if ((e = getenv("MIG_CONFIG_DIR")) != NULL && *e != '\0')
		return put_path(buf, size, e, "");
	if ((e = getenv("XDG_CONFIG_HOME")) != NULL && *e == '/')
		return put_path(buf, size, e, "/mig");
	return put_path(buf, size, home_dir(), "/.config/mig");
}

int
mig_runtime_dir(char *buf, size_t size)
{
	const char *e, *job;
	size_t n;
	int r;

	if ((e = getenv("MIG_RUNTIME_DIR")) != NULL && *e != '\0')
		return put_path(buf, size, e, "");
	/* The daemon of a Slurm allocation is that allocation's alone: one
	 * folder per job, so two allocations on one login host never share. */
	job = mig__slurm_job();
	if ((e = getenv("XDG_RUNTIME_DIR")) != NULL && *e == '/')
		r = put_path(buf, size, e, "/mig");
	else
		r = mig__runtime_dir_in(buf, size, "/run/user");
	if (r != 0 || job == NULL)
		return r;
	n = strlen(buf);
	return put_path(buf + n, size - n, "-slurm-", job);
}

/* Splits the next blank-separated word off *s; NULL when none is left. */
static char *
next_word(char **s)
{
	char *p = *s, *w;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return NULL;
	w = p;
	while (*p != '\0' && *p != ' ' && *p != '\t')
		p++;
	if (*p != '\0')
		*p++ = '\0';
	*s = p;
	return w;
}

static int
parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return *end != '\0' || errno != 0 || *v > max ? -1 : 0;
}

/* "D[.DDD]" into thousandths; at most 3 decimals. */
static int
parse_milli(const char *s, unsigned long *v)
{
	unsigned long whole, frac = 0;
	const char *dot = strchr(s, '.');
	char buf[16];
	size_t n = dot != NULL ? (size_t)(dot - s) : strlen(s);

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (parse_uint(buf, 4096, &whole) != 0)
		return -1;
	if (dot != NULL) {
		size_t k = strlen(dot + 1);
		if (k == 0 || k > 3 || strspn(dot + 1, "0123456789") != k)
			return -1;
		frac = strtoul(dot + 1, NULL, 10);
		for (; k < 3; k++)
			frac *= 10;
	}
	*v = whole * 1000 + frac;
	return 0;
}

int
mig__name_valid(const char *s)
{
	if (*s == '\0' || strlen(s) >= MIG_NAME_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("-_.", *s) == NULL)
			return 0;
	return 1;
}

/* "off", or absolute folders joined by ':', each without an empty, "."
 * or ".." component. */
static int
valid_seed(const char *s)
{
	size_t n;

	if (strcmp(s, MIG_SEED_OFF) == 0)
		return 1;
	for (;;) {
		if (*s++ != '/')
			return 0;
		/* "/" alone, or components each followed by '/', ':' or the
		 * end; none empty, "." or "..". */
		while (*s != ':' && *s != '\0') {
			n = strcspn(s, "/:");
			if (n == 0 || (n == 1 && s[0] == '.') ||
			    (n == 2 && s[0] == '.' && s[1] == '.') ||
			    (s[n] == '/' && (s[n + 1] == ':' || s[n + 1] == '\0')))
				return 0;
			s += n + (s[n] == '/');
		}
		if (*s == '\0')
			return 1;
		s++;
	}
}

/*
 * "ssh:DEST": anything ssh takes as a destination (a ~/.ssh/config alias,
 * user@host, ssh://user@host:port), but never a word ssh would read as
 * an option, and only characters that need no quoting anywhere.
 */
static const char *
parse_ssh(const char *w, struct mig_host *h)
{
	if (*w == '\0')
		return "empty ssh destination";
	if (*w == '-')
		return "an ssh destination may not start with '-'";
	if (strlen(w) >= sizeof(h->addr))
		return "ssh destination too long";
	for (const char *c = w; *c != '\0'; c++)
		if (!isalnum((unsigned char)*c) && strchr("-_.@:/[]%+", *c) == NULL)
			return "ssh destination has a character other than letters, "
			    "digits and -_.@:/[]%+";
	strcpy(h->addr, w);
	h->ssh = 1;
	return NULL;
}

/* "ADDR", "ADDR:PORT", "[V6]", "[V6]:PORT" or "ssh:DEST" into h. */
static const char *
parse_addr(char *w, struct mig_host *h)
{
	char *port = NULL, *colon;
	unsigned long v;

	if (strncmp(w, "ssh:", 4) == 0)
		return parse_ssh(w + 4, h);
	if (*w == '[') {
		char *close = strchr(w, ']');
		if (close == NULL)
			return "unclosed '[' in address";
		*close = '\0';
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return "junk after ']' in address";
		w++;
	} else if ((colon = strchr(w, ':')) != NULL) {
		if (strchr(colon + 1, ':') != NULL)
			return "an IPv6 address needs [brackets] with a port";
		*colon = '\0';
		port = colon + 1;
	}
	if (*w == '\0')
		return "empty address";
	if (strlen(w) >= sizeof(h->addr))
		return "address too long";
	strcpy(h->addr, w);
	h->port = MIG_DEFAULT_PORT;
	if (port != NULL) {
		if (parse_uint(port, 65535, &v) != 0 || v == 0)
			return "port must be a number from 1 to 65535";
		h->port = (uint16_t)v;
	}
	return NULL;
}

static const char *
parse_line(char *line, struct mig_host *h)
{
	char *name, *addr, *w;
	int have_slots = 0, have_priority = 0;
	unsigned long v;
	const char *why;

	memset(h, 0, sizeof(*h));
	name = next_word(&line);
	addr = next_word(&line);
	if (addr == NULL)
		return "expected NAME ADDR[:PORT] [SLOTS]";
	if (!mig__name_valid(name))
		return "host name must be 1-63 letters, digits, '-', '_' or '.'";
	strcpy(h->name, name);
	if ((why = parse_addr(addr, h)) != NULL)
		return why;
	while ((w = next_word(&line)) != NULL) {
		if (strcmp(w, "shared") == 0 || strcmp(w, "served") == 0) {
			if (h->files != MIG_FILES_AUTO)
				return "give shared or served once";
			h->files = w[1] == 'h' ? MIG_FILES_SHARED :
						  MIG_FILES_SERVED;
		} else if (strcmp(w, "priority") == 0) {
			/* "lowest": idle's name in earlier builds. */
			static const char *const names[] = { "idle", "low",
				"normal", "lowest" };
			if (have_priority)
				return "give priority once";
			have_priority = 1;
			w = next_word(&line);
			for (v = 0; w != NULL && v < 4; v++)
				if (strcmp(w, names[v]) == 0)
					break;
			if (w == NULL || v == 4)
				return "priority must be idle, low or normal";
			h->priority = v == 3 ? MIG_PRIO_IDLE : (uint32_t)v;
		} else if (strcmp(w, "idle") == 0) {
			char *end;
			if (h->idle_s != 0)
				return "give idle once";
			w = next_word(&line);
			v = w != NULL ? strtoul(w, &end, 10) : 0;
			if (w == NULL || *w < '0' || *w > '9' ||
			    (*end != '\0' && strcmp(end, "s") != 0) ||
			    v == 0 || v > 86400)
				return "idle must be seconds from 1 to 86400";
			h->idle_s = (uint32_t)v;
		} else if (strcmp(w, "owner-cpu") == 0) {
			if (h->owner_cpu_milli != 0)
				return "give owner-cpu once";
			if ((w = next_word(&line)) == NULL ||
			    parse_milli(w, &v) != 0 || v == 0 || v > 4096000)
				return "owner-cpu must be CPUs from 0.001 to "
				    "4096";
			h->owner_cpu_milli = (uint32_t)v;
		} else if (strcmp(w, "seed") == 0) {
			if (h->seed[0] != '\0')
				return "give seed once";
			if ((w = next_word(&line)) == NULL || !valid_seed(w) ||
			    strlen(w) >= sizeof(h->seed))
				return "seed must be off or absolute folders "
				    "joined by ':'";
			strcpy(h->seed, w);
		} else if (have_slots) {
			return "unexpected words after SLOTS";
		} else if (parse_uint(w, 4096, &v) != 0) {
			return "slots must be a number from 0 to 4096";
		} else {
			h->slots = (uint32_t)v;
			have_slots = 1;
		}
	}
	return NULL;
}

static int
blank(const char *s)
{
	return s[strspn(s, " \t")] == '\0';
}

int
mig__hosts_parse(const char *text, size_t len, const char *where,
    struct mig_hosts *hosts, char *err, size_t errsize)
{
	struct mig_hosts out = { NULL, 0 };
	char line[512];
	size_t pos = 0, lineno = 0;
	int r = MIG_ECONFIG;

	hosts->v = NULL;
	hosts->n = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
		const char *why = NULL;
		struct mig_host h, *v;
		char *hash;

		lineno++;
		if (n >= sizeof(line))
			why = "line too long";
		else if (memchr(text + pos, '\0', n) != NULL)
			why = "NUL byte in line";
		if (why == NULL) {
			memcpy(line, text + pos, n);
			line[n] = '\0';
			if ((hash = strchr(line, '#')) != NULL)
				*hash = '\0';
			for (char *c = line; *c != '\0'; c++)
				if (isspace((unsigned char)*c))
					*c = ' ';
			if (blank(line)) {
				pos += n + (nl != NULL);
				continue;
			}
			why = parse_line(line, &h);
		}
		if (why == NULL && mig__hosts_find(&out, h.name) != NULL)
			why = "host named twice";
		if (why != NULL) {
			snprintf(err, errsize, "%s:%zu: %s", where, lineno, why);
			goto out;
		}
		if ((v = reallocarray(out.v, out.n + 1, sizeof(*v))) == NULL) {
			r = MIG__ERR(ENOMEM);
			goto out;
		}
		out.v = v;
		out.v[out.n++] = h;
		pos += n + (nl != NULL);
	}
	*hosts = out;
	out.v = NULL;
	r = 0;
 out:
	free(out.v);
	return r;
}

/* Reads a whole small open file into a malloc'd buffer. */
static int
slurp_fd(int fd, size_t max, char **textp, size_t *lenp)
{
	struct mig_buf b = { NULL, 0, 0 };
	int r = 0;

	*textp = NULL;
	for (;;) {
		ssize_t n;
		if ((r = mig_buf_reserve(&b, 4096)) != 0)
			goto out;
		n = read(fd, b.data + b.len, b.cap - b.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = MIG__ERR(errno);
			goto out;
		}
		if (n == 0)
			break;
		b.len += (size_t)n;
		if (b.len > max) {
			r = MIG_ETOOBIG;
			goto out;
		}
	}
	*textp = (char *)b.data;
	*lenp = b.len;
	b.data = NULL;
 out:
	mig_buf_free(&b);
	return r;
}

/*
 * Opens a config file for reading: only a regular file will do. The
 * open does not block (a FIFO put in place of the hosts file would
 * hang start-up) and fstat checks the file that was opened. Returns
 * the fd, or a negative code: MIG__ERR(EINVAL) for a file that is not
 * a regular one.
 */
static int
open_regular(const char *path, struct stat *st)
{
	int fd, flags;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) ==
	    -1)
		return MIG__ERR(errno);
	if (fstat(fd, st) == -1) {
		int r = MIG__ERR(errno);
		mig__close(fd);
		return r;
	}
	if (!S_ISREG(st->st_mode)) {
		mig__close(fd);
		return MIG__ERR(EINVAL);
	}
	if ((flags = fcntl(fd, F_GETFL)) != -1)
		fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	return fd;
}

int
mig__slurp(const char *path, size_t max, char **textp, size_t *lenp)
{
	struct stat st;
	int fd, r;

	*textp = NULL;
	if ((fd = open_regular(path, &st)) < 0)
		return fd == MIG__ERR(EINVAL) ? MIG_ECONFIG : fd;
	r = slurp_fd(fd, max, textp, lenp);
	mig__close(fd);
	return r;
}

/*
 * A file the user's programs trust (the key, the hosts file, the
 * policy) must be the user's own and closed to others: bits of mask
 * (group and others) must be clear. st is the opened file's. 0, or
 * MIG_EUNSAFE with one line in err naming the file and the way out
 * (remake says how to get one of one's own).
 */
static int
check_owned(const char *path, const struct stat *st, const char *what,
    mode_t mask, const char *remake, char *err, size_t errsize)
{
	if (st->st_uid != geteuid()) {
		snprintf(err, errsize, "%s %s belongs to uid %u, not to you "
		    "(uid %u); %s", what, path, (unsigned)st->st_uid,
		    (unsigned)geteuid(), remake);
		return MIG_EUNSAFE;
	}
	if ((st->st_mode & mask) != 0) {
		snprintf(err, errsize, "%s %s is %s by group or others (mode "
		    "%03o); run 'chmod %s %s'", what, path,
		    mask == 077 ? "accessible" : "writable",
		    (unsigned)(st->st_mode & 0777), mask == 077 ? "600" : "go-w",
		    path);
		return MIG_EUNSAFE;
	}
	return 0;
}

int
mig__slurp_owned(const char *path, const char *what, size_t max,
    char **textp, size_t *lenp, char *err, size_t errsize)
{
	struct stat st;
	int fd, r;

	*textp = NULL;
	if ((fd = open_regular(path, &st)) < 0) {
		if (fd != MIG__ERR(ENOENT))
			snprintf(err, errsize, "%s %s: %s", what, path,
			    fd == MIG__ERR(EINVAL) ? "not a regular file" :
			    mig_strerror(fd));
		return fd;
	}
	if ((r = check_owned(path, &st, what, 022,
	    "copy it to a file of your own", err, errsize)) == 0 &&
	    (r = slurp_fd(fd, max, textp, lenp)) != 0)
		snprintf(err, errsize, "%s %s: %s", what, path,
		    mig_strerror(r));
	mig__close(fd);
	return r;
}

int
mig__hosts_load(const char *path, struct mig_hosts *hosts, char *err,
    size_t errsize)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	hosts->v = NULL;
	hosts->n = 0;
	r = mig__slurp_owned(path, "hosts file", 1 << 20, &text, &len, err,
	    errsize);
	if (r == MIG__ERR(ENOENT))
		return 0;
	if (r != 0)
		return MIG_ECONFIG;
	r = mig__hosts_parse(text, len, path, hosts, err, errsize);
	free(text);
	return r;
}

const struct mig_host *
mig__hosts_find(const struct mig_hosts *hosts, const char *name)
{
	for (size_t i = 0; i < hosts->n; i++)
		if (strcmp(hosts->v[i].name, name) == 0)
			return &hosts->v[i];
	return NULL;
}

void
mig__hosts_free(struct mig_hosts *hosts)
{
	free(hosts->v);
	hosts->v = NULL;
	hosts->n = 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
mig__key_parse(const char *text, size_t len, const char *where,
    uint8_t key[MIG_KEY_BYTES], char *err, size_t errsize)
{
	uint8_t k[MIG_KEY_BYTES];

	while (len > 0 && isspace((unsigned char)text[len - 1]))
		len--;
	if (len != 2 * MIG_KEY_BYTES)
		goto bad;
	for (size_t i = 0; i < MIG_KEY_BYTES; i++) {
		int hi = hexval((unsigned char)text[2 * i]);
		int lo = hexval((unsigned char)text[2 * i + 1]);
		if (hi < 0 || lo < 0)
			goto bad;
		k[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(key, k, sizeof(k));
	explicit_bzero(k, sizeof(k));
	return 0;
 bad:
	explicit_bzero(k, sizeof(k));
	snprintf(err, errsize,
	    "key file %s: expected %d hex digits (run 'mig keygen -f')",
	    where, 2 * MIG_KEY_BYTES);
	return MIG_EKEY;
}

int
mig__key_load(const char *path, uint8_t key[MIG_KEY_BYTES], char *err,
    size_t errsize)
{
	char *text = NULL;
	size_t len = 0;
	struct stat st;
	int fd, r;

	/* Owner and mode are checked on the file that is then read. */
	if ((fd = open_regular(path, &st)) < 0) {
		r = fd;
		if (r == MIG__ERR(EINVAL)) {
			snprintf(err, errsize, "key file %s is not a regular "
			    "file", path);
			return MIG_EKEY;
		}
		snprintf(err, errsize, "key file %s: %s (run 'mig keygen')",
		    path, mig_strerror(r));
		return r;
	}
	if (check_owned(path, &st, "key file", 077,
	    "make your own with 'mig keygen -f'", err, errsize) != 0) {
		mig__close(fd);
		return MIG_EKEY;
	}
	r = slurp_fd(fd, 4096, &text, &len);
	mig__close(fd);
	if (r != 0) {
		snprintf(err, errsize, "key file %s: %s", path,
		    mig_strerror(r));
		return r;
	}
	r = mig__key_parse(text, len, path, key, err, errsize);
	explicit_bzero(text, len);
	free(text);
	return r;
}

int
mig__key_write(const char *path, const uint8_t key[MIG_KEY_BYTES], int force)
{
	char text[2 * MIG_KEY_BYTES + 1], tmp[PATH_MAX];
	int fd, r;

	for (size_t i = 0; i < MIG_KEY_BYTES; i++)
		snprintf(text + 2 * i, 3, "%02x", key[i]);
	text[2 * MIG_KEY_BYTES] = '\n';
	if (!force && access(path, F_OK) == 0)
		return MIG__ERR(EEXIST);
	/* Written beside, then renamed: a failure keeps the old key. */
	if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp))
		return MIG_ETOOBIG;
	unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1)
		return MIG__ERR(errno);
	r = mig__write_full(fd, text, sizeof(text));
	if (r == 0 && fsync(fd) == -1)
		r = MIG__ERR(errno);
	mig__close(fd);
	if (r == 0 && (force ? rename(tmp, path) : link(tmp, path)) == -1)
		r = MIG__ERR(errno);
	unlink(tmp);
	return r;
}

int
mig__beside_self(const char *name, char *buf, size_t size)
{
	static const char *const dirs[] = { "", "/../lib/mig" };
	char self[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return MIG__ERR(ENOENT);
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) == NULL)
		return MIG__ERR(ENOENT);
	*slash = '\0';
	for (size_t i = 0; i < sizeof(dirs) / sizeof(*dirs); i++) {
		int w = snprintf(buf, size, "%s%s/%s", self, dirs[i], name);
		if (w > 0 && (size_t)w < size && access(buf, F_OK) == 0)
			return 0;
	}
	return MIG__ERR(ENOENT);
}
