/* client.c: the blocking client side of the local daemon's socket. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core.h"
#include "rundir.h"

extern char **environ;

/* Runs mig-homed in background mode; it exits once its socket listens. */
static int
start_daemon(void)
{
	char path[PATH_MAX];
	int status;
	pid_t pid;

	if (mig__beside_self("mig-homed", path, sizeof(path)) != 0)
		strlcpy(path, "mig-homed", sizeof(path));
	if ((pid = fork()) == -1)
		return MIG__ERR(errno);
	if (pid == 0) {
		char *argv[] = { path, NULL };
		mig__exec_raw(path, argv, environ);
		_exit(MIG_EXIT_NOTFOUND);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return MIG__ERR(errno);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 :
								MIG_ENODAEMON;
}

int
mig_connect_at(const char *sock, int *fdp, char *err, size_t errsize)
{
	int r;

	*fdp = -1;
	r = mig__sock_connect(sock, fdp, err, errsize);
	return r == 0 || r == MIG_EUNSAFE ? r : MIG_ENODAEMON;
}

int
mig_connect(int *fdp, int autostart, char *err, size_t errsize)
{
	char dir[PATH_MAX], sock[PATH_MAX];
	const char *no = getenv("MIG_NO_AUTOSTART");
	int r;

	*fdp = -1;
	if ((r = mig_runtime_dir(dir, sizeof(dir))) != 0 ||
	    (r = mig_path(sock, sizeof(sock), dir, "homed.sock")) != 0)
		return r;
	r = mig__sock_connect(sock, fdp, err, errsize);
	if (r != MIG__ERR(ENOENT) && r != MIG__ERR(ECONNREFUSED))
		return r;
	if (!autostart || (no != NULL && *no != '\0' && strcmp(no, "0") != 0))
		return MIG_ENODAEMON;
	if ((r = start_daemon()) != 0)
		return r;
	r = mig__sock_connect(sock, fdp, err, errsize);
	return r == 0 || r == MIG_EUNSAFE ? r : MIG_ENODAEMON;
}
