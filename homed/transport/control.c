/*
 * control.c: the unix socket through which programs on this host (the
 * launcher, stubs, placeholders, placed jobs) talk to the daemon. Only
 * the daemon's own user may connect (SO_PEERCRED). Frames are checked
 * and handed to the role registered for their type.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "homed.h"

static void on_client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

static void
on_client_closed(uv_handle_t *h)
{
	struct client *c = h->data;

	mig_buf_free(&c->in);
	mig_buf_free(&c->cork.buf);
	free(c);
}

void
mig__clients_flush(struct homed *d)
{
	struct client *c;

	TAILQ_FOREACH(c, &d->clients, entry)
		if (mig__cork_flush(d, &c->cork, (uv_stream_t *)&c->pipe) != 0)
			mig__client_close(c);
}

void
mig__client_close(struct client *c)
{
	if (c->closing)
		return;
	/* What it was sent before still goes, as far as it can. */
	mig__cork_flush(c->d, &c->cork, (uv_stream_t *)&c->pipe);
	c->closing = 1;
	uv_read_stop((uv_stream_t *)&c->pipe);
	mig__reap_soon(c->d);
}

/* The reaper: each closed client's watchers hear of it once. */
void
mig__clients_reap(struct homed *d)
{
	struct client *c, *next;

	TAILQ_FOREACH_SAFE(c, &d->clients, entry, next) {
		if (!c->closing)
			continue;
		TAILQ_REMOVE(&d->clients, c, entry);
		c->closed = 1;
		mig__notify_client_gone(c);
		uv_close((uv_handle_t *)&c->pipe, on_client_closed);
	}
}

int
mig__client_send(struct client *c, uint16_t type, uint16_t flags,
    const void *p, size_t n)
{
	int r;

	if (c->closing)
		return MIG_ELINK;
	/* Written at the end of the turn (mig__clients_flush). */
	if ((r = mig_frame_put(&c->cork.buf, type, flags, 0, p, n)) != 0) {
		mig__client_close(c);
		return r;
	}
	mig__cork_added(c->d, &c->cork);
	return 0;
}

void
mig__client_error(struct client *c, int code, const char *fmt, ...)
{
	struct mig_buf b = { NULL, 0, 0 };
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (proto_put_u32(&b, (uint32_t)code) == 0 &&
	    proto_put_str(&b, msg) == 0)
		mig__client_send(c, MIG_M_ERROR, 0, b.data, b.len);
	mig_buf_free(&b);
}

/* more: the client sent more after its HELLO, so it does not wait for
 * ours (every client of ours sends its request with it). Ours then goes
 * with the first answer to that request, and wakes the client once, not
 * twice: a job placed on another host is answered when that host has
 * started it; a placeholder is not answered at all. */
static void
on_hello(struct client *c, const struct mig_frame *f, int more)
{
	struct mig_buf b = { NULL, 0, 0 };
	struct mig_rd rd;
	uint32_t version;

	proto_rd_init(&rd, f->payload, f->len);
	if (proto_get_u32(&rd, &version) != 0) {
		mig__client_close(c);
		return;
	}
	if (version != MIG_PROTO_VERSION) {
		mig__client_error(c, MIG_EVERSION,
		    "the daemon speaks protocol %d, this mig speaks %u "
		    "(restart mig-homed after an upgrade)",
		    MIG_PROTO_VERSION, version);
		return;
	}
	c->hello = 1;
	if (proto_put_u32(&b, MIG_PROTO_VERSION) != 0 ||
	    proto_put_str(&b, c->d->name) != 0)
		mig__client_close(c);
	else if (!more)
		mig__client_send(c, MIG_M_HELLO, 0, b.data, b.len);
	else if (mig_frame_put(&c->cork.buf, MIG_M_HELLO, 0, 0, b.data,
	    b.len) != 0)
		mig__client_close(c);
	mig_buf_free(&b);
}

static void
dispatch(struct client *c, const struct mig_frame *f, int more)
{
	if (f->type == MIG_M_HELLO) {
		on_hello(c, f, more);
		return;
	}
	if (!c->hello) {
		mig__log(MIG_LOG_WARN, "local client sent %u before HELLO",
		    f->type);
		mig__client_close(c);
		return;
	}
	if (mig__deliver_client(c, f) != 0) {
		mig__log(MIG_LOG_WARN, "local client sent unexpected type %u",
		    f->type);
		mig__client_close(c);
	}
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct client *c = h->data;

	/* Small to start with: a thousand waiting stubs each hold one. It
	 * doubles as a big frame needs. */
	if (mig_buf_reserve(&c->in, 16 << 10) != 0) {
		*buf = uv_buf_init(NULL, 0);
		return;
	}
	*buf = uv_buf_init((char *)c->in.data + c->in.len,
	    (unsigned)(c->in.cap - c->in.len));
}

static void
on_client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct client *c = s->data;
	size_t off = 0;

	if (n < 0) {
		mig__client_close(c);
		return;
	}
	c->in.len += (size_t)n;
	while (!c->closing) {
		struct mig_frame f;
		int r = mig_frame_decode(c->in.data + off, c->in.len - off, &f);
		if (r == MIG_EAGAIN)
			break;
		if (r != 0) {
			mig__log(MIG_LOG_WARN,
			    "local client: %s; dropping it", mig_strerror(r));
			mig__client_close(c);
			return;
		}
		off += MIG_FRAME_HDR + f.len;
		dispatch(c, &f, c->in.len > off);
	}
	if (!c->closing)
		mig_buf_consume(&c->in, off);
}

static struct client *
client_new(struct homed *d)
{
	struct client *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->d = d;
	uv_pipe_init(d->loop, &c->pipe, 0);
	c->pipe.data = c;
	TAILQ_INSERT_TAIL(&d->clients, c, entry);
	return c;
}

int
mig__client_adopt(struct homed *d, int fd)
{
	struct client *c;

	if ((c = client_new(d)) == NULL) {
		mig__close(fd);
		return ENOMEM;
	}
	if (uv_pipe_open(&c->pipe, fd) != 0) {
		mig__close(fd);
		mig__client_close(c);
		return EBADF;
	}
	uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_client_read);
	return 0;
}

static void
on_connection(uv_stream_t *server, int status)
{
	struct homed *d = server->data;
	struct client *c;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	uv_os_fd_t fd;

	if (status != 0 || (c = client_new(d)) == NULL)
		return;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) != 0) {
		mig__client_close(c);
		return;
	}
	if (uv_fileno((uv_handle_t *)&c->pipe, &fd) != 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
	    cred.uid != geteuid()) {
		mig__log(MIG_LOG_WARN, "refused a local client of another user");
		mig__client_close(c);
		return;
	}
	uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_client_read);
}

int
mig__control_start(struct homed *d)
{
	mode_t old;
	int r;

	unlink(d->sockpath);
	if ((r = uv_pipe_init(d->loop, &d->control, 0)) != 0)
		return r;
	d->control.data = d;
	old = umask(077);
	r = uv_pipe_bind(&d->control, d->sockpath);
	umask(old);
	if (r != 0)
		return r;
	if (chmod(d->sockpath, 0600) == -1)
		return MIG__ERR(errno);
	return uv_listen((uv_stream_t *)&d->control, 64, on_connection);
}

void
mig__control_stop(struct homed *d)
{
	struct client *c;

	TAILQ_FOREACH(c, &d->clients, entry)
		mig__client_close(c);
	mig__clients_reap(d);
	if (!uv_is_closing((uv_handle_t *)&d->control))
		uv_close((uv_handle_t *)&d->control, NULL);
	unlink(d->sockpath);
}
