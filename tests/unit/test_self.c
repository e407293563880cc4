/* test_self.c: which hosts-file line is this host's, by the addresses
 * bound here (homed/self.c): any 127.x is; addresses of TEST-NET-2 and
 * -3 (198.51.100.0/24, 203.0.113.0/24) are no machine's own (TEST-NET-1
 * is, in some sandboxes). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "homed.h"

/* Hosts from "name addr" pairs. */
static void
hosts(struct mig_hosts *h, struct mig_host *v, size_t n, const char **pairs)
{
	memset(v, 0, n * sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		strlcpy(v[i].name, pairs[2 * i], sizeof(v[i].name));
		strlcpy(v[i].addr, pairs[2 * i + 1], sizeof(v[i].addr));
	}
	h->v = v;
	h->n = n;
}

static void
one_line_here(void **state)
{
	static const char *pairs[] = { "far.invalid", "203.0.113.1",
		"vm.example.org", "127.0.0.9", "other", "203.0.113.7" };
	struct mig_host v[3];
	struct mig_hosts h;
	const char *name;
	char why[200];

	hosts(&h, v, 3, pairs);
	assert_int_equal(mig__self_line(&h, &name, why, sizeof(why)), 0);
	assert_string_equal(name, "vm.example.org");
	assert_string_equal(why, "its address 127.0.0.9 is this host's");
}

static void
none_or_two(void **state)
{
	static const char *none[] = { "a", "203.0.113.1", "b", "198.51.100.2" };
	static const char *two[] = { "a", "127.0.0.9", "b", "198.51.100.2",
		"c", "localhost" };
	struct mig_host v[3];
	struct mig_hosts h;
	const char *name;
	char why[200];

	hosts(&h, v, 2, none);
	assert_int_equal(mig__self_line(&h, &name, why, sizeof(why)),
	    MIG_ENOHOST);
	assert_null(name);
	assert_string_equal(why, "no line has an address of this host");
	/* Two lines here: neither is taken. */
	hosts(&h, v, 3, two);
	assert_int_equal(mig__self_line(&h, &name, why, sizeof(why)),
	    MIG_ECONFIG);
	assert_null(name);
	assert_string_equal(why,
	    "the lines 'a' and 'c' both have an address of this host");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_line_here),
		cmocka_unit_test(none_or_two),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
