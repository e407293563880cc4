/*
 * decide.c: simulated peers and stubs around one real home daemon, for
 * bench/decide: how many placements a second the daemon decides and
 * sends, with no process created anywhere.
 *
 *   decide KEYFILE SOCK PORT PEERS SLOTS HOLD_MS JOBS INFLIGHT
 *
 * PEERS hosts sim1..simPEERS listen on 127.0.2.1..127.0.2.PEERS:PORT,
 * where home's hosts file has them, and take the link home dials to
 * each with the real handshake (homed/transport/handshake.c through
 * tests/fuzz/hslink.c) and the cluster's key. Each then says, as a host
 * does at link up, its slots (LOAD), that it sees home's files
 * (FS_MODE; FS_PROVEN when home sends its mounts), answers PING, and
 * answers every EXEC at once with STARTED and, HOLD_MS later, EXIT 0:
 * no process runs. HOLD_MS keeps the run longer than the daemon's
 * short-run cutoff, so the history keeps placing the program.
 *
 * On home's control socket SOCK, JOBS stubs, INFLIGHT at a time, each a
 * connection of its own as `mig` makes one, send HELLO and RUN (a job
 * the daemon places: MIG_JOB_PLACE) and wait for EXIT.
 *
 * Prints one line of results: "jobs N wall_s W first_exec_to_last_exec_s
 * E execs X per_peer A,B,..." and exits 0; 1 when something failed
 * (a link, a job that did not end with EXIT 0, 120 s without progress);
 * 2 on a usage error. Loopback only.
 */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "homed.h"
#include "hslink.h"

#define MAX_PEERS 64

struct pending {
	uint64_t at_ns;
	uint32_t job;
};

struct sim {
	char name[16];
	int lfd, fd;
	struct hs_end *e;
	int proven;
	struct mig_buf in, out;
	struct pending *q; /* EXITs due, in order (HOLD_MS is the same) */
	size_t qhead, qlen, qcap;
	uint64_t execs;
};

struct stub {
	int fd;
	struct mig_buf in, out;
};

static struct sim sims[MAX_PEERS];
static int npeers;
static uint64_t hold_ns, first_exec, last_exec, nexec;

static void __attribute__((noreturn))
fail(const char *what, const char *more)
{
	fprintf(stderr, "decide: %s%s%s\n", what, more ? ": " : "",
	    more ? more : "");
	exit(1);
}

static uint64_t
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Writes what it can of b to fd; fails on a broken connection. */
static void
flush(int fd, struct mig_buf *b)
{
	ssize_t w;

	while (b->len > 0) {
		w = write(fd, b->data, b->len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		if (w <= 0)
			fail("write failed", strerror(errno));
		mig_buf_consume(b, (size_t)w);
	}
}

/* Reads what is there into b; 0 at the other end's close. */
static int
fill(int fd, struct mig_buf *b)
{
	uint8_t buf[65536];
	ssize_t n;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 1;
		if (n <= 0)
			return 0;
		if (mig_buf_append(b, buf, (size_t)n) != 0)
			fail("out of memory", NULL);
		if ((size_t)n < sizeof(buf))
			return 1;
	}
}

/* One frame to home, sealed as a record. */
static void
sim_send(struct sim *s, uint16_t type, uint32_t stream,
    const struct mig_buf *payload)
{
	struct mig_buf f = { NULL, 0, 0 };
	size_t at = s->out.len;

	if (mig_frame_put(&f, type, 0, stream, payload ? payload->data : NULL,
	    payload ? payload->len : 0) != 0 ||
	    mig_buf_reserve(&s->out, f.len + MIG_RECORD_OVERHEAD) != 0 ||
	    mig__record_seal(&s->e->hs.sess, f.data, f.len,
		s->out.data + at) != 0)
		fail("cannot seal a frame", NULL);
	s->out.len += f.len + MIG_RECORD_OVERHEAD;
	mig_buf_free(&f);
}

/* At link up, what a host says of itself. */
static void
sim_hello(struct sim *s, uint32_t slots)
{
	struct mig_buf p = { NULL, 0, 0 };

	proto_put_u32(&p, slots);
	proto_put_u32(&p, 0);
	proto_put_u32(&p, 0);
	proto_put_u32(&p, 65536);
	sim_send(s, MIG_M_LOAD, 0, &p);
	p.len = 0;
	proto_put_u32(&p, MIG_FILES_AUTO);
	proto_put_u32(&p, 1);
	proto_put_str(&p, "");
	sim_send(s, MIG_M_FS_MODE, 0, &p);
	mig_buf_free(&p);
}

static void
sim_frame(struct sim *s, const struct mig_frame *f)
{
	struct mig_buf p = { NULL, 0, 0 };
	struct timespec rt;

	switch (f->type) {
	case MIG_M_EXEC:
		if (first_exec == 0)
			first_exec = now_ns();
		last_exec = now_ns();
		nexec++;
		s->execs++;
		proto_put_u32(&p, 1000 + (uint32_t)(nexec % 30000));
		proto_put_str(&p, s->name);
		proto_put_str(&p, "shared");
		sim_send(s, MIG_M_STARTED, f->stream, &p);
		if (s->qlen == s->qcap) {
			size_t n = s->qcap ? 2 * s->qcap : 1024;
			struct pending *q = calloc(n, sizeof(*q));
			if (q == NULL)
				fail("out of memory", NULL);
			for (size_t i = 0; i < s->qlen; i++)
				q[i] = s->q[(s->qhead + i) % s->qcap];
			free(s->q);
			s->q = q;
			s->qhead = 0;
			s->qcap = n;
		}
		s->q[(s->qhead + s->qlen++) % s->qcap] =
		    (struct pending){ now_ns() + hold_ns, f->stream };
		break;
	case MIG_M_PING:
		clock_gettime(CLOCK_REALTIME, &rt);
		mig_buf_append(&p, f->payload, f->len);
		proto_put_u64(&p, (uint64_t)rt.tv_sec * 1000000000u +
		    (uint64_t)rt.tv_nsec);
		sim_send(s, MIG_M_PONG, 0, &p);
		break;
	case MIG_M_FS_MOUNTS:
		/* Its own files are home's: the same machine. */
		proto_put_u32(&p, 1);
		proto_put_u32(&p, 0);
		proto_put_u32(&p, 0);
		sim_send(s, MIG_M_FS_PROVEN, 0, &p);
		break;
	default:
		break; /* LOAD, FS_MODE, FS_PRIME, KILL of an ended job, ... */
	}
	mig_buf_free(&p);
}

/* Home's link to s is readable. */
static void
sim_read(struct sim *s, uint32_t slots)
{
	struct mig_buf plain = { NULL, 0, 0 };
	struct mig_frame f;
	size_t used;
	int r;

	if (!fill(s->fd, &s->in))
		fail("home closed a link", s->name);
	if (!s->proven) {
		hs_feed(s->e, s->in.data, s->in.len);
		s->in.len = 0;
		mig_buf_append(&s->out, s->e->out.data, s->e->out.len);
		s->e->out.len = 0;
		if (s->e->ev == MIG_HS_FAIL)
			fail("handshake failed", s->e->hs.why);
		if (s->e->ev != MIG_HS_PROVEN)
			return;
		s->proven = 1;
		mig_buf_append(&s->in, s->e->in.data, s->e->in.len);
		s->e->in.len = 0;
		sim_hello(s, slots);
	}
	for (;;) {
		r = mig__record_open(&s->e->hs.sess, s->in.data, s->in.len,
		    &plain, &f, &used);
		if (r == MIG_EAGAIN)
			break;
		if (r != 0)
			fail("a record from home did not open", s->name);
		sim_frame(s, &f);
		mig_buf_consume(&s->in, used);
	}
	mig_buf_free(&plain);
}

/* EXITs that are due. */
static void
sim_due(struct sim *s, uint64_t now)
{
	struct mig_buf p = { NULL, 0, 0 };

	while (s->qlen > 0 && s->q[s->qhead].at_ns <= now) {
		p.len = 0;
		proto_put_u32(&p, 0);
		proto_put_u32(&p, 0);
		sim_send(s, MIG_M_EXIT, s->q[s->qhead].job, &p);
		s->qhead = (s->qhead + 1) % s->qcap;
		s->qlen--;
	}
	mig_buf_free(&p);
}

static int
stub_open(struct stub *st, const char *sock, const struct mig_job *job)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct mig_buf p = { NULL, 0, 0 };

	strlcpy(sun.sun_path, sock, sizeof(sun.sun_path));
	if ((st->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(st->fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		fail("cannot connect to the daemon", strerror(errno));
	fcntl(st->fd, F_SETFL, O_NONBLOCK);
	proto_put_u32(&p, MIG_PROTO_VERSION);
	if (mig_frame_put(&st->out, MIG_M_HELLO, 0, 0, p.data, p.len) != 0 ||
	    mig_x_job(&st->out, MIG_M_RUN, 0, job) != 0)
		fail("cannot make a RUN", NULL);
	mig_buf_free(&p);
	flush(st->fd, &st->out);
	return 0;
}

/* The stub's connection is readable: 1 when its job ended. */
static int
stub_read(struct stub *st)
{
	struct mig_frame f;
	struct mig_rd rd;
	uint32_t code, sig;
	int open = fill(st->fd, &st->in);

	while (mig_frame_decode(st->in.data, st->in.len, &f) == 0) {
		if (f.type == MIG_M_EXIT) {
			proto_rd_init(&rd, f.payload, f.len);
			if (proto_get_u32(&rd, &code) != 0 ||
			    proto_get_u32(&rd, &sig) != 0 || code || sig)
				fail("a job did not end with EXIT 0", NULL);
			return 1;
		}
		if (f.type == MIG_M_ERROR || f.type == MIG_M_LOCAL)
			fail("the daemon did not place a job",
			    f.type == MIG_M_LOCAL ? "LOCAL" : "ERROR");
		mig_buf_consume(&st->in, MIG_FRAME_HDR + f.len);
	}
	if (!open)
		fail("the daemon closed a stub's connection", NULL);
	return 0;
}

static void
listen_sim(struct sim *s, int i, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int one = 1;
	char ip[32];

	snprintf(s->name, sizeof(s->name), "sim%d", i + 1);
	snprintf(ip, sizeof(ip), "127.0.2.%d", i + 1);
	a.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, ip, &a.sin_addr);
	if ((s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one,
		sizeof(one)) != 0 ||
	    bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(s->lfd, 4) != 0)
		fail("cannot listen", ip);
	s->fd = -1;
}

int
main(int argc, char **argv)
{
	static char *jargv[] = { "simjob", NULL };
	static char *jenv[] = { "PATH=/usr/bin:/bin", NULL };
	uint8_t key[MIG_KEY_BYTES];
	struct mig_job job;
	struct stub *stubs;
	struct pollfd *pf;
	char err[512];
	long slots, jobs, inflight, started = 0, done = 0, port;
	uint64_t t0, t1, progress;
	int up = 0;

	if (argc != 9 || (npeers = atoi(argv[4])) <= 0 ||
	    npeers > MAX_PEERS || (port = atol(argv[3])) <= 0 ||
	    (slots = atol(argv[5])) <= 0 || atol(argv[6]) < 0 ||
	    (jobs = atol(argv[7])) <= 0 || (inflight = atol(argv[8])) <= 0) {
		fprintf(stderr, "usage: decide KEYFILE SOCK PORT PEERS(1-%d) "
		    "SLOTS HOLD_MS JOBS INFLIGHT\n", MAX_PEERS);
		return 2;
	}
	hold_ns = (uint64_t)atol(argv[6]) * 1000000u;
	if (mig__crypto_init() != 0)
		fail("libsodium failed to start", NULL);
	if (mig__key_load(argv[1], key, err, sizeof(err)) != 0)
		fail(err, NULL);
	for (int i = 0; i < npeers; i++) {
		listen_sim(&sims[i], i, (int)port);
		if ((sims[i].e = hs_new(sims[i].name, "home", key, 0)) == NULL)
			fail("out of memory", NULL);
	}
	printf("listening\n");
	fflush(stdout);

	memset(&job, 0, sizeof(job));
	job.host = "";
	job.flags = MIG_JOB_PLACE | MIG_JOB_NOSTDIN;
	job.argv = jargv;
	job.envp = jenv;
	job.cwd = "/";
	job.umask = 022;
	job.pid = job.ppid = job.pgid = job.sid = (int32_t)getpid();
	job.nodename = "home";
	job.domainname = "(none)";
	stubs = calloc((size_t)inflight, sizeof(*stubs));
	pf = calloc((size_t)(inflight + 2 * npeers), sizeof(*pf));
	if (stubs == NULL || pf == NULL)
		fail("out of memory", NULL);
	for (long i = 0; i < inflight; i++)
		stubs[i].fd = -1;

	t0 = 0;
	progress = now_ns();
	while (done < jobs) {
		uint64_t now = now_ns(), next = now + 1000000000u;
		int n = 0, timeout;

		/* Once every link is up and said its slots, the stubs go. */
		if (up == npeers)
			for (long i = 0; i < inflight && started < jobs; i++)
				if (stubs[i].fd < 0) {
					if (t0 == 0)
						t0 = now_ns();
					stub_open(&stubs[i], argv[2], &job);
					started++;
				}
		for (int i = 0; i < npeers; i++) {
			struct sim *s = &sims[i];
			if (s->fd < 0) {
				pf[n++] = (struct pollfd){ s->lfd, POLLIN, 0 };
				continue;
			}
			sim_due(s, now);
			flush(s->fd, &s->out);
			if (s->qlen > 0 && s->q[s->qhead].at_ns < next)
				next = s->q[s->qhead].at_ns;
			pf[n++] = (struct pollfd){ s->fd, (short)(POLLIN |
			    (s->out.len ? POLLOUT : 0)), 0 };
		}
		for (long i = 0; i < inflight; i++)
			pf[n++] = (struct pollfd){ stubs[i].fd, (short)(POLLIN |
			    (stubs[i].out.len ? POLLOUT : 0)), 0 };
		timeout = next > now ? (int)((next - now + 999999) / 1000000) : 0;
		if (poll(pf, (nfds_t)n, timeout) < 0 && errno != EINTR)
			fail("poll", strerror(errno));
		n = 0;
		for (int i = 0; i < npeers; i++, n++) {
			struct sim *s = &sims[i];
			if (s->fd < 0) {
				if (pf[n].revents & POLLIN) {
					s->fd = accept4(s->lfd, NULL, NULL,
					    SOCK_CLOEXEC | SOCK_NONBLOCK);
					if (s->fd < 0)
						fail("accept", strerror(errno));
				}
				continue;
			}
			if (pf[n].revents & (POLLIN | POLLHUP | POLLERR)) {
				int was = s->proven;
				sim_read(s, (uint32_t)slots);
				up += !was && s->proven;
			}
			if (s->out.len)
				flush(s->fd, &s->out);
		}
		for (long i = 0; i < inflight; i++, n++) {
			struct stub *st = &stubs[i];
			if (st->fd < 0)
				continue;
			if (st->out.len)
				flush(st->fd, &st->out);
			if ((pf[n].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    stub_read(st)) {
				close(st->fd);
				st->fd = -1;
				st->in.len = st->out.len = 0;
				done++;
				progress = now_ns();
			}
		}
		if (now_ns() - progress > 120000000000ull)
			fail(up < npeers ? "links not up in 120 s" :
			    "no job ended for 120 s", NULL);
	}
	t1 = now_ns();
	printf("jobs %ld wall_s %.3f first_exec_to_last_exec_s %.3f execs %llu "
	    "per_peer", done, (double)(t1 - t0) / 1e9,
	    (double)(last_exec - first_exec) / 1e9, (unsigned long long)nexec);
	for (int i = 0; i < npeers; i++)
		printf("%s%llu", i ? "," : " ",
		    (unsigned long long)sims[i].execs);
	printf("\n");
	return 0;
}
