/*
 * call.c: a placed process's calls that must act at home (calls.def).
 * One blocking round trip through this host's daemon, which sends the
 * call home over its link: no heap, no state kept between calls.
 *
 * The round trip has a deadline, MIG_CALL_TIMEOUT_MS (30 s unless the
 * environment says otherwise, in milliseconds; tests shorten it). A
 * live link answers in a round trip, and a dead one is noticed within
 * the ping timeout (6 s by default) and answered with EHOSTUNREACH by
 * the host daemon (host/desc.c), its job killed: the deadline is for a
 * daemon that hangs, whose job would otherwise hang with it. Once a
 * request is sent and the deadline passes, the call fails rather than
 * acting here, since home may still act on it later: kill and killpg
 * return -1 with EAGAIN. A process started here (fork, posix_spawn)
 * already runs when its home pid is asked for, so it keeps its pid on
 * this host, as when home has none to give (pid.c).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mig/proto.h"
#include "preload.h"
#include "rundir.h"

#define CALL_TIMEOUT_MS 30000

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

/* The deadline, read once (a signal handler may be the first to call:
 * getenv takes no lock). */
static int
timeout_ms(void)
{
	static int ms;
	int v = __atomic_load_n(&ms, __ATOMIC_RELAXED);
	const char *e;
	char *end;
	long l;

	if (v > 0)
		return v;
	v = CALL_TIMEOUT_MS;
	if ((e = getenv("MIG_CALL_TIMEOUT_MS")) != NULL && *e != '\0') {
		l = strtol(e, &end, 10);
		if (*end == '\0' && l > 0 && l <= 3600000)
			v = (int)l;
	}
	__atomic_store_n(&ms, v, __ATOMIC_RELAXED);
	return v;
}

static int64_t
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Moves n bytes, waiting no later than end (now_ms()); -1 on a closed
 * socket, an error or the deadline. */
static int
io(int fd, void *p, size_t n, int writing, int64_t end)
{
	struct pollfd pf = { fd, writing ? POLLOUT : POLLIN, 0 };
	char *c = p;

	while (n > 0) {
		int64_t left = end - now_ms();
		ssize_t r;
		if (left <= 0)
			return -1;
		if (poll(&pf, 1, (int)left) == 0)
			return -1;
		r = writing ? send(fd, c, n, MSG_DONTWAIT | MSG_NOSIGNAL) :
			      recv(fd, c, n, MSG_DONTWAIT);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Reads and drops n bytes: frames we do not want may be of any length
 * (the daemon's HELLO carries its host name). */
static int
skip(int fd, size_t n, int64_t end)
{
	uint8_t junk[256];

	while (n > 0) {
		size_t k = n < sizeof(junk) ? n : sizeof(junk);
		if (io(fd, junk, k, 0, end) != 0)
			return -1;
		n -= k;
	}
	return 0;
}

/*
 * One request to this host's daemon and its answer: HELLO and the frame
 * of type `type` go out, frames come back until one of type `want`,
 * whose payload (exactly rlen bytes) lands in reply. 0; -1 when the
 * daemon could not be asked; NO_ANSWER when it was, but no answer came
 * by the deadline (or the daemon went). Nothing is sent unless the
 * socket's folder is the user's own and the daemon on it runs as the
 * user (rundir.c): otherwise the caller acts here, as it does without a
 * daemon.
 */
#define NO_ANSWER (-2)
static int
roundtrip(uint16_t type, const uint8_t *p, size_t plen, uint16_t want,
    uint8_t *reply, size_t rlen)
{
	uint8_t msg[2 * MIG_FRAME_HDR + 4 + 512];
	uint8_t in[MIG_FRAME_HDR + 64];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, r = -1, ms = timeout_ms();
	/* connect() waits while the daemon's backlog is full. */
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	int64_t end = now_ms() + ms;

	if (mig__shim.sock[0] == '\0' || plen > 512 ||
	    strlen(mig__shim.sock) >= sizeof(sun.sun_path))
		return -1;
	strcpy(sun.sun_path, mig__shim.sock);
	header(msg, 4, MIG_M_HELLO, 0);
	put32(msg + MIG_FRAME_HDR, MIG_PROTO_VERSION);
	header(msg + MIG_FRAME_HDR + 4, (uint32_t)plen, type, mig__shim.job);
	memcpy(msg + 2 * MIG_FRAME_HDR + 4, p, plen);
	if (mig__sock_dir_check(mig__shim.sock, NULL, 0) != 0 ||
	    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    mig__peer_check(fd, mig__shim.sock, NULL, 0) != 0 ||
	    io(fd, msg, 2 * MIG_FRAME_HDR + 4 + plen, 1, end) != 0)
		goto out;
	r = NO_ANSWER;
	for (;;) {
		uint32_t len;
		if (io(fd, in, MIG_FRAME_HDR, 0, end) != 0)
			goto out;
		len = get32(in);
		if ((in[4] | in[5] << 8) != want) {
			if (len > MIG_FRAME_MAX || skip(fd, len, end) != 0)
				goto out;
			continue;
		}
		if (len > sizeof(in) - MIG_FRAME_HDR ||
		    io(fd, in + MIG_FRAME_HDR, len, 0, end) != 0)
			goto out;
		if (len == rlen) {
			memcpy(reply, in + MIG_FRAME_HDR, rlen);
			r = 0;
		}
		goto out;
	}
 out:
	close(fd);
	return r;
}

int
mig__call(int call, int nargs, const long *args, long *ret)
{
	uint8_t p[12 + 8 * MIG_CALL_MAXARGS], reply[16];
	size_t n = 12;
	int saved = errno, r;

	if (nargs > MIG_CALL_MAXARGS)
		return -1;
	put32(p, 0);
	put32(p + 4, (uint32_t)call);
	put32(p + 8, (uint32_t)nargs);
	for (int i = 0; i < nargs; i++, n += 8) {
		put32(p + n, (uint32_t)(unsigned long)args[i]);
		put32(p + n + 4, (uint32_t)((unsigned long)args[i] >> 32));
	}
	if ((r = roundtrip(MIG_M_CALL, p, n, MIG_M_CALLRET, reply,
	    sizeof(reply))) == NO_ANSWER) {
		*ret = -1;
		errno = EAGAIN;
		return 0;
	}
	if (r != 0) {
		errno = saved;
		return -1;
	}
	*ret = (long)((uint64_t)get32(reply + 4) |
	    (uint64_t)get32(reply + 8) << 32);
	errno = *ret == -1 ? (int)get32(reply + 12) : saved;
	return 0;
}

pid_t
mig__hold(pid_t host_pid, const char *what)
{
	uint8_t p[12 + 256], reply[8];
	size_t n = strlen(what);
	int saved = errno;
	int32_t home;

	if (n > 255)
		n = 255;
	put32(p, 0);
	put32(p + 4, (uint32_t)host_pid);
	put32(p + 8, (uint32_t)n);
	memcpy(p + 12, what, n);
	home = roundtrip(MIG_M_HOLD, p, 12 + n, MIG_M_HOLDRET, reply,
	    sizeof(reply)) == 0 ? (int32_t)get32(reply + 4) : -1;
	errno = saved;
	return home > 0 ? home : -1;
}
