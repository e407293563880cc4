/*
 * hslink.c: see hslink.h.
 */
#include <stdlib.h>
#include <string.h>

#include "hslink.h"

struct hs_end *
hs_new(const char *name, const char *peer_name,
    const uint8_t key[MIG_KEY_BYTES], int initiator)
{
	struct hs_end *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	memcpy(e->key, key, MIG_KEY_BYTES);
	strlcpy(e->host.name, peer_name, sizeof(e->host.name));
	strlcpy(e->host.addr, "127.0.0.1", sizeof(e->host.addr));
	e->hosts.v = &e->host;
	e->hosts.n = 1;
	mig__hs_init(&e->hs, initiator, e->key, name,
	    initiator ? peer_name : NULL, &e->hosts);
	e->ev = MIG_HS_NEED_MORE;
	return e;
}

void
hs_free(struct hs_end *e)
{
	if (e == NULL)
		return;
	mig_buf_free(&e->in);
	mig_buf_free(&e->out);
	mig__hs_wipe(&e->hs);
	free(e);
}

int
hs_over(const struct hs_end *e)
{
	return e->ev == MIG_HS_PROVEN || e->ev == MIG_HS_FAIL;
}

void
hs_start(struct hs_end *e)
{
	e->ev = mig__hs_start(&e->hs, &e->out);
}

void
hs_feed(struct hs_end *e, const uint8_t *p, size_t n)
{
	size_t used;

	if (mig_buf_append(&e->in, p, n) != 0)
		abort();
	while (!hs_over(e)) {
		e->ev = mig__hs_step(&e->hs, e->in.data, e->in.len, &used,
		    &e->out);
		mig_buf_consume(&e->in, used);
		if (e->ev != MIG_HS_SEND)
			break;
	}
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
	return i->ev == MIG_HS_PROVEN && a->ev == MIG_HS_PROVEN ? 0 :
								 MIG_EAUTH;
}
