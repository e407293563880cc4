/* test_hashdb.c: the home's hash table (homed/fs/hashdb.c). */
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
#include "scratch.h"

static unsigned calls;          /* of the injected hash function */
static const char *change_path; /* if set, the next call rewrites it */
static const char *change_to;

static int
counting_hash(int fd, uint8_t out[MIG_HASH_BYTES], uint64_t *sizep)
{
	calls++;
	if (change_path != NULL) {
		/* Written between the caller's stat and the end of hashing,
		 * as an editor saving in the middle of a build would. */
		FILE *f = fopen(change_path, "w");
		assert_non_null(f);
		fputs(change_to, f);
		fclose(f);
		change_path = NULL;
	}
	return mig__hash_fd(fd, out, sizep);
}

static void
hash_name(struct mig_hashdb *db, const char *name, uint8_t out[MIG_HASH_BYTES])
{
	char path[PATH_MAX];

	scratch_path(name, path, sizeof(path));
	assert_int_equal(mig__hashdb_path(db, path, out), 0);
}

static void
expect_hash_of(const uint8_t h[MIG_HASH_BYTES], const char *text)
{
	uint8_t want[MIG_HASH_BYTES];

	mig__hash_buf(text, strlen(text), want);
	assert_memory_equal(h, want, MIG_HASH_BYTES);
}

static int
setup(void **state)
{
	if (scratch_make("hashdb") != 0)
		return -1;
	calls = 0;
	change_path = NULL;
	return 0;
}

static int
teardown(void **state)
{
	return scratch_remove();
}

static void
hashed_once(void **state)
{
	struct mig_hashdb *db;
	struct mig_hashdb_stats st;
	uint8_t h[MIG_HASH_BYTES];
	char path[PATH_MAX];
	struct stat sb;
	int fd;

	assert_int_equal(mig__hashdb_new(100, counting_hash, &db), 0);
	scratch_write("a.c", "int a;\n");
	scratch_settle("a.c");
	for (int i = 0; i < 5; i++) {
		hash_name(db, "a.c", h);
		expect_hash_of(h, "int a;\n");
	}
	assert_int_equal(calls, 1);
	/* By fd, with the caller's stat or without one: the same entry. */
	scratch_path("a.c", path, sizeof(path));
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	assert_int_equal(fstat(fd, &sb), 0);
	assert_int_equal(mig__hashdb_fd(db, fd, &sb, h), 0);
	expect_hash_of(h, "int a;\n");
	assert_int_equal(mig__hashdb_fd(db, fd, NULL, h), 0);
	close(fd);
	assert_int_equal(calls, 1);
	mig__hashdb_stats(db, &st);
	assert_int_equal(st.computed, 1);
	assert_int_equal(st.hits, 6);
	assert_int_equal(st.entries, 1);

	/* Another file with the same content is another entry. */
	scratch_write("b.c", "int a;\n");
	scratch_settle("b.c");
	hash_name(db, "b.c", h);
	expect_hash_of(h, "int a;\n");
	assert_int_equal(calls, 2);
	mig__hashdb_free(db);
}

static void
same_size_change(void **state)
{
	struct mig_hashdb *db;
	uint8_t h[MIG_HASH_BYTES];

	assert_int_equal(mig__hashdb_new(100, counting_hash, &db), 0);
	scratch_write("x.h", "#define X 1\n");
	scratch_settle("x.h");
	hash_name(db, "x.h", h);
	expect_hash_of(h, "#define X 1\n");
	/* Same inode, same size, new content: mtime and ctime moved. */
	scratch_write("x.h", "#define X 2\n");
	scratch_settle("x.h");
	hash_name(db, "x.h", h);
	expect_hash_of(h, "#define X 2\n");
	hash_name(db, "x.h", h);
	assert_int_equal(calls, 2);

	/* Replaced by rename: a new inode, so a new hash. */
	{
		char from[PATH_MAX], to[PATH_MAX];
		scratch_write("x.h.new", "#define X 3\n");
		scratch_settle("x.h.new");
		scratch_path("x.h.new", from, sizeof(from));
		scratch_path("x.h", to, sizeof(to));
		assert_int_equal(rename(from, to), 0);
		scratch_settle("x.h");
		hash_name(db, "x.h", h);
		expect_hash_of(h, "#define X 3\n");
		assert_int_equal(calls, 3);
	}
	mig__hashdb_free(db);
}

static void
after_touch(void **state)
{
	struct mig_hashdb *db;
	uint8_t h[MIG_HASH_BYTES];
	char path[PATH_MAX];

	assert_int_equal(mig__hashdb_new(100, counting_hash, &db), 0);
	scratch_write("t.c", "touched\n");
	scratch_settle("t.c");
	hash_name(db, "t.c", h);
	assert_int_equal(calls, 1);
	/* touch: times change, content does not. Hashed again (the table
	 * cannot know), same answer. */
	scratch_path("t.c", path, sizeof(path));
	assert_int_equal(utimensat(AT_FDCWD, path, NULL, 0), 0);
	scratch_settle("t.c");
	hash_name(db, "t.c", h);
	expect_hash_of(h, "touched\n");
	assert_int_equal(calls, 2);
	hash_name(db, "t.c", h);
	assert_int_equal(calls, 2);
	/* chmod moves only the ctime: hashed again as well. */
	assert_int_equal(chmod(path, 0600), 0);
	scratch_settle("t.c");
	hash_name(db, "t.c", h);
	assert_int_equal(calls, 3);
	mig__hashdb_free(db);
}

static void
changed_while_hashing(void **state)
{
	struct mig_hashdb *db;
	uint8_t h[MIG_HASH_BYTES];
	char path[PATH_MAX];

	assert_int_equal(mig__hashdb_new(100, counting_hash, &db), 0);
	scratch_write("w.c", "old\n");
	scratch_settle("w.c");
	scratch_path("w.c", path, sizeof(path));
	change_path = path;
	change_to = "new content\n";
	/* The first pass saw the file change under it; the answer is the
	 * new content's hash, never a mix. */
	hash_name(db, "w.c", h);
	expect_hash_of(h, "new content\n");
	assert_int_equal(calls, 2);
	mig__hashdb_free(db);
}

static void
bounded(void **state)
{
	struct mig_hashdb *db;
	struct mig_hashdb_stats st;
	uint8_t h[MIG_HASH_BYTES];

	assert_int_equal(mig__hashdb_new(2, counting_hash, &db), 0);
	scratch_write("1", "one");
	scratch_write("2", "two");
	scratch_write("3", "three");
	scratch_settle("1");
	scratch_settle("2");
	scratch_settle("3");
	hash_name(db, "1", h);
	hash_name(db, "2", h);
	hash_name(db, "1", h); /* 2 is now the least recently used */
	hash_name(db, "3", h); /* evicts 2 */
	mig__hashdb_stats(db, &st);
	assert_int_equal(st.entries, 2);
	assert_int_equal(st.evicted, 1);
	assert_int_equal(calls, 3);
	hash_name(db, "1", h);
	hash_name(db, "3", h);
	assert_int_equal(calls, 3);
	hash_name(db, "2", h);
	expect_hash_of(h, "two");
	assert_int_equal(calls, 4);
	mig__hashdb_free(db);
}

static void
not_regular(void **state)
{
	struct mig_hashdb *db;
	uint8_t h[MIG_HASH_BYTES];
	char path[PATH_MAX];

	assert_int_equal(mig__hashdb_new(10, NULL, &db), 0);
	assert_int_equal(mig__hashdb_path(db, scratch_dir, h), MIG__ERR(EINVAL));
	scratch_path("missing", path, sizeof(path));
	assert_int_equal(mig__hashdb_path(db, path, h), MIG__ERR(ENOENT));
	scratch_write("target", "t");
	scratch_path("link", path, sizeof(path));
	assert_int_equal(symlink("target", path), 0);
	assert_int_equal(mig__hashdb_path(db, path, h), MIG__ERR(ELOOP));
	mig__hashdb_free(db);
	assert_int_equal(mig__hashdb_new(0, NULL, &db), MIG__ERR(EINVAL));
	assert_null(db);
	mig__hashdb_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(hashed_once, setup, teardown),
		cmocka_unit_test_setup_teardown(same_size_change, setup, teardown),
		cmocka_unit_test_setup_teardown(after_touch, setup, teardown),
		cmocka_unit_test_setup_teardown(changed_while_hashing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(not_regular, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
