/*
 * subreaper.c: starts a job's subreaper, the process between the daemon
 * and the job's leader (helpers/start.h). It is a child subreaper, so
 * every process of the job stays under it, also one that made its own
 * session or whose parent died (a daemon started by the job). When the
 * leader ends, or the daemon asks (SIGTERM) or dies, the subreaper kills
 * every process left under it, reaps them, leaves the leader's wait
 * status in its status pipe and exits: nothing of a job outlives it. An
 * ssh job's (mig-rsh's) leader ending kills nothing: what it left
 * running (nohup … &, setsid -f) lives on, as after an ssh session, and
 * what still holds the job's output keeps it open, as under sshd.
 *
 * The subreaper is a clone of mig-reaper's server (helpers/reaper.c,
 * started once by server.c): a fork of a small static image, made our
 * child by the kernel, with no exec. The daemon waits only for that
 * fork; the job's chdir and exec, which may read files this daemon
 * serves (a served view) or a stalled network file system, happen in
 * the subreaper's own vforked child. No page of the daemon is copied for
 * a job: a fork of the daemon would copy its page tables, fault in every
 * page either side then writes, and tear the copy down at the job's
 * end; an exec of mig-reaper for each job costs about as much (its
 * start alone reads the CPU's cache sizes through cpuid, which traps to
 * the hypervisor on a virtual machine). Where mig-reaper is missing, a
 * fork of the daemon runs the same code (start.c, reap.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "homed.h"

void
mig__subreaper_init(struct homed *d)
{
	static char *const argv[] = { (char *)"mig-reaper", (char *)"serve",
		NULL };
	char reaper[PATH_MAX];

	if (mig__beside_self("mig-reaper", reaper, sizeof(reaper)) != 0) {
		reaper[0] = '\0';
		mig__log(MIG_LOG_WARN, "mig-reaper not found beside mig-homed: "
		    "each job's subreaper is a fork of the daemon, and unless "
		    "this daemon runs as root, a job's session is not put "
		    "below the host's owner (priority idle)");
	}
	mig__server_init(&d->reapers, reaper, "subreaper server", argv);
	d->spare = 0;
	d->spare_fd = -1;
}

void
mig__subreaper_stop(struct homed *d)
{
	/* Hung up on, the spare and the server end. */
	mig__close(d->spare_fd);
	d->spare_fd = -1;
	mig__server_stop(&d->reapers);
}

/* Appends string v to *p, NUL included. */
static void
put(char **p, const char *v)
{
	size_t n = strlen(v) + 1;

	memcpy(*p, v, n);
	*p += n;
}

/* The description (start.h) in a memfd, written at once; -1 with
 * errno. */
static int
describe(const struct mig_start *s, char **argv, char **envp)
{
	size_t n = sizeof(*s) + strlen(s->cwd) + strlen(s->root) + 2;
	char *buf, *p;
	int fd, e = 0;

	for (size_t i = 0; argv[i] != NULL; i++)
		n += strlen(argv[i]) + 1;
	for (size_t i = 0; envp[i] != NULL; i++)
		n += strlen(envp[i]) + 1;
	if ((buf = malloc(n)) == NULL)
		return -1;
	memcpy(buf, s, sizeof(*s));
	p = buf + sizeof(*s);
	put(&p, s->cwd);
	put(&p, s->root);
	for (size_t i = 0; argv[i] != NULL; i++)
		put(&p, argv[i]);
	for (size_t i = 0; envp[i] != NULL; i++)
		put(&p, envp[i]);
	if ((fd = memfd_create("mig-start", MFD_CLOEXEC)) == -1 ||
	    mig__write_full(fd, buf, n) != 0) {
		e = errno != 0 ? errno : EIO;
		mig__close(fd);
		fd = -1;
	}
	free(buf);
	errno = e;
	return fd;
}

/* The request for a job (reaper.c): the slots' mask, the description
 * and fds in slot order; the number of descriptors in v, or -1 with
 * errno. *desc is the description's, to close. */
static int
request(struct mig_start *s, const int fds[START_FD_COUNT], char **argv,
    char **envp, uint32_t *mask, int v[START_FD_COUNT], int *desc)
{
	int n = 0;

	s->argc = 0;
	while (argv[s->argc] != NULL)
		s->argc++;
	if ((*desc = describe(s, argv, envp)) == -1)
		return -1;
	*mask = 0;
	for (int i = 0; i < START_FD_COUNT; i++) {
		int fd = i == START_FD_DESC ? *desc : fds[i];
		if (fd >= 0) {
			*mask |= 1u << i;
			v[n++] = fd;
		}
	}
	return n;
}

static void
on_spare_reaped(void *arg, int status)
{
	struct homed *d = arg;

	mig__close(d->spare_fd);
	d->spare_fd = -1;
	d->spare = 0;
}

/* A spare subreaper for the next job, unless there is one; a job that
 * finds none asks the server itself. */
static void
make_spare(struct homed *d)
{
	uint32_t mask = START_SPARE;
	int sv[2];
	pid_t pid;

	if (d->spare > 0 || d->reapers.path[0] == '\0' ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return;
	if (mig__server_ask(d, &d->reapers, &mask, sizeof(mask), &sv[1], 1,
	    &pid) != 0 || mig__child_watch(d, pid, on_spare_reaped, d) != 0) {
		mig__close(sv[0]);
		sv[0] = -1;
		pid = 0;
	}
	mig__close(sv[1]);
	d->spare = pid;
	d->spare_fd = sv[0];
}

/* The job to the spare; its pid, or -1 (the spare is gone: nothing was
 * sent). */
static pid_t
to_spare(struct homed *d, uint32_t mask, const int *v, int n)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(START_FD_COUNT * sizeof(int))];
	} c;
	struct iovec iov = { &mask, sizeof(mask) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = c.buf,
		.msg_controllen = CMSG_SPACE((size_t)n * sizeof(int)) };
	pid_t pid = d->spare;
	ssize_t sent;

	if (pid <= 0)
		return -1;
	memset(&c, 0, sizeof(c));
	c.h.cmsg_level = SOL_SOCKET;
	c.h.cmsg_type = SCM_RIGHTS;
	c.h.cmsg_len = CMSG_LEN((size_t)n * sizeof(int));
	memcpy(CMSG_DATA(&c.h), v, (size_t)n * sizeof(int));
	while ((sent = sendmsg(d->spare_fd, &m, MSG_NOSIGNAL)) == -1 &&
	    errno == EINTR)
		;
	/* Either way it is no longer a spare: it runs the job, or it is
	 * gone (and reaped in its time, with nobody told). */
	mig__child_forget(d, pid);
	mig__close(d->spare_fd);
	d->spare_fd = -1;
	d->spare = 0;
	return sent == -1 ? -1 : pid;
}

/* A clone of the subreaper server, with the description and fds in
 * place: the spare made before, or one made now; its pid, or -1 with
 * errno. A spare is made for the next job. */
static pid_t
ask_server(struct homed *d, struct mig_start *s, const int fds[START_FD_COUNT],
    char **argv, char **envp)
{
	int v[START_FD_COUNT], desc, n, r = 0;
	uint32_t mask;
	pid_t pid;

	if ((n = request(s, fds, argv, envp, &mask, v, &desc)) == -1)
		return -1;
	if ((pid = to_spare(d, mask, v, n)) == -1)
		r = mig__server_ask(d, &d->reapers, &mask, sizeof(mask), v,
		    (size_t)n, &pid);
	mig__close(desc);
	if (r != 0) {
		errno = r > -4096 ? -r : EPROTO;
		return -1;
	}
	make_spare(d);
	return pid;
}

pid_t
mig__subreaper_start(struct homed *d, struct mig_start *s,
    const int fds[START_FD_COUNT], char **argv, char **envp)
{
	int high[START_FD_COUNT];
	pid_t pid;

	/* A server that is gone and not reaped yet was asked nothing: the
	 * job starts in a fork of ours instead. */
	if (d->reapers.path[0] != '\0' &&
	    ((pid = ask_server(d, s, fds, argv, envp)) != -1 || errno != EAGAIN))
		return pid;
	/* Above every slot first, so that no dup2 into a slot lands on a
	 * descriptor still to be moved. */
	for (int i = 0; i < START_FD_COUNT; i++)
		high[i] = -1;
	if ((pid = mig__fork()) != 0)
		return pid;
	for (int i = 0; i < START_FD_COUNT; i++)
		if (fds[i] >= 0 && (high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC,
		    START_FD_COUNT)) == -1)
			_exit(MIG_EXIT_FAILURE);
	for (int i = 0; i < START_FD_COUNT; i++)
		if (high[i] >= 0 && dup2(high[i], i) == -1)
			_exit(MIG_EXIT_FAILURE);
	mig__start(s, argv, envp);
}

int
mig__subreaper_status(int fd, int *status)
{
	int32_t s;

	if (read(fd, &s, sizeof(s)) != (ssize_t)sizeof(s))
		return -1;
	*status = s;
	return 0;
}
