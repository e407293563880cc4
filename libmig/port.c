/*
 * port.c: which TCP port a user's daemon listens on, and whether that
 * port is free. Each user runs a daemon per host, so two users on one
 * machine need two ports: the default is MIG_PORT_BASE plus the uid
 * modulo MIG_PORT_USERS, which stays between 1024 and the kernel's
 * ephemeral range (32768 and up), where outgoing connections could
 * hold it.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core.h"

uint16_t
mig__port_for_uid(unsigned long uid)
{
	return (uint16_t)(MIG_PORT_BASE + uid % MIG_PORT_USERS);
}

uint16_t
mig_default_port(void)
{
	return mig__port_for_uid((unsigned long)getuid());
}

int
mig__listen_addr(const struct mig_hosts *hosts, struct mig_host *out)
{
	const struct mig_host *me;
	const char *e = getenv("MIG_HOST");
	char name[MIG_NAME_MAX] = "";

	memset(out, 0, sizeof(*out));
	if (e != NULL && *e != '\0')
		strlcpy(name, e, sizeof(name));
	else if (gethostname(name, sizeof(name)) != 0)
		name[0] = '\0';
	if ((me = mig__hosts_find(hosts, name)) != NULL) {
		*out = *me;
		return 0;
	}
	strlcpy(out->name, name, sizeof(out->name));
	strlcpy(out->addr, "0.0.0.0", sizeof(out->addr));
	out->port = MIG_DEFAULT_PORT;
	return 0;
}

int
mig__port_taken(const char *addr, uint16_t port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICSERV | AI_PASSIVE };
	struct addrinfo *ai = NULL;
	char serv[8];
	int fd, one = 1, taken = 0;

	snprintf(serv, sizeof(serv), "%u", (unsigned)port);
	if (getaddrinfo(addr, serv, &hints, &ai) != 0)
		return 0;
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
	/* As the daemon binds: SO_REUSEADDR, so that only a listener, not
	 * a connection in TIME_WAIT, counts as taking the port. */
	if (fd != -1) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		taken = bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 &&
		    errno == EADDRINUSE;
		mig__close(fd);
	}
	freeaddrinfo(ai);
	return taken;
}
