/*
 * delayproxy.c: bench/build's emulated LAN. It listens on loopback
 * addresses and forwards each connection to a target, holding every byte
 * for a fixed time in each direction, as a network with that one-way
 * latency would (the kernel here has no tc netem). Bandwidth stays
 * loopback's; only the latency changes.
 *
 *   delayproxy USEC LISTEN TARGET [LISTEN TARGET]...
 *
 * LISTEN and TARGET are 127.A.B.C:PORT: nothing else is accepted. It
 * prints "ready" on stdout once every LISTEN is bound, and runs until
 * killed. One process, one poll loop, timed with ppoll's nanoseconds.
 */
#define _GNU_SOURCE /* ppoll */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXPAIRS 16
#define MAXCONNS 128
#define CHUNK (64 << 10)
#define QUEUE_MAX (8 << 20) /* bytes held per direction before reading stops */

struct chunk {
	struct chunk *next;
	uint64_t due;       /* monotonic ns when it may go out */
	size_t len, off;
	char data[];
};

/* One direction of a connection: read from fd[from], written to fd[!from]. */
struct half {
	struct chunk *head, *tail;
	size_t queued;
	int eof;            /* its reader saw EOF */
	int shut;           /* its writer was shut down after the queue drained */
};

struct conn {
	int fd[2];          /* 0: the accepted side, 1: the target */
	struct half h[2];   /* h[i]: from fd[i] to fd[!i] */
};

static struct sockaddr_in listen_at[MAXPAIRS], target[MAXPAIRS];
static int lfd[MAXPAIRS], npairs;
static struct conn *conns[MAXCONNS];
static uint64_t delay_ns;

static void
die(const char *what)
{
	fprintf(stderr, "delayproxy: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
parse_addr(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		goto bad;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1 ||
	    (ntohl(sa->sin_addr.s_addr) >> 24) != 127 || sa->sin_port == 0)
		goto bad;
	return;
 bad:
	fprintf(stderr, "delayproxy: %s is not 127.A.B.C:PORT\n", s);
	exit(2);
}

static void
tune(int fd)
{
	int one = 1;

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void
conn_free(int i)
{
	struct conn *c = conns[i];

	for (int k = 0; k < 2; k++) {
		struct chunk *ch, *next;
		for (ch = c->h[k].head; ch != NULL; ch = next) {
			next = ch->next;
			free(ch);
		}
		close(c->fd[k]);
	}
	free(c);
	conns[i] = NULL;
}

/* A new connection on pair p: its target is dialed at once (loopback
 * answers or refuses at once). */
static void
on_accept(int p)
{
	struct conn *c;
	int fd, up, i;

	if ((fd = accept(lfd[p], NULL, NULL)) < 0)
		return;
	for (i = 0; i < MAXCONNS && conns[i] != NULL; i++)
		;
	if (i == MAXCONNS || (c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	if ((up = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(up, (struct sockaddr *)&target[p], sizeof(target[p])) != 0) {
		if (up >= 0)
			close(up);
		close(fd);
		free(c);
		return;
	}
	tune(fd);
	tune(up);
	c->fd[0] = fd;
	c->fd[1] = up;
	conns[i] = c;
}

/* Reads what fd[k] has into h[k]'s queue, due delay_ns from now;
 * 0, or -1 when the connection is broken. */
static int
on_readable(struct conn *c, int k, uint64_t now)
{
	struct half *h = &c->h[k];
	struct chunk *ch = malloc(sizeof(*ch) + CHUNK);
	ssize_t n;

	if (ch == NULL)
		return -1;
	if ((n = read(c->fd[k], ch->data, CHUNK)) <= 0) {
		free(ch);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n < 0)
			return -1;
		h->eof = 1;
		return 0;
	}
	ch->next = NULL;
	ch->due = now + delay_ns;
	ch->len = (size_t)n;
	ch->off = 0;
	if (h->tail != NULL)
		h->tail->next = ch;
	else
		h->head = ch;
	h->tail = ch;
	h->queued += (size_t)n;
	return 0;
}

/* Writes h[k]'s due chunks to fd[!k]; 0, or -1 when broken. */
static int
on_writable(struct conn *c, int k, uint64_t now)
{
	struct half *h = &c->h[k];
	struct chunk *ch;

	while ((ch = h->head) != NULL && ch->due <= now) {
		ssize_t n = write(c->fd[!k], ch->data + ch->off,
		    ch->len - ch->off);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		ch->off += (size_t)n;
		h->queued -= (size_t)n;
		if (ch->off < ch->len)
			return 0;
		if ((h->head = ch->next) == NULL)
			h->tail = NULL;
		free(ch);
	}
	if (h->head == NULL && h->eof && !h->shut) {
		shutdown(c->fd[!k], SHUT_WR);
		h->shut = 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct pollfd pf[MAXPAIRS + 2 * MAXCONNS];
	int one = 1;

	if (argc < 4 || argc % 2 != 0 || (argc - 2) / 2 > MAXPAIRS) {
		fprintf(stderr, "usage: delayproxy USEC LISTEN TARGET "
		    "[LISTEN TARGET]... (at most %d pairs)\n", MAXPAIRS);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	delay_ns = strtoull(argv[1], NULL, 10) * 1000u;
	for (int i = 2; i < argc; i += 2) {
		int p = npairs++;
		parse_addr(argv[i], &listen_at[p]);
		parse_addr(argv[i + 1], &target[p]);
		if ((lfd[p] = socket(AF_INET, SOCK_STREAM, 0)) < 0)
			die("socket");
		setsockopt(lfd[p], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(lfd[p], (struct sockaddr *)&listen_at[p],
		    sizeof(listen_at[p])) != 0)
			die(argv[i]);
		if (listen(lfd[p], 64) != 0)
			die("listen");
	}
	printf("ready\n");
	fflush(stdout);

	for (;;) {
		uint64_t now = now_ns(), next = UINT64_MAX;
		struct timespec ts, *tmo = NULL;
		int n = 0;

		for (int p = 0; p < npairs; p++)
			pf[n++] = (struct pollfd){ .fd = lfd[p], .events = POLLIN };
		for (int i = 0; i < MAXCONNS; i++) {
			struct conn *c = conns[i];
			if (c == NULL)
				continue;
			for (int k = 0; k < 2; k++) {
				/* fd[k] is read into h[k] and written from h[!k]. */
				struct half *in = &c->h[k], *out = &c->h[!k];
				short ev = 0;
				if (!in->eof && in->queued < QUEUE_MAX)
					ev |= POLLIN;
				if (out->head != NULL) {
					if (out->head->due <= now)
						ev |= POLLOUT;
					else if (out->head->due < next)
						next = out->head->due;
				}
				pf[n++] = (struct pollfd){ .fd = ev ? c->fd[k] : -1,
					.events = ev };
			}
		}
		if (next != UINT64_MAX) {
			uint64_t wait = next - now;
			ts.tv_sec = (time_t)(wait / 1000000000u);
			ts.tv_nsec = (long)(wait % 1000000000u);
			tmo = &ts;
		}
		if (ppoll(pf, (nfds_t)n, tmo, NULL) < 0 && errno != EINTR)
			die("ppoll");
		now = now_ns();
		/* Connections first, in the order they were polled; new
		 * ones after, so none is read with another's revents. */
		n = npairs;
		for (int i = 0; i < MAXCONNS; i++) {
			struct conn *c = conns[i];
			int bad = 0;
			if (c == NULL)
				continue;
			for (int k = 0; k < 2; k++, n++) {
				short re = pf[n].revents;
				if (re & (POLLIN | POLLHUP | POLLERR))
					bad |= on_readable(c, k, now);
				/* Due chunks go out now, polled or not: a chunk
				 * that fell due during the wait needs no turn. */
				bad |= on_writable(c, !k, now);
			}
			if (bad || (c->h[0].shut && c->h[1].shut))
				conn_free(i);
		}
		for (int p = 0; p < npairs; p++)
			if (pf[p].revents & POLLIN)
				on_accept(p);
	}
}
