/*
 * reach.c: the launcher's connection to the local daemon, and the one
 * line it says when there is none. The usual reason a daemon that mig
 * starts does not come up is its TCP port: another user's daemon on this
 * machine (or another program) holds it.
 */
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "launcher.h"

/* Says in why, and returns 1, when the daemon's port is why it did not
 * start. */
static int
check_port(char *why, size_t n)
{
	struct mig_hosts hosts = { NULL, 0 };
	struct mig_host me;
	char dir[PATH_MAX], path[PATH_MAX], err[512];
	int listed;

	if (mig_config_dir(dir, sizeof(dir)) != 0 ||
	    mig_path(path, sizeof(path), dir, "hosts") != 0 ||
	    mig__hosts_load(path, &hosts, err, sizeof(err)) != 0)
		return 0;
	mig__listen_addr(&hosts, &me);
	listed = mig__hosts_find(&hosts, me.name) != NULL;
	mig__hosts_free(&hosts);
	if (!mig__port_taken(me.addr, me.port))
		return 0;
	if (!listed)
		snprintf(why, n, "cannot start mig-homed: port %u, the default for "
		    "uid %u, is taken (by another user's mig-homed?); give "
		    "this host a line '%s ADDR:PORT' with a free port in %s, "
		    "or run 'mig-homed --listen ADDR:PORT'", me.port,
		    (unsigned)getuid(), me.name[0] != '\0' ? me.name : "NAME",
		    path);
	else
		snprintf(why, n, "cannot start mig-homed: %s:%u, from the line "
		    "'%s' in %s, is taken (by another user's mig-homed?); give "
		    "it a free port there, or run 'mig-homed --listen "
		    "ADDR:PORT'", me.addr, me.port, me.name, path);
	return 1;
}

int
mig__try_reach(const char *sock, int autostart, int *fdp, char *why,
    size_t n)
{
	char err[PATH_MAX + 128];
	int r;

	err[0] = '\0';
	r = sock != NULL && sock[0] != '\0' ?
	    mig_connect_at(sock, fdp, err, sizeof(err)) :
	    mig_connect(fdp, autostart, err, sizeof(err));
	/* A daemon we started that did not come up: most often its port. */
	if (r != 0 && r != MIG_EUNSAFE && autostart &&
	    (sock == NULL || *sock == '\0') && check_port(why, n))
		return r;
	mig__reach_why(r, err, why, n);
	return r;
}

int
mig__reach(const char *sock, int autostart)
{
	char why[PATH_MAX + 256];
	int fd;

	if (mig__try_reach(sock, autostart, &fd, why, sizeof(why)) == 0)
		return fd;
	mig__fatal("%s", why);
}
