/* proto.c: frames and flat payloads (include/mig/proto.h). */
#include <stdlib.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "mig/mig.h"
#include "mig/proto.h"

static void
le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

int
mig_frame_decode(const uint8_t *p, size_t avail, struct mig_frame *f)
{
	if (avail < MIG_FRAME_HDR)
		return MIG_EAGAIN;
	f->len = rd32(p);
	f->type = (uint16_t)(p[4] | p[5] << 8);
	f->flags = (uint16_t)(p[6] | p[7] << 8);
	f->stream = rd32(p + 8);
	f->payload = p + MIG_FRAME_HDR;
	if (f->type == 0 || f->type >= MIG_M__COUNT)
		return MIG_EPROTO;
	if (f->len > MIG_FRAME_MAX)
		return MIG_ETOOBIG;
	if (avail - MIG_FRAME_HDR < f->len)
		return MIG_EAGAIN;
	return 0;
}

int
mig_buf_reserve(struct mig_buf *b, size_t more)
{
	size_t cap;
	uint8_t *p;

	if (b->cap - b->len >= more)
		return 0;
	if (more > SIZE_MAX / 2 - b->len)
		return MIG__ERR(ENOMEM);
	cap = b->cap ? b->cap : 256;
	while (cap - b->len < more)
		cap *= 2;
	if ((p = realloc(b->data, cap)) == NULL)
		return MIG__ERR(ENOMEM);
	b->data = p;
	b->cap = cap;
	return 0;
}

int
mig_buf_append(struct mig_buf *b, const void *p, size_t n)
{
	int r;

	if ((r = mig_buf_reserve(b, n)) != 0)
		return r;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

void
mig_buf_consume(struct mig_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

void
mig_buf_free(struct mig_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int
mig_frame_begin(struct mig_buf *b, uint16_t type, uint16_t flags,
    uint32_t stream, size_t *at)
{
	uint8_t h[MIG_FRAME_HDR];

	le32(h, 0);
	le16(h + 4, type);
	le16(h + 6, flags);
	le32(h + 8, stream);
	*at = b->len;
	return mig_buf_append(b, h, sizeof(h));
}

int
mig_frame_end(struct mig_buf *b, size_t at)
{
	size_t len = b->len - at - MIG_FRAME_HDR;

	if (len > MIG_FRAME_MAX) {
		b->len = at;
		return MIG_ETOOBIG;
	}
	le32(b->data + at, (uint32_t)len);
	return 0;
}

int
mig_frame_put(struct mig_buf *b, uint16_t type, uint16_t flags,
    uint32_t stream, const void *payload, size_t n)
{
	size_t at;
	int r;

	if (n > MIG_FRAME_MAX)
		return MIG_ETOOBIG;
	if ((r = mig_buf_reserve(b, MIG_FRAME_HDR + n)) != 0 ||
	    (r = mig_frame_begin(b, type, flags, stream, &at)) != 0 ||
	    (r = mig_buf_append(b, payload, n)) != 0)
		return r;
	return mig_frame_end(b, at);
}

int
proto_put_u16(struct mig_buf *b, uint16_t v)
{
	uint8_t p[2];

	le16(p, v);
	return mig_buf_append(b, p, sizeof(p));
}

int
proto_put_u32(struct mig_buf *b, uint32_t v)
{
	uint8_t p[4];

	le32(p, v);
	return mig_buf_append(b, p, sizeof(p));
}

int
proto_put_u64(struct mig_buf *b, uint64_t v)
{
	uint8_t p[8];

	le32(p, (uint32_t)v);
	le32(p + 4, (uint32_t)(v >> 32));
	return mig_buf_append(b, p, sizeof(p));
}

int
proto_put_bytes(struct mig_buf *b, const void *p, size_t n)
{
	int r;

	if (n > UINT32_MAX)
		return MIG_ETOOBIG;
	if ((r = proto_put_u32(b, (uint32_t)n)) != 0)
		return r;
	return mig_buf_append(b, p, n);
}

int
proto_put_str(struct mig_buf *b, const char *s)
{
	return proto_put_bytes(b, s, strlen(s));
}

int
proto_put_strv(struct mig_buf *b, char *const *v)
{
	uint32_t n = 0;
	int r;

	while (v[n] != NULL)
		n++;
	if ((r = proto_put_u32(b, n)) != 0)
		return r;
	for (uint32_t i = 0; i < n; i++)
		if ((r = proto_put_str(b, v[i])) != 0)
			return r;
	return 0;
}

void
proto_rd_init(struct mig_rd *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
}

static int
take(struct mig_rd *r, size_t n, const uint8_t **p)
{
	if (r->len - r->off < n)
		return MIG_EPROTO;
	*p = r->p + r->off;
	r->off += n;
	return 0;
}

int
proto_get_u16(struct mig_rd *r, uint16_t *v)
{
	const uint8_t *p;

	if (take(r, 2, &p) != 0)
		return MIG_EPROTO;
	*v = (uint16_t)(p[0] | p[1] << 8);
	return 0;
}

int
proto_get_u32(struct mig_rd *r, uint32_t *v)
{
	const uint8_t *p;

	if (take(r, 4, &p) != 0)
		return MIG_EPROTO;
	*v = rd32(p);
	return 0;
}

int
proto_get_u64(struct mig_rd *r, uint64_t *v)
{
	const uint8_t *p;

	if (take(r, 8, &p) != 0)
		return MIG_EPROTO;
	*v = (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
	return 0;
}

int
proto_get_bytes(struct mig_rd *r, const uint8_t **p, size_t *n)
{
	uint32_t len;

	if (proto_get_u32(r, &len) != 0 || take(r, len, p) != 0)
		return MIG_EPROTO;
	*n = len;
	return 0;
}

int
proto_get_str(struct mig_rd *r, char **s)
{
	const uint8_t *p;
	size_t n;
	char *c;

	*s = NULL;
	if (proto_get_bytes(r, &p, &n) != 0 || memchr(p, 0, n) != NULL)
		return MIG_EPROTO;
	if ((c = malloc(n + 1)) == NULL)
		return MIG__ERR(ENOMEM);
	memcpy(c, p, n);
	c[n] = '\0';
	*s = c;
	return 0;
}

int
proto_get_strv(struct mig_rd *r, char ***vp)
{
	uint32_t n;
	char **v = NULL;
	int rc = MIG_EPROTO;

	*vp = NULL;
	if (proto_get_u32(r, &n) != 0)
		goto out;
	/* Each string takes at least its 4-byte length: a count larger than
	 * the bytes left is malformed, whatever the allocator would say. */
	if (n > (r->len - r->off) / 4)
		goto out;
	if ((v = calloc((size_t)n + 1, sizeof(*v))) == NULL) {
		rc = MIG__ERR(ENOMEM);
		goto out;
	}
	for (uint32_t i = 0; i < n; i++)
		if ((rc = proto_get_str(r, &v[i])) != 0)
			goto out;
	*vp = v;
	v = NULL;
	rc = 0;
 out:
	mig_strv_free(v);
	return rc;
}

int
proto_rd_done(const struct mig_rd *r)
{
	return r->off == r->len ? 0 : MIG_EPROTO;
}

void
mig_strv_free(char **v)
{
	if (v == NULL)
		return;
	for (char **s = v; *s != NULL; s++)
		free(*s);
	free(v);
}
