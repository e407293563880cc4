/*
 * host.c: the home host's names. uname() gives this host's answer with
 * nodename and domainname replaced by home's; gethostname() and
 * getdomainname() follow glibc's own code on top of them (truncation,
 * ENAMETOOLONG), and the fortified _chk variants keep their overflow
 * check by handing a too-small buffer to the real one, which aborts as
 * it would have.
 *
 * A name the daemon left empty stays this host's.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "preload.h"

static int (*real_uname)(struct utsname *);
static int (*real_isatty)(int);
static int (*real_gethostname)(char *, size_t);
static int (*real_getdomainname)(char *, size_t);
static int (*real_gethostname_chk)(char *, size_t, size_t);
static int (*real_getdomainname_chk)(char *, size_t, size_t);
static long (*real_syscall)(long, ...);

void
mig__host_init(void)
{
	MIG_REAL(real_uname, "uname");
	MIG_REAL(real_gethostname, "gethostname");
	MIG_REAL(real_getdomainname, "getdomainname");
	MIG_REAL(real_gethostname_chk, "__gethostname_chk");
	MIG_REAL(real_getdomainname_chk, "__getdomainname_chk");
	MIG_REAL(real_syscall, "syscall");
}

/* Home's names over this host's, in a utsname the kernel filled. */
static void
home_names(struct utsname *u)
{
	if (mig__home.nodename[0] != '\0')
		memcpy(u->nodename, mig__home.nodename,
		    strlen(mig__home.nodename) + 1);
	if (mig__home.domainname[0] != '\0')
		memcpy(u->domainname, mig__home.domainname,
		    strlen(mig__home.domainname) + 1);
}

int
mig__uname(struct utsname *u)
{
	int r;

	MIG_REAL(real_uname, "uname");
	r = real_uname(u);
	if (r == 0 && mig__ident != NULL)
		home_names(u);
	return r;
}

/* glibc's gethostname: copy what fits, NUL included when it fits, and
 * fail with ENAMETOOLONG when the name did not. */
int
mig__gethostname(char *name, size_t len)
{
	size_t n;

	MIG_REAL(real_gethostname, "gethostname");
	if (mig__ident == NULL || mig__home.nodename[0] == '\0')
		return real_gethostname(name, len);
	n = strlen(mig__home.nodename) + 1;
	memcpy(name, mig__home.nodename, len < n ? len : n);
	if (n > len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* glibc's getdomainname on Linux truncates without an error. */
int
mig__getdomainname(char *name, size_t len)
{
	size_t n;

	MIG_REAL(real_getdomainname, "getdomainname");
	if (mig__ident == NULL || mig__home.domainname[0] == '\0')
		return real_getdomainname(name, len);
	n = strlen(mig__home.domainname) + 1;
	memcpy(name, mig__home.domainname, len < n ? len : n);
	return 0;
}

int
mig__gethostname_chk(char *name, size_t len, size_t buflen)
{
	MIG_REAL(real_gethostname_chk, "__gethostname_chk");
	if (len > buflen)
		return real_gethostname_chk(name, len, buflen);
	return mig__gethostname(name, len);
}

int
mig__getdomainname_chk(char *name, size_t len, size_t buflen)
{
	MIG_REAL(real_getdomainname_chk, "__getdomainname_chk");
	if (len > buflen)
		return real_getdomainname_chk(name, len, buflen);
	return mig__getdomainname(name, len);
}

/* syscall(SYS_uname): the kernel's new_utsname is a struct utsname. */
int
mig__host_syscall(long nr, const long a[6], long *ret)
{
	if (nr != SYS_uname)
		return 0;
	MIG_REAL(real_syscall, "syscall");
	*ret = real_syscall(nr, a[0]);
	if (*ret == 0)
		home_names((struct utsname *)a[0]);
	return 1;
}

/* isatty(): a placed process's fds 0-2 are pipes here; while a fd is
 * still the pipe the host gave it, it answers as that fd did at home. */
int
mig__isatty(int fd)
{
	struct stat st;

	MIG_REAL(real_isatty, "isatty");
	if (mig__ident != NULL && fd >= 0 && fd <= 2 &&
	    (mig__home.stdio_tty & (1u << fd)) && fstat(fd, &st) == 0 &&
	    (uint64_t)st.st_dev == mig__home.stdio_dev[fd] &&
	    (uint64_t)st.st_ino == mig__home.stdio_ino[fd])
		return 1;
	return real_isatty(fd);
}
