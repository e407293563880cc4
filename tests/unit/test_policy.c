/* test_policy.c: the policy file and matching programs against it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core.h"
#include "policy.h"

static int
parse(const char *text, char *out, size_t size, char *err)
{
	return mig__policy_parse(text, strlen(text), "pol", out, size, err,
	    128);
}

static void
defaults(void **state)
{
	char out[4096], err[128];

	assert_int_equal(parse("", out, sizeof(out), err), 0);
	assert_string_equal(out, MIG_POLICY_DEFAULT);
	assert_int_equal(mig__policy_match(out, "/usr/bin/gcc"), 1);
	assert_int_equal(mig__policy_match(out, "gcc-12"), 1);
	assert_int_equal(mig__policy_match(out, "x86_64-linux-gnu-g++-12"), 1);
	assert_int_equal(mig__policy_match(out, "clang-14"), 1);
	assert_int_equal(mig__policy_match(out, "clang-format"), 0);
	assert_int_equal(mig__policy_match(out, "gcc-ar"), 0);
	assert_int_equal(mig__policy_match(out, "make"), 0);
	assert_int_equal(mig__policy_match(out, "/usr/bin/"), 0);
}

static void
user_patterns_first_and_marked(void **state)
{
	char out[4096], err[128];

	assert_int_equal(parse("# mine\nsleep\n  make  # too\n\r\n", out,
	    sizeof(out), err), 0);
	assert_true(strncmp(out, "=sleep:=make:cc:", 16) == 0);
	assert_int_equal(mig__policy_match(out, "/bin/sleep"), 2);
	assert_int_equal(mig__policy_match(out, "make"), 2);
	assert_int_equal(mig__policy_match(out, "cc"), 1);
}

static void
removals(void **state)
{
	char out[4096], err[128];

	assert_int_equal(parse("!gcc\n!clang*\n", out, sizeof(out), err), 0);
	assert_int_equal(mig__policy_match(out, "gcc"), 0);
	assert_int_equal(mig__policy_match(out, "clang"), 0);
	assert_int_equal(mig__policy_match(out, "clang++-14"), 0);
	assert_int_equal(mig__policy_match(out, "g++"), 1);
	/* A removed default the user names again is the user's. */
	assert_int_equal(parse("!gcc\ngcc\n", out, sizeof(out), err), 0);
	assert_int_equal(mig__policy_match(out, "gcc"), 2);
}

static void
errors_name_file_and_line(void **state)
{
	static const struct {
		const char *text, *err;
	} bad[] = {
		{ "ok\na b\n", "pol:2: expected one program name or pattern a line" },
		{ "x:y\n", "pol:1: expected one program name or pattern a line" },
		{ "\n\n!\n", "pol:3: expected one program name or pattern a line" },
		{ "=gcc\n", "pol:1: expected one program name or pattern a line" },
	};
	char out[4096], err[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(parse(bad[i].text, out, sizeof(out), err),
		    MIG_ECONFIG);
		assert_string_equal(err, bad[i].err);
	}
	{
		char text[600];
		memset(text, 'a', sizeof(text) - 1);
		text[sizeof(text) - 1] = '\0';
		assert_int_equal(parse(text, out, sizeof(out), err), MIG_ECONFIG);
		assert_string_equal(err, "pol:1: line too long");
	}
	/* Too many patterns for the space the shim has. */
	assert_int_equal(parse("sleep\n", out, 20, err), MIG_ECONFIG);
}

static void
missing_file_is_defaults(void **state)
{
	char out[4096], err[128];

	assert_int_equal(mig__policy_load("/nonexistent/policy", out,
	    sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, MIG_POLICY_DEFAULT);
}

static void
unshimmable(void **state)
{
	assert_null(mig__unshimmable("/bin/sh"));
	assert_string_equal(mig__unshimmable("/usr/bin/su"), "setuid or setgid");
	assert_null(mig__unshimmable("/nonexistent"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(user_patterns_first_and_marked),
		cmocka_unit_test(removals),
		cmocka_unit_test(errors_name_file_and_line),
		cmocka_unit_test(missing_file_is_defaults),
		cmocka_unit_test(unshimmable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
