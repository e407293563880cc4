/*
 * lower.c: our session's CPU group at nice 19 (lower.h), in mig-homed
 * and in mig-reaper alike: libc only.
 */
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "lower.h"

/* How long to wait for the kernel to take the change, and how often to
 * try meanwhile. */
#define LOWER_WAIT_MS 10000
#define LOWER_NAP_MS 5

int
mig__autogroups_on(void)
{
	char c = '0';
	int fd;

	if ((fd = open("/proc/sys/kernel/sched_autogroup_enabled",
	    O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	if (read(fd, &c, 1) != 1)
		c = '0';
	close(fd);
	return c == '1';
}

int
mig__autogroup_lower(void)
{
	struct timespec nap = { 0, LOWER_NAP_MS * 1000000L };
	int fd, r = 0;

	if ((fd = open("/proc/self/autogroup", O_WRONLY | O_CLOEXEC)) == -1)
		return errno;
	for (int waited = 0; write(fd, "19", 2) != 2; waited += LOWER_NAP_MS) {
		r = errno;
		if (r != EAGAIN || waited >= LOWER_WAIT_MS)
			break;
		r = 0;
		nanosleep(&nap, NULL);
	}
	close(fd);
	return r;
}
