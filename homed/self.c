/*
 * self.c: which line of the hosts file is this host's, when neither
 * --name nor MIG_HOST says and no line bears the system's host name
 * (uname -n says "vm", the line "vm.example.org"): the one line whose
 * address is bound here. An address is this host's when a socket can be
 * bound to it. Names are resolved with the system's resolver, once, at
 * start-up, before the loop runs. A line that still points here unnoticed
 * (an address behind NAT) is found by the handshake: a daemon that dials
 * itself hears its own key (transport/handshake.c), and mig hosts says
 * "name resolves to this host".
 */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "homed.h"

/* 1 when some address addr resolves to can be bound here. */
static int
bound_here(const char *addr)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai = NULL;
	int here = 0;

	if (getaddrinfo(addr, NULL, &hints, &ai) != 0)
		return 0;
	for (struct addrinfo *a = ai; a != NULL && !here; a = a->ai_next) {
		int fd = socket(a->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		/* Port 0 in the address getaddrinfo made: any free one. */
		here = bind(fd, a->ai_addr, a->ai_addrlen) == 0;
		close(fd);
	}
	freeaddrinfo(ai);
	return here;
}

int
mig__self_line(const struct mig_hosts *hosts, const char **name,
    char *why, size_t size)
{
	const struct mig_host *found = NULL;

	*name = NULL;
	for (size_t i = 0; i < hosts->n; i++) {
		const struct mig_host *h = &hosts->v[i];
		if (!bound_here(h->addr))
			continue;
		if (found != NULL) {
			snprintf(why, size, "the lines '%s' and '%s' both "
			    "have an address of this host", found->name,
			    h->name);
			return MIG_ECONFIG;
		}
		found = h;
	}
	if (found == NULL) {
		snprintf(why, size, "no line has an address of this host");
		return MIG_ENOHOST;
	}
	*name = found->name;
	snprintf(why, size, "its address %s is this host's", found->addr);
	return 0;
}
