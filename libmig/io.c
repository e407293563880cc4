/* io.c: blocking fd I/O that survives EINTR, EAGAIN and short counts. */
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "core.h"

static void
wait_fd(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	while (poll(&p, 1, -1) == -1 && errno == EINTR)
		;
}

int
mig__read_full(int fd, void *p, size_t n)
{
	char *c = p;

	while (n > 0) {
		ssize_t r = read(fd, c, n);
		if (r == 0)
			return MIG_EAGAIN;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				wait_fd(fd, POLLIN);
				continue;
			}
			return MIG__ERR(errno);
		}
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

int
mig__write_full(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t r = write(fd, c, n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				wait_fd(fd, POLLOUT);
				continue;
			}
			return MIG__ERR(errno);
		}
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

void
mig__close(int fd)
{
	int saved = errno;

	if (fd >= 0)
		close(fd);
	errno = saved;
}
