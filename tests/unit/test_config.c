/* test_config.c: the hosts file, the key file, the folders and the error
 * texts (libmig/config.c, error.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"
#include "mig/mig.h"
#include "rundir.h"

static int
parse(const char *text, struct mig_hosts *h, char *err, size_t errsize)
{
	return mig__hosts_parse(text, strlen(text), "hosts", h, err, errsize);
}

static void
hosts_basic(void **state)
{
	struct mig_hosts h;
	char err[256] = "";
	const struct mig_host *a, *b;

	assert_int_equal(parse("a 10.0.0.1\nb 10.0.0.2:7500 4\n", &h, err,
	    sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(h.n, 2);
	a = mig__hosts_find(&h, "a");
	b = mig__hosts_find(&h, "b");
	assert_ptr_equal(a, &h.v[0]);
	assert_ptr_equal(b, &h.v[1]);
	assert_string_equal(a->addr, "10.0.0.1");
	assert_int_equal(a->port, MIG_DEFAULT_PORT);
	assert_int_equal(a->port, 7410 + getuid() % 20000);
	assert_int_equal(a->slots, 0);
	assert_string_equal(b->addr, "10.0.0.2");
	assert_int_equal(b->port, 7500);
	assert_int_equal(b->slots, 4);
	assert_null(mig__hosts_find(&h, "c"));
	assert_null(mig__hosts_find(&h, "A"));
	mig__hosts_free(&h);
	assert_null(h.v);
	assert_int_equal(h.n, 0);
	mig__hosts_free(&h);
}

/* "ssh:DEST" names an ssh destination; words ssh would take for an
 * option, or that a shell would read, are refused. */
static void
hosts_ssh(void **state)
{
	struct mig_hosts h;
	char err[256] = "";

	assert_int_equal(parse("a ssh:alice@build1 4 served\n"
	    "b ssh:build2.example.org\nc 10.0.0.1\n", &h, err, sizeof(err)), 0);
	assert_true(h.v[0].ssh);
	assert_string_equal(h.v[0].addr, "alice@build1");
	assert_int_equal(h.v[0].port, 0);
	assert_int_equal(h.v[0].slots, 4);
	assert_int_equal(h.v[0].files, MIG_FILES_SERVED);
	assert_true(h.v[1].ssh);
	assert_string_equal(h.v[1].addr, "build2.example.org");
	assert_false(h.v[2].ssh);
	mig__hosts_free(&h);
	assert_int_equal(parse("a ssh:-oProxyCommand=x\n", &h, err,
	    sizeof(err)), MIG_ECONFIG);
	assert_string_equal(err, "hosts:1: an ssh destination may not start "
	    "with '-'");
	assert_int_equal(parse("a ssh:\n", &h, err, sizeof(err)), MIG_ECONFIG);
	assert_string_equal(err, "hosts:1: empty ssh destination");
	assert_int_equal(parse("a ssh:b;rm\n", &h, err, sizeof(err)),
	    MIG_ECONFIG);
	assert_non_null(strstr(err, "character other than"));
}

static void
hosts_layout(void **state)
{
	static const char text[] =
	    "# the cluster\n"
	    "\n"
	    "   \t  \n"
	    "\tone\t127.0.0.2:7411\t2   # first\r\n"
	    "two 127.0.0.3#no space before the comment\r\n"
	    "#three 127.0.0.4\n"
	    "\r\n"
	    "four-4.x_y build.example.com:22 4096\n"
	    "five 127.0.0.5 0"; /* no final newline */
	struct mig_hosts h;
	char err[256] = "";

	assert_int_equal(parse(text, &h, err, sizeof(err)), 0);
	assert_int_equal(h.n, 4);
	assert_string_equal(h.v[0].name, "one");
	assert_string_equal(h.v[0].addr, "127.0.0.2");
	assert_int_equal(h.v[0].port, 7411);
	assert_int_equal(h.v[0].slots, 2);
	assert_string_equal(h.v[1].name, "two");
	assert_string_equal(h.v[1].addr, "127.0.0.3");
	assert_int_equal(h.v[1].port, MIG_DEFAULT_PORT);
	assert_string_equal(h.v[2].name, "four-4.x_y");
	assert_string_equal(h.v[2].addr, "build.example.com");
	assert_int_equal(h.v[2].port, 22);
	assert_int_equal(h.v[2].slots, 4096);
	assert_string_equal(h.v[3].name, "five");
	assert_int_equal(h.v[3].slots, 0);
	assert_null(mig__hosts_find(&h, "#three"));
	assert_null(mig__hosts_find(&h, "three"));
	mig__hosts_free(&h);
}

/* The optional keyword: shared or served, before or after SLOTS. */
static void
hosts_files(void **state)
{
	static const char text[] =
	    "a 10.0.0.1\n"
	    "b 10.0.0.2 shared\n"
	    "c 10.0.0.3 4 served\n"
	    "d 10.0.0.4:7500 served 8\n"
	    "e 10.0.0.5 0 shared # comment\n";
	static const struct {
		const char *text, *err;
	} bad[] = {
		{ "a 1.1.1.1 shared served\n", "hosts:1: give shared or served once" },
		{ "a 1.1.1.1 served served\n", "hosts:1: give shared or served once" },
		{ "a 1.1.1.1 4 5\n", "hosts:1: unexpected words after SLOTS" },
		{ "a 1.1.1.1 shared 4 5\n", "hosts:1: unexpected words after SLOTS" },
		{ "a 1.1.1.1 Shared\n", "hosts:1: slots must be a number from 0 to 4096" },
		{ "a 1.1.1.1 servedx\n", "hosts:1: slots must be a number from 0 to 4096" },
		{ "a 1.1.1.1 priority\n", "hosts:1: priority must be idle, low or normal" },
		{ "a 1.1.1.1 priority high\n", "hosts:1: priority must be idle, low or normal" },
		{ "a 1.1.1.1 priority low priority low\n", "hosts:1: give priority once" },
		{ "a 1.1.1.1 idle\n", "hosts:1: idle must be seconds from 1 to 86400" },
		{ "a 1.1.1.1 idle 0\n", "hosts:1: idle must be seconds from 1 to 86400" },
		{ "a 1.1.1.1 idle 5m\n", "hosts:1: idle must be seconds from 1 to 86400" },
		{ "a 1.1.1.1 idle -5\n", "hosts:1: idle must be seconds from 1 to 86400" },
		{ "a 1.1.1.1 idle 86401\n", "hosts:1: idle must be seconds from 1 to 86400" },
		{ "a 1.1.1.1 idle 5 idle 6\n", "hosts:1: give idle once" },
		{ "a 1.1.1.1 owner-cpu\n", "hosts:1: owner-cpu must be CPUs from 0.001 to 4096" },
		{ "a 1.1.1.1 owner-cpu 0\n", "hosts:1: owner-cpu must be CPUs from 0.001 to 4096" },
		{ "a 1.1.1.1 owner-cpu .5\n", "hosts:1: owner-cpu must be CPUs from 0.001 to 4096" },
		{ "a 1.1.1.1 owner-cpu 0.0001\n", "hosts:1: owner-cpu must be CPUs from 0.001 to 4096" },
		{ "a 1.1.1.1 owner-cpu 1.\n", "hosts:1: owner-cpu must be CPUs from 0.001 to 4096" },
		{ "a 1.1.1.1 owner-cpu 1.x\n", "hosts:1: owner-cpu must be CPUs from 0.001 to 4096" },
		{ "a 1.1.1.1 owner-cpu 4097\n", "hosts:1: owner-cpu must be CPUs from 0.001 to 4096" },
		{ "a 1.1.1.1 owner-cpu 1 owner-cpu 1\n", "hosts:1: give owner-cpu once" },
	};
	struct mig_hosts h;
	char err[256] = "";

	assert_int_equal(parse(text, &h, err, sizeof(err)), 0);
	assert_int_equal(h.n, 5);
	assert_int_equal(h.v[0].files, MIG_FILES_AUTO);
	assert_int_equal(h.v[0].slots, 0);
	assert_int_equal(h.v[1].files, MIG_FILES_SHARED);
	assert_int_equal(h.v[1].slots, 0);
	assert_int_equal(h.v[2].files, MIG_FILES_SERVED);
	assert_int_equal(h.v[2].slots, 4);
	assert_int_equal(h.v[3].files, MIG_FILES_SERVED);
	assert_int_equal(h.v[3].slots, 8);
	assert_int_equal(h.v[3].port, 7500);
	assert_int_equal(h.v[4].files, MIG_FILES_SHARED);
	assert_int_equal(h.v[4].slots, 0);
	mig__hosts_free(&h);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(parse(bad[i].text, &h, err, sizeof(err)),
		    MIG_ECONFIG);
		assert_string_equal(err, bad[i].err);
		assert_int_equal(h.n, 0);
	}
}

/* The keywords "priority idle|low|normal" (idle when not given; "lowest",
 * its earlier name, says idle), "idle N[s]" and "owner-cpu X" (not
 * watched when not given), anywhere after the address. */
static void
hosts_priority(void **state)
{
	static const char text[] =
	    "a 10.0.0.1\n"
	    "b 10.0.0.2 priority normal\n"
	    "c 10.0.0.3 4 priority low shared\n"
	    "d 10.0.0.4 priority idle 8\n"
	    "e 10.0.0.5 idle 60s owner-cpu 0.5\n"
	    "f 10.0.0.6 owner-cpu 4096 idle 86400\n"
	    "g 10.0.0.7 3 owner-cpu 0.001 idle 7\n"
	    "h 10.0.0.8 priority lowest\n";
	struct mig_hosts h;
	char err[256] = "";

	assert_int_equal(parse(text, &h, err, sizeof(err)), 0);
	assert_int_equal(h.n, 8);
	assert_int_equal(h.v[7].priority, MIG_PRIO_IDLE);
	assert_int_equal(h.v[0].priority, MIG_PRIO_IDLE);
	assert_int_equal(h.v[1].priority, MIG_PRIO_NORMAL);
	assert_int_equal(h.v[2].priority, MIG_PRIO_LOW);
	assert_int_equal(h.v[2].slots, 4);
	assert_int_equal(h.v[2].files, MIG_FILES_SHARED);
	assert_int_equal(h.v[3].priority, MIG_PRIO_IDLE);
	assert_int_equal(h.v[3].slots, 8);
	assert_int_equal(h.v[0].idle_s, 0);
	assert_int_equal(h.v[0].owner_cpu_milli, 0);
	assert_int_equal(h.v[4].idle_s, 60);
	assert_int_equal(h.v[4].owner_cpu_milli, 500);
	assert_int_equal(h.v[5].idle_s, 86400);
	assert_int_equal(h.v[5].owner_cpu_milli, 4096000);
	assert_int_equal(h.v[6].owner_cpu_milli, 1);
	assert_int_equal(h.v[6].idle_s, 7);
	assert_int_equal(h.v[6].slots, 3);
	mig__hosts_free(&h);
}

/* "seed DIRS|off": the folders indexed for content seeding, absolute
 * and clean, joined by ':'; "" when not given. */
static void
hosts_seed(void **state)
{
	static const char text[] =
	    "a 10.0.0.1\n"
	    "b 10.0.0.2 seed off 4\n"
	    "c 10.0.0.3 served seed /usr:/opt/tools:/\n";
	static const char *const bad[] = {
	    "a 1.1.1.1 seed\n", "a 1.1.1.1 seed usr\n",
	    "a 1.1.1.1 seed /usr/\n", "a 1.1.1.1 seed /usr:\n",
	    "a 1.1.1.1 seed /usr::/opt\n", "a 1.1.1.1 seed /usr/../etc\n",
	    "a 1.1.1.1 seed /./usr\n", "a 1.1.1.1 seed //usr\n",
	    "a 1.1.1.1 seed :/usr\n",
	};
	struct mig_hosts h;
	char err[256] = "";

	assert_int_equal(parse(text, &h, err, sizeof(err)), 0);
	assert_int_equal(h.n, 3);
	assert_string_equal(h.v[0].seed, "");
	assert_string_equal(h.v[1].seed, "off");
	assert_int_equal(h.v[1].slots, 4);
	assert_string_equal(h.v[2].seed, "/usr:/opt/tools:/");
	assert_int_equal(h.v[2].files, MIG_FILES_SERVED);
	mig__hosts_free(&h);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(parse(bad[i], &h, err, sizeof(err)),
		    MIG_ECONFIG);
		assert_string_equal(err, "hosts:1: seed must be off or "
		    "absolute folders joined by ':'");
	}
	assert_int_equal(parse("a 1.1.1.1 seed off seed /usr\n", &h, err,
	    sizeof(err)), MIG_ECONFIG);
	assert_string_equal(err, "hosts:1: give seed once");
}

static void
hosts_empty(void **state)
{
	static const char *const texts[] = { "", "\n", "# only\n", " \r\n\t\n",
		"#a 1.1.1.1\n#b 1.1.1.1" };
	struct mig_hosts h;
	char err[64];

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		assert_int_equal(parse(texts[i], &h, err, sizeof(err)), 0);
		assert_int_equal(h.n, 0);
		assert_null(mig__hosts_find(&h, "a"));
		mig__hosts_free(&h);
	}
	/* len, not a NUL, ends the text. */
	assert_int_equal(mig__hosts_parse("a 1.1.1.1\nb !", 10, "f", &h, err,
	    sizeof(err)), 0);
	assert_int_equal(h.n, 1);
	mig__hosts_free(&h);
}

static void
hosts_ipv6(void **state)
{
	struct mig_hosts h;
	char err[256];

	assert_int_equal(parse("l [::1]:7410\nm [fe80::1:2]\nn [::1]:9 3\n",
	    &h, err, sizeof(err)), 0);
	assert_int_equal(h.n, 3);
	assert_string_equal(h.v[0].addr, "::1");
	assert_int_equal(h.v[0].port, 7410);
	assert_string_equal(h.v[1].addr, "fe80::1:2");
	assert_int_equal(h.v[1].port, MIG_DEFAULT_PORT);
	assert_string_equal(h.v[2].addr, "::1");
	assert_int_equal(h.v[2].port, 9);
	assert_int_equal(h.v[2].slots, 3);
	mig__hosts_free(&h);
}

static void
hosts_limits(void **state)
{
	char text[600], name[MIG_NAME_MAX + 1];
	struct mig_hosts h;
	char err[256];

	/* The longest name and the longest line that fit. */
	memset(name, 'n', MIG_NAME_MAX - 1);
	name[MIG_NAME_MAX - 1] = '\0';
	snprintf(text, sizeof(text), "%s 1.1.1.1:65535 #", name);
	memset(text + strlen(text), 'c', 511 - strlen(text));
	text[511] = '\0';
	assert_int_equal(parse(text, &h, err, sizeof(err)), 0);
	assert_int_equal(h.n, 1);
	assert_string_equal(h.v[0].name, name);
	assert_int_equal(h.v[0].port, 65535);
	mig__hosts_free(&h);
	strcat(text, "\n");
	assert_int_equal(parse(text, &h, err, sizeof(err)), 0);
	mig__hosts_free(&h);
	text[511] = 'c';
	text[512] = '\0';
	assert_int_equal(parse(text, &h, err, sizeof(err)), MIG_ECONFIG);
	assert_string_equal(err, "hosts:1: line too long");

	/* An address of 63 bytes fits in mig_host.addr, 64 does not. */
	memcpy(text, "h ", 2);
	memset(text + 2, 'a', 63);
	text[2 + 63] = '\0';
	assert_int_equal(parse(text, &h, err, sizeof(err)), 0);
	assert_int_equal(strlen(h.v[0].addr), 63);
	mig__hosts_free(&h);
}

struct bad {
	const char *text;
	const char *err; /* the whole message */
};

static const struct bad bad[] = {
	{ "a\n", "hosts:1: expected NAME ADDR[:PORT] [SLOTS]" },
	{ "ok 1.1.1.1\n\n# c\nbad!name 1.2.3.4\n",
	    "hosts:4: host name must be 1-63 letters, digits, '-', '_' or '.'" },
	{ "a 1.1.1.1\nb 1.1.1.2\na 2.2.2.2\n", "hosts:3: host named twice" },
	{ "a 1.1.1.1:0\n", "hosts:1: port must be a number from 1 to 65535" },
	{ "a 1.1.1.1:65536\n",
	    "hosts:1: port must be a number from 1 to 65535" },
	{ "a 1.1.1.1:abc\n", "hosts:1: port must be a number from 1 to 65535" },
	{ "a 1.1.1.1:\n", "hosts:1: port must be a number from 1 to 65535" },
	{ "a 1.1.1.1:-1\n", "hosts:1: port must be a number from 1 to 65535" },
	{ "a 1.1.1.1:+80\n", "hosts:1: port must be a number from 1 to 65535" },
	{ "a 1.1.1.1:80x\n", "hosts:1: port must be a number from 1 to 65535" },
	{ "a 1.1.1.1:99999999999999999999999\n",
	    "hosts:1: port must be a number from 1 to 65535" },
	{ "a [::1]:0\n", "hosts:1: port must be a number from 1 to 65535" },
	{ "a 1.1.1.1 4097\n", "hosts:1: slots must be a number from 0 to 4096" },
	{ "a 1.1.1.1 x\n", "hosts:1: slots must be a number from 0 to 4096" },
	{ "a 1.1.1.1 -1\n", "hosts:1: slots must be a number from 0 to 4096" },
	{ "a 1.1.1.1 4 extra\n", "hosts:1: unexpected words after SLOTS" },
	{ "a ::1\n", "hosts:1: an IPv6 address needs [brackets] with a port" },
	{ "a [::1\n", "hosts:1: unclosed '[' in address" },
	{ "a [::1]x\n", "hosts:1: junk after ']' in address" },
	{ "a []:1\n", "hosts:1: empty address" },
	{ "a :7410\n", "hosts:1: empty address" },
	{ "a 1.1.1.1\r\nb\r\n", "hosts:2: expected NAME ADDR[:PORT] [SLOTS]" },
	{ "\n\n\nx\xff 1.1.1.1\n",
	    "hosts:4: host name must be 1-63 letters, digits, '-', '_' or '.'" },
	{ "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
	  " 1.1.1.1\n",
	    "hosts:1: host name must be 1-63 letters, digits, '-', '_' or '.'" },
	{ "h aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	    "hosts:1: address too long" },
};

static void
hosts_errors(void **state)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mig_hosts h = { (struct mig_host *)1, 99 };
		char err[256] = "";
		int r = parse(bad[i].text, &h, err, sizeof(err));

		if (r != MIG_ECONFIG || strcmp(err, bad[i].err) != 0)
			print_message("case %zu: %s", i, bad[i].text);
		assert_int_equal(r, MIG_ECONFIG);
		assert_string_equal(err, bad[i].err);
		assert_null(h.v);
		assert_int_equal(h.n, 0);
	}
}

static void
hosts_error_lines(void **state)
{
	char text[2048], err[256];
	struct mig_hosts h;
	size_t n;

	/* A long line after two good ones is reported as line 3. */
	n = (size_t)snprintf(text, sizeof(text), "a 1.1.1.1\nb 1.1.1.2\n");
	memset(text + n, 'x', 600);
	text[n + 600] = '\0';
	strcat(text, "\nc 1.1.1.3\n");
	assert_int_equal(parse(text, &h, err, sizeof(err)), MIG_ECONFIG);
	assert_string_equal(err, "hosts:3: line too long");

	/* A NUL byte inside a line. */
	assert_int_equal(mig__hosts_parse("a 1.1.1.1\nb 1.1\0.1.2\n", 21,
	    "/etc/mig/hosts", &h, err, sizeof(err)), MIG_ECONFIG);
	assert_string_equal(err, "/etc/mig/hosts:2: NUL byte in line");

	/* The message is cut to errsize, still terminated. */
	memset(err, 'Z', sizeof(err));
	assert_int_equal(parse("a 1.1.1.1:0\n", &h, err, 10), MIG_ECONFIG);
	assert_string_equal(err, "hosts:1: ");
	assert_int_equal(err[10], 'Z');
}

static char tmpdir[] = "/tmp/mig-test-config-XXXXXX";

static int
make_tmpdir(void **state)
{
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
remove_tmpdir(void **state)
{
	char cmd[sizeof(tmpdir) + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
tmp_path(char *buf, size_t size, const char *name)
{
	assert_int_equal(mig_path(buf, size, tmpdir, name), 0);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void
hosts_load(void **state)
{
	char path[256], err[512] = "";
	struct mig_hosts h;

	tmp_path(path, sizeof(path), "nohosts");
	h.n = 7;
	assert_int_equal(mig__hosts_load(path, &h, err, sizeof(err)), 0);
	assert_int_equal(h.n, 0);
	tmp_path(path, sizeof(path), "hosts");
	write_file(path, "a 1.1.1.1\nb [::1]:1 1\n", 0644);
	assert_int_equal(mig__hosts_load(path, &h, err, sizeof(err)), 0);
	assert_int_equal(h.n, 2);
	assert_int_equal(mig__hosts_find(&h, "b")->port, 1);
	mig__hosts_free(&h);
	write_file(path, "a 1.1.1.1\n\nb 1.1.1.1 1 2\n", 0644);
	assert_int_equal(mig__hosts_load(path, &h, err, sizeof(err)),
	    MIG_ECONFIG);
	assert_int_equal(strncmp(err, path, strlen(path)), 0);
	assert_string_equal(err + strlen(path),
	    ":3: unexpected words after SLOTS");
	/* A folder where the file should be is an error, not empty. */
	assert_int_equal(mig__hosts_load(tmpdir, &h, err, sizeof(err)),
	    MIG_ECONFIG);
	assert_non_null(strstr(err, tmpdir));
}

static const uint8_t key1[MIG_KEY_BYTES] = { 0x00, 0x01, 0x7f, 0x80, 0xfe,
	0xff, 0x10, 0xa5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 0xee };

static void
key_round_trip(void **state)
{
	char path[256], err[512] = "", text[128] = "";
	uint8_t key[MIG_KEY_BYTES], key2[MIG_KEY_BYTES];
	struct stat st;
	FILE *f;

	tmp_path(path, sizeof(path), "key");
	unlink(path);
	assert_int_equal(mig__key_write(path, key1, 0), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 2 * MIG_KEY_BYTES + 1);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(text, sizeof(text), f));
	fclose(f);
	assert_string_equal(text, "00017f80feff10a5"
	    "0102030405060708090a0b0c0d0e0f1011121314151617ee\n");
	assert_int_equal(mig__key_load(path, key, err, sizeof(err)), 0);
	assert_memory_equal(key, key1, MIG_KEY_BYTES);

	/* No overwrite without force; force replaces it. */
	memset(key2, 0x5a, sizeof(key2));
	assert_int_equal(mig__key_write(path, key2, 0), MIG__ERR(EEXIST));
	assert_int_equal(mig__key_load(path, key, err, sizeof(err)), 0);
	assert_memory_equal(key, key1, MIG_KEY_BYTES);
	assert_int_equal(mig__key_write(path, key2, 1), 0);
	assert_int_equal(mig__key_load(path, key, err, sizeof(err)), 0);
	assert_memory_equal(key, key2, MIG_KEY_BYTES);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void
key_mode(void **state)
{
	static const mode_t modes[] = { 0644, 0640, 0604, 0660, 0606, 0610,
		0601, 0666 };
	char path[256], err[512];
	uint8_t key[MIG_KEY_BYTES];

	tmp_path(path, sizeof(path), "key");
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		write_file(path, "0000000000000000000000000000000000000000000000"
		    "000000000000000000\n", modes[i]);
		err[0] = '\0';
		assert_int_equal(mig__key_load(path, key, err, sizeof(err)),
		    MIG_EKEY);
		assert_non_null(strstr(err, "chmod"));
		assert_non_null(strstr(err, path));
	}
	write_file(path, "0000000000000000000000000000000000000000000000"
	    "000000000000000000\n", 0400);
	assert_int_equal(mig__key_load(path, key, err, sizeof(err)), 0);
}

/* A FIFO in place of a config file is refused at once, not read (which
 * would hang until someone writes it): alarm() fails the test instead. */
static void
config_fifo(void **state)
{
	char path[256], err[512], out[4096];
	struct mig_hosts h;
	uint8_t key[MIG_KEY_BYTES];

	tmp_path(path, sizeof(path), "fifo");
	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(10);
	err[0] = '\0';
	assert_int_equal(mig__hosts_load(path, &h, err, sizeof(err)),
	    MIG_ECONFIG);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(mig__key_load(path, key, err, sizeof(err)), MIG_EKEY);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(mig__policy_load(path, out, sizeof(out), err,
	    sizeof(err)), MIG_ECONFIG);
	alarm(0);
	unlink(path);
}

/* A key file of another user's is not the user's key. */
static void
key_owner(void **state)
{
	char path[256], err[512];
	uint8_t key[MIG_KEY_BYTES];

	if (geteuid() != 0)
		skip();
	tmp_path(path, sizeof(path), "key");
	write_file(path, "0000000000000000000000000000000000000000000000"
	    "000000000000000000\n", 0600);
	assert_int_equal(chown(path, 65534, 65534), 0);
	err[0] = '\0';
	assert_int_equal(mig__key_load(path, key, err, sizeof(err)), MIG_EKEY);
	assert_non_null(strstr(err, "belongs to uid 65534"));
	assert_int_equal(chown(path, 0, 0), 0);
	assert_int_equal(mig__key_load(path, key, err, sizeof(err)), 0);
}

/* The hosts and policy files are trusted as the key is: a file writable
 * by group or others is refused with a line naming it and the fix; a
 * file closed to writers but readable by all is fine. */
static void
config_mode(void **state)
{
	static const mode_t bad[] = { 0666, 0664, 0646, 0620, 0602 };
	static const mode_t good[] = { 0644, 0600, 0444 };
	char hosts[256], policy[256], err[512], out[4096];
	struct mig_hosts h;

	tmp_path(hosts, sizeof(hosts), "hosts");
	tmp_path(policy, sizeof(policy), "policy");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(hosts, "a 127.0.0.1\n", bad[i]);
		write_file(policy, "mycc\n", bad[i]);
		err[0] = '\0';
		assert_int_equal(mig__hosts_load(hosts, &h, err, sizeof(err)),
		    MIG_ECONFIG);
		assert_non_null(strstr(err, "hosts file"));
		assert_non_null(strstr(err, "writable by group or others"));
		assert_non_null(strstr(err, "chmod go-w"));
		assert_non_null(strstr(err, hosts));
		err[0] = '\0';
		assert_int_equal(mig__policy_load(policy, out, sizeof(out),
		    err, sizeof(err)), MIG_ECONFIG);
		assert_non_null(strstr(err, "policy file"));
		assert_non_null(strstr(err, "writable by group or others"));
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		write_file(hosts, "a 127.0.0.1\n", good[i]);
		write_file(policy, "mycc\n", good[i]);
		assert_int_equal(mig__hosts_load(hosts, &h, err, sizeof(err)),
		    0);
		assert_int_equal(h.n, 1);
		mig__hosts_free(&h);
		assert_int_equal(mig__policy_load(policy, out, sizeof(out),
		    err, sizeof(err)), 0);
	}
}

/* Another user's hosts or policy file is not the user's. */
static void
config_owner(void **state)
{
	char path[256], err[512], out[4096];
	struct mig_hosts h;

	if (geteuid() != 0)
		skip();
	tmp_path(path, sizeof(path), "hosts");
	write_file(path, "a 127.0.0.1\n", 0644);
	assert_int_equal(chown(path, 65534, 65534), 0);
	err[0] = '\0';
	assert_int_equal(mig__hosts_load(path, &h, err, sizeof(err)),
	    MIG_ECONFIG);
	assert_non_null(strstr(err, "belongs to uid 65534"));
	err[0] = '\0';
	assert_int_equal(mig__policy_load(path, out, sizeof(out), err,
	    sizeof(err)), MIG_ECONFIG);
	assert_non_null(strstr(err, "policy file"));
	assert_non_null(strstr(err, "belongs to uid 65534"));
	assert_int_equal(chown(path, 0, 0), 0);
	assert_int_equal(mig__hosts_load(path, &h, err, sizeof(err)), 0);
	mig__hosts_free(&h);
}

/* The runtime folder check (rundir.c) on each kind of bad folder. */
static void
rundir_check(void **state)
{
	char dir[256], link[256], file[256], why[512];

	tmp_path(dir, sizeof(dir), "run");
	tmp_path(link, sizeof(link), "runlink");
	tmp_path(file, sizeof(file), "runfile");
	rmdir(dir);
	unlink(link);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(mig__rundir_check(dir, why, sizeof(why)), 0);
	assert_int_equal(mig__rundir_check(dir, NULL, 0), 0);
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(mig__rundir_check(dir, why, sizeof(why)),
	    MIG_EUNSAFE);
	assert_non_null(strstr(why, "has mode 0777"));
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(symlink(dir, link), 0);
	assert_int_equal(mig__rundir_check(link, why, sizeof(why)),
	    MIG_EUNSAFE);
	assert_non_null(strstr(why, "symbolic link"));
	write_file(file, "x", 0700);
	assert_int_equal(mig__rundir_check(file, why, sizeof(why)),
	    MIG_EUNSAFE);
	assert_non_null(strstr(why, "not a folder"));
	assert_int_equal(mig__rundir_check("/nonexistent/mig", why,
	    sizeof(why)), MIG__ERR(ENOENT));
	if (geteuid() == 0) {
		assert_int_equal(chown(dir, 65534, 65534), 0);
		assert_int_equal(mig__rundir_check(dir, why, sizeof(why)),
		    MIG_EUNSAFE);
		assert_non_null(strstr(why, "belongs to uid 65534"));
	}
	unlink(link);
	unlink(file);
	rmdir(dir);
}

static void
key_bad(void **state)
{
	static const char *const texts[] = {
		"",
		"\n",
		"zz01020304050607080910111213141516171819202122232425262728293031",
		"0001020304050607080910111213141516171819202122232425262728293g31",
		/* 62 and 66 digits */
		"00010203040506070809101112131415161718192021222324252627282930",
		"000102030405060708091011121314151617181920212223242526272829303132",
		" 00010203040506070809101112131415161718192021222324252627282930",
		"0x0102030405060708091011121314151617181920212223242526272829303",
		/* a newline inside */
		"00010203040506070809101112131415161718192021222324252627282930\n31",
	};
	char path[256], err[512];
	uint8_t key[MIG_KEY_BYTES];

	tmp_path(path, sizeof(path), "key");
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		int r;

		write_file(path, texts[i], 0600);
		err[0] = '\0';
		if ((r = mig__key_load(path, key, err, sizeof(err))) != MIG_EKEY)
			print_message("case %zu: \"%s\"\n", i, texts[i]);
		assert_int_equal(r, MIG_EKEY);
		assert_non_null(strstr(err, path));
		assert_non_null(strstr(err, "hex"));
	}
	/* Upper case and trailing blanks are fine. */
	write_file(path, "00010203040506070809101112131415161718192021222324"
	    "2526272829AbCd\r\n \n", 0600);
	assert_int_equal(mig__key_load(path, key, err, sizeof(err)), 0);
	assert_int_equal(key[0], 0x00);
	assert_int_equal(key[25], 0x25);
	assert_int_equal(key[30], 0xab);
	assert_int_equal(key[31], 0xcd);
}

static void
key_missing(void **state)
{
	char path[256], err[512] = "";
	uint8_t key[MIG_KEY_BYTES];

	tmp_path(path, sizeof(path), "nokey");
	assert_int_equal(mig__key_load(path, key, err, sizeof(err)),
	    MIG__ERR(ENOENT));
	assert_non_null(strstr(err, path));
	tmp_path(path, sizeof(path), "nodir/key");
	assert_int_equal(mig__key_write(path, key1, 0), MIG__ERR(ENOENT));
	assert_int_equal(mig__key_write(path, key1, 1), MIG__ERR(ENOENT));
}

static const char *const env_names[] = { "MIG_CONFIG_DIR", "XDG_CONFIG_HOME",
	"HOME", "MIG_RUNTIME_DIR", "XDG_RUNTIME_DIR", "MIG_HOST", "SLURM_JOB_ID",
	"MIG_SLURM" };
static char *env_saved[8];

static int
env_save(void **state)
{
	for (size_t i = 0; i < sizeof(env_names) / sizeof(*env_names); i++) {
		const char *v = getenv(env_names[i]);
		env_saved[i] = v != NULL ? strdup(v) : NULL;
		unsetenv(env_names[i]);
	}
	return 0;
}

static int
env_restore(void **state)
{
	for (size_t i = 0; i < sizeof(env_names) / sizeof(*env_names); i++) {
		if (env_saved[i] != NULL)
			setenv(env_names[i], env_saved[i], 1);
		else
			unsetenv(env_names[i]);
		free(env_saved[i]);
		env_saved[i] = NULL;
	}
	return 0;
}

static void
config_dir(void **state)
{
	char buf[256];

	setenv("HOME", "/home/u", 1);
	assert_int_equal(mig_config_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/home/u/.config/mig");
	setenv("XDG_CONFIG_HOME", "relative/cfg", 1);
	assert_int_equal(mig_config_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/home/u/.config/mig");
	setenv("XDG_CONFIG_HOME", "/xdg", 1);
	assert_int_equal(mig_config_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/xdg/mig");
	setenv("MIG_CONFIG_DIR", "", 1);
	assert_int_equal(mig_config_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/xdg/mig");
	setenv("MIG_CONFIG_DIR", "/etc/mig-u", 1);
	assert_int_equal(mig_config_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/etc/mig-u");
	unsetenv("XDG_CONFIG_HOME");
	assert_int_equal(mig_config_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/etc/mig-u");
	unsetenv("MIG_CONFIG_DIR");
	/* No HOME at all: the password database still has one. */
	unsetenv("HOME");
	assert_int_equal(mig_config_dir(buf, sizeof(buf)), 0);
	assert_int_equal(buf[0], '/');
	assert_non_null(strstr(buf, "/.config/mig"));
	setenv("HOME", "/home/u", 1);
	/* Too small for the path and its NUL. */
	assert_int_equal(mig_config_dir(buf, strlen("/home/u/.config/mig")),
	    MIG_ETOOBIG);
	assert_int_equal(mig_config_dir(buf, strlen("/home/u/.config/mig") + 1),
	    0);
}

static void
runtime_dir(void **state)
{
	char buf[256], want[64];

	/* Neither variable: /run/user/UID/mig or /tmp/mig-UID, as this
	 * machine has them (test_rundir.c tries both). */
	assert_int_equal(mig__runtime_dir_in(want, sizeof(want), "/run/user"),
	    0);
	assert_int_equal(mig_runtime_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
	setenv("XDG_RUNTIME_DIR", "run/user", 1);
	assert_int_equal(mig_runtime_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
	setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
	assert_int_equal(mig_runtime_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/run/user/1000/mig");
	setenv("MIG_RUNTIME_DIR", "", 1);
	assert_int_equal(mig_runtime_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/run/user/1000/mig");
	setenv("MIG_RUNTIME_DIR", "/tmp/r", 1);
	assert_int_equal(mig_runtime_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/tmp/r");
	assert_int_equal(mig_runtime_dir(buf, 6), MIG_ETOOBIG);
	/* The config folder does not follow the runtime variables. */
	setenv("HOME", "/h", 1);
	assert_int_equal(mig_config_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/h/.config/mig");
}

/* Inside a Slurm job with no hosts file, the daemon is the job's: a
 * runtime folder of its own; a hosts file, MIG_SLURM=0 or an explicit
 * MIG_RUNTIME_DIR keep the usual one. */
static void
slurm_runtime_dir(void **state)
{
	char conf[] = "/tmp/test_config_slurm.XXXXXX", path[PATH_MAX];
	char buf[256], want[64];

	assert_non_null(mkdtemp(conf));
	setenv("MIG_CONFIG_DIR", conf, 1);
	setenv("SLURM_JOB_ID", "4711", 1);
	assert_string_equal(mig__slurm_job(), "4711");
	snprintf(want, sizeof(want), "/tmp/mig-%u-slurm-4711",
	    (unsigned)getuid());
	assert_int_equal(mig_runtime_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
	setenv("XDG_RUNTIME_DIR", "/run/user/7", 1);
	assert_int_equal(mig_runtime_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/run/user/7/mig-slurm-4711");
	setenv("MIG_SLURM", "0", 1);
	assert_null(mig__slurm_job());
	assert_int_equal(mig_runtime_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/run/user/7/mig");
	unsetenv("MIG_SLURM");
	setenv("SLURM_JOB_ID", "47;11", 1);
	assert_null(mig__slurm_job());
	setenv("SLURM_JOB_ID", "4711", 1);
	snprintf(path, sizeof(path), "%s/hosts", conf);
	close(open(path, O_WRONLY | O_CREAT, 0600));
	assert_null(mig__slurm_job());
	assert_int_equal(mig_runtime_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/run/user/7/mig");
	unlink(path);
	setenv("MIG_RUNTIME_DIR", "/tmp/r", 1);
	assert_int_equal(mig_runtime_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/tmp/r");
	rmdir(conf);
}

/* SLURM_JOB_CPUS_PER_NODE, expanded. */
static void
slurm_cpus(void **state)
{
	static const struct {
		const char *spec;
		int r;
		size_t n;
		uint32_t v[6];
	} cases[] = {
		{ "2(x3)", 0, 3, { 2, 2, 2 } },
		{ "2(x3),1", 0, 4, { 2, 2, 2, 1 } },
		{ "72,36(x2),4", 0, 4, { 72, 36, 36, 4 } },
		{ "8", 0, 1, { 8 } },
		{ "1(x6)", 0, 6, { 1, 1, 1, 1, 1, 1 } },
		{ "1(x7)", MIG_ETOOBIG, 0, { 0 } },
		{ "", MIG_ECONFIG, 0, { 0 } },
		{ "0", MIG_ECONFIG, 0, { 0 } },
		{ "2(x0)", MIG_ECONFIG, 0, { 0 } },
		{ "2(x3", MIG_ECONFIG, 0, { 0 } },
		{ "2,", MIG_ECONFIG, 0, { 0 } },
		{ ",2", MIG_ECONFIG, 0, { 0 } },
		{ "2 (x3)", MIG_ECONFIG, 0, { 0 } },
		{ "2(3)", MIG_ECONFIG, 0, { 0 } },
		{ "-1", MIG_ECONFIG, 0, { 0 } },
		{ "99999999999999999999", MIG_ECONFIG, 0, { 0 } },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		uint32_t v[6];
		size_t n = 99;
		assert_int_equal(mig__slurm_cpus(cases[i].spec, v, 6, &n),
		    cases[i].r);
		assert_int_equal(n, cases[i].n);
		for (size_t k = 0; k < n; k++)
			assert_int_equal(v[k], cases[i].v[k]);
	}
}

static void
path_join(void **state)
{
	char buf[16];

	assert_int_equal(mig_path(buf, sizeof(buf), "/a/b", "key"), 0);
	assert_string_equal(buf, "/a/b/key");
	assert_int_equal(mig_path(buf, sizeof(buf), "/aaaaaa", "bbbbbbb"), 0);
	assert_string_equal(buf, "/aaaaaa/bbbbbbb");
	assert_int_equal(mig_path(buf, sizeof(buf), "/aaaaaa", "bbbbbbbb"),
	    MIG_ETOOBIG);
}

static void
strerror_codes(void **state)
{
	static const struct {
		int code;
		const char *text;
	} codes[] = {
#define X(name, value, text) { MIG_##name, text },
		MIG_ERRNO_MAP(X)
#undef X
	};
	size_t n = sizeof(codes) / sizeof(codes[0]);

	assert_int_equal(n, 17);
	for (size_t i = 0; i < n; i++) {
		assert_true(codes[i].code < -4096);
		assert_string_equal(mig_strerror(codes[i].code), codes[i].text);
		for (size_t j = 0; j < i; j++) {
			assert_int_not_equal(codes[i].code, codes[j].code);
			assert_string_not_equal(codes[i].text, codes[j].text);
		}
	}
	assert_string_equal(mig_strerror(MIG_EPROTO), "malformed message");
	assert_string_equal(mig_strerror(MIG_EAUTH), "authentication failed");
	assert_string_equal(mig_strerror(MIG_EKEY), "unusable key");
	assert_string_equal(mig_strerror(MIG_ETOOBIG), "message too large");
	assert_string_equal(mig_strerror(MIG_ESELF),
	    "name resolves to this host");
	assert_string_equal(mig_strerror(0), "success");
	assert_string_equal(mig_strerror(MIG__ERR(ENOENT)), strerror(ENOENT));
	assert_string_equal(mig_strerror(MIG__ERR(EEXIST)), strerror(EEXIST));
	assert_string_equal(mig_strerror(-4097), "unknown error");
	assert_string_equal(mig_strerror(-5099), "unknown error");
	assert_string_equal(mig_strerror(-4999), "unknown error");
	assert_string_equal(mig_strerror(1), "unknown error");
	assert_string_equal(mig_strerror(-2147483647 - 1), "unknown error");
}

/* Two users on one machine get two default ports, always from 7410 to
 * 27409: above the privileged ports, below Linux's ephemeral range. */
static void
port_per_user(void **state)
{
	static const unsigned long uids[] = { 0, 1, 999, 1000, 1001, 19999,
		20000, 65534, 4294967294UL };

	assert_int_equal(mig__port_for_uid(0), 7410);
	assert_int_equal(mig__port_for_uid(1000), 8410);
	assert_int_equal(mig__port_for_uid(1001), 8411);
	assert_int_equal(mig__port_for_uid(65534), 12944);
	for (size_t i = 0; i < sizeof(uids) / sizeof(*uids); i++) {
		uint16_t p = mig__port_for_uid(uids[i]);
		assert_true(p >= 1024 && p < 32768);
	}
	assert_int_equal(mig_default_port(), mig__port_for_uid(getuid()));
}

/* Where the daemon listens without --listen: its own hosts line, else
 * all addresses on the default port. */
static void
listen_addr(void **state)
{
	struct mig_hosts h;
	struct mig_host me;
	char err[256];

	assert_int_equal(parse("a 10.0.0.1:7000\nb 10.0.0.2\n", &h, err,
	    sizeof(err)), 0);
	setenv("MIG_HOST", "a", 1);
	mig__listen_addr(&h, &me);
	assert_string_equal(me.addr, "10.0.0.1");
	assert_int_equal(me.port, 7000);
	setenv("MIG_HOST", "b", 1);
	mig__listen_addr(&h, &me);
	assert_int_equal(me.port, MIG_DEFAULT_PORT);
	setenv("MIG_HOST", "c", 1);
	mig__listen_addr(&h, &me);
	assert_string_equal(me.name, "c");
	assert_string_equal(me.addr, "0.0.0.0");
	assert_int_equal(me.port, MIG_DEFAULT_PORT);
	mig__hosts_free(&h);
}

/* A port with a listener is taken; one without is not. */
static void
port_taken(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t port;

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	assert_int_equal(mig__port_taken("127.0.0.1", port), 1);
	close(fd);
	assert_int_equal(mig__port_taken("127.0.0.1", port), 0);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest hosts[] = {
		cmocka_unit_test(hosts_basic),
		cmocka_unit_test(hosts_ssh),
		cmocka_unit_test(hosts_layout),
		cmocka_unit_test(hosts_files),
		cmocka_unit_test(hosts_priority),
		cmocka_unit_test(hosts_seed),
		cmocka_unit_test(hosts_empty),
		cmocka_unit_test(hosts_ipv6),
		cmocka_unit_test(hosts_limits),
		cmocka_unit_test(hosts_errors),
		cmocka_unit_test(hosts_error_lines),
		cmocka_unit_test(strerror_codes),
	};
	const struct CMUnitTest files[] = {
		cmocka_unit_test(hosts_load),
		cmocka_unit_test(key_round_trip),
		cmocka_unit_test(key_mode),
		cmocka_unit_test(key_bad),
		cmocka_unit_test(key_missing),
		cmocka_unit_test(config_fifo),
		cmocka_unit_test(key_owner),
		cmocka_unit_test(config_mode),
		cmocka_unit_test(config_owner),
		cmocka_unit_test(rundir_check),
	};
	const struct CMUnitTest dirs[] = {
		cmocka_unit_test_setup_teardown(config_dir, env_save,
		    env_restore),
		cmocka_unit_test_setup_teardown(runtime_dir, env_save,
		    env_restore),
		cmocka_unit_test_setup_teardown(slurm_runtime_dir, env_save,
		    env_restore),
		cmocka_unit_test(slurm_cpus),
		cmocka_unit_test(path_join),
		cmocka_unit_test(port_per_user),
		cmocka_unit_test_setup_teardown(listen_addr, env_save,
		    env_restore),
		cmocka_unit_test(port_taken),
	};
	int fails = 0;

	/* An argument runs only the tests whose names match it. */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	fails += cmocka_run_group_tests_name("hosts", hosts, NULL, NULL);
	fails += cmocka_run_group_tests_name("files", files, make_tmpdir,
	    remove_tmpdir);
	fails += cmocka_run_group_tests_name("dirs", dirs, NULL, NULL);
	return fails != 0;
}
