/*
 * relay.c: a job's stdio over its link.
 *
 *   stdout/stderr: read while fewer than MIG_WINDOW bytes wait for the
 *                  home's OUTPUT_ACK, sent as OUTPUT, then OUTPUT_EOF;
 *   stdin:         INPUT written to the job's pipe, INPUT_ACKed once
 *                  written; INPUT_EOF closes it, and a job that stops
 *                  reading gets its pipe closed and the home an
 *                  INPUT_CLOSE.
 */
#include <stdlib.h>
#include <string.h>

#include "homed.h"

struct swrite {
	uv_write_t req;
	struct rjob *rj;
	uv_buf_t buf;
	uint8_t data[];
};

void
mig__relay_close(struct rjob *rj, int fd)
{
	if (!rj->open[fd])
		return;
	rj->open[fd] = 0;
	uv_close((uv_handle_t *)&rj->pipes[fd], mig__rjob_handle_closed);
}

static void
output_done(struct rjob *rj, int fd)
{
	mig__relay_close(rj, fd);
	if (!rj->done[fd])
		mig__rjob_output_done(rj, fd);
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static char chunk[MIG_CHUNK];

	/* Each read is sent on before the next one starts, so one buffer
	 * serves every job. */
	*buf = uv_buf_init(chunk, sizeof(chunk));
}

static void
on_output(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct rjob *rj = s->data;
	int fd = s == (uv_stream_t *)&rj->pipes[1] ? 1 : 2;

	if (n == 0)
		return;
	if (n < 0) {
		mig__rjob_send(rj, MIG_M_OUTPUT_EOF, (uint16_t)fd, NULL, 0);
		output_done(rj, fd);
		return;
	}
	mig__rjob_send(rj, MIG_M_OUTPUT, (uint16_t)fd, buf->base, (size_t)n);
	rj->unacked[fd] += (size_t)n;
	if (rj->unacked[fd] >= MIG_WINDOW) {
		uv_read_stop(s);
		rj->reading[fd] = 0;
	}
}

void
mig__relay_start(struct rjob *rj)
{
	for (int i = 1; i < 3; i++) {
		if (!rj->open[i])
			continue;
		rj->reading[i] = 1;
		uv_read_start((uv_stream_t *)&rj->pipes[i], on_alloc, on_output);
	}
}

static void
on_stdin_written(uv_write_t *req, int status)
{
	struct swrite *w = (struct swrite *)req;
	struct rjob *rj = w->rj;

	if (status == 0) {
		uint8_t p[4];
		for (int i = 0; i < 4; i++)
			p[i] = (uint8_t)(w->buf.len >> (8 * i));
		mig__rjob_send(rj, MIG_M_INPUT_ACK, 0, p, sizeof(p));
	} else if (status != UV_ECANCELED && rj->open[0]) {
		/* The job closed its stdin: tell the stub to stop. */
		mig__relay_close(rj, 0);
		mig__rjob_send(rj, MIG_M_INPUT_CLOSE, 0, NULL, 0);
	}
	free(w);
}

static void
on_stdin_shutdown(uv_shutdown_t *req, int status)
{
	struct rjob *rj = req->data;

	mig__relay_close(rj, 0);
	free(req);
}

static struct rjob *
running(struct link *l, const struct mig_frame *f)
{
	struct rjob *rj = mig__rjob_find(l, f->stream);

	return rj != NULL && rj->fsm.state != RJOB_DONE ? rj : NULL;
}

static void
on_input(struct link *l, const struct mig_frame *f)
{
	struct rjob *rj = running(l, f);
	struct swrite *w;

	if (rj == NULL || !rj->open[0] || f->len == 0)
		return;
	if ((w = malloc(sizeof(*w) + f->len)) == NULL)
		return;
	memcpy(w->data, f->payload, f->len);
	w->rj = rj;
	w->buf = uv_buf_init((char *)w->data, f->len);
	if (uv_write(&w->req, (uv_stream_t *)&rj->pipes[0], &w->buf, 1,
	    on_stdin_written) != 0) {
		free(w);
		mig__relay_close(rj, 0);
		mig__rjob_send(rj, MIG_M_INPUT_CLOSE, 0, NULL, 0);
	}
}

static void
on_input_eof(struct link *l, const struct mig_frame *f)
{
	struct rjob *rj = running(l, f);
	uv_shutdown_t *sr;

	if (rj == NULL || !rj->open[0])
		return;
	if ((sr = malloc(sizeof(*sr))) == NULL ||
	    uv_shutdown(sr, (uv_stream_t *)&rj->pipes[0],
		on_stdin_shutdown) != 0) {
		free(sr);
		mig__relay_close(rj, 0);
		return;
	}
	sr->data = rj;
}

static void
on_output_ack(struct link *l, const struct mig_frame *f)
{
	struct rjob *rj = running(l, f);
	struct mig_rd rd;
	uint32_t v;
	int fd = f->flags;

	proto_rd_init(&rd, f->payload, f->len);
	if (rj == NULL || fd < 1 || fd > 2 || proto_get_u32(&rd, &v) != 0)
		return;
	rj->unacked[fd] -= v < rj->unacked[fd] ? v : rj->unacked[fd];
	if (rj->open[fd] && !rj->reading[fd] && rj->unacked[fd] < MIG_WINDOW) {
		rj->reading[fd] = 1;
		uv_read_start((uv_stream_t *)&rj->pipes[fd], on_alloc,
		    on_output);
	}
}

/* Nobody reads this output at home any more: closing our end gives the
 * job SIGPIPE, as a local pipe would. */
static void
on_output_close(struct link *l, const struct mig_frame *f)
{
	struct rjob *rj = running(l, f);

	if (rj != NULL && (f->flags == 1 || f->flags == 2))
		output_done(rj, f->flags);
}

void
mig__relay_init(struct homed *d)
{
	mig__on_link_frame(d, MIG_M_INPUT, on_input);
	mig__on_link_frame(d, MIG_M_INPUT_EOF, on_input_eof);
	mig__on_link_frame(d, MIG_M_OUTPUT_ACK, on_output_ack);
	mig__on_link_frame(d, MIG_M_OUTPUT_CLOSE, on_output_close);
}
