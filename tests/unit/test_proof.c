/*
 * test_proof.c: homed/fs/proof.c: home's mount points read from a
 * mountinfo text, sent and checked as a peer's, proven against a host's,
 * and the view's binds made of the proof.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fs.h"
#include "mig/proto.h"

/* The two forms of FS_MOUNTS: 0.1.0's, and with network mounts. */
#define OLD 4
#define NEW MIG_PROTO_NETPROOF

static const char mountinfo[] =
    "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
    "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
    "24 27 0:6 / /dev rw - devtmpfs devtmpfs rw\n"
    "25 24 0:23 / /dev/shm rw - tmpfs tmpfs rw\n"
    "40 27 0:40 / /run rw - tmpfs tmpfs rw\n"
    "41 27 0:41 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
    "50 27 0:50 / /home/a\\040b rw - nfs srv:/x rw\n"
    "51 27 0:51 / /data rw - xfs /dev/vdb rw\n"
    "52 27 0:51 / /data rw - xfs /dev/vdb rw\n"
    "53 27 0:53 / /runner rw - tmpfs tmpfs rw\n"
    "garbage\n"
    "54 27 0:54 / relative rw - tmpfs tmpfs rw";

static void
parse_mountinfo(void **state)
{
	struct mig_mounts ms;

	(void)state;
	assert_int_equal(mig__mountinfo_parse(mountinfo, strlen(mountinfo),
	    &ms), 0);
	/* Sorted, each once; /proc, /dev, /run and /sys are the host's in
	 * every view, so never listed ("/runner" is not "/run"). */
	assert_int_equal(ms.n, 4);
	assert_string_equal(ms.m[0].path, "/");
	assert_string_equal(ms.m[1].path, "/data");
	assert_string_equal(ms.m[2].path, "/home/a b");
	assert_string_equal(ms.m[3].path, "/runner");
	/* A network file system's identity: type, source, root. */
	assert_string_equal(ms.m[2].net, "nfs srv:/x /");
	assert_null(ms.m[0].net);
	assert_null(ms.m[1].net);
	mig__mounts_free(&ms);
}

/* A mount's network fields, as mig__mounts_put sends them. */
static void
put_net(struct mig_buf *b, const char *net, const char *name,
    const char *token)
{
	assert_int_equal(proto_put_str(b, net), 0);
	assert_int_equal(proto_put_str(b, name), 0);
	assert_int_equal(proto_put_str(b, token), 0);
	assert_int_equal(proto_put_u64(b, 0), 0);
	assert_int_equal(proto_put_u64(b, 0), 0);
	assert_int_equal(proto_put_u32(b, 0), 0);
}

/* A home list: boot, then path, dev, ino triples (NULL-terminated). */
static void
make(struct mig_mounts *ms, const char *boot, ...)
{
	struct mig_buf b = { NULL, 0, 0 };
	const char *p;
	va_list ap;
	uint32_t n = 0;

	va_start(ap, boot);
	while ((p = va_arg(ap, const char *)) != NULL) {
		(void)va_arg(ap, int);
		(void)va_arg(ap, int);
		n++;
	}
	va_end(ap);
	assert_int_equal(proto_put_str(&b, boot), 0);
	assert_int_equal(proto_put_u32(&b, n), 0);
	va_start(ap, boot);
	while ((p = va_arg(ap, const char *)) != NULL) {
		assert_int_equal(proto_put_str(&b, p), 0);
		assert_int_equal(proto_put_u64(&b, (uint64_t)va_arg(ap, int)), 0);
		assert_int_equal(proto_put_u64(&b, (uint64_t)va_arg(ap, int)), 0);
		put_net(&b, "", "", "");
	}
	va_end(ap);
	assert_int_equal(mig__mounts_get(b.data, b.len, NEW, ms), 0);
	mig_buf_free(&b);
}

static void
wire_round_trip(void **state)
{
	struct mig_mounts a, b;
	struct mig_buf buf = { NULL, 0, 0 };

	(void)state;
	make(&a, "boot-1", "/x", 3, 4, "/", 1, 2, NULL);
	assert_int_equal(a.n, 2);
	assert_string_equal(a.m[0].path, "/");
	assert_int_equal(mig__mounts_put(&buf, &a, NEW), 0);
	assert_int_equal(mig__mounts_get(buf.data, buf.len, NEW, &b),
	    0);
	assert_string_equal(b.boot, "boot-1");
	assert_int_equal(b.n, 2);
	assert_string_equal(b.m[1].path, "/x");
	assert_int_equal(b.m[1].dev, 3);
	assert_int_equal(b.m[1].ino, 4);
	mig__mounts_free(&b);
	/* One byte more, or one less, is malformed. */
	assert_int_equal(mig_buf_append(&buf, "", 1), 0);
	assert_int_equal(mig__mounts_get(buf.data, buf.len, NEW, &b),
	    MIG_EPROTO);
	assert_int_equal(mig__mounts_get(buf.data, buf.len - 2, NEW, &b),
	    MIG_EPROTO);
	mig_buf_free(&buf);
	mig__mounts_free(&a);
}

static void
wire_rejects(void **state)
{
	static const char *const bad[] = { "x", "/a/../b", "/a/", "/a//b",
		"/./a", "/proc/1", "/dev", "" };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct mig_buf b = { NULL, 0, 0 };
		struct mig_mounts ms;
		assert_int_equal(proto_put_str(&b, "boot"), 0);
		assert_int_equal(proto_put_u32(&b, 1), 0);
		assert_int_equal(proto_put_str(&b, bad[i]), 0);
		assert_int_equal(proto_put_u64(&b, 1), 0);
		assert_int_equal(proto_put_u64(&b, 1), 0);
		put_net(&b, "", "", "");
		assert_int_equal(mig__mounts_get(b.data, b.len, NEW, &ms),
		    MIG_EPROTO);
		assert_null(ms.m);
		mig_buf_free(&b);
	}
	{
		/* The same path twice. */
		struct mig_buf b = { NULL, 0, 0 };
		struct mig_mounts ms;
		assert_int_equal(proto_put_str(&b, "boot"), 0);
		assert_int_equal(proto_put_u32(&b, 2), 0);
		for (int i = 0; i < 2; i++) {
			assert_int_equal(proto_put_str(&b, "/a"), 0);
			assert_int_equal(proto_put_u64(&b, 1), 0);
			assert_int_equal(proto_put_u64(&b, 1), 0);
			put_net(&b, "", "", "");
		}
		assert_int_equal(mig__mounts_get(b.data, b.len, NEW, &ms),
		    MIG_EPROTO);
		mig_buf_free(&b);
	}
}

/* A network mount's fields: a token only with a network identity, a
 * token file named .mig-proof-*, a token of hex digits. */
static void
wire_net(void **state)
{
	static const char tok[] = "0123456789abcdef0123456789abcdef";
	static const char *const bad[][3] = {
		{ "", ".mig-proof-h-0", tok },
		{ "nfs s:/ /", "proof", tok },
		{ "nfs s:/ /", ".mig-proof-a/b", tok },
		{ "nfs s:/ /", ".mig-proof-h-0", "0123" },
		{ "nfs s:/ /", ".mig-proof-h-0",
		    "0123456789ABCDEF0123456789abcdef" },
		{ "nfs s:/ /", "", tok },
	};
	struct mig_buf b = { NULL, 0, 0 }, again = { NULL, 0, 0 };
	struct mig_mounts ms;

	(void)state;
	assert_int_equal(proto_put_str(&b, "boot"), 0);
	assert_int_equal(proto_put_u32(&b, 1), 0);
	assert_int_equal(proto_put_str(&b, "/n"), 0);
	assert_int_equal(proto_put_u64(&b, 1), 0);
	assert_int_equal(proto_put_u64(&b, 2), 0);
	put_net(&b, "nfs s:/ /", ".mig-proof-h-0", tok);
	assert_int_equal(mig__mounts_get(b.data, b.len, NEW, &ms),
	    0);
	assert_string_equal(ms.m[0].net, "nfs s:/ /");
	assert_string_equal(ms.m[0].tokname, ".mig-proof-h-0");
	assert_string_equal(ms.m[0].token, tok);
	assert_int_equal(mig__mounts_put(&again, &ms, NEW), 0);
	assert_int_equal(again.len, b.len);
	assert_memory_equal(again.data, b.data, b.len);
	mig__mounts_free(&ms);
	mig_buf_free(&again);
	mig_buf_free(&b);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(proto_put_str(&b, "boot"), 0);
		assert_int_equal(proto_put_u32(&b, 1), 0);
		assert_int_equal(proto_put_str(&b, "/n"), 0);
		assert_int_equal(proto_put_u64(&b, 1), 0);
		assert_int_equal(proto_put_u64(&b, 2), 0);
		put_net(&b, bad[i][0], bad[i][1], bad[i][2]);
		assert_int_equal(mig__mounts_get(b.data, b.len, NEW, &ms),
		    MIG_EPROTO);
		mig_buf_free(&b);
	}
}

/* A protocol-4 peer (0.1.0) reads path, dev and ino alone: it is sent
 * that form, byte for byte as 0.1.0 sent it, and its list, read in that
 * form, has no network mount; each form read as the other is malformed. */
static void
wire_proto4(void **state)
{
	static const char tok[] = "0123456789abcdef0123456789abcdef";
	struct mig_buf b = { NULL, 0, 0 }, old = { NULL, 0, 0 },
	    again = { NULL, 0, 0 };
	struct mig_mounts ms, back;

	(void)state;
	assert_int_equal(proto_put_str(&b, "boot"), 0);
	assert_int_equal(proto_put_u32(&b, 2), 0);
	assert_int_equal(proto_put_str(&b, "/n"), 0);
	assert_int_equal(proto_put_u64(&b, 1), 0);
	assert_int_equal(proto_put_u64(&b, 2), 0);
	put_net(&b, "nfs s:/ /", ".mig-proof-h-0", tok);
	assert_int_equal(proto_put_str(&b, "/"), 0);
	assert_int_equal(proto_put_u64(&b, 3), 0);
	assert_int_equal(proto_put_u64(&b, 4), 0);
	put_net(&b, "", "", "");
	assert_int_equal(mig__mounts_get(b.data, b.len, NEW, &ms), 0);
	/* What 0.1.0 sent: boot, n, then (path, dev, ino), sorted. */
	assert_int_equal(proto_put_str(&old, "boot"), 0);
	assert_int_equal(proto_put_u32(&old, 2), 0);
	assert_int_equal(proto_put_str(&old, "/"), 0);
	assert_int_equal(proto_put_u64(&old, 3), 0);
	assert_int_equal(proto_put_u64(&old, 4), 0);
	assert_int_equal(proto_put_str(&old, "/n"), 0);
	assert_int_equal(proto_put_u64(&old, 1), 0);
	assert_int_equal(proto_put_u64(&old, 2), 0);
	assert_int_equal(mig__mounts_put(&again, &ms, OLD), 0);
	assert_int_equal(again.len, old.len);
	assert_memory_equal(again.data, old.data, old.len);
	assert_int_equal(mig__mounts_get(again.data, again.len, OLD, &back),
	    0);
	assert_int_equal(back.n, 2);
	assert_string_equal(back.m[1].path, "/n");
	assert_int_equal(back.m[1].dev, 1);
	assert_int_equal(back.m[1].ino, 2);
	assert_null(back.m[1].net);
	assert_null(back.m[1].tokname);
	mig__mounts_free(&back);
	/* The new form round trips with its network fields. */
	again.len = 0;
	assert_int_equal(mig__mounts_put(&again, &ms, NEW), 0);
	assert_int_equal(mig__mounts_get(again.data, again.len, NEW, &back),
	    0);
	assert_string_equal(back.m[1].net, "nfs s:/ /");
	assert_string_equal(back.m[1].token, tok);
	mig__mounts_free(&back);
	/* Each form read as the other's is malformed. */
	assert_int_equal(mig__mounts_get(old.data, old.len, NEW, &back),
	    MIG_EPROTO);
	assert_int_equal(mig__mounts_get(again.data, again.len, OLD, &back),
	    MIG_EPROTO);
	mig__mounts_free(&ms);
	mig_buf_free(&again);
	mig_buf_free(&old);
	mig_buf_free(&b);
}

/* Home's token written in a folder standing for a network mount's root,
 * and read back there as a host would. */
static void
net_token(void **state)
{
	static const char tok[] = "00112233445566778899aabbccddeeff";
	char dir[] = "/tmp/test_proof.XXXXXX", file[64];
	struct mig_mount h = { 0 }, here = { 0 };
	struct mig_mounts ms = { { 0 }, &h, 1 };
	struct stat st;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	h.path = dir;
	h.ok = 1;
	h.net = "nfs srv:/x /";
	mig__net_tokens(&ms, ".mig-proof-t-0", tok);
	assert_non_null(h.tokname);
	assert_string_equal(h.token, tok);
	snprintf(file, sizeof(file), "%s/.mig-proof-t-0", dir);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(h.tino, (uint64_t)st.st_ino);
	/* The host's mount of the same source, whose root has the same
	 * inode (the server's), reads it back. */
	here.path = dir;
	here.ok = 1;
	here.ino = h.ino = 77;
	here.net = "nfs srv:/x /";
	mig__net_check(&h, &here);
	assert_true(here.tokok);
	assert_true(mig__net_proven(&h, &here));
	/* Written again by home, the token stays (same file). */
	mig__net_tokens(&ms, ".mig-proof-t-0", tok);
	mig__net_check(&h, &here);
	assert_true(here.tokok);
	/* Another root inode, another source: not proven. */
	here.ino = 78;
	assert_false(mig__net_proven(&h, &here));
	here.ino = 77;
	here.net = "nfs srv:/y /";
	mig__net_check(&h, &here);
	assert_false(here.tokok || mig__net_proven(&h, &here));
	here.net = "nfs srv:/x /";
	/* Other bytes in the file, or the same bytes in a new file: the
	 * host sees something else than home wrote. */
	assert_non_null(f = fopen(file, "w"));
	fputs("ffffffffffffffffffffffffffffffff", f);
	fclose(f);
	mig__net_check(&h, &here);
	assert_false(here.tokok);
	assert_int_equal(unlink(file), 0);
	assert_non_null(f = fopen(file, "w"));
	fputs(tok, f);
	fclose(f);
	mig__net_check(&h, &here);
	assert_false(here.tokok);
	/* Not a network file system's: nothing to prove by token. */
	here.net = NULL;
	mig__net_check(&h, &here);
	assert_false(here.tokok || mig__net_proven(&h, &here));
	free(h.tokname);
	unlink(file);
	rmdir(dir);
}

static void
proof_rules(void **state)
{
	struct mig_mounts home, here;
	struct mig_proof pf;

	(void)state;
	make(&home, "boot", "/", 1, 2, "/data", 5, 2, "/nfs", 7, 2, NULL);
	/* Same kernel: / and /data the same; /nfs another file system; the
	 * host's own /tmp where home's is a folder of /. */
	make(&here, "boot", "/", 1, 2, "/data", 5, 2, "/nfs", 8, 2, "/tmp",
	    9, 2, NULL);
	assert_int_equal(mig__proof_compare(&home, &here, &pf), 0);
	assert_true(pf.same_boot);
	assert_false(pf.all);
	assert_true(pf.proven[0] && pf.proven[1] && !pf.proven[2]);
	assert_int_equal(pf.nextra, 1);
	assert_string_equal(pf.extra[0], "/tmp");
	assert_true(mig__proof_covers(&home, &pf, "/usr/bin/cc"));
	assert_true(mig__proof_covers(&home, &pf, "/data/x"));
	assert_false(mig__proof_covers(&home, &pf, "/nfs/x"));
	assert_false(mig__proof_covers(&home, &pf, "/tmp/x"));
	assert_false(mig__proof_covers(&home, &pf, "/tmp"));
	assert_true(mig__proof_covers(&home, &pf, "/tmpx"));
	assert_false(mig__proof_covers(&home, &pf, "relative"));
	mig__proof_free(&pf);
	mig__mounts_free(&here);
	/* Another boot: nothing is proven, whatever the numbers. */
	make(&here, "other", "/", 1, 2, "/data", 5, 2, "/nfs", 7, 2, NULL);
	assert_int_equal(mig__proof_compare(&home, &here, &pf), 0);
	assert_false(pf.same_boot || pf.all || pf.proven[0]);
	assert_false(mig__proof_covers(&home, &pf, "/usr"));
	mig__proof_free(&pf);
	mig__mounts_free(&here);
	/* All the same, nothing of the host's own: its files are home's. */
	make(&here, "boot", "/", 1, 2, "/data", 5, 2, "/nfs", 7, 2, NULL);
	assert_int_equal(mig__proof_compare(&home, &here, &pf), 0);
	assert_true(pf.all);
	mig__proof_free(&pf);
	mig__mounts_free(&here);
	mig__mounts_free(&home);
}

static void
plan_steps(void **state)
{
	struct mig_mounts home, here;
	struct mig_proof pf;
	struct mig_plan pl;

	(void)state;
	make(&home, "boot", "/", 1, 2, "/nfs", 7, 2, "/nfs/same", 9, 3,
	    "/tmp/same", 1, 40, NULL);
	make(&here, "boot", "/", 1, 2, "/nfs", 8, 2, "/nfs/same", 9, 3,
	    "/tmp", 11, 2, "/tmp/same", 1, 40, "/tmp/own", 12, 2, NULL);
	assert_int_equal(mig__proof_compare(&home, &here, &pf), 0);
	assert_int_equal(mig__proof_plan(&home, &pf, &pl), 0);
	/* / from the host (with what is below it), /nfs served over it,
	 * /nfs/same the host's again; /tmp (the host's own) served, and in
	 * it /tmp/same the host's; /tmp/own is under a served folder: no
	 * step. */
	assert_int_equal(pl.n, 5);
	assert_string_equal(pl.step[0].path, "/");
	assert_true(pl.step[0].host);
	assert_string_equal(pl.step[1].path, "/nfs");
	assert_false(pl.step[1].host);
	assert_string_equal(pl.step[2].path, "/nfs/same");
	assert_true(pl.step[2].host);
	assert_string_equal(pl.step[3].path, "/tmp");
	assert_false(pl.step[3].host);
	assert_string_equal(pl.step[4].path, "/tmp/same");
	assert_true(pl.step[4].host);
	mig__plan_free(&pl);
	mig__proof_free(&pf);
	mig__mounts_free(&here);
	/* Nothing proven: no step, all served. */
	make(&here, "other", "/", 1, 2, NULL);
	assert_int_equal(mig__proof_compare(&home, &here, &pf), 0);
	assert_int_equal(mig__proof_plan(&home, &pf, &pl), 0);
	assert_int_equal(pl.n, 0);
	mig__plan_free(&pl);
	mig__proof_free(&pf);
	mig__mounts_free(&here);
	mig__mounts_free(&home);
}

static void
local_mounts(void **state)
{
	struct mig_mounts ms;
	struct mig_proof pf;

	(void)state;
	/* This process against itself: everything is proven. */
	assert_int_equal(mig__mounts_local(&ms), 0);
	assert_true(ms.n > 0);
	assert_string_not_equal(ms.boot, "");
	assert_int_equal(mig__proof_run(&ms, &pf), 0);
	assert_true(pf.all);
	mig__proof_free(&pf);
	mig__mounts_free(&ms);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_mountinfo),
		cmocka_unit_test(wire_round_trip),
		cmocka_unit_test(wire_rejects),
		cmocka_unit_test(wire_net),
		cmocka_unit_test(wire_proto4),
		cmocka_unit_test(net_token),
		cmocka_unit_test(proof_rules),
		cmocka_unit_test(plan_steps),
		cmocka_unit_test(local_mounts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
