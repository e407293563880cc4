/* test_seed.c: content seeding's table of this host's hashes and its
 * index (homed/fs/seed.c), the hash table saved and read back
 * (homed/fs/hashdb.c), and the note file beside the objects (cache.c). */
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
#include <time.h>
#include <unistd.h>

#include "core.h"
#include "fs.h"
#include "mig/proto.h"
#include "scratch.h"

static unsigned calls; /* of the injected hash function */

static int
counting_hash(int fd, uint8_t out[MIG_HASH_BYTES], uint64_t *sizep)
{
	calls++;
	return mig__hash_fd(fd, out, sizep);
}

static int
setup(void **state)
{
	assert_int_equal(scratch_make("seed"), 0);
	calls = 0;
	return 0;
}

static int
teardown(void **state)
{
	assert_int_equal(scratch_remove(), 0);
	return 0;
}

static struct mig_cache *
cache_in(const char *name)
{
	struct mig_cache *c;
	char path[PATH_MAX];

	scratch_path(name, path, sizeof(path));
	assert_int_equal(mig__cache_open(path, 1 << 20, &c, NULL, 0), 0);
	return c;
}

/* The content of object key in c, or NULL. */
static char *
object_text(struct mig_cache *c, const uint8_t key[MIG_HASH_BYTES])
{
	char *buf = calloc(1, 4096);
	ssize_t n;
	int fd;

	assert_non_null(buf);
	if (mig__cache_get(c, key, &fd) != 0) {
		free(buf);
		return NULL;
	}
	assert_true((n = pread(fd, buf, 4095, 0)) >= 0);
	close(fd);
	mig__cache_release(c, key);
	return buf;
}

/* Saved and read back, the table answers as before, in the same order of
 * use; a malformed form is refused. */
static void
hashdb_saved(void **state)
{
	struct mig_hashdb *db, *back;
	struct mig_buf b = { NULL, 0, 0 };
	uint8_t h1[MIG_HASH_BYTES], h2[MIG_HASH_BYTES], got[MIG_HASH_BYTES];
	char p1[PATH_MAX], p2[PATH_MAX];
	struct stat s1, s2;
	struct mig_hashdb_stats st;

	scratch_write("a", "one\n");
	scratch_write("b", "two\n");
	scratch_settle("a");
	scratch_settle("b");
	scratch_path("a", p1, sizeof(p1));
	scratch_path("b", p2, sizeof(p2));
	assert_int_equal(mig__hashdb_new(16, NULL, &db), 0);
	assert_int_equal(mig__hashdb_path(db, p1, h1), 0);
	assert_int_equal(mig__hashdb_path(db, p2, h2), 0);
	assert_int_equal(mig__hashdb_save(db, &b), 0);
	/* A table of one keeps the most recently used: b. */
	assert_int_equal(mig__hashdb_new(1, counting_hash, &back), 0);
	assert_int_equal(mig__hashdb_load(back, b.data, b.len), 0);
	assert_int_equal(lstat(p1, &s1), 0);
	assert_int_equal(lstat(p2, &s2), 0);
	assert_int_equal(mig__hashdb_peek(back, &s2, got), 0);
	assert_memory_equal(got, h2, MIG_HASH_BYTES);
	assert_int_equal(mig__hashdb_peek(back, &s1, got), MIG__ERR(ENOENT));
	mig__hashdb_free(back);
	/* Whole, both; no file read to answer. */
	assert_int_equal(mig__hashdb_new(16, counting_hash, &back), 0);
	assert_int_equal(mig__hashdb_load(back, b.data, b.len), 0);
	assert_int_equal(mig__hashdb_path(back, p1, got), 0);
	assert_memory_equal(got, h1, MIG_HASH_BYTES);
	mig__hashdb_stats(back, &st);
	assert_int_equal(st.entries, 2);
	assert_int_equal(calls, 0);
	/* Cut short, or another format: refused. */
	assert_int_equal(mig__hashdb_load(back, b.data, b.len - 1), MIG_EPROTO);
	b.data[0] ^= 1;
	assert_int_equal(mig__hashdb_load(back, b.data, b.len), MIG_EPROTO);
	mig__hashdb_free(back);
	mig__hashdb_free(db);
	mig_buf_free(&b);
}

/* The file at the same path, with the key's content, is put in the
 * cache; one of the same size with other content is not, and its hash is
 * kept, so it is not read again. */
static void
same_path(void **state)
{
	struct mig_seeds *s;
	struct mig_cache *c = cache_in("objects");
	struct mig_seed_stats st;
	uint8_t key[MIG_HASH_BYTES];
	char path[PATH_MAX], *text;
	const char *home = "int x = 42;\n";

	mig__hash_buf(home, strlen(home), key);
	assert_int_equal(mig__seeds_new("", counting_hash, &s), 0);
	scratch_path("x.c", path, sizeof(path));
	/* The right path and size, other content: never used. */
	scratch_write("x.c", "int x = 41;\n");
	scratch_settle("x.c");
	assert_int_equal(mig__seeds_find(s, c, path, strlen(home), key),
	    MIG__ERR(ENOENT));
	assert_int_equal(mig__cache_has(c, key), 0);
	assert_int_equal(calls, 1);
	assert_int_equal(mig__seeds_find(s, c, path, strlen(home), key),
	    MIG__ERR(ENOENT));
	assert_int_equal(calls, 1);
	/* Another size: not even read. */
	assert_int_equal(mig__seeds_find(s, c, path, 3, key), MIG__ERR(ENOENT));
	assert_int_equal(calls, 1);
	/* Changed to home's content: a new version, hashed, used. */
	scratch_write("x.c", home);
	scratch_settle("x.c");
	assert_int_equal(mig__seeds_find(s, c, path, strlen(home), key), 0);
	assert_int_equal(calls, 2);
	assert_non_null(text = object_text(c, key));
	assert_string_equal(text, home);
	free(text);
	/* A FIFO or a symbolic link at the path is not opened to be read. */
	scratch_path("fifo", path, sizeof(path));
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(mig__seeds_find(s, c, path, 0, key), MIG__ERR(ENOENT));
	scratch_path("link", path, sizeof(path));
	assert_int_equal(symlink("x.c", path), 0);
	assert_int_equal(mig__seeds_find(s, c, path, strlen(home), key),
	    MIG__ERR(ENOENT));
	assert_int_equal(calls, 2);
	mig__seeds_stats(s, &st);
	assert_int_equal(st.finds, 6);
	assert_int_equal(st.seeded, 1);
	assert_int_equal(st.seeded_bytes, strlen(home));
	mig__seeds_free(s);
	mig__cache_close(c);
}

/* A file of the indexed folders stands in by hash wherever home has it;
 * a decoy of the same size does not, nor a symbolic link's target. */
static void
indexed(void **state)
{
	struct mig_seeds *s;
	struct mig_cache *c = cache_in("objects");
	struct mig_seed_stats st;
	uint8_t key[MIG_HASH_BYTES], other[MIG_HASH_BYTES];
	char idx[PATH_MAX], sub[PATH_MAX], away[PATH_MAX], link[PATH_MAX];
	char *text;
	const char *home = "#define V 1\n", *elsewhere = "#define W 2\n";

	mig__hash_buf(home, strlen(home), key);
	mig__hash_buf(elsewhere, strlen(elsewhere), other);
	scratch_path("idx", idx, sizeof(idx));
	scratch_path("idx/sub", sub, sizeof(sub));
	assert_int_equal(mkdir(idx, 0700), 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(mkdir(strcat(strcpy(away, scratch_dir), "/away"), 0700), 0);
	scratch_write("idx/decoy.h", "#define V 2\n");
	scratch_write("idx/sub/v.h", home);
	scratch_write("away/w.h", elsewhere);
	snprintf(link, sizeof(link), "%s/w.h", idx);
	assert_int_equal(symlink(strcat(away, "/w.h"), link), 0);
	assert_int_equal(mig__seeds_new(idx, counting_hash, &s), 0);
	assert_int_equal(mig__seeds_index(s), 0);
	mig__seeds_stats(s, &st);
	assert_int_equal(st.indexed, 2);
	assert_int_equal(mig__seeds_find(s, c, "/nowhere/v.h", strlen(home),
	    key), 0);
	assert_non_null(text = object_text(c, key));
	assert_string_equal(text, home);
	free(text);
	/* Only reachable through a symbolic link: not indexed. */
	assert_int_equal(mig__seeds_find(s, c, "/nowhere/w.h",
	    strlen(elsewhere), other), MIG__ERR(ENOENT));
	assert_int_equal(mig__cache_has(c, other), 0);
	mig__seeds_free(s);
	mig__cache_close(c);
}

/* The table is saved beside the objects and read back by the next
 * daemon: a file it hashed is not read again to be looked at. */
static void
table_kept(void **state)
{
	struct mig_seeds *s;
	struct mig_cache *c = cache_in("objects");
	uint8_t key[MIG_HASH_BYTES];
	char path[PATH_MAX];

	mig__hash_buf("home's\n", 7, key);
	scratch_write("f", "hers!\n\n");
	scratch_settle("f");
	scratch_path("f", path, sizeof(path));
	assert_int_equal(mig__seeds_new("", counting_hash, &s), 0);
	assert_int_equal(mig__seeds_find(s, c, path, 7, key), MIG__ERR(ENOENT));
	assert_int_equal(calls, 1);
	assert_int_equal(mig__seeds_dirty(s), 1);
	assert_int_equal(mig__seeds_save(s, c), 0);
	assert_int_equal(mig__seeds_dirty(s), 0);
	mig__seeds_free(s);
	assert_int_equal(mig__seeds_new("", counting_hash, &s), 0);
	assert_int_equal(mig__seeds_load(s, c), 0);
	assert_int_equal(mig__seeds_find(s, c, path, 7, key), MIG__ERR(ENOENT));
	assert_int_equal(calls, 1);
	mig__seeds_free(s);
	mig__cache_close(c);
}

/* The note beside the objects is read only when it is the user's own
 * regular file that nobody else may write, never through a link. */
static void
note_checked(void **state)
{
	struct mig_cache *c = cache_in("objects");
	char path[PATH_MAX], target[PATH_MAX];
	uint8_t *p;
	size_t n;

	assert_int_equal(mig__cache_note_read(c, "hashes", 100, &p, &n),
	    MIG__ERR(ENOENT));
	assert_int_equal(mig__cache_note_write(c, "hashes", "abc", 3), 0);
	assert_int_equal(mig__cache_note_read(c, "hashes", 100, &p, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(p, "abc", 3);
	free(p);
	assert_int_equal(mig__cache_note_read(c, "hashes", 2, &p, &n),
	    MIG_ETOOBIG);
	scratch_path("objects/hashes", path, sizeof(path));
	assert_int_equal(chmod(path, 0620), 0);
	assert_int_equal(mig__cache_note_read(c, "hashes", 100, &p, &n),
	    MIG_EUNSAFE);
	assert_int_equal(unlink(path), 0);
	scratch_write("planted", "xyz");
	scratch_path("planted", target, sizeof(target));
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(mig__cache_note_read(c, "hashes", 100, &p, &n),
	    MIG__ERR(ELOOP));
	mig__cache_close(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(hashdb_saved, setup, teardown),
		cmocka_unit_test_setup_teardown(same_path, setup, teardown),
		cmocka_unit_test_setup_teardown(indexed, setup, teardown),
		cmocka_unit_test_setup_teardown(table_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(note_checked, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
