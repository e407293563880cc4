/*
 * handover.c: how a home's ssh reaches this host's daemon. ssh runs
 * `mig-homed --stdio` (ssh.c), which is not the daemon: it hands its
 * stdin and stdout to the daemon of this user here over the runtime
 * folder's link.sock (SCM_RIGHTS), waits for one byte saying they were
 * taken, and then for the daemon to close that connection, which it
 * does when the link ends: sshd stops writing to a session whose command
 * exited, so --stdio lives as long as the link. If no daemon runs, it starts one first, with --idle-exit, so
 * that a daemon nobody asked for goes once no home has used it for that
 * long; one that runs already (a systemd unit, another home's) takes the
 * link as it is. Several homes, each over its own ssh, share one daemon,
 * its slots and its object cache, as over TCP.
 *
 * Only the daemon's own user may connect (SO_PEERCRED, a 0700 folder):
 * whoever can run programs as this user here could run the daemon's
 * jobs anyway.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "homed.h"

#define MIG_HANDOVER_MS 10000 /* --stdio's wait for the daemon */

struct hconn {
	uv_pipe_t pipe;      /* IPC: the fds come with its one byte */
	struct homed *d;
	char byte[8];
};

static int
sock_path(const char *rundir, char *buf, size_t size)
{
	return mig_path(buf, size, rundir, "link.sock");
}

static void
on_hconn_closed(uv_handle_t *h)
{
	free(h->data);
}

static void
h_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct hconn *c = h->data;

	*buf = uv_buf_init(c->byte, sizeof(c->byte));
}

static void
h_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct hconn *c = s->data;
	uv_buf_t ack = uv_buf_init("1", 1);
	uv_os_fd_t fd;
	int hold;

	if (n == 0)
		return;
	uv_read_stop(s);
	/* The link keeps the connection open: its end is --stdio's. */
	if (n > 0 && uv_pipe_pending_count(&c->pipe) > 0 &&
	    uv_fileno((uv_handle_t *)&c->pipe, &fd) == 0 &&
	    (hold = fcntl(fd, F_DUPFD_CLOEXEC, 3)) != -1 &&
	    mig__stdio_adopt(c->d, &c->pipe, hold, "over ssh") == 0)
		uv_try_write(s, &ack, 1);
	uv_close((uv_handle_t *)&c->pipe, on_hconn_closed);
}

static void
on_handover(uv_stream_t *server, int status)
{
	struct homed *d = server->data;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct hconn *c;
	uv_os_fd_t fd;

	if (status != 0 || (c = calloc(1, sizeof(*c))) == NULL)
		return;
	c->d = d;
	uv_pipe_init(d->loop, &c->pipe, 1);
	c->pipe.data = c;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) != 0 ||
	    uv_fileno((uv_handle_t *)&c->pipe, &fd) != 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
	    cred.uid != geteuid()) {
		uv_close((uv_handle_t *)&c->pipe, on_hconn_closed);
		return;
	}
	uv_read_start((uv_stream_t *)&c->pipe, h_alloc, h_read);
}

int
mig__handover_listen(struct homed *d)
{
	char path[PATH_MAX];
	mode_t old;
	int r;

	if (sock_path(d->rundir, path, sizeof(path)) != 0)
		return MIG_ECONFIG;
	unlink(path);
	if ((r = uv_pipe_init(d->loop, &d->handover, 0)) != 0)
		return r;
	d->handover.data = d;
	old = umask(077);
	r = uv_pipe_bind(&d->handover, path);
	umask(old);
	if (r != 0)
		return r;
	if (chmod(path, 0600) == -1)
		return MIG__ERR(errno);
	return uv_listen((uv_stream_t *)&d->handover, 16, on_handover);
}

void
mig__handover_stop(struct homed *d)
{
	char path[PATH_MAX];

	if (d->handover.type == UV_NAMED_PIPE &&
	    !uv_is_closing((uv_handle_t *)&d->handover))
		uv_close((uv_handle_t *)&d->handover, NULL);
	if (sock_path(d->rundir, path, sizeof(path)) == 0)
		unlink(path);
}

/* --stdio's side, a process of its own without a loop. */

static int
connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlcpy(sa.sun_path, path, sizeof(sa.sun_path)) >=
	    sizeof(sa.sun_path))
		mig__die(1, "%s: path too long", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		mig__die(1, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	close(fd);
	return -1;
}

/* A daemon of our own, in the background: its start-up failures go to
 * our stderr, which is ssh's, and so become the host's reason at home. */
static void
start_daemon(const char *self, unsigned idle)
{
	char secs[16];
	int status, null;
	pid_t pid;

	snprintf(secs, sizeof(secs), "%u", idle);
	if ((pid = fork()) == -1)
		mig__die(1, "cannot start mig-homed: %s", strerror(errno));
	if (pid == 0) {
		if ((null = open("/dev/null", O_RDWR)) == -1 ||
		    dup2(null, 0) == -1 || dup2(null, 1) == -1)
			_exit(1);
		execl(self, self, "--idle-exit", secs, (char *)NULL);
		dprintf(2, "mig: cannot run %s: %s\n", self, strerror(errno));
		_exit(1);
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	/* 3: another one started first, which serves as well. */
	if (!WIFEXITED(status) || (WEXITSTATUS(status) != 0 &&
	    WEXITSTATUS(status) != 3))
		exit(1);
}

void
mig__handover_run(const char *rundir, const char *self, unsigned idle)
{
	char path[PATH_MAX], cbuf[CMSG_SPACE(2 * sizeof(int))], ack;
	struct iovec iov = { .iov_base = "H", .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct pollfd pfd;
	struct cmsghdr *cm;
	int fd = -1, fds[2] = { 0, 1 };

	if (sock_path(rundir, path, sizeof(path)) != 0)
		mig__die(1, "runtime dir path too long");
	for (int i = 0; (fd = connect_to(path)) == -1; i++) {
		if (i == 0)
			start_daemon(self, idle);
		else if (i * 20 > MIG_HANDOVER_MS)
			mig__die(1, "no mig-homed answers on %s", path);
		else
			usleep(20000);
	}
	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	if (sendmsg(fd, &msg, MSG_NOSIGNAL) != 1)
		mig__die(1, "cannot hand the link to mig-homed: %s",
		    strerror(errno));
	pfd.fd = fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, MIG_HANDOVER_MS) != 1 || read(fd, &ack, 1) != 1)
		mig__die(1, "mig-homed here did not take the link (see its "
		    "log in %s)", rundir);
	/* Forever, as the link: until the daemon closes its end. */
	close(0);
	close(1);
	while (read(fd, &ack, 1) == -1 && errno == EINTR)
		;
	exit(0);
}
