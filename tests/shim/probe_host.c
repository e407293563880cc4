/* probe_host: the host's names through uname, gethostname and
 * getdomainname (the _chk ones when built with _FORTIFY_SOURCE),
 * truncation and errors included. The lines that do not print a name
 * depend only on its length, so they must agree natively and at home
 * whatever the names. */
#include <sys/syscall.h>
#include <sys/utsname.h>

#include "probe.h"

#if defined(_FORTIFY_SOURCE) && _FORTIFY_SOURCE > 0
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

/* A length beyond the buffer: the _chk function must abort, as libc's
 * does. */
static const char *
overflow(int domain)
{
	char small[4];
	volatile size_t len = 64;
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 2);
		int r = domain ? getdomainname(small, len) :
				 gethostname(small, len);
		_exit(r == 0 ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT ? "abort" :
								   "no-abort";
}
#endif

int
main(void)
{
	struct utsname u, r;
	char buf[256];
	size_t n, d;
	int (*real_uname)(struct utsname *) =
	    (int (*)(struct utsname *))libc_fn("uname");

	real_uname(&r);
	say("uname", "%s", res(uname(&u)));
	say("uname.nodename", "%s", u.nodename);
	say("uname.domainname", "%s", u.domainname);
	say("uname.rest==real", "%s", strcmp(u.sysname, r.sysname) == 0 &&
	    strcmp(u.release, r.release) == 0 &&
	    strcmp(u.version, r.version) == 0 &&
	    strcmp(u.machine, r.machine) == 0 ? "yes" : "no");
	memset(&u, '#', sizeof(u));
	say("syscall(uname)", "%s", res(syscall(SYS_uname, &u)));
	say("syscall(uname).nodename", "%s", u.nodename);
	say("syscall(uname).domainname", "%s", u.domainname);
	say("syscall(uname,bad)", "%s", res(syscall(SYS_uname, (void *)8)));

	memset(buf, '#', sizeof(buf));
	say("gethostname", "%s", res(gethostname(buf, sizeof(buf))));
	say("gethostname.name", "%s", buf);
	n = strlen(buf);
	memset(buf, '#', sizeof(buf));
	errno = 0;
	say("gethostname(len=1)", "%s %s", res(gethostname(buf, 1)),
	    buf[0] == '#' ? "untouched" : buf[0] == '\0' ? "nul" : "byte");
	memset(buf, '#', sizeof(buf));
	say("gethostname(len=n)", "%s", res(gethostname(buf, n)));
	say("gethostname(len=n).tail", "%s", buf[n - 1] != '#' && buf[n] == '#'
	    ? "n-bytes" : "other");
	memset(buf, '#', sizeof(buf));
	say("gethostname(len=n+1)", "%s %s", res(gethostname(buf, n + 1)),
	    buf[n] == '\0' ? "terminated" : "unterminated");
	say("gethostname(len=0)", "%s", res(gethostname(buf, 0)));
	errno = 1234;
	if (gethostname(buf, sizeof(buf)) != 0 || uname(&u) != 0)
		say("errno-kept", "call failed");
	say("errno-kept", "%d", errno);

	memset(buf, '#', sizeof(buf));
	say("getdomainname", "%s", res(getdomainname(buf, sizeof(buf))));
	say("getdomainname.name", "%s", buf);
	d = strlen(buf);
	memset(buf, '#', sizeof(buf));
	{
		char first = buf[0];
		memset(buf, '#', sizeof(buf));
		say("getdomainname(len=1)", "%s %s %s",
		    res(getdomainname(buf, 1)),
		    buf[0] == first ? "first-byte" : "other",
		    buf[1] == '#' ? "rest-untouched" : "rest-written");
	}
	memset(buf, '#', sizeof(buf));
	say("getdomainname(len=d)", "%s", res(getdomainname(buf, d)));
	say("getdomainname(len=d).tail", "%s", buf[d] == '#' ? "d-bytes" :
	    "other");
	say("getdomainname(len=0)", "%s", res(getdomainname(buf, 0)));
#if defined(_FORTIFY_SOURCE) && _FORTIFY_SOURCE > 0
	say("gethostname(overflow)", "%s", overflow(0));
	say("getdomainname(overflow)", "%s", overflow(1));
#endif
	return 0;
}
