/*
 * mkident: run a command as the host daemon would run a placed job, on
 * this machine and without daemons, to test the shim's remote role.
 *
 *   mkident [options] [--] CMD [ARG...]
 *
 * It makes an identity page (include/mig/ident.h) in a memfd at the
 * descriptor the daemon uses, writes its own pid as host_pid (exec
 * keeps the pid, so that is the pid of CMD), and execs CMD with the shim
 * preloaded in remote role (libmig/shimenv.c builds the environment).
 * Every field defaults to this process's own value, so that with no
 * option CMD must behave exactly as it does natively.
 *
 *   -p PID -P PPID -g PGID -s SID   home pid, parent, group, session
 *   -n NAME -d NAME                  home nodename, domainname
 *   -o OFFSET                        home clock minus ours: NANOSECONDS,
 *                                    or SECONDS[.FRACTION]s (-3600s)
 *   -u                               the offset is not measured yet
 *   -H PID                           host_pid (default: our own pid)
 *   -f FD                            the page's descriptor (default 100)
 *   -M                               a page with a wrong magic
 *   -T                               a page file too short to map
 *   -C                               no page: __MIG_IDENT_FD names a
 *                                    closed descriptor
 *   -S                               a session of our own first (as the
 *                                    daemon gives each job)
 *   -N                               no page and no shim: CMD runs
 *                                    natively, after -S if given
 *   -L PATH                          the shim (default: the build's)
 *   -k SOCK                          the host daemon's socket, for the
 *                                    shim's round trips (job 7)
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mig/ident.h"
#include "shimenv.h"

#ifndef MIG_SHIM_PATH
#define MIG_SHIM_PATH "libmig.so"
#endif

extern char **environ;

static void
die(const char *what)
{
	fprintf(stderr, "mkident: %s: %s\n", what, strerror(errno));
	exit(125);
}

static void
usage(void)
{
	fprintf(stderr, "usage: mkident [-p pid] [-P ppid] [-g pgid] "
	    "[-s sid] [-n node] [-d domain] [-o offset] [-u] [-H hostpid] "
	    "[-f fd] [-M] [-T] [-C] [-S] [-N] [-L shim] [-k sock] [--] cmd "
	    "[arg...]\n");
	exit(125);
}

static long
number(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0')
		usage();
	return v;
}

/* "-1234.75s" or "-1234750000000": the offset in ns, exactly. */
static int64_t
offset(const char *s)
{
	const char *p = s;
	int64_t sec = 0, frac = 0, scale = 1000000000;
	int neg = 0;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (*p < '0' || *p > '9')
		usage();
	while (*p >= '0' && *p <= '9')
		sec = sec * 10 + (*p++ - '0');
	if (*p == '\0')
		return neg ? -sec : sec;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			scale /= 10;
			frac += (*p - '0') * scale;
		}
	}
	if (strcmp(p, "s") != 0)
		usage();
	sec = sec * 1000000000 + frac;
	return neg ? -sec : sec;
}

/* A session of our own. A process group leader cannot make one: then
 * the child does, and we end as it ends. */
static void
own_session(void)
{
	int status;
	pid_t pid;

	if (setsid() != -1 || getsid(0) == getpid())
		return;
	if ((pid = fork()) == -1)
		die("fork");
	if (pid == 0) {
		if (setsid() == -1)
			die("setsid");
		return;
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			die("waitpid");
	if (WIFSIGNALED(status)) {
		signal(WTERMSIG(status), SIG_DFL);
		raise(WTERMSIG(status));
	}
	exit(WIFEXITED(status) ? WEXITSTATUS(status) : 125);
}

int
main(int argc, char **argv)
{
	const char *pid = NULL, *ppid = NULL, *pgid = NULL, *sid = NULL;
	const char *node = NULL, *domain = NULL, *hostpid = NULL, *sock = NULL;
	const char *shim = getenv("MIG_SHIM") ? getenv("MIG_SHIM") :
						MIG_SHIM_PATH;
	int64_t off = 0;
	int c, fdno = 100, badmagic = 0, tooshort = 0, session = 0;
	int native = 0, measured = 1, closed = 0, fd;
	struct mig_ident *id;
	struct utsname u;

	while ((c = getopt(argc, argv, "+p:P:g:s:n:d:o:uH:f:MTCSNL:k:")) != -1) {
		switch (c) {
		case 'p': pid = optarg; break;
		case 'P': ppid = optarg; break;
		case 'g': pgid = optarg; break;
		case 's': sid = optarg; break;
		case 'n': node = optarg; break;
		case 'd': domain = optarg; break;
		case 'o': off = offset(optarg); break;
		case 'u': measured = 0; break;
		case 'H': hostpid = optarg; break;
		case 'f': fdno = (int)number(optarg); break;
		case 'M': badmagic = 1; break;
		case 'T': tooshort = 1; break;
		case 'C': closed = 1; break;
		case 'S': session = 1; break;
		case 'N': native = 1; break;
		case 'L': shim = optarg; break;
		case 'k': sock = optarg; break;
		default: usage();
		}
	}
	if (optind >= argc)
		usage();
	if (session)
		own_session();
	if (native) {
		execvp(argv[optind], argv + optind);
		die(argv[optind]);
	}

	if (uname(&u) != 0)
		die("uname");
	if ((fd = memfd_create("mig-ident", 0)) == -1)
		die("memfd_create");
	if (ftruncate(fd, MIG_IDENT_SIZE) == -1)
		die("ftruncate");
	id = mmap(NULL, MIG_IDENT_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	if (id == MAP_FAILED)
		die("mmap");
	/* Written as the daemon writes it: seq odd while we do. */
	id->seq = 1;
	id->magic = badmagic ? 0x12345678u : MIG_IDENT_MAGIC;
	id->size = sizeof(*id);
	id->pid = pid ? (int32_t)number(pid) : getpid();
	id->ppid = ppid ? (int32_t)number(ppid) : getppid();
	id->pgid = pgid ? (int32_t)number(pgid) : getpgrp();
	id->sid = sid ? (int32_t)number(sid) : getsid(0);
	id->host_pid = hostpid ? (int32_t)number(hostpid) : getpid();
	id->offset_ns = off;
	id->flags = measured ? MIG_IDENT_CLOCK : 0;
	snprintf(id->nodename, sizeof(id->nodename), "%s",
	    node ? node : u.nodename);
	snprintf(id->domainname, sizeof(id->domainname), "%s",
	    domain ? domain : u.domainname);
	__atomic_store_n(&id->seq, 2, __ATOMIC_RELEASE);
	munmap(id, MIG_IDENT_SIZE);
	if (tooshort && ftruncate(fd, 64) == -1)
		die("ftruncate");
	if (closed) {
		close(fd);
		close(fdno);
	} else if (fd != fdno) {
		if (dup2(fd, fdno) == -1)
			die("dup2");
		close(fd);
	}

	{
		static char vsock[4200];
		char var[32], *extra[] = { (char *)"__MIG_ROLE=remote", var,
			NULL, NULL, NULL };
		size_t n = 64;
		static char buf[65536];
		char **env;

		for (char **e = environ; *e != NULL; e++)
			n++;
		if ((env = calloc(n, sizeof(*env))) == NULL)
			die("calloc");
		snprintf(var, sizeof(var), "__MIG_IDENT_FD=%d", fdno);
		if (sock != NULL) {
			snprintf(vsock, sizeof(vsock), "__MIG_SOCK=%s", sock);
			extra[2] = vsock;
			extra[3] = (char *)"__MIG_JOB=7";
		}
		if (mig__shimenv(environ, shim, extra, env, n, buf,
		    sizeof(buf)) < 0) {
			errno = E2BIG;
			die("environment");
		}
		environ = env;
		execvp(argv[optind], argv + optind);
		die(argv[optind]);
	}
}
