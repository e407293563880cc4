/*
 * sshcmd.c: the command line that runs a command on a host over ssh, for
 * the daemon's links (homed/transport/ssh.c) and mig hosts add and remove
 * (launcher/enrol.c), so both run ssh alike.
 *
 * $MIG_SSH is split at blanks (spaces and tabs) and at nothing else:
 * quotes and backslashes are kept as they are, as a word's own
 * characters, so no word holds a blank. A word with blanks belongs in an
 * ssh config file (ssh -F FILE), which is what MIG_SSH is for.
 */
#include <stdio.h>
#include <string.h>

#include "core.h"

int
mig__ssh_argv(const char *text, const char *dest, const char *cmd,
    struct mig_ssh_argv *a, char *err, size_t errsize)
{
	static const char *const opts[] = { "-T", "-o", "BatchMode=yes",
		"-o", "ConnectTimeout=10", "--" };
	size_t n = 0;
	char *w, *save = NULL;

	memset(a, 0, sizeof(*a));
	if (text == NULL || *text == '\0')
		text = "ssh";
	if (strlcpy(a->words, text, sizeof(a->words)) >= sizeof(a->words)) {
		snprintf(err, errsize, "MIG_SSH: longer than %zu bytes",
		    sizeof(a->words) - 1);
		return MIG_ECONFIG;
	}
	for (w = strtok_r(a->words, " \t", &save); w != NULL;
	    w = strtok_r(NULL, " \t", &save)) {
		if (n == MIG_SSH_WORDS) {
			snprintf(err, errsize, "MIG_SSH: more than %d words",
			    MIG_SSH_WORDS);
			return MIG_ECONFIG;
		}
		a->argv[n++] = w;
	}
	if (n == 0) {
		snprintf(err, errsize, "MIG_SSH: blanks only, no command");
		return MIG_ECONFIG;
	}
	for (size_t i = 0; i < sizeof(opts) / sizeof(*opts); i++)
		a->argv[n++] = (char *)opts[i];
	a->argv[n++] = (char *)dest;
	a->argv[n++] = (char *)cmd;
	a->argv[n] = NULL;
	return 0;
}
