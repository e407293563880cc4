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
#include <stdint.h>
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
}

/* The description (start.h) in a memfd; -1 with errno. */
static int
describe(const struct mig_start *s, char **argv, char **envp)
{
	int fd, e;

	if ((fd = memfd_create("mig-start", MFD_CLOEXEC)) == -1)
		return -1;
	if (mig__write_full(fd, s, sizeof(*s)) != 0 ||
	    mig__write_full(fd, s->cwd, strlen(s->cwd) + 1) != 0 ||
	    mig__write_full(fd, s->root, strlen(s->root) + 1) != 0)
		goto fail;
	for (size_t i = 0; argv[i] != NULL; i++)
		if (mig__write_full(fd, argv[i], strlen(argv[i]) + 1) != 0)
			goto fail;
	for (size_t i = 0; envp[i] != NULL; i++)
		if (mig__write_full(fd, envp[i], strlen(envp[i]) + 1) != 0)
			goto fail;
	return fd;
 fail:
	e = errno != 0 ? errno : EIO;
	mig__close(fd);
	errno = e;
	return -1;
}

/* A clone of the subreaper server, with the description and fds in
 * place; its pid, or -1 with errno. */
static pid_t
ask_server(struct homed *d, struct mig_start *s, const int fds[START_FD_COUNT],
    char **argv, char **envp)
{
	int v[START_FD_COUNT], desc, r;
	uint32_t mask = 0;
	size_t n = 0;
	pid_t pid;

	s->argc = 0;
	while (argv[s->argc] != NULL)
		s->argc++;
	if ((desc = describe(s, argv, envp)) == -1)
		return -1;
	for (int i = 0; i < START_FD_COUNT; i++) {
		int fd = i == START_FD_DESC ? desc : fds[i];
		if (fd >= 0) {
			mask |= 1u << i;
			v[n++] = fd;
		}
	}
	r = mig__server_ask(d, &d->reapers, &mask, sizeof(mask), v, n, &pid);
	mig__close(desc);
	if (r != 0) {
		errno = r > -4096 ? -r : EPROTO;
		return -1;
	}
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
