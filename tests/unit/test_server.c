/*
 * test_server.c: the placeholder server (homed/helpers/standin.c, the
 * real mig-standin, on helpers/serve.c) and its client (homed/server.c),
 * with this test in the daemon's place (children.c reaps for it): each placeholder is our child (the server
 * clones it with CLONE_PARENT), shows its title to ps, says HELLO and
 * STANDIN with its pid on its socket, passes each signal it gets on as
 * HOLD_SIGNAL, and ends when we hang up (or with SIGKILL). A server that
 * died is started again by the first request after its reaping (a
 * request before that fails, and no second server starts meanwhile);
 * hung up on, it ends.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "homed.h"

static struct server s;
static struct homed d;
static char room[MIG_STANDIN_TITLE];
static char *const argv[] = { (char *)"mig-standin", room, NULL };

/* What the daemon's SIGCHLD does: children.c reaps, and tells the
 * server's watcher; until the server (pid) is gone. */
static void
reap_server(pid_t pid)
{
	siginfo_t si;

	assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	mig__children_reap(&d);
	assert_int_equal(s.pid, 0);
}

/* Reads one frame from fd (within 10 s): its type and its u32. */
static void
read_frame(int fd, uint16_t *type, uint32_t *v)
{
	uint8_t buf[64];
	size_t have = 0;
	struct mig_frame f;
	struct mig_rd rd;

	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t n;
		int r = mig_frame_decode(buf, have, &f);

		if (r == 0)
			break;
		assert_int_equal(r, MIG_EAGAIN);
		assert_int_equal(poll(&pf, 1, 10000), 1);
		n = read(fd, buf + have, 1);
		assert_int_equal(n, 1);
		have++;
	}
	*type = f.type;
	proto_rd_init(&rd, f.payload, f.len);
	assert_int_equal(proto_get_u32(&rd, v), 0);
}

/* A placeholder titled title; our end of its socket in *mine. */
static pid_t
make(const char *title, int *mine)
{
	int sv[2], r;
	pid_t pid = 0;
	uint16_t type;
	uint32_t v;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
	    0);
	r = mig__server_ask(&d, &s, title, strlen(title), &sv[1], 1, &pid);
	assert_int_equal(r, 0);
	close(sv[1]);
	assert_true(pid > 0);
	read_frame(sv[0], &type, &v);
	assert_int_equal(type, MIG_M_HELLO);
	assert_int_equal(v, MIG_PROTO_VERSION);
	read_frame(sv[0], &type, &v);
	assert_int_equal(type, MIG_M_STANDIN);
	assert_int_equal(v, (uint32_t)pid);
	*mine = sv[0];
	return pid;
}

/* /proc/pid/what, read whole (at most size - 1 bytes) and terminated. */
static void
read_proc(pid_t pid, const char *what, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	n = read(fd, buf, size - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
}

/* Field 4 of /proc/pid/stat: its parent. */
static pid_t
parent_of(pid_t pid)
{
	char buf[512], *p;
	int ppid = -1;

	read_proc(pid, "stat", buf, sizeof(buf));
	assert_non_null(p = strrchr(buf, ')'));
	assert_int_equal(sscanf(p, ") %*c %d", &ppid), 1);
	return ppid;
}

static void
cmdline_is(pid_t pid, const char *want)
{
	char buf[1024];

	read_proc(pid, "cmdline", buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static int
setup(void **state)
{
	(void)state;
	memset(&d, 0, sizeof(d));
	TAILQ_INIT(&d.children);
	memset(room, '.', sizeof(room) - 1);
	mig__server_init(&s, MIG_STANDIN_PATH, "placeholder server", argv);
	return 0;
}

static int
teardown(void **state)
{
	pid_t server = s.pid;

	(void)state;
	mig__server_stop(&s);
	if (server > 0)
		waitpid(server, NULL, 0);
	mig__children_free(&d);
	return 0;
}

/* A placeholder is our child with its title; hung up on, it ends (exit
 * 0); killed, it dies of SIGKILL, and its socket closes. */
static void
placeholder_dies(void **state)
{
	int fd, fd2, status;
	char c;
	pid_t pid, pid2;

	(void)state;
	pid = make("mig: pid 4242 on host1: cc1", &fd);
	assert_int_equal(parent_of(pid), getpid());
	cmdline_is(pid, "mig: pid 4242 on host1: cc1");
	cmdline_is(s.pid, "mig-standin: placeholder server");
	pid2 = make("mig: pid 4243 on host1: as", &fd2);
	assert_int_not_equal(pid, pid2);

	close(fd);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	assert_int_equal(kill(pid2, SIGKILL), 0);
	assert_int_equal(waitpid(pid2, &status, 0), pid2);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	assert_int_equal(read(fd2, &c, 1), 0);
	close(fd2);
}

/* Every signal sent to a placeholder comes back as HOLD_SIGNAL, and it
 * lives on. */
static void
signals_come_back(void **state)
{
	const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGQUIT,
		SIGTSTP, SIGCONT, SIGWINCH, SIGRTMIN + 3 };
	uint16_t type;
	uint32_t v;
	int fd, status;
	pid_t pid;

	(void)state;
	pid = make("mig: pid 7 on h: sleep", &fd);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(*sigs); i++) {
		assert_int_equal(kill(pid, sigs[i]), 0);
		read_frame(fd, &type, &v);
		assert_int_equal(type, MIG_M_HOLD_SIGNAL);
		assert_int_equal(v, (uint32_t)sigs[i]);
	}
	assert_int_equal(waitpid(pid, &status, WNOHANG), 0);
	close(fd);
	assert_int_equal(waitpid(pid, &status, 0), pid);
}

/* The server killed: noticed (reaped) or not, the next request starts
 * another, whose placeholders work as before; the old one's placeholders
 * live on. Hung up on, a server ends. */
static void
server_restarts(void **state)
{
	int fd, fd2, status, r;
	pid_t first, pid, pid2;
	uint16_t type;
	uint32_t v;

	(void)state;
	pid = make("mig: pid 1 on h: a", &fd);
	first = s.pid;
	/* Killed and reaped: the daemon hears of it from children.c. */
	assert_int_equal(kill(first, SIGKILL), 0);
	reap_server(first);
	assert_int_equal(s.fd, -1);
	pid2 = make("mig: pid 2 on h: b", &fd2);
	assert_int_not_equal(s.pid, first);
	assert_int_equal(kill(pid, SIGUSR2), 0);
	read_frame(fd, &type, &v);
	assert_int_equal(v, SIGUSR2);
	close(fd);
	assert_int_equal(waitpid(pid, &status, 0), pid);

	/* Killed, not yet reaped: the request finds it gone and says so;
	 * no other starts until it is reaped, then the next request
	 * starts one. */
	first = s.pid;
	assert_int_equal(kill(first, SIGKILL), 0);
	{
		int sv[2];
		pid_t none = 0;
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		/* Until the kernel has closed its socket, a request may
		 * still be sent (and no answer comes: EPIPE); else nothing
		 * was asked (EAGAIN). */
		r = mig__server_ask(&d, &s, "x", 1, &sv[1], 1, &none);
		assert_true(r == MIG__ERR(EPIPE) || r == MIG__ERR(EAGAIN));
		close(sv[0]);
		close(sv[1]);
	}
	{
		int sv[2];
		pid_t none = 0;
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		assert_int_equal(mig__server_ask(&d, &s, "x", 1, &sv[1], 1,
		    &none), MIG__ERR(EAGAIN));
		close(sv[0]);
		close(sv[1]);
	}
	reap_server(first);
	close(fd2);
	assert_int_equal(waitpid(pid2, &status, 0), pid2);
	pid = make("mig: pid 3 on h: c", &fd);
	assert_int_not_equal(s.pid, first);
	close(fd);
	assert_int_equal(waitpid(pid, &status, 0), pid);

	/* Hung up on (the daemon stops), the server ends by itself. */
	first = s.pid;
	mig__server_stop(&s);
	assert_int_equal(waitpid(first, &status, 0), first);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	s.pid = 0;
}

/* Without mig-standin, no placeholder: ENOENT, or (posix_spawn may
 * report a failed exec only as exit 127) the server gone; no crash. */
static void
no_server(void **state)
{
	struct server none;
	int sv[2];
	pid_t p;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	mig__server_init(&none, "", "none", argv);
	assert_int_equal(mig__server_ask(&d, &none, "x", 1, &sv[1], 1, &p),
	    MIG__ERR(ENOENT));
	mig__server_init(&none, "/nonexistent/mig-standin", "none", argv);
	assert_true(mig__server_ask(&d, &none, "x", 1, &sv[1], 1, &p) < 0);
	close(sv[0]);
	close(sv[1]);
	if (none.pid > 0)
		waitpid(none.pid, NULL, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(placeholder_dies, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(signals_come_back, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(server_restarts, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(no_server, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
