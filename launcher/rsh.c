/*
 * rsh.c: mig-rsh, for tools that want an rsh or ssh transport (rsync -e,
 * tar over a pipe, scripts). As rsh does, the words of the command are
 * joined with spaces and run by the user's shell on the host.
 */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launcher.h"
#include "mig/proto.h"

static void
usage(void)
{
	mig__fatal("usage: mig-rsh [-l user] [-n] host command...");
}

int
mig__rsh_main(int argc, char **argv)
{
	struct passwd *pw = getpwuid(getuid());
	const char *user = NULL, *host, *shell;
	uint32_t flags = 0;
	size_t len = 0;
	char *cmd, *sh[4];
	int i = 1;

	if (pw == NULL)
		mig__fatal("who am I? uid %u is not in the user database",
		    (unsigned)getuid());
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-l") == 0 && i + 1 < argc)
			user = argv[++i];
		else if (strcmp(argv[i], "-n") == 0)
			flags |= MIG_JOB_NOSTDIN;
		else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else
			usage();
	}
	if (i >= argc)
		usage();
	host = argv[i++];
	/* rsync and scp also accept "user@host". */
	if (strchr(host, '@') != NULL) {
		char *at = strchr(host, '@');
		*at = '\0';
		user = host;
		host = at + 1;
	}
	if (user != NULL && strcmp(user, pw->pw_name) != 0)
		mig__fatal("cannot run as '%s': mig's daemons are per user, "
		    "so commands run as '%s'", user, pw->pw_name);
	if (i >= argc)
		mig__fatal("no command given (mig-rsh does not log in)");
	for (int j = i; j < argc; j++)
		len += strlen(argv[j]) + 1;
	if ((cmd = malloc(len)) == NULL)
		mig__fatal("out of memory");
	cmd[0] = '\0';
	for (int j = i; j < argc; j++) {
		if (j > i)
			strcat(cmd, " ");
		strcat(cmd, argv[j]);
	}
	shell = pw->pw_shell != NULL && pw->pw_shell[0] != '\0' ?
	    pw->pw_shell : "/bin/sh";
	sh[0] = (char *)shell;
	sh[1] = "-c";
	sh[2] = cmd;
	sh[3] = NULL;
	mig__run(host, sh, flags);
}
