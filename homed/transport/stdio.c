/*
 * stdio.c: links over a process's stdio. Home runs a child (ssh) whose
 * stdin and stdout are one end of a socket pair and whose stderr is a
 * pipe; the host's end is a daemon that was handed the stdio of the
 * command ssh ran there (handover.c). Whoever runs the process chose
 * where it goes and the process authenticated it, so the link has no
 * key handshake: each side says its protocol version and name once
 *
 *   initiator -> acceptor   HELLO u32 version, str name, str build
 *   acceptor -> initiator   HELLO u32 version, str name, str build
 *
 * and the frames then travel as they are, not sealed (docs/security.md
 * says why ssh's channel is enough). When the child ends, its last line
 * on stderr is why the link went ("ssh: Permission denied
 * (publickey)."), in the log and in mig hosts.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "homed.h"

/* The child's end waits for its exit and its stderr's EOF this long
 * after the stream's EOF, then the link goes with what it has. */
#define MIG_STDIO_EOF_MS 5000
/* Of the child's stderr, the bytes kept while a line is incomplete. */
#define MIG_STDIO_ERR_MAX 4096

/* What the child watch keeps: the link's id, never the link. */
struct child_ref {
	struct homed *d;
	uint32_t link;
};

/* Why the child's end ended the link, into why. */
static void
child_reason(const struct link *l, char *why, size_t n)
{
	int st = l->child_status;
	const char *line = l->err_line, *colon;

	if (line[0] != '\0' && l->child_exited && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 255) {
		/* ssh's own failure: "user@host: Permission denied ..." or
		 * "ssh: connect to host ...", said as ssh's. */
		if (strncmp(line, "ssh: ", 5) == 0)
			line += 5;
		else if ((colon = strstr(line, ": ")) != NULL &&
		    memchr(line, ' ', (size_t)(colon - line)) == NULL)
			line = colon + 2;
		snprintf(why, n, "ssh: %s", line);
	} else if (line[0] != '\0') {
		snprintf(why, n, "%s", line);
	} else if (!l->child_exited) {
		snprintf(why, n, "closed by the peer");
	} else if (WIFSIGNALED(st)) {
		snprintf(why, n, "its ssh was killed by signal %d",
		    WTERMSIG(st));
	} else {
		snprintf(why, n, "its ssh exited with status %d",
		    WEXITSTATUS(st));
	}
}

/* Fails the link once the child's end is all known: exited, and its
 * stderr read to the end. */
static void
child_ended(struct link *l)
{
	char why[160];

	if (l->state >= LINK_FAILED || !l->child_exited || !l->err_eof)
		return;
	child_reason(l, why, sizeof(why));
	mig__link_fail(l, MIG_EHOSTDOWN, "%s", why);
}

static void
on_child_exit(void *arg, int status)
{
	struct child_ref *c = arg;
	struct link *l = mig__link_by_id(c->d, c->link);

	/* A link torn down first forgot the child (mig__stdio_reap), so
	 * this one is still there. */
	free(c);
	if (l == NULL)
		return;
	l->child_ref = NULL;
	l->child = 0;
	l->child_exited = 1;
	l->child_status = status;
	child_ended(l);
}

static void
on_eof_late(uv_timer_t *t)
{
	struct link *l = t->data;
	char why[160];

	child_reason(l, why, sizeof(why));
	mig__link_fail(l, MIG_EHOSTDOWN, "%s", why);
}

void
mig__stdio_eof(struct link *l)
{
	l->in_eof = 1;
	uv_read_stop(l->rd);
	if (l->child == 0 && !l->child_exited) {
		/* The caller's stdio (a home over ssh): nothing more to know. */
		mig__link_fail(l, MIG_ELINK, "closed by the peer");
		return;
	}
	child_ended(l);
	if (l->state < LINK_FAILED)
		uv_timer_start(&l->timer, on_eof_late, MIG_STDIO_EOF_MS, 0);
}

/* One line of the child's stderr: logged, and kept as the last word. */
static void
err_line(struct link *l, const char *p, size_t n)
{
	size_t k = 0;

	while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' '))
		n--;
	if (n == 0)
		return;
	for (size_t i = 0; i < n && k + 1 < sizeof(l->err_line); i++)
		l->err_line[k++] = p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '?';
	l->err_line[k] = '\0';
	mig__log(MIG_LOG_DEBUG, "link %s: stderr: %s", l->desc, l->err_line);
}

static void
err_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct link *l = h->data;

	if (mig_buf_reserve(&l->errbuf, 1024) != 0) {
		*buf = uv_buf_init(NULL, 0);
		return;
	}
	*buf = uv_buf_init((char *)l->errbuf.data + l->errbuf.len,
	    (unsigned)(l->errbuf.cap - l->errbuf.len));
}

static void
err_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct link *l = s->data;
	uint8_t *nl;

	if (n < 0) {
		if (l->errbuf.len > 0)
			err_line(l, (const char *)l->errbuf.data, l->errbuf.len);
		l->errbuf.len = 0;
		uv_read_stop(s);
		l->err_eof = 1;
		child_ended(l);
		return;
	}
	l->errbuf.len += (size_t)n;
	while ((nl = memchr(l->errbuf.data, '\n', l->errbuf.len)) != NULL) {
		size_t k = (size_t)(nl - l->errbuf.data);
		err_line(l, (const char *)l->errbuf.data, k);
		mig_buf_consume(&l->errbuf, k + 1);
	}
	if (l->errbuf.len > MIG_STDIO_ERR_MAX) {
		err_line(l, (const char *)l->errbuf.data, l->errbuf.len);
		l->errbuf.len = 0;
	}
}

/* In the child: the socket pair is its stdin and stdout, the pipe its
 * stderr; its own session, so no terminal of ours is its. */
static void __attribute__((noreturn))
child_exec(char *const argv[], int sock, int err)
{
	if (dup2(sock, 0) == -1 || dup2(sock, 1) == -1 || dup2(err, 2) == -1)
		_exit(126);
	setsid();
	execvp(argv[0], argv);
	dprintf(2, "mig: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static void
pipe_handle(struct link *l, uv_pipe_t *p)
{
	uv_pipe_init(l->d->loop, p, 0);
	p->data = l;
	l->handles++;
}

int
mig__stdio_spawn(struct peer *p, char *const argv[], enum link_state st,
    struct link **out)
{
	struct homed *d = p->d;
	int sv[2] = { -1, -1 }, ep[2] = { -1, -1 }, r;
	struct child_ref *ref = NULL;
	struct link *l;
	pid_t pid;

	*out = NULL;
	if ((l = mig__link_new(d, 1)) == NULL)
		return MIG__ERR(ENOMEM);
	l->peer = p;
	p->dialing = l;
	l->stdio = l->plain = 1;
	strlcpy(l->desc, p->name, sizeof(l->desc));
	pipe_handle(l, &l->pin);
	pipe_handle(l, &l->perr);
	l->rd = l->wr = (uv_stream_t *)&l->pin;
	*out = l;
	if ((ref = malloc(sizeof(*ref))) == NULL ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1 ||
	    pipe2(ep, O_CLOEXEC) == -1) {
		r = ref == NULL ? MIG__ERR(ENOMEM) : MIG__ERR(errno);
		goto out;
	}
	if ((pid = mig__fork()) == -1) {
		r = MIG__ERR(errno);
		goto out;
	}
	if (pid == 0)
		child_exec(argv, sv[1], ep[1]);
	ref->d = d;
	ref->link = l->id;
	if ((r = mig__child_watch(d, pid, on_child_exit, ref)) != 0) {
		kill(pid, SIGKILL);
		goto out;
	}
	l->child_ref = ref;
	ref = NULL;
	l->child = pid;
	uv_pipe_open(&l->pin, sv[0]);
	uv_pipe_open(&l->perr, ep[0]);
	sv[0] = ep[0] = -1;
	uv_read_start((uv_stream_t *)&l->perr, err_alloc, err_read);
	mig__link_start_read(l, st);
	r = 0;
 out:
	free(ref);
	mig__close(sv[0]);
	mig__close(sv[1]);
	mig__close(ep[0]);
	mig__close(ep[1]);
	if (r != 0) {
		l->err_eof = 1;
		mig__link_fail(l, MIG_ELINK, "cannot start %s: %s", argv[0],
		    mig_strerror(r));
	}
	return r;
}

static void
on_hs_late(uv_timer_t *t)
{
	struct link *l = t->data;

	mig__link_fail(l, l->initiator ? MIG_EHOSTDOWN : MIG_ELINK,
	    "no handshake within %u ms", l->deadline);
}

int
mig__stdio_adopt(struct homed *d, uv_pipe_t *ipc, int hold, const char *from)
{
	struct link *l;
	int ok;

	if ((l = mig__link_new(d, 0)) == NULL) {
		mig__close(hold);
		return MIG__ERR(ENOMEM);
	}
	l->hold = hold;
	l->stdio = l->plain = 1;
	l->err_eof = 1;
	strlcpy(l->desc, from, sizeof(l->desc));
	strlcpy(l->from, from, sizeof(l->from));
	pipe_handle(l, &l->pin);
	l->rd = l->wr = (uv_stream_t *)&l->pin;
	ok = uv_accept((uv_stream_t *)ipc, l->rd) == 0;
	if (ok && uv_pipe_pending_count(ipc) > 0) {
		pipe_handle(l, &l->pout);
		l->wr = (uv_stream_t *)&l->pout;
		ok = uv_accept((uv_stream_t *)ipc, l->wr) == 0;
	}
	if (!ok) {
		mig__link_fail(l, MIG_ELINK, "cannot use the stdio handed over");
		return MIG_ELINK;
	}
	mig__link_start_read(l, LINK_HANDSHAKE);
	l->deadline = MIG_HANDSHAKE_MS;
	uv_timer_start(&l->timer, on_hs_late, l->deadline, 0);
	return 0;
}

static void
put_hello(struct link *l)
{
	struct mig_buf b = { NULL, 0, 0 }, f = { NULL, 0, 0 };

	if (mig__hello_plain_put(&b, l->d->name, mig_build_string()) != 0 ||
	    mig_frame_put(&f, MIG_M_HELLO, 0, 0, b.data, b.len) != 0)
		mig__link_fail(l, MIG_ELINK, "cannot make HELLO");
	else
		mig__link_write(l, f.data, f.len);
	mig_buf_free(&b);
	mig_buf_free(&f);
}

void
mig__stdio_hello(struct link *l)
{
	l->state = LINK_HANDSHAKE;
	put_hello(l);
}

/* One HELLO: the acceptor names the peer and answers; both are up. */
static void
on_hello(struct link *l, const struct mig_frame *f)
{
	char name[MIG_NAME_MAX], build[MIG_BUILD_MAX];
	uint32_t version;
	int r;

	r = mig__hello_plain_parse(f->payload, f->len, &version, name, build);
	if (r == MIG_EVERSION) {
		mig__link_fail(l, MIG_EVERSION, "protocol version mismatch: it "
		    "speaks %u, we speak %d", version, MIG_PROTO_VERSION);
		return;
	}
	if (r != 0) {
		mig__link_fail(l, MIG_EPROTO, "malformed HELLO");
		return;
	}
	if (!l->initiator) {
		if (strcmp(name, l->d->name) == 0) {
			mig__link_fail(l, MIG_EAUTH, "it calls itself '%s', as "
			    "this host is called", name);
			return;
		}
		if ((l->peer = mig__peer_answer(l->d, name)) == NULL) {
			mig__link_fail(l, MIG_ELINK, "out of memory");
			return;
		}
		snprintf(l->desc, sizeof(l->desc), "%s (%s)", name, l->from);
		put_hello(l);
		if (l->state != LINK_HANDSHAKE)
			return;
	}
	mig__log(MIG_LOG_INFO, "link %s: it runs %s", l->desc, build);
	strlcpy(l->build, build, sizeof(l->build));
	l->proto = version;
	mig__link_up(l);
}

size_t
mig__stdio_hs_read(struct link *l)
{
	size_t off = 0;

	while (l->state == LINK_HANDSHAKE) {
		const uint8_t *p = l->in.data + off;
		size_t n = l->in.len - off;
		struct mig_frame f;
		int r;

		if (n >= 4 && ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
		    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24) >
		    MIG_HANDSHAKE_FRAME_MAX) {
			mig__link_fail(l, MIG_EPROTO,
			    "malformed handshake: message too large");
			break;
		}
		if ((r = mig_frame_decode(p, n, &f)) == MIG_EAGAIN)
			break;
		if (r != 0 || f.type != MIG_M_HELLO || f.flags != 0 ||
		    f.stream != 0) {
			mig__link_fail(l, MIG_EPROTO, "malformed handshake");
			break;
		}
		off += MIG_FRAME_HDR + f.len;
		on_hello(l, &f);
	}
	return off;
}

void
mig__stdio_reap(struct link *l, uv_close_cb closed)
{
	uv_close((uv_handle_t *)&l->pin, closed);
	if (l->wr == (uv_stream_t *)&l->pout)
		uv_close((uv_handle_t *)&l->pout, closed);
	if (l->perr.type == UV_NAMED_PIPE)
		uv_close((uv_handle_t *)&l->perr, closed);
	/* Still in the children table until reaped: the pid is ours. It
	 * is reaped as any child, and its watch, with nobody left to tell,
	 * goes now. */
	if (l->child != 0) {
		kill(l->child, SIGTERM);
		mig__child_forget(l->d, l->child);
		free(l->child_ref);
		l->child_ref = NULL;
	}
	if (!l->initiator) {
		/* mig-homed --stdio, which waits for this, ends; so does the
		 * session ssh runs it in. */
		mig__close(l->hold);
		l->hold = -1;
	}
}
