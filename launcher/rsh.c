/*
 * rsh.c: mig-rsh, for tools that want an rsh or ssh transport (rsync -e,
 * git's GIT_SSH, parallel --ssh, pdsh -R ssh, tar over a pipe, scripts).
 * Its arguments read like ssh's: [options] [user@]host [--] [command...].
 * As ssh does, the words of the command are joined with spaces and run
 * by the user's login shell on the host, in the user's home folder, as
 * a process of the host's (its pids, names and clock); options after
 * the host belong to the command. -s sftp runs the host's sftp server,
 * for scp and sftp.
 */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "launcher.h"
#include "mig/proto.h"

#define RSH_USAGE \
	"usage: mig-rsh [-1246AaCgKknqsTtVvxy] [-l user] [-o option] [-p port]\n" \
	"               [-F file] [-i file] [other ssh options] [user@]host\n" \
	"               [--] [command [arg...]]\n"

/* ssh's options as getopt sees them; "+": stop at the host. */
#define RSH_OPTS "+:1246AaCfGgKkMNnqsTtVvXxYyB:b:c:D:E:e:F:I:i:J:L:l:m:O:o:P:p:Q:R:S:W:w:"

struct rsh {
	int tty;            /* -t counted, -T: -1 */
	int subsystem;      /* -s: the command names a subsystem */
	const char *user;   /* -l, -o User= or user@host; NULL: ours */
	const char *host;
	uint32_t flags;     /* MIG_JOB_* */
};

static void
usage_error(const char *fmt, const char *what)
{
	fputs("mig: ", stderr);
	fprintf(stderr, fmt, what);
	fputs(" (see 'mig-rsh --help')\n", stderr);
	exit(MIG_EXIT_FAILURE);
}

/* Why ssh's option c cannot be honoured, or NULL when it is accepted
 * (mapped, or meaningless for mig and ignored silently). */
static const char *
refused(int c)
{
	switch (c) {
	case 'X':
	case 'Y':
		return "X11 forwarding is not supported by mig";
	case 'L':
	case 'R':
	case 'D':
	case 'W':
	case 'w':
		return "mig forwards no ports or tunnels";
	case 'N':
		return "mig forwards no ports, so a session without a "
		       "command has nothing to do";
	case 'f':
		return "mig-rsh does not go to the background; "
		       "use the shell's '&'";
	case 'J':
		return "mig's daemons link directly; there is no jump host";
	case 'M':
	case 'S':
	case 'O':
		return "mig has no connection sharing (its daemons keep "
		       "their links open anyway)";
	case 'G':
	case 'Q':
		return "mig-rsh has no ssh configuration to print";
	default:
		return NULL;
	}
}

/* -o Option=value or -o "Option value": only User means something here. */
static void
ssh_option(struct rsh *r, char *opt)
{
	size_t n = strcspn(opt, "= \t");
	char *val = opt + n;

	val += strspn(val, "= \t");
	if (n == 4 && strncasecmp(opt, "User", 4) == 0 && *val != '\0')
		r->user = val;
}

/* Parses the options and the host; returns the index of the command's
 * first word. */
static int
parse(struct rsh *r, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'H' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char bad[3] = { '-', 0, 0 };
	const char *why;
	char *at;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, RSH_OPTS, longopts, NULL)) != -1) {
		switch (c) {
		case 'H':
			fputs(RSH_USAGE, stdout);
			exit(0);
		case 'V':
			printf("mig %s\n", mig_build_string());
			exit(0);
		case 'l':
			r->user = optarg;
			break;
		case 'n':
			r->flags |= MIG_JOB_NOSTDIN;
			break;
		case 't':
			if (r->tty >= 0)
				r->tty++;
			break;
		case 'T':
			r->tty = -1;
			break;
		case 's':
			r->subsystem = 1;
			break;
		case 'o':
			ssh_option(r, optarg);
			break;
		case ':':
			bad[1] = (char)optopt;
			usage_error("option %s needs a value", bad);
			break;
		case '?':
			bad[1] = (char)optopt;
			usage_error("unknown option %s",
			    optopt != 0 ? bad : argv[optind - 1]);
			break;
		default:
			bad[1] = (char)c;
			if ((why = refused(c)) != NULL) {
				fprintf(stderr, "mig: %s: %s\n", bad, why);
				exit(MIG_EXIT_FAILURE);
			}
			/* -1246AaCgKkqvxy, -B -b -c -E -e -F -I -i -m -P -p:
			 * about ssh's own connection, terminal or logging,
			 * which mig's daemons replace. */
			break;
		}
	}
	if (optind >= argc)
		usage_error("%s", "no host given");
	r->host = argv[optind++];
	/* rsync, scp and git also write "user@host". */
	if ((at = strrchr(r->host, '@')) != NULL) {
		*at = '\0';
		r->user = r->host;
		r->host = at + 1;
	}
	if (r->host[0] == '\0')
		usage_error("%s", "no host given");
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	return optind;
}

/* sshd's "Subsystem sftp": the sftp server where OpenSSH installs it. */
#define SFTP_SERVER \
	"for p in /usr/lib/openssh/sftp-server /usr/libexec/openssh/sftp-server " \
	"/usr/lib/ssh/sftp-server /usr/libexec/sftp-server; do " \
	"[ -x \"$p\" ] && exec \"$p\"; done; " \
	"echo \"mig: $(uname -n): no sftp-server here (OpenSSH's sftp server " \
	"runs the sftp subsystem)\" >&2; exit 127"

/* The command's words joined with spaces, as ssh sends them. */
static char *
join(char **words, int n)
{
	size_t len = 1;
	char *cmd;

	for (int i = 0; i < n; i++)
		len += strlen(words[i]) + 1;
	if ((cmd = malloc(len)) == NULL)
		mig__fatal("out of memory");
	cmd[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (i > 0)
			strcat(cmd, " ");
		strcat(cmd, words[i]);
	}
	return cmd;
}

/* Who runs the command: their name, home folder and shell, from the
 * user database as sshd finds them. mig is static, and with musl it reads
 * /etc/passwd and nscd only (cmake/static.cmake): a user that only LDAP
 * or sssd knows is then taken from what their login set, USER (or
 * LOGNAME), HOME and SHELL. */
struct who {
	const char *name, *dir, *shell;
};

static void
whoami(struct who *w)
{
	struct passwd *pw = getpwuid(getuid());

	if (pw != NULL) {
		*w = (struct who){ pw->pw_name, pw->pw_dir, pw->pw_shell };
	} else {
		w->name = getenv("USER");
		if (w->name == NULL || *w->name == '\0')
			w->name = getenv("LOGNAME");
		w->dir = getenv("HOME");
		w->shell = getenv("SHELL");
		if (w->name == NULL || *w->name == '\0' || w->dir == NULL ||
		    *w->dir == '\0')
			mig__fatal("who am I? uid %u is not in the user "
			    "database, and USER or HOME is not set",
			    (unsigned)getuid());
	}
	if (w->shell == NULL || *w->shell == '\0')
		w->shell = "/bin/sh";
}

int
mig__rsh_main(int argc, char **argv)
{
	struct rsh r = { 0, 0, NULL, NULL, 0 };
	struct who w;
	char *sh[4];
	int i;

	whoami(&w);
	i = parse(&r, argc, argv);
	if (r.user != NULL && strcmp(r.user, w.name) != 0)
		mig__fatal("cannot run as '%s': mig's daemons are per user, "
		    "so commands run as '%s'", r.user, w.name);
	sh[0] = (char *)w.shell;
	/* sshd gives the command SHELL from the user database, and HOME,
	 * USER and LOGNAME; the rest of the environment is the home's.
	 * GNU parallel's remote worker runs its jobs with $SHELL. */
	if (setenv("SHELL", w.shell, 1) != 0 ||
	    setenv("HOME", w.dir, 0) != 0 ||
	    setenv("USER", w.name, 0) != 0 ||
	    setenv("LOGNAME", w.name, 0) != 0)
		mig__fatal("out of memory");
	if (r.subsystem) {
		/* As sshd runs a subsystem: its server, on stdin and stdout. */
		char *name = i < argc ? join(argv + i, argc - i) : NULL;
		if (name == NULL)
			usage_error("%s", "-s needs a subsystem name after the host");
		if (strcmp(name, "sftp") != 0)
			mig__fatal("-s %s: mig-rsh runs the sftp subsystem only",
			    name);
		sh[0] = "/bin/sh";
		sh[1] = "-c";
		sh[2] = SFTP_SERVER;
		sh[3] = NULL;
	} else if (i < argc) {
		sh[1] = "-c";
		sh[2] = join(argv + i, argc - i);
		sh[3] = NULL;
	} else {
		/* No command: ssh logs in, on a terminal of the host's
		 * when ours is one; reading a script from stdin (ssh host
		 * <script) needs none. */
		sh[1] = "-l";
		sh[2] = NULL;
	}
	/* ssh's semantics (run.c, host/spawn.c): in HOME, the host's
	 * identity, and what detaches may stay. */
	mig__run(r.host, sh, r.flags | MIG_JOB_SSH |
	    mig__want_tty(r.subsystem ? -1 : r.tty, i < argc));
}
