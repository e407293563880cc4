/* test_sshcmd.c: the ssh command line of hosts reached over ssh
 * (libmig/sshcmd.c, mig__ssh_argv), as the daemon's links and mig hosts
 * add run it: $MIG_SSH split at blanks only, then the same options. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core.h"

/* argv as one line, words joined by '|'. */
static const char *
joined(char *const argv[])
{
	static char buf[2048];

	buf[0] = '\0';
	for (size_t i = 0; argv[i] != NULL; i++) {
		if (i > 0)
			strcat(buf, "|");
		strcat(buf, argv[i]);
	}
	return buf;
}

static void
default_is_ssh(void **state)
{
	struct mig_ssh_argv a;
	char err[128] = "";

	assert_int_equal(mig__ssh_argv(NULL, "alice@build1", "true", &a, err,
	    sizeof(err)), 0);
	assert_string_equal(joined(a.argv), "ssh|-T|-o|BatchMode=yes|-o|"
	    "ConnectTimeout=10|--|alice@build1|true");
	assert_int_equal(mig__ssh_argv("", "h", "c", &a, err, sizeof(err)),
	    0);
	assert_string_equal(joined(a.argv), "ssh|-T|-o|BatchMode=yes|-o|"
	    "ConnectTimeout=10|--|h|c");
	assert_string_equal(err, "");
}

/* Runs of spaces and tabs, leading and trailing, part words alike. */
static void
split_at_blanks(void **state)
{
	struct mig_ssh_argv a;
	char err[128];

	assert_int_equal(mig__ssh_argv("  ssh \t-F\t\t/tmp/my config x ", "h",
	    "c", &a, err, sizeof(err)), 0);
	assert_string_equal(joined(a.argv), "ssh|-F|/tmp/my|config|x|-T|-o|"
	    "BatchMode=yes|-o|ConnectTimeout=10|--|h|c");
}

/* Quotes and backslashes are a word's own characters: the blank inside
 * quotes still splits, and nothing is unquoted. */
static void
quotes_are_characters(void **state)
{
	struct mig_ssh_argv a;
	char err[128];

	assert_int_equal(mig__ssh_argv("ssh -o 'ProxyJump=a b' \"x\" a\\ b",
	    "h", "c", &a, err, sizeof(err)), 0);
	assert_string_equal(a.argv[0], "ssh");
	assert_string_equal(a.argv[1], "-o");
	assert_string_equal(a.argv[2], "'ProxyJump=a");
	assert_string_equal(a.argv[3], "b'");
	assert_string_equal(a.argv[4], "\"x\"");
	assert_string_equal(a.argv[5], "a\\");
	assert_string_equal(a.argv[6], "b");
	assert_string_equal(a.argv[7], "-T");
}

/* The destination and the command are single words, blanks or not. */
static void
dest_and_cmd_whole(void **state)
{
	struct mig_ssh_argv a;
	char err[128];

	assert_int_equal(mig__ssh_argv("ssh", "-oProxyCommand=x y",
	    "sh -c 'echo hi'", &a, err, sizeof(err)), 0);
	assert_string_equal(a.argv[6], "--");
	assert_string_equal(a.argv[7], "-oProxyCommand=x y");
	assert_string_equal(a.argv[8], "sh -c 'echo hi'");
	assert_null(a.argv[9]);
}

static void
refusals(void **state)
{
	struct mig_ssh_argv a;
	char err[128], text[2048];

	assert_int_equal(mig__ssh_argv(" \t ", "h", "c", &a, err,
	    sizeof(err)), MIG_ECONFIG);
	assert_string_equal(err, "MIG_SSH: blanks only, no command");
	/* 32 words are taken, 33 are not. */
	text[0] = '\0';
	for (int i = 0; i < MIG_SSH_WORDS; i++)
		strcat(text, i ? " w" : "ssh");
	assert_int_equal(mig__ssh_argv(text, "h", "c", &a, err, sizeof(err)),
	    0);
	assert_string_equal(a.argv[MIG_SSH_WORDS - 1], "w");
	assert_string_equal(a.argv[MIG_SSH_WORDS + 7], "c");
	assert_null(a.argv[MIG_SSH_WORDS + 8]);
	strcat(text, " w");
	assert_int_equal(mig__ssh_argv(text, "h", "c", &a, err, sizeof(err)),
	    MIG_ECONFIG);
	assert_string_equal(err, "MIG_SSH: more than 32 words");
	/* 1023 bytes are taken, 1024 are not: never cut short. */
	memset(text, 'x', 1023);
	text[1023] = '\0';
	assert_int_equal(mig__ssh_argv(text, "h", "c", &a, err, sizeof(err)),
	    0);
	assert_int_equal(strlen(a.argv[0]), 1023);
	strcat(text, "x");
	assert_int_equal(mig__ssh_argv(text, "h", "c", &a, err, sizeof(err)),
	    MIG_ECONFIG);
	assert_string_equal(err, "MIG_SSH: longer than 1023 bytes");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(default_is_ssh),
		cmocka_unit_test(split_at_blanks),
		cmocka_unit_test(quotes_are_characters),
		cmocka_unit_test(dest_and_cmd_whole),
		cmocka_unit_test(refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
