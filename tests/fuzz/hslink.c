/*
 * hslink.c: see hslink.h. The functions of link.c that handshake.c
 * calls, for ends without a socket.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hslink.h"

static struct hs_end *
end_of(struct link *l)
{
	return (struct hs_end *)((char *)l - offsetof(struct hs_end, l));
}

struct peer *
mig__peer_find(struct homed *d, const char *name)
{
	struct hs_end *e = (struct hs_end *)((char *)d -
	    offsetof(struct hs_end, d));

	return strcmp(e->peer.name, name) == 0 ? &e->peer : NULL;
}

void
mig__link_fail(struct link *l, int code, const char *fmt, ...)
{
	va_list ap;

	if (l->state == LINK_FAILED || l->state == LINK_CLOSED)
		return;
	va_start(ap, fmt);
	vsnprintf(l->fail_why, sizeof(l->fail_why), fmt, ap);
	va_end(ap);
	l->fail_code = code;
	l->state = LINK_FAILED;
}

int
mig__link_write_plain(struct link *l, const struct mig_buf *frame)
{
	return mig_buf_append(&end_of(l)->out, frame->data, frame->len);
}

void
mig__link_up(struct link *l)
{
	l->state = LINK_UP;
	l->was_up = 1;
}

struct hs_end *
hs_new(const char *name, const char *peer_name,
    const uint8_t key[MIG_KEY_BYTES], int initiator)
{
	struct hs_end *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	strlcpy(e->d.name, name, sizeof(e->d.name));
	strlcpy(e->d.confdir, "/nonexistent", sizeof(e->d.confdir));
	memcpy(e->d.key, key, MIG_KEY_BYTES);
	e->d.have_key = 1;
	strlcpy(e->peer.name, peer_name, sizeof(e->peer.name));
	e->peer.d = &e->d;
	e->l.d = &e->d;
	e->l.initiator = initiator;
	e->l.state = LINK_HELLO;
	if (initiator)
		e->l.peer = &e->peer;
	strlcpy(e->l.desc, "test", sizeof(e->l.desc));
	return e;
}

void
hs_free(struct hs_end *e)
{
	if (e == NULL)
		return;
	mig_buf_free(&e->l.in);
	mig_buf_free(&e->l.plain);
	mig_buf_free(&e->out);
	mig__session_wipe(&e->l.sess);
	free(e);
}

void
hs_start(struct hs_end *e)
{
	mig__handshake_start(&e->l);
}

void
hs_feed(struct hs_end *e, const uint8_t *p, size_t n)
{
	size_t off;

	if (e->l.state >= LINK_FAILED || n == 0)
		return;
	if (mig_buf_append(&e->l.in, p, n) != 0) {
		mig__link_fail(&e->l, MIG_EINTERNAL, "out of memory");
		return;
	}
	off = mig__handshake_read(&e->l);
	if (e->l.state < LINK_FAILED)
		mig_buf_consume(&e->l.in, off);
}

void
hs_pass(struct hs_end *from, struct hs_end *to)
{
	struct mig_buf b = from->out;

	memset(&from->out, 0, sizeof(from->out));
	hs_feed(to, b.data, b.len);
	mig_buf_free(&b);
}

int
hs_run(struct hs_end *i, struct hs_end *a)
{
	hs_start(i);
	hs_pass(i, a); /* HELLO */
	hs_pass(a, i); /* HELLO with proof_a */
	hs_pass(i, a); /* AUTH */
	return i->l.state == LINK_UP && a->l.state == LINK_UP ? 0 : MIG_EAUTH;
}
