/*
 * main.c: the mig command. The name it is run by picks the mode: mig-rsh
 * (or a link named ssh or rsh) is the ssh drop-in; mig runs its subcommands and mig -h HOST CMD.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launcher.h"

#include "mig/proto.h"

static void
usage(FILE *f, int status)
{
	fputs("usage: mig [-v] COMMAND [ARG...]     (mig make, mig gcc -c x.c)\n"
	      "       mig -h HOST [-n] [-t|-tt|-T] [--] COMMAND [ARG...]\n"
	      "       mig hosts|policy [--json]\n"
	      "       mig hosts add NAME ssh:DEST [--tcp [ADDR[:PORT]]]\n"
	      "       mig hosts remove NAME\n"
	      "       mig ps [--json] [--recent N]\n"
	      "       mig keygen [-f]\n"
	      "       mig drain|undrain HOST    mig evict [--end]\n"
	      "       mig --help | --version\n"
	      "       mig-rsh [ssh options] [user@]HOST [--] [COMMAND...]\n"
	      "see mig(1) and mig-rsh(1)\n",
	    f);
	exit(status);
}

int
main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/');
	const char *host = NULL;
	uint32_t flags = 0;
	int i = 1, verbose = 0, tty = 0;

	mig__relro();
	name = name != NULL ? name + 1 : argv[0];
	/* A link named ssh or rsh makes mig the transport of tools that
	 * run "ssh" by name (pdsh -R ssh). */
	if (strcmp(name, "mig-rsh") == 0 || strcmp(name, "ssh") == 0 ||
	    strcmp(name, "rsh") == 0)
		return mig__rsh_main(argc, argv);
	if (argc < 2)
		mig__fatal("no command given (see 'mig --help')");
	if (strcmp(argv[1], "keygen") == 0)
		return mig__keygen_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "hosts") == 0 && argc > 2 &&
	    (strcmp(argv[2], "add") == 0 || strcmp(argv[2], "remove") == 0))
		return mig__enrol_main(argc - 2, argv + 2);
	if (strcmp(argv[1], "hosts") == 0 || strcmp(argv[1], "ps") == 0 ||
	    strcmp(argv[1], "policy") == 0)
		return mig__view_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "drain") == 0 || strcmp(argv[1], "undrain") == 0 ||
	    strcmp(argv[1], "evict") == 0)
		return mig__owner_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "--version") == 0) {
		printf("mig %s\n", mig_build_string());
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0)
		usage(stdout, 0);
	/* The shim runs placed programs as
	 * "mig --stub SOCKET -- PATH ARG...". */
	if (strcmp(argv[1], "--stub") == 0 && argc > 4 &&
	    strcmp(argv[3], "--") == 0) {
		mig__sock = argv[2];
		mig__run("", argv + 4, MIG_JOB_PLACE);
	}
	if (argv[1][0] != '-')
		mig__home_main(argv + 1, 0);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-h") == 0 && i + 1 < argc)
			host = argv[++i];
		else if (strcmp(argv[i], "-n") == 0)
			flags |= MIG_JOB_NOSTDIN;
		/* As mig-rsh: -T wins over any -t. */
		else if (strcmp(argv[i], "-t") == 0)
			tty += tty >= 0;
		else if (strcmp(argv[i], "-tt") == 0)
			tty += tty >= 0 ? 2 : 0;
		else if (strcmp(argv[i], "-T") == 0)
			tty = -1;
		else if (strcmp(argv[i], "-v") == 0)
			verbose = 1;
		else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else
			mig__fatal("unknown option %s (see 'mig --help')",
			    argv[i]);
	}
	/* With -v, each job's stub (under make too: the variable is
	 * inherited) says where the job runs and how it sees home's files. */
	if (verbose && setenv("MIG_VERBOSE", "1", 1) != 0)
		mig__fatal("out of memory");
	if (host == NULL && i < argc && !(flags & MIG_JOB_NOSTDIN))
		mig__home_main(argv + i, verbose);
	if (host == NULL || i >= argc)
		mig__fatal("usage: mig -h HOST [-n] [-t|-tt|-T] [--] COMMAND "
		    "[ARG...]");
	flags |= mig__want_tty(tty, 1);
	mig__run(host, argv + i, flags);
}
