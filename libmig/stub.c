/*
 * stub.c: a job seen from home. The stub sends RUN to the local daemon,
 * then relays until the job ends: its own stdin to the job, the job's
 * stdout and stderr to its own fds, and the signals it gets to the job.
 * It ends the way the job ended. The daemon never touches the stub's
 * fds: they may be shared with other processes (a terminal, make's
 * pipes), whose file status flags we must not change.
 *
 * The mig launcher runs it (mig --stub, mig -h, mig gcc), and so does
 * libmig.so in a child it forked for a placed program without exec
 * (preload/spawn.c). In that child the caller's atexit handlers and
 * stdio buffers are still there: nothing here calls exit() or writes
 * through stdio, it says things with write(2) and ends with _exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <termios.h>
#include <unistd.h>

#include "core.h"
#include "mig/proto.h"
#include "policy.h"
#include "stub.h"

extern char **environ;

const char *mig__sock;

/* Signals that reach the job; the others act on the launcher itself. */
static const int forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2,
	SIGTERM, SIGALRM, SIGWINCH };

struct stub {
	int sock;
	int sigfd;
	struct mig_buf in, out;
	size_t in_off, out_off; /* where their bytes still to go begin */
	int started;
	int stdin_open;      /* still reading our stdin for the job */
	size_t stdin_unacked;
	int discard[3];      /* nobody reads our stdout/stderr any more */
	size_t ack[3];       /* output written, not yet acknowledged */
	sigset_t pending;    /* signals that came before the job started */
	int wrote;           /* some of the job's output reached our fds */
	int interrupted;     /* a SIGINT went to the job already */
	sigset_t origmask;   /* as we were started: what a program run */
	struct sigaction origpipe; /* here inherits */
	uint32_t flags;      /* MIG_JOB_* */
	const char *host;
	char **argv;
	int verbose;         /* mig -v: say where the job started */
};

static void tty_restore(void);

/* "mig: " and the line, on stderr, without stdio. */
static void
vsay(const char *fmt, va_list ap)
{
	char line[1024];
	int n;

	memcpy(line, "mig: ", 5);
	n = vsnprintf(line + 5, sizeof(line) - 6, fmt, ap);
	if (n < 0)
		n = 0;
	n = n + 5 > (int)sizeof(line) - 2 ? (int)sizeof(line) - 2 : n + 5;
	line[n++] = '\n';
	(void)mig__write_full(2, line, (size_t)n);
}

static void __attribute__((format(printf, 1, 2)))
say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
}

/* The stub's own failure: a mig: line and 255. */
static void __attribute__((noreturn, format(printf, 1, 2)))
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
	tty_restore();
	_exit(MIG_EXIT_FAILURE);
}

void
mig__exec_failed(const char *cmd, int err)
{
	say("%s: %s", cmd, err == MIG__ERR(ENOENT) ? "command not found" :
	    mig_strerror(err));
	_exit(err == MIG__ERR(ENOENT) ? MIG_EXIT_NOTFOUND : MIG_EXIT_NOEXEC);
}

void
mig__reach_why(int r, const char *err, char *why, size_t n)
{
	if (r == MIG_EUNSAFE)
		snprintf(why, n, "%s: refusing to talk to a daemon there (remove "
		    "it, or set MIG_RUNTIME_DIR to a folder of your own, mode "
		    "0700)", err);
	else if (r != 0)
		snprintf(why, n, "cannot reach the local mig-homed: %s%s",
		    err[0] != '\0' ? err : mig_strerror(r),
		    r == MIG_ENODAEMON ? " (start it with 'mig-homed')" : "");
}

static void
fill_job(struct mig_job *job, const char *host, char **argv, uint32_t flags)
{
	static const int res[] = { RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_DATA,
		RLIMIT_STACK, RLIMIT_CORE, RLIMIT_NOFILE, RLIMIT_AS,
		RLIMIT_NPROC, RLIMIT_MEMLOCK, RLIMIT_LOCKS, RLIMIT_SIGPENDING,
		RLIMIT_MSGQUEUE, RLIMIT_NICE, RLIMIT_RTPRIO, RLIMIT_RTTIME };
	static char cwd[PATH_MAX];
	static struct utsname uts;
	mode_t mask;

	memset(job, 0, sizeof(*job));
	/* As ssh: the command starts in the user's home folder (home's, the
	 * view serves it where the host lacks it), wherever we were. */
	if (flags & MIG_JOB_SSH) {
		const char *h = getenv("HOME");
		if (h == NULL || h[0] != '/' || strlen(h) >= sizeof(cwd))
			fatal("HOME is not an absolute path (%s): the "
			    "command would start nowhere", h != NULL ? h : "unset");
		strcpy(cwd, h);
	} else if (getcwd(cwd, sizeof(cwd)) == NULL) {
		fatal("the current directory is gone (%s)",
		    strerror(errno));
	}
	job->host = (char *)host;
	job->flags = flags;
	job->argv = argv;
	job->envp = environ;
	job->cwd = cwd;
	mask = umask(0);
	umask(mask);
	job->umask = mask;
	for (size_t i = 0; i < sizeof(res) / sizeof(res[0]); i++) {
		struct rlimit rl;
		if (getrlimit(res[i], &rl) != 0)
			continue;
		job->rlimit[job->nrlimit].resource = (uint32_t)res[i];
		job->rlimit[job->nrlimit].cur = rl.rlim_cur;
		job->rlimit[job->nrlimit].max = rl.rlim_max;
		job->nrlimit++;
	}
	job->pid = getpid();
	job->ppid = getppid();
	job->pgid = getpgrp();
	job->sid = getsid(0);
	/* A placed program sees which of its fds are terminals at home,
	 * as it would have there (gcc's colours); it reads EOF, whatever
	 * its stdin was. mig -h is ssh's: a terminal only with -t. */
	for (int fd = (flags & MIG_JOB_NOSTDIN) ? 1 : 0;
	     (flags & MIG_JOB_PLACE) && fd < 3; fd++)
		if (isatty(fd))
			job->flags |= (uint32_t)MIG_JOB_ISATTY0 << fd;
	errno = 0;
	job->nice = getpriority(PRIO_PROCESS, 0);
	if (errno != 0)
		job->nice = 0;
	/* By system call: musl's sched_getscheduler returns ENOSYS. */
	job->sched = (uint32_t)syscall(SYS_sched_getscheduler, 0);
	if (flags & MIG_JOB_TTY) {
		struct winsize ws;
		if (ioctl(0, TIOCGWINSZ, &ws) == 0) {
			job->ws_row = ws.ws_row;
			job->ws_col = ws.ws_col;
		}
	}
	if (uname(&uts) == 0) {
		job->nodename = uts.nodename;
		job->domainname = uts.domainname;
	} else {
		job->nodename = job->domainname = (char *)"";
	}
}

static void
queue(struct stub *s, uint16_t type, uint16_t flags, const void *p, size_t n)
{
	if (mig_frame_put(&s->out, type, flags, 0, p, n) != 0)
		fatal("out of memory");
}

static void
queue_u32(struct stub *s, uint16_t type, uint16_t flags, uint32_t v)
{
	uint8_t p[4];

	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	queue(s, type, flags, p, sizeof(p));
}

/*
 * With a terminal on the host (mig -t), ours is in raw mode while the job
 * runs: keys go to the host's line discipline as they are typed, and
 * Ctrl-C, Ctrl-Z and Ctrl-\\ become signals there. It is put back on every
 * way out: fatal, and the job's end (end_like).
 */
static struct termios saved_tty;
static int tty_raw;

static void
tty_restore(void)
{
	if (tty_raw)
		tcsetattr(0, TCSADRAIN, &saved_tty);
	tty_raw = 0;
}

static void
tty_make_raw(void)
{
	struct termios raw;

	if (tcgetattr(0, &saved_tty) != 0)
		return;
	raw = saved_tty;
	cfmakeraw(&raw);
	if (tcsetattr(0, TCSADRAIN, &raw) != 0)
		return;
	tty_raw = 1;
}

static void
send_winsize(struct stub *s)
{
	struct winsize ws;
	uint8_t p[4];

	if (ioctl(0, TIOCGWINSZ, &ws) != 0)
		return;
	p[0] = (uint8_t)ws.ws_row;
	p[1] = (uint8_t)(ws.ws_row >> 8);
	p[2] = (uint8_t)ws.ws_col;
	p[3] = (uint8_t)(ws.ws_col >> 8);
	queue(s, MIG_M_WINSIZE, 0, p, sizeof(p));
}

/* Ends this process the way the job ended. */
static void __attribute__((noreturn))
end_like(uint32_t code, uint32_t sig)
{
	struct rlimit none = { 0, 0 };
	sigset_t set;

	tty_restore();
	if (sig == 0)
		_exit((int)(code & 0xff));
	/* The job's core dump, if any, was the host's; not ours too. */
	setrlimit(RLIMIT_CORE, &none);
	signal((int)sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, (int)sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise((int)sig);
	_exit(128 + (int)sig);
}

static void __attribute__((noreturn))
run_here(struct stub *s)
{
	/* The program gets exactly what make gave us: our signal mask and
	 * SIGPIPE as they were, and no descriptor of ours (the daemon
	 * watches our pid to know when the slot is free again). */
	mig__close(s->sock);
	mig__close(s->sigfd);
	sigaction(SIGPIPE, &s->origpipe, NULL);
	sigprocmask(SIG_SETMASK, &s->origmask, NULL);
	mig__exec_failed(s->argv[0], mig__exec_raw(s->argv[0], s->argv,
	    environ));
}

/* Output is acknowledged once written to our own fds: the host stops
 * reading the job's output while a window's worth is unacknowledged. */
static void
flush_acks(struct stub *s)
{
	for (uint16_t fd = 1; fd <= 2; fd++) {
		if (s->ack[fd] == 0)
			continue;
		queue_u32(s, MIG_M_OUTPUT_ACK, fd, (uint32_t)s->ack[fd]);
		s->ack[fd] = 0;
	}
}

static void
on_output(struct stub *s, const struct mig_frame *f)
{
	int fd = f->flags;

	if (fd != 1 && fd != 2)
		fatal("the daemon sent output for fd %d", fd);
	if (f->type == MIG_M_OUTPUT_EOF) {
		if (!s->discard[fd])
			close(fd);
		s->discard[fd] = 1;
		return;
	}
	s->wrote = 1;
	if (!s->discard[fd] && mig__write_full(fd, f->payload, f->len) != 0) {
		/* Our reader is gone: the job's writes must now fail as a
		 * local pipe's would. */
		s->discard[fd] = 1;
		queue(s, MIG_M_OUTPUT_CLOSE, (uint16_t)fd, NULL, 0);
	}
	s->ack[fd] += f->len;
	if (s->ack[fd] >= MIG_WINDOW / 4)
		flush_acks(s);
}

/* mig -v: where the job runs, and how it sees home's files there (its
 * host's words, made printable). */
static void
say_started(const struct stub *s, struct mig_rd *rd)
{
	char *host = NULL, *files = NULL;
	uint32_t pid;

	if (proto_get_u32(rd, &pid) == 0 && proto_get_str(rd, &host) == 0 &&
	    proto_get_str(rd, &files) == 0) {
		for (char *c = files; *c != '\0'; c++)
			if (*c < ' ' || *c > '~')
				*c = '?';
		for (char *c = host; *c != '\0'; c++)
			if (*c < ' ' || *c > '~')
				*c = '?';
		say("%s: on %s, in %s", s->argv[0], host, files);
	}
	free(host);
	free(files);
}

static void
on_frame(struct stub *s, const struct mig_frame *f)
{
	struct mig_rd rd;
	uint32_t a = 0, b = 0;
	char *msg = NULL;

	proto_rd_init(&rd, f->payload, f->len);
	switch (f->type) {
	case MIG_M_HELLO:
		break;
	case MIG_M_LOCAL:
		run_here(s);
	case MIG_M_STARTED:
		s->started = 1;
		if (s->verbose)
			say_started(s, &rd);
		/* A resize while it started must not be lost. */
		if (s->flags & MIG_JOB_TTY)
			send_winsize(s);
		for (size_t i = 0; i < sizeof(forwarded) / sizeof(*forwarded);
		     i++)
			if (sigismember(&s->pending, forwarded[i]))
				queue_u32(s, MIG_M_SIGNAL, 0,
				    (uint32_t)forwarded[i]);
		sigemptyset(&s->pending);
		break;
	case MIG_M_OUTPUT:
	case MIG_M_OUTPUT_EOF:
		on_output(s, f);
		break;
	case MIG_M_INPUT_ACK:
		if (proto_get_u32(&rd, &a) == 0 && f->flags == 0)
			s->stdin_unacked -= a < s->stdin_unacked ?
			    a : s->stdin_unacked;
		break;
	case MIG_M_INPUT_CLOSE:
		s->stdin_open = 0;
		break;
	case MIG_M_EXIT:
		if (proto_get_u32(&rd, &a) != 0 || proto_get_u32(&rd, &b) != 0)
			fatal("malformed EXIT from the daemon");
		end_like(a, b);
	case MIG_M_ERROR:
		if (proto_get_u32(&rd, &a) != 0 ||
		    proto_get_str(&rd, &msg) != 0)
			fatal("malformed ERROR from the daemon");
		fatal("%s", msg);
	default:
		fatal("unexpected message %u from the daemon", f->type);
	}
}

/*
 * The daemon is gone (it died, or was never there). A job placed by
 * policy that has not started, or may run twice and has shown nothing
 * yet, runs here instead, so a build goes on; any other job fails.
 */
static void __attribute__((noreturn))
daemon_lost(struct stub *s, const char *what)
{
	if ((s->flags & MIG_JOB_PLACE) && !s->wrote &&
	    (!s->started || (s->flags & MIG_JOB_RESTART))) {
		/* A build says it once, not once per compile. */
		switch (mig__stub_first(mig__sock)) {
		case 1:
			say("warning: %s; running %s here", what, s->argv[0]);
			break;
		case 2:
			say("warning: %s; running %s here, and this build's "
			    "other placed programs too while it is gone", what,
			    s->argv[0]);
			break;
		}
		mig__close(s->sock);
		s->sock = -1;
		run_here(s);
	}
	fatal("%s", what);
}

/* in and out are read and written from their offset on. Their front is
 * given back when all of it is done with, or when the room behind it is
 * less than a frame: a partial read or write moves no bytes, and a stream
 * (cat) moves a part of a frame every few frames, not most of each. */
static void
done_with(struct mig_buf *b, size_t *off)
{
	if (*off == b->len) {
		b->len = *off = 0;
	} else if (b->cap - b->len < MIG_FRAME_HDR + MIG_CHUNK) {
		mig_buf_consume(b, *off);
		*off = 0;
	}
}

static void
read_sock(struct stub *s)
{
	size_t off = s->in_off;
	ssize_t n;

	/* Room for a frame, in a buffer of four at first. */
	if (mig_buf_reserve(&s->in, s->in.cap == 0 ? 4 * MIG_CHUNK :
	    MIG_FRAME_HDR + MIG_CHUNK) != 0)
		fatal("out of memory");
	n = read(s->sock, s->in.data + s->in.len, s->in.cap - s->in.len);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0)
		daemon_lost(s, "lost the connection to the local mig-homed");
	s->in.len += (size_t)n;
	for (;;) {
		struct mig_frame f;
		int r = mig_frame_decode(s->in.data + off, s->in.len - off, &f);
		if (r == MIG_EAGAIN)
			break;
		if (r != 0)
			fatal("malformed message from the daemon: %s",
			    mig_strerror(r));
		off += MIG_FRAME_HDR + f.len;
		on_frame(s, &f);
	}
	s->in_off = off;
	done_with(&s->in, &s->in_off);
}

static void
read_stdin(struct stub *s)
{
	size_t at;
	ssize_t n;

	/* Straight into the frame that takes it to the daemon. */
	if (mig_buf_reserve(&s->out, MIG_FRAME_HDR + MIG_CHUNK) != 0 ||
	    mig_frame_begin(&s->out, MIG_M_INPUT, 0, 0, &at) != 0)
		fatal("out of memory");
	n = read(0, s->out.data + s->out.len, MIG_CHUNK);
	if (n <= 0)
		s->out.len = at;
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		queue(s, MIG_M_INPUT_EOF, 0, NULL, 0);
		s->stdin_open = 0;
		return;
	}
	s->out.len += (size_t)n;
	mig_frame_end(&s->out, at);
	s->stdin_unacked += (size_t)n;
}

static void
read_signal(struct stub *s)
{
	struct signalfd_siginfo si;

	if (read(s->sigfd, &si, sizeof(si)) != sizeof(si))
		return;
	/* Asked to stop before the job started: stop now, as the job would
	 * have; the daemon, seeing us gone, lets nothing run on. */
	if (!s->started && (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM ||
	    si.ssi_signo == SIGHUP || si.ssi_signo == SIGQUIT))
		end_like(0, si.ssi_signo);
	/* On a terminal of the host's, a resize is news for it. */
	if (si.ssi_signo == SIGWINCH && (s->flags & MIG_JOB_TTY)) {
		if (s->started)
			send_winsize(s);
		return;
	}
	/* A second Ctrl-C always gets the user out, whatever the job does
	 * with the first; the daemon, seeing us gone, kills the job. */
	if (si.ssi_signo == SIGINT && s->interrupted)
		end_like(0, SIGINT);
	s->interrupted |= si.ssi_signo == SIGINT && s->started;
	if (s->started)
		queue_u32(s, MIG_M_SIGNAL, 0, si.ssi_signo);
	else
		sigaddset(&s->pending, (int)si.ssi_signo);
}

static void
write_sock(struct stub *s)
{
	ssize_t n = write(s->sock, s->out.data + s->out_off,
	    s->out.len - s->out_off);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n < 0)
		daemon_lost(s, "lost the connection to the local mig-homed");
	s->out_off += (size_t)n;
	done_with(&s->out, &s->out_off);
}

/* As ssh does: a closed stdin, stdout or stderr is opened on /dev/null
 * before we open anything, so that no socket or signalfd of ours takes
 * its number (the job's output written into our signalfd, a closed
 * stdin polled as a live one). */
static void
std_fds(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) == -1 &&
		    open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			fatal("cannot open /dev/null: %s", strerror(errno));
}

/* Whether our stdin is Linux's /dev/null (character device 1:3,
 * whatever its name): it can only read EOF. */
static int
stdin_empty(void)
{
	struct stat st;

	return fstat(0, &st) == 0 && S_ISCHR(st.st_mode) &&
	    st.st_rdev == makedev(1, 3);
}

void
mig__run(const char *host, char **argv, uint32_t flags)
{
	char why[PATH_MAX + 256];
	struct stub s;
	struct mig_job job;
	sigset_t set;
	int r;

	std_fds();
	memset(&s, 0, sizeof(s));
	s.sock = -1;
	s.host = host;
	s.argv = argv;
	s.verbose = getenv("MIG_VERBOSE") != NULL &&
	    strcmp(getenv("MIG_VERBOSE"), "0") != 0 &&
	    getenv("MIG_VERBOSE")[0] != '\0';
	/* A placed job never steals keystrokes or make's input: it reads
	 * EOF, unless an argument "-" asks for stdin (gcc -x c -), as with
	 * distcc. Compilers may then run twice, on another host, when
	 * theirs is lost. */
	if (flags & MIG_JOB_PLACE) {
		flags |= MIG_JOB_NOSTDIN;
		for (char **a = argv + 1; *a != NULL; a++)
			if (strcmp(*a, "-") == 0)
				flags &= ~(uint32_t)MIG_JOB_NOSTDIN;
	}
	/* A stdin that is /dev/null (or was closed) has nothing to relay:
	 * the job reads EOF at once, with no trip of ours to tell it. (A
	 * terminal's input is its output's too, and stays.) */
	if (!(flags & MIG_JOB_TTY) && stdin_empty())
		flags |= MIG_JOB_NOSTDIN;
	if ((flags & MIG_JOB_PLACE) && (flags & MIG_JOB_NOSTDIN) &&
	    mig__policy_match(MIG_POLICY_DEFAULT, argv[0]))
		flags |= MIG_JOB_RESTART;
	s.flags = flags;
	/* A closed stdin reads as EOF (poll flags it, read fails). */
	s.stdin_open = !(flags & MIG_JOB_NOSTDIN);
	sigemptyset(&s.pending);
	/* Signals wait in the signalfd from now on, none is lost. */
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(*forwarded); i++)
		sigaddset(&set, forwarded[i]);
	sigprocmask(SIG_BLOCK, &set, &s.origmask);
	sigaction(SIGPIPE, NULL, &s.origpipe);
	if ((s.sigfd = signalfd(-1, &set, SFD_CLOEXEC)) == -1)
		fatal("signalfd: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	fill_job(&job, host, argv, flags);
	if ((flags & MIG_JOB_TTY) && isatty(0))
		tty_make_raw();
	if ((r = mig__stub_reach(mig__sock, &s.sock, why, sizeof(why))) != 0) {
		/* Nothing runs anywhere through a folder that is not ours. */
		if (r == MIG_EUNSAFE)
			fatal("%s", why);
		daemon_lost(&s, why);
	}
	queue_u32(&s, MIG_M_HELLO, 0, MIG_PROTO_VERSION);
	if (mig_x_job(&s.out, MIG_M_RUN, 0, &job) != 0)
		fatal("the command and its environment are too large");
	fcntl(s.sock, F_SETFL, O_NONBLOCK);
	for (;;) {
		struct pollfd p[3] = {
			{ .fd = s.sock, .events = POLLIN },
			{ .fd = s.sigfd, .events = POLLIN },
			{ .fd = -1, .events = POLLIN },
		};
		if (s.out.len > 0)
			p[0].events |= POLLOUT;
		if (s.started && s.stdin_open && s.stdin_unacked < MIG_WINDOW)
			p[2].fd = 0;
		/* Acknowledgements wait until nothing else is ready, so one
		 * covers many frames. */
		if (poll(p, 3, 0) == 0) {
			flush_acks(&s);
			if (s.out.len > 0)
				p[0].events |= POLLOUT;
		} else {
			goto ready;
		}
		if (poll(p, 3, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll: %s", strerror(errno));
		}
 ready:
		if (p[1].revents & POLLIN)
			read_signal(&s);
		if (p[0].revents & POLLOUT)
			write_sock(&s);
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR))
			read_sock(&s);
		if (p[2].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL))
			read_stdin(&s);
	}
}
