/*
 * call.c: a placed process's calls that must act at home (calls.def).
 * One blocking round trip through this host's daemon, which sends the
 * call home over its link: no heap, no state kept between calls.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mig/proto.h"
#include "preload.h"

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
header(uint8_t *p, uint32_t len, uint16_t type, uint32_t stream)
{
	put32(p, len);
	p[4] = (uint8_t)type;
	p[5] = (uint8_t)(type >> 8);
	p[6] = p[7] = 0;
	put32(p + 8, stream);
}

static int
io(int fd, void *p, size_t n, int writing)
{
	char *c = p;

	while (n > 0) {
		ssize_t r = writing ? write(fd, c, n) : read(fd, c, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

int
mig__call(int call, int nargs, const long *args, long *ret)
{
	uint8_t msg[2 * MIG_FRAME_HDR + 4 + 12 + 8 * MIG_CALL_MAXARGS];
	uint8_t in[MIG_FRAME_HDR + 64];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t n = 0, plen = 12 + 8 * (size_t)nargs;
	int fd, saved = errno;

	if (mig__shim.sock[0] == '\0' || nargs > MIG_CALL_MAXARGS ||
	    strlen(mig__shim.sock) >= sizeof(sun.sun_path))
		return -1;
	strcpy(sun.sun_path, mig__shim.sock);
	header(msg, 4, MIG_M_HELLO, 0);
	put32(msg + MIG_FRAME_HDR, MIG_PROTO_VERSION);
	n = MIG_FRAME_HDR + 4;
	header(msg + n, (uint32_t)plen, MIG_M_CALL, mig__shim.job);
	n += MIG_FRAME_HDR;
	put32(msg + n, 0);
	put32(msg + n + 4, (uint32_t)call);
	put32(msg + n + 8, (uint32_t)nargs);
	n += 12;
	for (int i = 0; i < nargs; i++, n += 8) {
		put32(msg + n, (uint32_t)(unsigned long)args[i]);
		put32(msg + n + 4, (uint32_t)((unsigned long)args[i] >> 32));
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		goto fail;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    io(fd, msg, n, 1) != 0)
		goto fail_fd;
	/* HELLO comes back first; the answer is CALLRET. */
	for (;;) {
		uint32_t len;
		if (io(fd, in, MIG_FRAME_HDR, 0) != 0)
			goto fail_fd;
		len = get32(in);
		if (len > sizeof(in) - MIG_FRAME_HDR ||
		    io(fd, in + MIG_FRAME_HDR, len, 0) != 0)
			goto fail_fd;
		if ((in[4] | in[5] << 8) != MIG_M_CALLRET)
			continue;
		if (len != 16)
			goto fail_fd;
		close(fd);
		*ret = (long)((uint64_t)get32(in + MIG_FRAME_HDR + 4) |
		    (uint64_t)get32(in + MIG_FRAME_HDR + 8) << 32);
		errno = (int)get32(in + MIG_FRAME_HDR + 12);
		if (*ret != -1)
			errno = saved;
		return 0;
	}
 fail_fd:
	close(fd);
 fail:
	errno = saved;
	return -1;
}
