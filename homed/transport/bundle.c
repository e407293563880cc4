/*
 * bundle.c: this daemon's own build as a tar, for ssh.c to push to hosts
 * that lack it. It holds the programs and libraries a host daemon runs
 * (mig-homed, libmig.so, mig-reaper, mig-standin, and mig and mig-rsh
 * for its jobs), found where this mig-homed finds them, all in bin/. The
 * folder a host keeps it in is VERSION-HASH, HASH the first bytes of the
 * tar's BLAKE2b: the tar holds no times or owners, so the same build
 * always makes the same bytes, and another build another folder. It is
 * made once, off the loop, when the first ssh host is dialed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "homed.h"
#include "mig/version.h"

enum { BUNDLE_MAKING, BUNDLE_READY, BUNDLE_FAILED };

struct bundle {
	uv_work_t work;
	int state;
	int r;               /* the worker's result, MIG_E* */
	struct mig_buf tar;
	char dir[96];        /* VERSION-HASH */
	char why[200];       /* FAILED: why */
};

/* The files, in bin/ of the tar; the first ones a host cannot do
 * without. */
static const char *const files[] = { "mig-homed", "mig-reaper",
	"libmig.so", "mig-standin", "mig", "mig-rsh" };
#define REQUIRED 2

/* One ustar entry: a header, the data padded to 512 bytes. */
static int
tar_put(struct mig_buf *b, const char *name, char type, unsigned mode,
    const void *data, size_t n, const char *link)
{
	uint8_t h[512];
	unsigned sum = 0;
	int r;

	memset(h, 0, sizeof(h));
	snprintf((char *)h, 100, "%s", name);
	snprintf((char *)h + 100, 8, "%07o", mode);
	snprintf((char *)h + 108, 8, "%07o", 0);
	snprintf((char *)h + 116, 8, "%07o", 0);
	snprintf((char *)h + 124, 12, "%011zo", n);
	snprintf((char *)h + 136, 12, "%011o", 0);
	memset(h + 148, ' ', 8);
	h[156] = (uint8_t)type;
	if (link != NULL)
		snprintf((char *)h + 157, 100, "%s", link);
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	for (size_t i = 0; i < sizeof(h); i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	if ((r = mig_buf_append(b, h, sizeof(h))) != 0 ||
	    (r = mig_buf_append(b, data, n)) != 0)
		return r;
	memset(h, 0, sizeof(h));
	return mig_buf_append(b, h, (512 - n % 512) % 512);
}

/* One file of the build: a symlink within bin/ stays one. */
static int
put_file(struct bundle *bd, const char *file)
{
	char path[PATH_MAX], name[128], link[128];
	struct mig_buf data = { NULL, 0, 0 };
	struct stat st;
	ssize_t k;
	int fd = -1, r;

	if ((r = mig__beside_self(file, path, sizeof(path))) != 0)
		return r;
	snprintf(name, sizeof(name), "bin/%s", file);
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) &&
	    (k = readlink(path, link, sizeof(link) - 1)) > 0) {
		link[k] = '\0';
		if (strchr(link, '/') == NULL)
			return tar_put(&bd->tar, name, '2', 0777, NULL, 0,
			    link);
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		r = MIG__ERR(errno);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = MIG_ECONFIG;
		goto out;
	}
	if ((r = mig_buf_reserve(&data, (size_t)st.st_size)) != 0)
		goto out;
	while ((k = read(fd, data.data + data.len, data.cap - data.len)) > 0) {
		data.len += (size_t)k;
		if (data.len == data.cap &&
		    (r = mig_buf_reserve(&data, 65536)) != 0)
			goto out;
	}
	if (k < 0) {
		r = MIG__ERR(errno);
		goto out;
	}
	r = tar_put(&bd->tar, name, '0', st.st_mode & 0111 ? 0755 : 0644,
	    data.data, data.len, NULL);
 out:
	mig__close(fd);
	mig_buf_free(&data);
	return r;
}

static void
make(uv_work_t *w)
{
	struct bundle *bd = w->data;
	uint8_t hash[16], zero[1024];
	char hex[33];
	int r;

	if ((r = tar_put(&bd->tar, "bin/", '5', 0755, NULL, 0, NULL)) != 0)
		goto out;
	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
		if ((r = put_file(bd, files[i])) == 0)
			continue;
		if (i < REQUIRED) {
			snprintf(bd->why, sizeof(bd->why), "cannot push this "
			    "build: %s: %s", files[i], mig_strerror(r));
			goto out;
		}
	}
	memset(zero, 0, sizeof(zero));
	if ((r = mig_buf_append(&bd->tar, zero, sizeof(zero))) != 0)
		goto out;
	crypto_generichash(hash, sizeof(hash), bd->tar.data, bd->tar.len,
	    NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
	snprintf(bd->dir, sizeof(bd->dir), "%s-%.12s", MIG_VERSION_STRING,
	    hex);
 out:
	bd->r = r;
	if (r != 0 && bd->why[0] == '\0')
		snprintf(bd->why, sizeof(bd->why), "cannot push this build: "
		    "%s", mig_strerror(r));
}

static void
made(uv_work_t *w, int status)
{
	struct bundle *bd = w->data;

	bd->state = status == 0 && bd->r == 0 ? BUNDLE_READY : BUNDLE_FAILED;
	if (bd->state == BUNDLE_READY)
		mig__log(MIG_LOG_INFO, "this build for ssh hosts: %s (%zu "
		    "bytes)", bd->dir, bd->tar.len);
	else
		mig_buf_free(&bd->tar);
}

const char *
mig__bundle_dir(struct homed *d, const char **why)
{
	struct bundle *bd = d->bundle;

	if (why != NULL)
		*why = NULL;
	if (bd == NULL) {
		if ((bd = calloc(1, sizeof(*bd))) == NULL)
			return NULL;
		d->bundle = bd;
		bd->work.data = bd;
		bd->state = BUNDLE_MAKING;
		if (uv_queue_work(d->loop, &bd->work, make, made) != 0) {
			bd->state = BUNDLE_FAILED;
			snprintf(bd->why, sizeof(bd->why), "cannot push this "
			    "build: no worker thread");
		}
	}
	if (bd->state == BUNDLE_FAILED && why != NULL)
		*why = bd->why;
	return bd->state == BUNDLE_READY ? bd->dir : NULL;
}

const struct mig_buf *
mig__bundle_tar(struct homed *d)
{
	return &d->bundle->tar;
}

void
mig__bundle_free(struct homed *d)
{
	if (d->bundle != NULL)
		mig_buf_free(&d->bundle->tar);
	free(d->bundle);
	d->bundle = NULL;
}
