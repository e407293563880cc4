/*
 * fuzz_ident.c: the identity page as the shim reads it in remote role
 * (libmig/preload/ident.c), from a memfd holding arbitrary bytes at the
 * page's descriptor, then the wrappers that answer from it. The page is
 * written by the host daemon, but a job can hand its children any file
 * at that descriptor: whatever it holds, the shim must map it only when
 * it is whole and valid, keep names terminated, and never crash.
 */
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "fuzz.h"
#include "preload.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct utsname u;
	struct timespec ts;
	char name[8];

	if (fd < 0)
		CHECK((fd = memfd_create("fuzz-ident", 0)) >= 0);
	CHECK(ftruncate(fd, 0) == 0);
	CHECK(pwrite(fd, data, size, 0) == (ssize_t)size);
	if (mig__ident != NULL) {
		munmap((void *)mig__ident, MIG_IDENT_SIZE);
		mig__ident = NULL;
	}
	memset(&mig__home, 0, sizeof(mig__home));
	mig__shim.role = MIG_ROLE_REMOTE;
	mig__shim.ident_fd = fd;
	mig__shim.sock[0] = '\0'; /* no daemon: nothing forwarded */
	mig__ident_init();
	if (size < MIG_IDENT_SIZE) {
		CHECK(mig__ident == NULL);
		return 0;
	}
	if (mig__ident == NULL)
		return 0;
	CHECK(mig__ident->magic == MIG_IDENT_MAGIC);
	CHECK(memchr(mig__home.nodename, '\0', sizeof(mig__home.nodename)));
	CHECK(memchr(mig__home.domainname, '\0',
	    sizeof(mig__home.domainname)));
	(void)mig__getpid();
	(void)mig__getppid();
	(void)mig__getpgrp();
	(void)mig__getpgid(0);
	(void)mig__getsid(0);
	CHECK(mig__uname(&u) == 0);
	CHECK(memchr(u.nodename, '\0', sizeof(u.nodename)) != NULL);
	if (mig__gethostname(name, sizeof(name)) == 0)
		CHECK(memchr(name, '\0', sizeof(name)) != NULL);
	CHECK(mig__clock_gettime(CLOCK_REALTIME, &ts) == 0);
	CHECK(ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000);
	(void)mig__time(NULL);
	return 0;
}
