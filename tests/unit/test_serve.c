/*
 * test_serve.c: the fs role's home half (homed/fs/serve.c) without a
 * socket: requests go straight to the handler it registers, the link's
 * send and fail are recorded here. A malformed request fails the link and
 * sends nothing; a good one gets one answer, with what the op returns.
 * An OPEN that hashes answers from the loop (libuv's thread pool hashes),
 * and the link's later requests are answered after it, in order.
 * Every answer is one a host reads (mig__fs_rep_parse). Also the
 * attributes' encoding and the reading of malformed answers
 * (homed/fs/wire.c), and what home refuses to serve: any request on a
 * link over which it placed no job, the kernel's files (/proc/self/mem
 * is the daemon's memory), a FETCH for a hash the file does not have.
 */
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
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"
#include "homed.h"

/* ---- the transport, as serve.c sees it ---- */

static mig__link_fn *handler, *mode_handler, *tally_handler;
static struct watcher watcher;
static int failed, sent;
static struct mig_buf answer;
static uint16_t answer_type, answer_flags;
static uint32_t answer_stream;
static uint32_t streams[16];     /* the streams answered, in order */
static size_t nstreams;

void
mig__on_link_frame(struct homed *d, uint16_t type, mig__link_fn *fn)
{
	if (type == MIG_M_FS_REQ)
		handler = fn;
	if (type == MIG_M_FS_MODE)
		mode_handler = fn;
	if (type == MIG_M_FS_TALLY)
		tally_handler = fn;
}

void
mig__watch(struct homed *d, const struct watcher *w)
{
	watcher = *w;
}

int
mig__link_send(struct link *l, uint16_t type, uint16_t flags,
    uint32_t stream, const void *payload, size_t n)
{
	sent++;
	answer.len = 0;
	assert_int_equal(mig_buf_append(&answer, payload, n), 0);
	answer_type = type;
	answer_flags = flags;
	answer_stream = stream;
	if (nstreams < sizeof(streams) / sizeof(*streams))
		streams[nstreams++] = stream;
	return 0;
}

void
mig__link_fail(struct link *l, int code, const char *fmt, ...)
{
	failed++;
}

static struct homed d;
static struct peer peer;
static struct link l;
static char dir[PATH_MAX];
static uint32_t seq;

/* Link lk's host says how its jobs see home's files (MIG_M_FS_MODE). */
static void
say_mode(struct link *lk, uint32_t files, uint32_t served)
{
	struct mig_buf b = { NULL, 0, 0 };
	struct mig_frame f;

	proto_put_u32(&b, files);
	proto_put_u32(&b, served);
	proto_put_str(&b, served ? "" : "no fuse");
	f = (struct mig_frame){ (uint32_t)b.len, MIG_M_FS_MODE, 0, 0, b.data };
	mode_handler(lk, &f);
	mig_buf_free(&b);
}

static int
setup(void **state)
{
	char tmpl[] = "/tmp/mig-test-serve.XXXXXX";

	memset(&d, 0, sizeof(d));
	memset(&l, 0, sizeof(l));
	d.loop = uv_default_loop();
	nstreams = 0;
	memset(&peer, 0, sizeof(peer));
	l.d = &d;
	l.peer = &peer;
	l.proto = MIG_PROTO_VERSION;
	strlcpy(peer.name, "host1", sizeof(peer.name));
	strlcpy(l.desc, "test", sizeof(l.desc));
	mig__fs_home_init(&d);
	assert_non_null(handler);
	assert_non_null(mode_handler);
	assert_non_null(mkdtemp(tmpl));
	strlcpy(dir, tmpl, sizeof(dir));
	/* The host serves, and home placed a job over the link (its PRIME
	 * is sent then). */
	say_mode(&l, MIG_FILES_AUTO, 1);
	mig__fs_prime(&d, &l, 1, "cc");
	assert_int_equal(answer_type, MIG_M_FS_PRIME);
	failed = sent = 0;
	nstreams = 0;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	mig__fs_home_free(&d);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	mig_buf_free(&answer);
	return 0;
}

/* Sends op with payload b to the handler; returns the answer's errno
 * (-1: no answer) and leaves rd on the rest of it. */
static int
ask(uint16_t op, struct mig_buf *b, struct mig_rd *rd)
{
	struct mig_frame f = { (uint32_t)b->len, MIG_M_FS_REQ, op, ++seq,
		b->data };
	struct mig_fs_rep a;
	int before = sent;
	uint32_t err;

	handler(&l, &f);
	mig_buf_free(b);
	/* An answer computed off the loop arrives through it. */
	uv_run(d.loop, UV_RUN_DEFAULT);
	if (sent == before)
		return -1;
	assert_int_equal(answer_type, MIG_M_FS_REP);
	assert_int_equal(answer_flags, op);
	assert_int_equal(answer_stream, seq);
	assert_int_equal(mig__fs_rep_parse(op, l.proto, answer.data,
	    answer.len, 1, 1, &a), 0);
	mig__fs_rep_free(&a);
	proto_rd_init(rd, answer.data, answer.len);
	assert_int_equal(proto_get_u32(rd, &err), 0);
	if (err != 0)
		assert_int_equal(proto_rd_done(rd), 0);
	return (int)err;
}

static void
path_of(char *buf, const char *name)
{
	snprintf(buf, PATH_MAX, "%s/%s", dir, name);
}

static void
malformed_fails_the_link(void **state)
{
	struct mig_buf b = { NULL, 0, 0 };
	struct mig_rd rd;

	/* Unknown ops. */
	assert_int_equal(ask(0, &b, &rd), -1);
	assert_int_equal(failed, 1);
	assert_int_equal(ask(MIG_FS__COUNT, &b, &rd), -1);
	assert_int_equal(ask(0xffff, &b, &rd), -1);
	assert_int_equal(failed, 3);
	/* No payload, a payload too short, a relative path, extra bytes. */
	assert_int_equal(ask(MIG_FS_LSTAT, &b, &rd), -1);
	proto_put_u32(&b, 100);
	assert_int_equal(ask(MIG_FS_LSTAT, &b, &rd), -1);
	proto_put_str(&b, "etc/passwd");
	assert_int_equal(ask(MIG_FS_LSTAT, &b, &rd), -1);
	proto_put_str(&b, "/");
	proto_put_u32(&b, 7);
	assert_int_equal(ask(MIG_FS_LSTAT, &b, &rd), -1);
	/* A fetch over the chunk size. */
	proto_put_str(&b, "/");
	proto_put_bytes(&b, "0123456789abcdef0123456789abcdef", MIG_HASH_BYTES);
	proto_put_u64(&b, 0);
	proto_put_u32(&b, MIG_FS_CHUNK + 1);
	assert_int_equal(ask(MIG_FS_FETCH, &b, &rd), -1);
	/* A put that never began is refused, not malformed. */
	proto_put_u32(&b, 42);
	assert_int_equal(ask(MIG_FS_PUT_COMMIT, &b, &rd), EBADF);
	assert_int_equal(failed, 8);
	assert_int_equal(sent, 1);
}

static void
lstat_and_errors(void **state)
{
	struct mig_buf b = { NULL, 0, 0 };
	char p[PATH_MAX];
	struct stat st, got;
	struct mig_rd rd;

	path_of(p, "f");
	{
		FILE *f = fopen(p, "w");
		assert_non_null(f);
		fputs("hello\n", f);
		fclose(f);
	}
	assert_int_equal(chmod(p, 0640), 0);
	assert_int_equal(lstat(p, &st), 0);
	proto_put_str(&b, p);
	assert_int_equal(ask(MIG_FS_LSTAT, &b, &rd), 0);
	assert_int_equal(mig__fs_get_attr(&rd, &got, 4242, 4343), 0);
	assert_int_equal(proto_rd_done(&rd), 0);
	assert_int_equal(got.st_mode, st.st_mode);
	assert_int_equal(got.st_size, 6);
	/* The home user's files are the host user's. */
	assert_int_equal(got.st_uid, st.st_uid == getuid() ? 4242 : st.st_uid);
	assert_int_equal(got.st_mtim.tv_sec, st.st_mtim.tv_sec);
	assert_int_equal(got.st_mtim.tv_nsec, st.st_mtim.tv_nsec);
	path_of(p, "missing");
	proto_put_str(&b, p);
	assert_int_equal(ask(MIG_FS_LSTAT, &b, &rd), ENOENT);
	assert_int_equal(failed, 0);
}

static void
open_fetch_readdir(void **state)
{
	struct mig_buf b = { NULL, 0, 0 };
	uint8_t want[MIG_HASH_BYTES];
	char p[PATH_MAX], *name;
	const uint8_t *key, *data;
	uint32_t n, type, eof;
	uint64_t ino;
	size_t len;
	struct stat st;
	struct mig_rd rd;
	int seen = 0;

	path_of(p, "f");
	{
		FILE *f = fopen(p, "w");
		assert_non_null(f);
		fputs("some content\n", f);
		fclose(f);
	}
	mig__hash_buf("some content\n", 13, want);
	proto_put_str(&b, p);
	assert_int_equal(ask(MIG_FS_OPEN, &b, &rd), 0);
	assert_int_equal(mig__fs_get_attr(&rd, &st, 1, 1), 0);
	assert_int_equal(proto_get_bytes(&rd, &key, &len), 0);
	assert_int_equal(len, MIG_HASH_BYTES);
	assert_memory_equal(key, want, MIG_HASH_BYTES);
	proto_put_str(&b, p);
	proto_put_bytes(&b, want, MIG_HASH_BYTES);
	proto_put_u64(&b, 5);
	proto_put_u32(&b, 100);
	assert_int_equal(ask(MIG_FS_FETCH, &b, &rd), 0);
	assert_int_equal(proto_get_bytes(&rd, &data, &len), 0);
	assert_int_equal(len, 8);
	assert_memory_equal(data, "content\n", 8);
	proto_put_str(&b, dir);
	assert_int_equal(ask(MIG_FS_OPEN, &b, &rd), EINVAL);
	proto_put_str(&b, dir);
	proto_put_u32(&b, 0);
	assert_int_equal(ask(MIG_FS_READDIR, &b, &rd), 0);
	assert_int_equal(proto_get_u32(&rd, &n), 0);
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(proto_get_str(&rd, &name), 0);
		assert_int_equal(proto_get_u32(&rd, &type), 0);
		assert_int_equal(proto_get_u64(&rd, &ino), 0);
		seen += strcmp(name, "f") == 0;
		free(name);
	}
	assert_int_equal(proto_get_u32(&rd, &eof), 0);
	assert_int_equal(eof, 1);
	assert_int_equal(n, 3); /* ., .. and f */
	assert_int_equal(seen, 1);
}

/* A file hashed off the loop: nothing is answered before the loop runs,
 * and a stat asked right after it is answered after it. */
static void
answers_in_order(void **state)
{
	struct mig_buf b = { NULL, 0, 0 };
	char p[PATH_MAX];
	struct mig_frame f;
	struct mig_rd rd;

	path_of(p, "big");
	{
		FILE *fp = fopen(p, "w");
		assert_non_null(fp);
		for (int i = 0; i < 200000; i++)
			fputs("a line of a big file\n", fp);
		fclose(fp);
	}
	/* Kept only once its ctime is in the past of the clock. */
	sleep(1);
	proto_put_str(&b, p);
	f = (struct mig_frame){ (uint32_t)b.len, MIG_M_FS_REQ, MIG_FS_OPEN, 1,
		b.data };
	handler(&l, &f);
	mig_buf_free(&b);
	proto_put_str(&b, dir);
	f = (struct mig_frame){ (uint32_t)b.len, MIG_M_FS_REQ, MIG_FS_LSTAT, 2,
		b.data };
	handler(&l, &f);
	mig_buf_free(&b);
	assert_int_equal(sent, 0);
	uv_run(d.loop, UV_RUN_DEFAULT);
	assert_int_equal(sent, 2);
	assert_int_equal(streams[0], 1);
	assert_int_equal(streams[1], 2);
	proto_put_str(&b, p);
	assert_int_equal(ask(MIG_FS_OPEN, &b, &rd), 0);
	assert_int_equal(sent, 3);
	assert_int_equal(failed, 0);
}

static void
writes(void **state)
{
	struct mig_buf b = { NULL, 0, 0 };
	char p[PATH_MAX], q[PATH_MAX], buf[64];
	struct mig_rd rd;
	struct stat st;
	uint32_t id;
	FILE *f;

	path_of(p, "sub");
	proto_put_str(&b, p);
	proto_put_u32(&b, 0750);
	assert_int_equal(ask(MIG_FS_MKDIR, &b, &rd), 0);
	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	/* A file arrives whole, under a temporary name, then in place. */
	path_of(p, "sub/out");
	proto_put_str(&b, p);
	proto_put_u32(&b, 0751);
	assert_int_equal(ask(MIG_FS_PUT_BEGIN, &b, &rd), 0);
	assert_int_equal(proto_get_u32(&rd, &id), 0);
	proto_put_u32(&b, id);
	proto_put_bytes(&b, "part one, ", 10);
	assert_int_equal(ask(MIG_FS_PUT_DATA, &b, &rd), 0);
	assert_int_equal(access(p, F_OK), -1);
	proto_put_u32(&b, id);
	proto_put_bytes(&b, "part two", 8);
	assert_int_equal(ask(MIG_FS_PUT_DATA, &b, &rd), 0);
	proto_put_u32(&b, id);
	assert_int_equal(ask(MIG_FS_PUT_COMMIT, &b, &rd), 0);
	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0751);
	assert_non_null(f = fopen(p, "r"));
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "part one, part two");
	/* Rename, symlink, setattr, unlink, rmdir. */
	path_of(q, "sub/moved");
	proto_put_str(&b, p);
	proto_put_str(&b, q);
	proto_put_u32(&b, 0);
	assert_int_equal(ask(MIG_FS_RENAME, &b, &rd), 0);
	assert_int_equal(access(q, F_OK), 0);
	path_of(p, "sub/l");
	proto_put_str(&b, "moved");
	proto_put_str(&b, p);
	assert_int_equal(ask(MIG_FS_SYMLINK, &b, &rd), 0);
	assert_int_equal(readlink(p, buf, sizeof(buf)), 5);
	proto_put_str(&b, q);
	proto_put_u32(&b, MIG_FS_SET_MODE | MIG_FS_SET_SIZE);
	proto_put_u32(&b, 0600);
	proto_put_u64(&b, 4);
	proto_put_u64(&b, 0);
	proto_put_u32(&b, 0);
	proto_put_u64(&b, 0);
	proto_put_u32(&b, 0);
	assert_int_equal(ask(MIG_FS_SETATTR, &b, &rd), 0);
	assert_int_equal(lstat(q, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 4);
	path_of(p, "sub");
	proto_put_str(&b, p);
	assert_int_equal(ask(MIG_FS_RMDIR, &b, &rd), ENOTEMPTY);
	proto_put_str(&b, q);
	assert_int_equal(ask(MIG_FS_UNLINK, &b, &rd), 0);
	path_of(q, "sub/l");
	proto_put_str(&b, q);
	assert_int_equal(ask(MIG_FS_UNLINK, &b, &rd), 0);
	proto_put_str(&b, p);
	assert_int_equal(ask(MIG_FS_RMDIR, &b, &rd), 0);
	assert_int_equal(failed, 0);
}

/* The last answer, read as the host reads it over the link's protocol. */
static void
last_answer(uint16_t op, struct mig_fs_rep *a)
{
	assert_int_equal(mig__fs_rep_parse(op, l.proto, answer.data,
	    answer.len, 1, 1, a), 0);
}

/* Over protocol 6 a change answers with its folder's state after it,
 * which the host's view then need not ask for; over 5, not. */
static void
changes_answer_their_folder(void **state)
{
	struct mig_buf b = { NULL, 0, 0 };
	char p[PATH_MAX];
	struct mig_fs_rep a;
	struct mig_rd rd;
	struct stat st;

	path_of(p, "made");
	proto_put_str(&b, p);
	proto_put_u32(&b, 0600);
	proto_put_u32(&b, 1);
	assert_int_equal(ask(MIG_FS_CREATE, &b, &rd), 0);
	last_answer(MIG_FS_CREATE, &a);
	assert_int_equal(lstat(dir, &st), 0);
	assert_true(a.has_folder);
	assert_int_equal(a.folder_err, 0);
	assert_true(S_ISDIR(a.folder.st_mode));
	assert_int_equal(a.folder.st_mtim.tv_sec, st.st_mtim.tv_sec);
	assert_int_equal(a.folder.st_mtim.tv_nsec, st.st_mtim.tv_nsec);
	assert_true(S_ISREG(a.attr.st_mode));
	mig__fs_rep_free(&a);
	/* An unlink's answer is the folder's alone. */
	proto_put_str(&b, p);
	assert_int_equal(ask(MIG_FS_UNLINK, &b, &rd), 0);
	last_answer(MIG_FS_UNLINK, &a);
	assert_int_equal(lstat(dir, &st), 0);
	assert_true(a.has_folder);
	assert_int_equal(a.folder.st_ctim.tv_nsec, st.st_ctim.tv_nsec);
	mig__fs_rep_free(&a);
	/* The same create over protocol 5: the attributes, nothing more. */
	l.proto = 5;
	proto_put_str(&b, p);
	proto_put_u32(&b, 0600);
	proto_put_u32(&b, 1);
	assert_int_equal(ask(MIG_FS_CREATE, &b, &rd), 0);
	last_answer(MIG_FS_CREATE, &a);
	assert_false(a.has_folder);
	assert_int_equal(answer.len, 4 + 88);
	mig__fs_rep_free(&a);
	assert_int_equal(failed, 0);
}

/* Sends op with payload b on link lk; returns the answer's errno (-1: no
 * answer). */
static int
ask_on(struct link *lk, uint16_t op, struct mig_buf *b)
{
	struct mig_frame f = { (uint32_t)b->len, MIG_M_FS_REQ, op, ++seq,
		b->data };
	int before = sent;
	struct mig_rd rd;
	uint32_t err;

	handler(lk, &f);
	mig_buf_free(b);
	uv_run(d.loop, UV_RUN_DEFAULT);
	if (sent == before)
		return -1;
	assert_int_equal(answer_type, MIG_M_FS_REP);
	proto_rd_init(&rd, answer.data, answer.len);
	assert_int_equal(proto_get_u32(&rd, &err), 0);
	return (int)err;
}

/* Only a link over which home placed a job, to a host that serves, may
 * ask; any other gets EACCES, and keeps its link. */
static void
unplaced_link_refused(void **state)
{
	struct mig_buf b = { NULL, 0, 0 };
	struct peer other;
	struct link l2;

	memset(&other, 0, sizeof(other));
	memset(&l2, 0, sizeof(l2));
	l2.d = &d;
	l2.peer = &other;
	strlcpy(l2.desc, "stranger", sizeof(l2.desc));
	/* It serves, but no job of ours went there. */
	say_mode(&l2, MIG_FILES_AUTO, 1);
	proto_put_str(&b, dir);
	assert_int_equal(ask_on(&l2, MIG_FS_LSTAT, &b), EACCES);
	proto_put_str(&b, "/etc/passwd");
	proto_put_bytes(&b, "0123456789abcdef0123456789abcdef", MIG_HASH_BYTES);
	proto_put_u64(&b, 0);
	proto_put_u32(&b, 100);
	assert_int_equal(ask_on(&l2, MIG_FS_FETCH, &b), EACCES);
	/* A job placed there, but the host runs jobs in its own files only. */
	say_mode(&l2, MIG_FILES_SHARED, 0);
	mig__fs_prime(&d, &l2, 7, "cc");
	proto_put_str(&b, dir);
	assert_int_equal(ask_on(&l2, MIG_FS_LSTAT, &b), EACCES);
	/* Once it says it serves, the job placed there may ask. */
	say_mode(&l2, MIG_FILES_AUTO, 1);
	proto_put_str(&b, dir);
	assert_int_equal(ask_on(&l2, MIG_FS_LSTAT, &b), 0);
	assert_int_equal(failed, 0);
	watcher.link_down(&l2, MIG_ELINK, "test");
}

/* Writes s to path. */
static void
put_text(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(s, f);
	assert_int_equal(fclose(f), 0);
}

/* FETCH of path at 0, for hash key; the answer's errno. */
static int
fetch(const char *path, const uint8_t key[MIG_HASH_BYTES])
{
	struct mig_buf b = { NULL, 0, 0 };

	proto_put_str(&b, path);
	proto_put_bytes(&b, key, MIG_HASH_BYTES);
	proto_put_u64(&b, 0);
	proto_put_u32(&b, 4096);
	return ask_on(&l, MIG_FS_FETCH, &b);
}

/* The kernel's files are never served: /proc/self/mem is the daemon's
 * memory, which holds the other links' session keys. Also not through a
 * symbolic link that leads there, nor a path with "..". */
static void
kernel_files_refused(void **state)
{
	struct mig_buf b = { NULL, 0, 0 };
	uint8_t key[MIG_HASH_BYTES];
	char p[PATH_MAX];

	memset(key, 0, sizeof(key));
	assert_int_equal(fetch("/proc/self/mem", key), EACCES);
	assert_int_equal(fetch("/proc/self/environ", key), EACCES);
	assert_int_equal(fetch("/sys/kernel/notes", key), EACCES);
	assert_int_equal(fetch("/dev/zero", key), EACCES);
	proto_put_str(&b, "/proc/self/environ");
	assert_int_equal(ask_on(&l, MIG_FS_OPEN, &b), EACCES);
	proto_put_str(&b, "/proc/self");
	assert_int_equal(ask_on(&l, MIG_FS_READLINK, &b), EACCES);
	/* Through a link of the user's that leads into /proc. */
	path_of(p, "p");
	assert_int_equal(symlink("/proc/self", p), 0);
	path_of(p, "p/environ");
	proto_put_str(&b, p);
	assert_int_equal(ask_on(&l, MIG_FS_OPEN, &b), EACCES);
	path_of(p, "p/mem");
	assert_int_equal(fetch(p, key), EACCES);
	assert_int_equal(failed, 0);
	/* A path no view asks: malformed. */
	snprintf(p, sizeof(p), "%s/../../proc/self/mem", dir);
	assert_int_equal(fetch(p, key), -1);
	assert_int_equal(failed, 1);
}

/* A FETCH is answered for the file's hash as home computed it, and only
 * for a regular file. */
static void
fetch_needs_the_hash(void **state)
{
	uint8_t key[MIG_HASH_BYTES], other[MIG_HASH_BYTES];
	char p[PATH_MAX];

	path_of(p, "f");
	put_text(p, "version one\n");
	mig__hash_buf("version one\n", 12, key);
	mig__hash_buf("version two\n", 12, other);
	/* Never opened: hashed for the fetch, then served. */
	assert_int_equal(fetch(p, key), 0);
	assert_int_equal(fetch(p, other), ESTALE);
	/* Changed at home since: the old hash gets nothing. */
	put_text(p, "version two\n");
	assert_int_equal(fetch(p, key), ESTALE);
	assert_int_equal(fetch(p, other), 0);
	assert_int_equal(fetch(dir, key), EINVAL);
	assert_int_equal(failed, 0);
}

/* A put left open when its link goes leaves no temporary file. */
/* Link lk's view says what it fetched and seeded so far (FS_TALLY). */
static void
say_tally(struct link *lk, uint64_t fetched, uint64_t seeded, int extra)
{
	struct mig_buf b = { NULL, 0, 0 };
	struct mig_frame f;

	proto_put_u64(&b, fetched);
	proto_put_u64(&b, seeded);
	if (extra)
		proto_put_u32(&b, 0);
	f = (struct mig_frame){ (uint32_t)b.len, MIG_M_FS_TALLY, 0, 0, b.data };
	tally_handler(lk, &f);
	mig_buf_free(&b);
}

/* A host's tallies: per link as last said, per host added up over its
 * links and its views (a new view counts from 0); a malformed one fails
 * the link. */
static void
tallies(void **state)
{
	struct link l2 = l;
	uint64_t f, s;

	assert_non_null(tally_handler);
	mig__fs_peer_tally(&d, &peer, &f, &s);
	assert_true(f == 0 && s == 0);
	say_tally(&l, 100, 5000, 0);
	say_tally(&l, 150, 9000, 0);
	mig__fs_tally(&d, &l, &f, &s);
	assert_true(f == 150 && s == 9000);
	/* The same host over another link, with a view of its own. */
	say_tally(&l2, 10, 20, 0);
	mig__fs_tally(&d, &l2, &f, &s);
	assert_true(f == 10 && s == 20);
	mig__fs_peer_tally(&d, &peer, &f, &s);
	assert_true(f == 160 && s == 9020);
	/* l's view began again. */
	say_tally(&l, 1, 2, 0);
	mig__fs_peer_tally(&d, &peer, &f, &s);
	assert_true(f == 161 && s == 9022);
	assert_int_equal(failed, 0);
	say_tally(&l, 1, 2, 1);
	assert_int_equal(failed, 1);
	watcher.link_down(&l2, MIG_ELINK, "test");
}

static void
link_down_cleans_up(void **state)
{
	struct mig_buf b = { NULL, 0, 0 };
	char p[PATH_MAX], cmd[PATH_MAX + 64];
	struct mig_rd rd;

	path_of(p, "half");
	proto_put_str(&b, p);
	proto_put_u32(&b, 0644);
	assert_int_equal(ask(MIG_FS_PUT_BEGIN, &b, &rd), 0);
	snprintf(cmd, sizeof(cmd), "test -n \"$(ls -A '%s')\"", dir);
	assert_int_equal(system(cmd), 0);
	watcher.link_down(&l, MIG_ELINK, "test");
	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s')\"", dir);
	assert_int_equal(system(cmd), 0);
}

/* Asks op (LSTAT, CREATE, UNLINK) of name in the test's folder; the
 * answer's errno. */
static int
ask_name(uint16_t op, const char *name)
{
	struct mig_buf b = { NULL, 0, 0 };
	char p[PATH_MAX];

	path_of(p, name);
	proto_put_str(&b, p);
	if (op == MIG_FS_CREATE) {
		proto_put_u32(&b, 0600);
		proto_put_u32(&b, 1);
	}
	return ask_on(&l, op, &b);
}

/* Whether name in the test's folder is in the PRIME home sent last. */
static int
primed(const char *name)
{
	const uint8_t *bytes;
	struct mig_rd rd;
	struct stat st;
	char p[PATH_MAX], *path;
	uint32_t n, err, what;
	size_t nb;
	int found = 0;

	assert_int_equal(answer_type, MIG_M_FS_PRIME);
	path_of(p, name);
	proto_rd_init(&rd, answer.data, answer.len);
	assert_int_equal(proto_get_u32(&rd, &n), 0);
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(proto_get_str(&rd, &path), 0);
		found |= strcmp(path, p) == 0;
		free(path);
		assert_int_equal(proto_get_u32(&rd, &err), 0);
		if (err != 0)
			continue;
		assert_int_equal(mig__fs_get_attr(&rd, &st, getuid(),
		    getgid()), 0);
		assert_int_equal(proto_get_u32(&rd, &what), 0);
		if (what & MIG_FS_PRIME_HASH)
			assert_int_equal(proto_get_bytes(&rd, &bytes, &nb), 0);
		if (what & MIG_FS_PRIME_TARGET)
			assert_int_equal(proto_get_bytes(&rd, &bytes, &nb), 0);
	}
	assert_int_equal(proto_rd_done(&rd), 0);
	return found;
}

/* A program's set holds what its jobs looked up, there or absent, and
 * not what they removed and left removed (a compiler's temporary
 * files): the kernel holds no entry for those. */
static void
learned_sets_leave_removed_names_out(void **state)
{
	uint64_t mark = mig__fs_mark(&d, &l);
	char p[PATH_MAX];

	path_of(p, "in.h");
	put_text(p, "int x;\n");
	assert_int_equal(ask_name(MIG_FS_LSTAT, "in.h"), 0);
	assert_int_equal(ask_name(MIG_FS_LSTAT, "miss.h"), ENOENT);
	/* A temporary file: looked up, made, removed. */
	assert_int_equal(ask_name(MIG_FS_LSTAT, "cc1.s"), ENOENT);
	assert_int_equal(ask_name(MIG_FS_CREATE, "cc1.s"), 0);
	assert_int_equal(ask_name(MIG_FS_UNLINK, "cc1.s"), 0);
	/* An object: looked up and made. */
	assert_int_equal(ask_name(MIG_FS_LSTAT, "out.o"), ENOENT);
	assert_int_equal(ask_name(MIG_FS_CREATE, "out.o"), 0);
	/* Removed, then looked up again: the kernel may hold that. */
	assert_int_equal(ask_name(MIG_FS_CREATE, "again"), 0);
	assert_int_equal(ask_name(MIG_FS_UNLINK, "again"), 0);
	assert_int_equal(ask_name(MIG_FS_LSTAT, "again"), ENOENT);
	assert_int_equal(mig__fs_learn(&d, &l, "cc", mark), 10);
	mig__fs_prime(&d, &l, 2, "cc");
	assert_true(primed("in.h"));
	assert_true(primed("miss.h"));
	assert_true(primed("out.o"));
	assert_true(primed("again"));
	assert_false(primed("cc1.s"));
	/* A later job removes a name the set had: it leaves the set. */
	mark = mig__fs_mark(&d, &l);
	assert_int_equal(ask_name(MIG_FS_UNLINK, "out.o"), 0);
	assert_int_equal(mig__fs_learn(&d, &l, "cc", mark), 1);
	mig__fs_prime(&d, &l, 3, "cc");
	assert_false(primed("out.o"));
	assert_true(primed("in.h"));
	assert_true(primed("again"));
	assert_int_equal(failed, 0);
}

/* One file of a PUT_BATCH request. */
static void
batch_file(struct mig_buf *b, const char *path, uint32_t mode,
    const void *data, size_t n)
{
	assert_int_equal(proto_put_str(b, path), 0);
	assert_int_equal(proto_put_u32(b, mode), 0);
	assert_int_equal(proto_put_bytes(b, data, n), 0);
}

/* Whether dir holds a file named .*.mig-* (a put's temporary file). */
static int
tmp_left(void)
{
	char cmd[PATH_MAX + 64];

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | grep -q '^\\..*\\.mig-'",
	    dir);
	return system(cmd) == 0;
}

/* A job's small files in one request: each is put as PUT_BEGIN to
 * PUT_COMMIT put it (whole, renamed into place, with its mode; a file
 * there replaced, not written into), and each gets its own answer, in
 * order: a folder that is not there, or the kernel's files, fail that
 * file alone, as they fail a put. Nothing temporary stays. */
static void
batch_puts(void **state)
{
	struct mig_buf b = { NULL, 0, 0 };
	char p[PATH_MAX], q[PATH_MAX], r[PATH_MAX], buf[64];
	struct mig_fs_rep a;
	struct mig_rd rd;
	struct stat st, before;
	uint32_t n, e;
	FILE *f;

	path_of(q, "old.o");
	put_text(q, "old content, longer than the new");
	assert_int_equal(lstat(q, &before), 0);
	path_of(p, "a.o");
	path_of(r, "no/such/b.o");
	assert_int_equal(proto_put_u32(&b, 4), 0);
	batch_file(&b, p, 0751, "object a", 8);
	batch_file(&b, r, 0644, "b", 1);
	batch_file(&b, "/proc/self/mem", 0600, "x", 1);
	batch_file(&b, q, 0640, "new", 3);
	assert_int_equal(ask(MIG_FS_PUT_BATCH, &b, &rd), 0);
	assert_int_equal(failed, 0);
	assert_int_equal(mig__fs_rep_parse(MIG_FS_PUT_BATCH, MIG_PROTO_VERSION,
	    answer.data, answer.len, getuid(), getgid(), &a), 0);
	assert_int_equal(a.nputs, 4);
	assert_int_equal(a.puts[0].err, 0);
	assert_int_equal(a.puts[1].err, ENOENT);
	assert_int_equal(a.puts[2].err, EACCES);
	assert_int_equal(a.puts[3].err, 0);
	/* The attributes answered are the file's at home. */
	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0751);
	assert_int_equal(a.puts[0].attr.st_mode, st.st_mode);
	assert_int_equal(a.puts[0].attr.st_size, 8);
	assert_int_equal(a.puts[0].attr.st_uid, getuid());
	assert_int_equal(a.puts[0].attr.st_mtim.tv_sec, st.st_mtim.tv_sec);
	assert_int_equal(a.puts[0].attr.st_mtim.tv_nsec, st.st_mtim.tv_nsec);
	mig__fs_rep_free(&a);
	assert_non_null(f = fopen(p, "r"));
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "object a");
	/* Replaced by a rename: a new file, whole. */
	assert_int_equal(lstat(q, &st), 0);
	assert_int_not_equal(st.st_ino, before.st_ino);
	assert_int_equal(st.st_size, 3);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(access(r, F_OK), -1);
	assert_false(tmp_left());
	/* A job's new file (its CREATE left it empty at home) is written in
	 * place; an empty file with a second name is replaced, and the other
	 * name keeps the old, empty file. */
	path_of(p, "new.o");
	put_text(p, "");
	assert_int_equal(lstat(p, &before), 0);
	path_of(q, "shared.o");
	put_text(q, "");
	path_of(r, "shared-too.o");
	assert_int_equal(link(q, r), 0);
	assert_int_equal(proto_put_u32(&b, 2), 0);
	batch_file(&b, p, 0644, "in place", 8);
	batch_file(&b, q, 0644, "renamed", 7);
	assert_int_equal(ask(MIG_FS_PUT_BATCH, &b, &rd), 0);
	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(st.st_ino, before.st_ino);
	assert_int_equal(st.st_size, 8);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(lstat(q, &st), 0);
	assert_int_equal(st.st_size, 7);
	assert_int_equal(st.st_nlink, 1);
	assert_int_equal(lstat(r, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_false(tmp_left());
	/* An empty file, and the most a batch holds. */
	assert_int_equal(proto_put_u32(&b, MIG_FS_BATCH_FILES), 0);
	for (uint32_t i = 0; i < MIG_FS_BATCH_FILES; i++) {
		snprintf(buf, sizeof(buf), "f%u", i);
		path_of(p, buf);
		batch_file(&b, p, 0600, buf, i == 0 ? 0 : strlen(buf));
	}
	assert_int_equal(ask(MIG_FS_PUT_BATCH, &b, &rd), 0);
	assert_int_equal(proto_get_u32(&rd, &n), 0);
	assert_int_equal(n, MIG_FS_BATCH_FILES);
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(proto_get_u32(&rd, &e), 0);
		assert_int_equal(e, 0);
		assert_int_equal(mig__fs_get_attr(&rd, &st, 1, 1), 0);
	}
	assert_int_equal(proto_rd_done(&rd), 0);
	path_of(p, "f0");
	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_false(tmp_left());
	assert_int_equal(failed, 0);
}

/* A malformed batch fails the link and answers nothing; so does any
 * batch on a link of protocol 4, which has no such request. */
static void
batch_malformed(void **state)
{
	struct mig_buf b = { NULL, 0, 0 };
	char p[PATH_MAX];
	struct mig_rd rd;
	uint8_t *big;

	path_of(p, "x");
	/* No file, too many, a path no view asks, a file too big, fewer
	 * files than said, bytes left over. */
	proto_put_u32(&b, 0);
	assert_int_equal(ask(MIG_FS_PUT_BATCH, &b, &rd), -1);
	proto_put_u32(&b, MIG_FS_BATCH_FILES + 1);
	for (uint32_t i = 0; i <= MIG_FS_BATCH_FILES; i++)
		batch_file(&b, p, 0644, "", 0);
	assert_int_equal(ask(MIG_FS_PUT_BATCH, &b, &rd), -1);
	proto_put_u32(&b, 1);
	batch_file(&b, "x/../y", 0644, "", 0);
	assert_int_equal(ask(MIG_FS_PUT_BATCH, &b, &rd), -1);
	assert_non_null(big = calloc(1, MIG_FS_BATCH_FILE + 1));
	proto_put_u32(&b, 1);
	batch_file(&b, p, 0644, big, MIG_FS_BATCH_FILE + 1);
	free(big);
	assert_int_equal(ask(MIG_FS_PUT_BATCH, &b, &rd), -1);
	proto_put_u32(&b, 2);
	batch_file(&b, p, 0644, "", 0);
	assert_int_equal(ask(MIG_FS_PUT_BATCH, &b, &rd), -1);
	proto_put_u32(&b, 1);
	batch_file(&b, p, 0644, "", 0);
	proto_put_u32(&b, 0);
	assert_int_equal(ask(MIG_FS_PUT_BATCH, &b, &rd), -1);
	assert_int_equal(failed, 6);
	assert_int_equal(sent, 0);
	assert_int_equal(access(p, F_OK), -1);
	/* Well formed, on a link of protocol 4. */
	l.proto = 4;
	proto_put_u32(&b, 1);
	batch_file(&b, p, 0644, "", 0);
	assert_int_equal(ask(MIG_FS_PUT_BATCH, &b, &rd), -1);
	assert_int_equal(failed, 7);
	assert_int_equal(access(p, F_OK), -1);
	assert_false(tmp_left());
}

/* The host reads a batch's answer: one per file, as many as asked. */
static void
batch_answers(void **state)
{
	struct mig_buf b = { NULL, 0, 0 };
	struct mig_fs_rep a;
	struct stat st;

	(void)state;
	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG | 0644;
	st.st_size = 12;
	st.st_uid = st.st_gid = 7;
	proto_put_u32(&b, 0);
	proto_put_u32(&b, 2);
	proto_put_u32(&b, EACCES);
	proto_put_u32(&b, 0);
	assert_int_equal(mig__fs_put_attr(&b, &st, 7, 7), 0);
	assert_int_equal(mig__fs_rep_parse(MIG_FS_PUT_BATCH, MIG_PROTO_VERSION,
	    b.data, b.len, 1, 1, &a), 0);
	assert_int_equal(a.nputs, 2);
	assert_int_equal(a.puts[0].err, EACCES);
	assert_int_equal(a.puts[1].attr.st_size, 12);
	assert_int_equal(a.puts[1].attr.st_uid, 1);
	mig__fs_rep_free(&a);
	/* Cut short, or an attr missing: malformed. */
	assert_int_equal(mig__fs_rep_parse(MIG_FS_PUT_BATCH, MIG_PROTO_VERSION,
	    b.data, b.len - 1, 1, 1, &a), MIG_EPROTO);
	assert_null(a.puts);
	b.len = 0;
	proto_put_u32(&b, 0);
	proto_put_u32(&b, 1);
	proto_put_u32(&b, 0);
	assert_int_equal(mig__fs_rep_parse(MIG_FS_PUT_BATCH, MIG_PROTO_VERSION,
	    b.data, b.len, 1, 1, &a), MIG_EPROTO);
	mig_buf_free(&b);
}

static void
attr_roundtrip(void **state)
{
	struct mig_buf b = { NULL, 0, 0 };
	struct stat st, got;
	struct mig_rd rd;

	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG | 04755;
	st.st_nlink = 3;
	st.st_uid = 1000;
	st.st_gid = 0;
	st.st_size = (off_t)1 << 40;
	st.st_mtim.tv_sec = 1700000000;
	st.st_mtim.tv_nsec = 999999999;
	assert_int_equal(mig__fs_put_attr(&b, &st, 1000, 1000), 0);
	proto_rd_init(&rd, b.data, b.len);
	assert_int_equal(mig__fs_get_attr(&rd, &got, 77, 88), 0);
	assert_int_equal(proto_rd_done(&rd), 0);
	assert_int_equal(got.st_mode, st.st_mode);
	assert_int_equal(got.st_uid, 77);
	assert_int_equal(got.st_gid, 0);
	assert_int_equal(got.st_size, st.st_size);
	assert_int_equal(got.st_mtim.tv_nsec, 999999999);
	/* Every shorter prefix is malformed. */
	for (size_t n = 0; n < b.len; n++) {
		proto_rd_init(&rd, b.data, n);
		assert_int_equal(mig__fs_get_attr(&rd, &got, 1, 1), MIG_EPROTO);
	}
	mig_buf_free(&b);
}

/* Answers a host must refuse, each with nothing held after. */
static void
answers_malformed(void **state)
{
	static const struct mig_fs_rep zero;
	struct mig_buf b = { NULL, 0, 0 };
	struct mig_fs_rep a;
	struct stat st;

	memset(&st, 0, sizeof(st));
	/* An errno with more after it. */
	proto_put_u32(&b, ENOENT);
	proto_put_u32(&b, 0);
	assert_int_equal(mig__fs_rep_parse(MIG_FS_LSTAT, MIG_PROTO_VERSION,
	    b.data, b.len, 1, 1, &a), MIG_EPROTO);
	assert_memory_equal(&a, &zero, sizeof(a));
	/* A folder entry with a '/', after one that was fine. */
	b.len = 0;
	proto_put_u32(&b, 0);
	proto_put_u32(&b, 2);
	proto_put_str(&b, "ok");
	proto_put_u32(&b, 8);
	proto_put_u64(&b, 1);
	proto_put_str(&b, "a/b");
	proto_put_u32(&b, 8);
	proto_put_u64(&b, 2);
	proto_put_u32(&b, 1);
	assert_int_equal(mig__fs_rep_parse(MIG_FS_READDIR, MIG_PROTO_VERSION,
	    b.data, b.len, 1, 1, &a), MIG_EPROTO);
	assert_memory_equal(&a, &zero, sizeof(a));
	/* More entries than the payload could hold. */
	b.len = 0;
	proto_put_u32(&b, 0);
	proto_put_u32(&b, 0xffffffffu);
	proto_put_u32(&b, 1);
	assert_int_equal(mig__fs_rep_parse(MIG_FS_READDIR, MIG_PROTO_VERSION,
	    b.data, b.len, 1, 1, &a), MIG_EPROTO);
	/* A key one byte short. */
	b.len = 0;
	proto_put_u32(&b, 0);
	mig__fs_put_attr(&b, &st, 1, 1);
	proto_put_bytes(&b, "0123456789012345678901234567890", 31);
	assert_int_equal(mig__fs_rep_parse(MIG_FS_OPEN, MIG_PROTO_VERSION,
	    b.data, b.len, 1, 1, &a), MIG_EPROTO);
	/* No such op. */
	b.len = 0;
	proto_put_u32(&b, 0);
	assert_int_equal(mig__fs_rep_parse(MIG_FS__COUNT, MIG_PROTO_VERSION,
	    b.data, b.len, 1, 1, &a), MIG_EPROTO);
	mig_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(malformed_fails_the_link, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(lstat_and_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(open_fetch_readdir, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(answers_in_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(writes, setup, teardown),
		cmocka_unit_test_setup_teardown(changes_answer_their_folder,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    learned_sets_leave_removed_names_out, setup, teardown),
		cmocka_unit_test_setup_teardown(link_down_cleans_up, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(unplaced_link_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(kernel_files_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(fetch_needs_the_hash, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(tallies, setup, teardown),
		cmocka_unit_test_setup_teardown(batch_puts, setup, teardown),
		cmocka_unit_test_setup_teardown(batch_malformed, setup,
		    teardown),
		cmocka_unit_test(batch_answers),
		cmocka_unit_test(attr_roundtrip),
		cmocka_unit_test(answers_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
