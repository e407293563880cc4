/*
 * fspeer.c: a peer of the user's cluster over which home never placed a
 * job (fsguard.bats). It holds the cluster's key, so the real handshake
 * (homed/transport/handshake.c, through ../fuzz/hslink.c) passes; then it
 * says it serves (MIG_M_FS_MODE), as a host that can would, and sends one
 * request of the served view:
 *
 *   fspeer KEYFILE NAME HOME SRC ADDR PORT lstat PATH
 *   fspeer KEYFILE NAME HOME SRC ADDR PORT fetch PATH OFF
 *
 * NAME is the hosts file's name it claims, HOME the daemon's. It prints
 * "errno N bytes M" (M: the bytes a FETCH got) for home's answer and
 * exits 0; 1 when the link failed or no answer came within 20 seconds;
 * 2 on a usage error. Loopback only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"
#include "homed.h"
#include "hslink.h"

static int sock = -1;
static struct timespec deadline;

static void __attribute__((noreturn))
fail(const char *what)
{
	fprintf(stderr, "fspeer: %s\n", what);
	exit(1);
}

static void
write_all(const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		if ((w = write(sock, c, n)) < 0) {
			if (errno == EINTR)
				continue;
			fail("write failed");
		}
		c += w;
		n -= (size_t)w;
	}
}

/* Some bytes from home into b; fails at the deadline or at its close. */
static void
read_some(struct mig_buf *b)
{
	uint8_t buf[65536];
	struct timespec now;
	struct pollfd p = { sock, POLLIN, 0 };
	long ms;
	ssize_t n;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (deadline.tv_sec - now.tv_sec) * 1000 +
	    (deadline.tv_nsec - now.tv_nsec) / 1000000;
	if (ms <= 0 || poll(&p, 1, (int)ms) <= 0)
		fail("no answer in time");
	if ((n = read(sock, buf, sizeof(buf))) <= 0)
		fail("home closed the link");
	if (mig_buf_append(b, buf, (size_t)n) != 0)
		fail("out of memory");
}

/* Sends one frame as a sealed record. */
static void
send_frame(struct hs_end *e, uint16_t type, uint16_t flags, uint32_t stream,
    const struct mig_buf *payload)
{
	struct mig_buf f = { NULL, 0, 0 };
	uint8_t *rec;

	if (mig_frame_put(&f, type, flags, stream, payload->data,
	    payload->len) != 0 ||
	    (rec = malloc(f.len + MIG_RECORD_OVERHEAD)) == NULL ||
	    mig__record_seal(&e->hs.sess, f.data, f.len, rec) != 0)
		fail("cannot seal a frame");
	write_all(rec, f.len + MIG_RECORD_OVERHEAD);
	free(rec);
	mig_buf_free(&f);
}

int
main(int argc, char **argv)
{
	uint8_t key[MIG_KEY_BYTES], zero[MIG_HASH_BYTES];
	struct mig_buf in = { NULL, 0, 0 }, plain = { NULL, 0, 0 };
	struct mig_buf p = { NULL, 0, 0 };
	struct sockaddr_in src, dst;
	struct mig_frame f;
	struct mig_rd rd;
	struct hs_end *e;
	const uint8_t *data;
	char err[512];
	uint16_t op;
	uint32_t errnum;
	size_t used, n = 0;
	int r;

	if (argc < 9 || (strcmp(argv[7], "lstat") == 0 && argc != 9) ||
	    (strcmp(argv[7], "fetch") == 0 && argc != 10) ||
	    (strcmp(argv[7], "lstat") != 0 && strcmp(argv[7], "fetch") != 0)) {
		fprintf(stderr, "usage: fspeer KEYFILE NAME HOME SRC ADDR PORT "
		    "lstat PATH | fetch PATH OFF\n");
		return 2;
	}
	if (strncmp(argv[4], "127.", 4) != 0 || strncmp(argv[5], "127.", 4) != 0) {
		fprintf(stderr, "fspeer: loopback addresses only\n");
		return 2;
	}
	if (mig__crypto_init() != 0)
		fail("libsodium failed to start");
	if (mig__key_load(argv[1], key, err, sizeof(err)) != 0)
		fail(err);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += 20;
	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	src.sin_family = dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)atoi(argv[6]));
	if (inet_pton(AF_INET, argv[4], &src.sin_addr) != 1 ||
	    inet_pton(AF_INET, argv[5], &dst.sin_addr) != 1)
		fail("bad address");
	if ((sock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(sock, (struct sockaddr *)&src, sizeof(src)) != 0 ||
	    connect(sock, (struct sockaddr *)&dst, sizeof(dst)) != 0)
		fail("cannot connect");

	/* The handshake, as a daemon named NAME that dials HOME. */
	if ((e = hs_new(argv[2], argv[3], key, 1)) == NULL)
		fail("out of memory");
	hs_start(e);
	for (;;) {
		write_all(e->out.data, e->out.len);
		e->out.len = 0;
		if (hs_over(e))
			break;
		read_some(&in);
		hs_feed(e, in.data, in.len);
		in.len = 0;
	}
	if (e->ev != MIG_HS_PROVEN)
		fail(e->hs.why);

	proto_put_u32(&p, MIG_FILES_AUTO);
	proto_put_u32(&p, 1);
	proto_put_str(&p, "");
	send_frame(e, MIG_M_FS_MODE, 0, 0, &p);
	p.len = 0;
	proto_put_str(&p, argv[8]);
	op = MIG_FS_LSTAT;
	if (strcmp(argv[7], "fetch") == 0) {
		op = MIG_FS_FETCH;
		memset(zero, 0, sizeof(zero));
		proto_put_bytes(&p, zero, sizeof(zero));
		proto_put_u64(&p, strtoull(argv[9], NULL, 0));
		proto_put_u32(&p, 64);
	}
	send_frame(e, MIG_M_FS_REQ, op, 1, &p);

	/* What the handshake left, then more, until the answer. */
	if (mig_buf_append(&in, e->in.data, e->in.len) != 0)
		fail("out of memory");
	for (;;) {
		r = mig__record_open(&e->hs.sess, in.data, in.len, &plain, &f,
		    &used);
		if (r == MIG_EAGAIN) {
			read_some(&in);
			continue;
		}
		if (r != 0)
			fail("a record from home did not open");
		if (f.type == MIG_M_FS_REP && f.stream == 1)
			break;
		mig_buf_consume(&in, used);
	}
	proto_rd_init(&rd, f.payload, f.len);
	if (proto_get_u32(&rd, &errnum) != 0)
		fail("malformed answer");
	if (errnum == 0 && op == MIG_FS_FETCH &&
	    proto_get_bytes(&rd, &data, &n) != 0)
		fail("malformed answer");
	printf("errno %u bytes %zu\n", errnum, n);
	mig_buf_free(&in);
	mig_buf_free(&plain);
	mig_buf_free(&p);
	hs_free(e);
	close(sock);
	return 0;
}
