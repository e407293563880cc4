/*
 * proof.c: which of home's subtrees a host has as the very same files
 * (docs/design.md, "Mode, per job"). Home names its mount points, each
 * with the st_dev and st_ino of its root, and its boot id; a host with
 * the same boot id (the same running kernel: device numbers mean the
 * same super blocks) that finds the same dev and ino at the same path
 * sees the same directory of the same file system there. What lies
 * below it is the same files too, except where a mount covers part of
 * it: home's own mounts below are proven (or not) each on its own, and
 * a mount the host has where home has none shadows home's files there.
 *
 * The proof is run off the loop (it reads /proc/self/mountinfo and
 * stats every mount point); the decoders here check what a peer sent.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"
#include "fs.h"
#include "mig/proto.h"

/* The folders every view takes from the host itself: never proven,
 * never served. */
static const char *const pinned[] = { "/proc", "/sys", "/dev", "/run" };

/* Whether path is m or below it. */
int
mig__path_under(const char *path, const char *m)
{
	size_t n = strlen(m);

	if (strcmp(m, "/") == 0)
		return path[0] == '/';
	return strncmp(path, m, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static int
is_pinned(const char *path)
{
	for (size_t i = 0; i < sizeof(pinned) / sizeof(*pinned); i++)
		if (mig__path_under(path, pinned[i]))
			return 1;
	return 0;
}

void
mig__mounts_free(struct mig_mounts *ms)
{
	if (ms == NULL)
		return;
	for (size_t i = 0; i < ms->n; i++) {
		free(ms->m[i].path);
		free(ms->m[i].net);
		free(ms->m[i].tokname);
	}
	free(ms->m);
	ms->m = NULL;
	ms->n = 0;
}

static int
by_path(const void *a, const void *b)
{
	return strcmp(((const struct mig_mount *)a)->path,
	    ((const struct mig_mount *)b)->path);
}

/* A path as a peer may send it: absolute, no "." or ".." or empty
 * component, no trailing slash but for "/" itself. */
static int
clean_path(const char *p)
{
	const char *c;

	if (p[0] != '/')
		return 0;
	if (p[1] == '\0')
		return 1;
	for (c = p; *c != '\0'; c++) {
		if (*c != '/')
			continue;
		if (c[1] == '\0' || c[1] == '/')
			return 0;
		if (c[1] == '.' && (c[2] == '\0' || c[2] == '/' ||
		    (c[2] == '.' && (c[3] == '\0' || c[3] == '/'))))
			return 0;
	}
	return 1;
}

/* Adds path (taken) with its network identity net (taken, or NULL)
 * unless there already; then the later one is on top, and its net
 * counts. Sorted later. */
static int
add_mount(struct mig_mounts *ms, char *path, uint64_t dev, uint64_t ino,
    char *net)
{
	struct mig_mount *nv;

	for (size_t i = 0; i < ms->n; i++)
		if (strcmp(ms->m[i].path, path) == 0) {
			free(path);
			free(ms->m[i].net);
			ms->m[i].net = net;
			return 0;
		}
	if (ms->n >= MIG_MOUNTS_MAX) {
		free(path);
		free(net);
		return MIG_ETOOBIG;
	}
	if ((nv = realloc(ms->m, (ms->n + 1) * sizeof(*nv))) == NULL) {
		free(path);
		free(net);
		return MIG__ERR(ENOMEM);
	}
	ms->m = nv;
	memset(&ms->m[ms->n], 0, sizeof(*ms->m));
	ms->m[ms->n].path = path;
	ms->m[ms->n].dev = dev;
	ms->m[ms->n].ino = ino;
	ms->m[ms->n].net = net;
	ms->n++;
	return 0;
}

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void
unescape(char *s)
{
	char *o = s;

	while (*s != '\0') {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
			    (s[3] - '0'));
			s += 4;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
}

int
mig__mountinfo_parse(const char *text, size_t len, struct mig_mounts *ms)
{
	const char *line = text, *end = text + len, *nl;
	char buf[PATH_MAX * 2], *f, *save, *mp, *root, *type, *src, *net;
	int r;

	memset(ms, 0, sizeof(*ms));
	for (; line < end; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		if ((size_t)(nl - line) >= sizeof(buf))
			continue;
		memcpy(buf, line, (size_t)(nl - line));
		buf[nl - line] = '\0';
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] -
		 * FSTYPE SOURCE SUPEROPTIONS */
		f = strtok_r(buf, " ", &save);
		for (int i = 0; i < 3 && f != NULL; i++)
			f = strtok_r(NULL, " ", &save);
		if ((root = f) == NULL ||
		    (f = strtok_r(NULL, " ", &save)) == NULL)
			continue;
		do
			type = strtok_r(NULL, " ", &save);
		while (type != NULL && strcmp(type, "-") != 0);
		if (type != NULL)
			type = strtok_r(NULL, " ", &save);
		src = type != NULL ? strtok_r(NULL, " ", &save) : NULL;
		unescape(f);
		if (!clean_path(f) || is_pinned(f))
			continue;
		net = NULL;
		if (src != NULL && (r = mig__net_ident(type, src, root,
		    &net)) != 0)
			goto fail;
		if ((mp = strdup(f)) == NULL) {
			free(net);
			r = MIG__ERR(ENOMEM);
			goto fail;
		}
		if ((r = add_mount(ms, mp, 0, 0, net)) != 0)
			goto fail;
	}
	if (ms->n > 0)
		qsort(ms->m, ms->n, sizeof(*ms->m), by_path);
	return 0;
 fail:
	mig__mounts_free(ms);
	return r;
}

/* Reads a /proc file whole (its size says nothing). */
static int
read_proc(const char *path, char **textp, size_t *lenp)
{
	size_t cap = 8192, len = 0;
	char *buf = NULL, *nb;
	ssize_t n;
	int fd, r = 0;

	*textp = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return MIG__ERR(errno);
	for (;;) {
		if (len + 1 >= cap || buf == NULL) {
			if (cap > (16u << 20)) {
				r = MIG_ETOOBIG;
				break;
			}
			if ((nb = realloc(buf, cap *= 2)) == NULL) {
				r = MIG__ERR(ENOMEM);
				break;
			}
			buf = nb;
		}
		if ((n = read(fd, buf + len, cap - len - 1)) < 0 &&
		    errno == EINTR)
			continue;
		if (n < 0) {
			r = MIG__ERR(errno);
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	mig__close(fd);
	if (r != 0) {
		free(buf);
		return r;
	}
	buf[len] = '\0';
	*textp = buf;
	*lenp = len;
	return 0;
}

int
mig__boot_id(char boot[MIG_BOOT_ID_MAX])
{
	char *text = NULL;
	size_t len = 0;
	int r;

	boot[0] = '\0';
	if ((r = read_proc("/proc/sys/kernel/random/boot_id", &text,
	    &len)) != 0)
		return r;
	snprintf(boot, MIG_BOOT_ID_MAX, "%.*s", (int)strcspn(text, "\n"),
	    text);
	free(text);
	return 0;
}

int
mig__mounts_local(struct mig_mounts *ms)
{
	char *text = NULL;
	size_t len = 0;
	struct stat st;
	int r;

	memset(ms, 0, sizeof(*ms));
	if ((r = read_proc("/proc/self/mountinfo", &text, &len)) != 0 ||
	    (r = mig__mountinfo_parse(text, len, ms)) != 0)
		goto out;
	if ((r = mig__boot_id(ms->boot)) != 0)
		goto out;
	/* A mount point this process cannot stat is left out: nobody can
	 * prove it, so a host treats it as shadowing nothing of home's
	 * (home's own parent mount then covers it, and is served there). */
	for (size_t i = 0; i < ms->n; i++) {
		if (lstat(ms->m[i].path, &st) == 0) {
			ms->m[i].dev = (uint64_t)st.st_dev;
			ms->m[i].ino = (uint64_t)st.st_ino;
			ms->m[i].ok = 1;
		}
	}
	r = 0;
 out:
	if (r != 0)
		mig__mounts_free(ms);
	free(text);
	return r;
}

int
mig__mounts_put(struct mig_buf *b, const struct mig_mounts *ms,
    uint32_t proto)
{
	uint32_t n = 0;
	int r;

	for (size_t i = 0; i < ms->n; i++)
		n += ms->m[i].ok;
	r = proto_put_str(b, ms->boot);
	r = r ? r : proto_put_u32(b, n);
	for (size_t i = 0; i < ms->n; i++) {
		if (!ms->m[i].ok)
			continue;
		const struct mig_mount *m = &ms->m[i];
		int tok = m->net != NULL && m->tokname != NULL;

		r = r ? r : proto_put_str(b, m->path);
		r = r ? r : proto_put_u64(b, m->dev);
		r = r ? r : proto_put_u64(b, m->ino);
		if (proto < MIG_PROTO_NETPROOF)
			continue;
		r = r ? r : proto_put_str(b, m->net != NULL ? m->net : "");
		r = r ? r : proto_put_str(b, tok ? m->tokname : "");
		r = r ? r : proto_put_str(b, tok ? m->token : "");
		r = r ? r : proto_put_u64(b, tok ? m->tino : 0);
		r = r ? r : proto_put_u64(b, tok ? m->tsec : 0);
		r = r ? r : proto_put_u32(b, tok ? m->tnsec : 0);
	}
	return r;
}

/* A token file's name as a peer may send it: .mig-proof-*, a name of
 * printable characters, no slash. */
static int
clean_tokname(const char *s)
{
	if (strncmp(s, ".mig-proof-", 11) != 0 || strlen(s) > NAME_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s > '~' || *s == '/')
			return 0;
	return 1;
}

static int
clean_token(const char *s)
{
	if (strlen(s) != MIG_TOKEN_HEX)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

/* One mount's network identity and token, as mig__mounts_put sends
 * them, into m. */
static int
get_net(struct mig_rd *rd, struct mig_mount *m)
{
	char *net = NULL, *name = NULL, *token = NULL;
	uint64_t sec;
	int r = MIG_EPROTO;

	if (proto_get_str(rd, &net) != 0 || strlen(net) >= MIG_NET_MAX ||
	    proto_get_str(rd, &name) != 0 || proto_get_str(rd, &token) != 0 ||
	    proto_get_u64(rd, &m->tino) != 0 ||
	    proto_get_u64(rd, &sec) != 0 ||
	    proto_get_u32(rd, &m->tnsec) != 0 || m->tnsec >= 1000000000u)
		goto out;
	m->tsec = sec;
	if (net[0] != '\0') {
		m->net = net;
		net = NULL;
	}
	if (name[0] != '\0' || token[0] != '\0') {
		if (m->net == NULL || !clean_tokname(name) ||
		    !clean_token(token))
			goto out;
		m->tokname = name;
		name = NULL;
		memcpy(m->token, token, MIG_TOKEN_HEX + 1);
	}
	r = 0;
 out:
	free(net);
	free(name);
	free(token);
	return r;
}

int
mig__mounts_get(const void *p, size_t len, uint32_t proto,
    struct mig_mounts *ms)
{
	struct mig_rd rd;
	char *boot = NULL, *path = NULL;
	uint64_t dev, ino;
	uint32_t n;
	int r = MIG_EPROTO;

	memset(ms, 0, sizeof(*ms));
	proto_rd_init(&rd, p, len);
	if (proto_get_str(&rd, &boot) != 0 || strlen(boot) >= MIG_BOOT_ID_MAX ||
	    proto_get_u32(&rd, &n) != 0 || n > MIG_MOUNTS_MAX)
		goto out;
	strlcpy(ms->boot, boot, sizeof(ms->boot));
	for (uint32_t i = 0; i < n; i++) {
		if (proto_get_str(&rd, &path) != 0 ||
		    proto_get_u64(&rd, &dev) != 0 ||
		    proto_get_u64(&rd, &ino) != 0 ||
		    !clean_path(path) || is_pinned(path) ||
		    strlen(path) >= PATH_MAX)
			goto out;
		for (size_t j = 0; j < ms->n; j++)
			if (strcmp(ms->m[j].path, path) == 0)
				goto out;
		if ((r = add_mount(ms, path, dev, ino, NULL)) != 0)
			goto out;
		ms->m[ms->n - 1].ok = 1;
		path = NULL;
		if (proto >= MIG_PROTO_NETPROOF &&
		    (r = get_net(&rd, &ms->m[ms->n - 1])) != 0)
			goto out;
		r = MIG_EPROTO;
	}
	if (proto_rd_done(&rd) != 0)
		goto out;
	if (ms->n > 0)
		qsort(ms->m, ms->n, sizeof(*ms->m), by_path);
	r = 0;
 out:
	free(boot);
	free(path);
	if (r != 0)
		mig__mounts_free(ms);
	return r;
}

/* Paths of a PROVEN, one a line, printable ASCII only (they reach a
 * terminal). */
static int
get_paths(struct mig_rd *rd, char **out)
{
	struct mig_buf b = { NULL, 0, 0 };
	uint32_t n;
	char *p = NULL;
	int r = MIG_EPROTO;

	*out = NULL;
	if (proto_get_u32(rd, &n) != 0 || n > MIG_MOUNTS_MAX)
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		if (proto_get_str(rd, &p) != 0 || p[0] != '/')
			goto out;
		for (char *c = p; *c != '\0'; c++)
			if (*c < ' ' || *c > '~')
				*c = '?';
		if ((i > 0 && mig_buf_append(&b, "\n", 1) != 0) ||
		    mig_buf_append(&b, p, strlen(p)) != 0) {
			r = MIG__ERR(ENOMEM);
			goto out;
		}
		free(p);
		p = NULL;
	}
	if (mig_buf_append(&b, "", 1) != 0) {
		r = MIG__ERR(ENOMEM);
		goto out;
	}
	*out = (char *)b.data;
	b.data = NULL;
	r = 0;
 out:
	free(p);
	mig_buf_free(&b);
	return r;
}

int
mig__proven_put(struct mig_buf *b, const struct mig_mounts *home,
    const struct mig_proof *pf)
{
	uint32_t n = 0;
	int r;

	for (size_t i = 0; i < home->n; i++)
		n += pf->proven[i];
	r = proto_put_u32(b, (uint32_t)pf->all);
	r = r ? r : proto_put_u32(b, n);
	for (size_t i = 0; i < home->n; i++)
		if (pf->proven[i])
			r = r ? r : proto_put_str(b, home->m[i].path);
	/* Not proven: the rest of home's, and this host's own that shadow
	 * home's: the innermost of either lists that holds a path says. */
	r = r ? r : proto_put_u32(b, (uint32_t)(home->n - n + pf->nextra));
	for (size_t i = 0; i < home->n; i++)
		if (!pf->proven[i])
			r = r ? r : proto_put_str(b, home->m[i].path);
	for (size_t i = 0; i < pf->nextra; i++)
		r = r ? r : proto_put_str(b, pf->extra[i]);
	return r;
}

int
mig__proven_get(const void *p, size_t len, int *all, char **proven,
    char **unproven)
{
	struct mig_rd rd;
	uint32_t a;
	int r;

	*proven = *unproven = NULL;
	proto_rd_init(&rd, p, len);
	if ((r = proto_get_u32(&rd, &a)) != 0 || a > 1 ||
	    (r = get_paths(&rd, proven)) != 0 ||
	    (r = get_paths(&rd, unproven)) != 0 ||
	    (r = proto_rd_done(&rd)) != 0) {
		free(*proven);
		free(*unproven);
		*proven = *unproven = NULL;
		return r != 0 ? r : MIG_EPROTO;
	}
	*all = (int)a;
	return 0;
}

void
mig__proof_free(struct mig_proof *pf)
{
	if (pf == NULL)
		return;
	free(pf->proven);
	for (size_t i = 0; i < pf->nextra; i++)
		free(pf->extra[i]);
	free(pf->extra);
	memset(pf, 0, sizeof(*pf));
}

int
mig__proof_compare(const struct mig_mounts *home,
    const struct mig_mounts *here, struct mig_proof *pf)
{
	int r = MIG__ERR(ENOMEM);
	size_t j;

	memset(pf, 0, sizeof(*pf));
	if (home->n > 0 && (pf->proven = calloc(home->n, 1)) == NULL)
		goto out;
	pf->same_boot = home->boot[0] != '\0' &&
	    strcmp(home->boot, here->boot) == 0;
	pf->all = home->n > 0;
	for (size_t i = 0; i < home->n; i++) {
		for (j = 0; j < here->n; j++)
			if (strcmp(here->m[j].path, home->m[i].path) == 0)
				break;
		/* here's entry for the same path, as this host sees it: the
		 * same directory of the same kernel's, or a network file
		 * system's that reads back home's token. */
		pf->proven[i] = j < here->n && ((pf->same_boot &&
		    here->m[j].ok && here->m[j].dev == home->m[i].dev &&
		    here->m[j].ino == home->m[i].ino) ||
		    mig__net_proven(&home->m[i], &here->m[j]));
		pf->all &= pf->proven[i];
	}
	/* This host's own mounts where home has none, whether this host
	 * could stat them or not: each shadows what home has there. */
	for (j = 0; j < here->n; j++) {
		size_t i;
		char **nv;

		for (i = 0; i < home->n; i++)
			if (strcmp(here->m[j].path, home->m[i].path) == 0)
				break;
		if (i < home->n)
			continue;
		if ((nv = realloc(pf->extra, (pf->nextra + 1) *
		    sizeof(*nv))) == NULL ||
		    (nv[pf->nextra] = strdup(here->m[j].path)) == NULL) {
			if (nv != NULL)
				pf->extra = nv;
			goto out;
		}
		pf->extra = nv;
		pf->nextra++;
		pf->all = 0;
	}
	r = 0;
 out:
	if (r != 0)
		mig__proof_free(pf);
	return r;
}

int
mig__proof_run(const struct mig_mounts *home, struct mig_proof *pf)
{
	struct mig_mounts here = { { 0 }, NULL, 0 };
	struct stat st;
	int r;

	memset(pf, 0, sizeof(*pf));
	if ((r = mig__mounts_local(&here)) != 0)
		return r;
	/* Home's mount points as this host sees them, mounts or not. */
	for (size_t i = 0; i < home->n; i++) {
		size_t j;
		char *p;

		for (j = 0; j < here.n; j++)
			if (strcmp(here.m[j].path, home->m[i].path) == 0)
				break;
		if (j < here.n) {
			mig__net_check(&home->m[i], &here.m[j]);
			continue;
		}
		if (lstat(home->m[i].path, &st) != 0)
			continue;
		if ((p = strdup(home->m[i].path)) == NULL ||
		    (r = add_mount(&here, p, (uint64_t)st.st_dev,
		    (uint64_t)st.st_ino, NULL)) != 0) {
			r = p == NULL ? MIG__ERR(ENOMEM) : r;
			goto out;
		}
		/* No mount here, a folder of a mount above: with the same
		 * dev and ino it is the same directory all the same. */
		here.m[here.n - 1].ok = 1;
	}
	r = mig__proof_compare(home, &here, pf);
 out:
	mig__mounts_free(&here);
	return r;
}

/* The innermost of home's mounts and of the host's extra mounts that
 * hold path: 1 when it is a proven mount of home's. */
int
mig__proof_covers(const struct mig_mounts *home, const struct mig_proof *pf,
    const char *path)
{
	size_t best = 0, blen = 0;
	int found = 0;

	if (!clean_path(path))
		return 0;
	for (size_t i = 0; i < home->n; i++)
		if (mig__path_under(path, home->m[i].path) &&
		    strlen(home->m[i].path) >= blen) {
			best = i;
			blen = strlen(home->m[i].path);
			found = 1;
		}
	if (!found || !pf->proven[best])
		return 0;
	for (size_t i = 0; i < pf->nextra; i++)
		if (mig__path_under(path, pf->extra[i]) &&
		    strlen(pf->extra[i]) > blen)
			return 0;
	return 1;
}
