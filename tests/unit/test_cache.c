/*
 * test_cache.c: the host's object cache (homed/fs/cache.c). Also that it
 * trusts only a folder of the user's alone (libmig/rundir.c), follows no
 * symbolic link in it, and never serves an object swapped on disk.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "core.h"
#include "fs.h"

struct fixture {
	char dir[PATH_MAX];         /* the test's own temp dir */
	char objects[PATH_MAX];     /* the cache folder inside it */
};

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/mig-test-cache.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->objects, sizeof(f->objects), "%s/cache/mig/objects",
	    f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void
key_of(const char *s, uint8_t key[MIG_HASH_BYTES])
{
	mig__hash_buf(s, strlen(s), key);
}

static void
object_file(const struct fixture *f, const uint8_t key[MIG_HASH_BYTES],
    char *buf, size_t size)
{
	char hex[MIG_HASH_HEX];

	mig__hash_hex(key, hex);
	snprintf(buf, size, "%s/%.2s/%s", f->objects, hex, hex);
}

static int
exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

/* Reads all of fd into buf (at most size bytes); returns the count. */
static size_t
read_all(int fd, char *buf, size_t size)
{
	size_t n = 0;
	ssize_t got;

	while (n < size && (got = read(fd, buf + n, size - n)) > 0)
		n += (size_t)got;
	return n;
}

/* Puts s under its own hash. */
static void
put_str(struct mig_cache *c, const char *s)
{
	uint8_t key[MIG_HASH_BYTES];

	key_of(s, key);
	assert_int_equal(mig__cache_put(c, key, s, strlen(s)), 0);
}

static int
has_str(struct mig_cache *c, const char *s)
{
	uint8_t key[MIG_HASH_BYTES];

	key_of(s, key);
	return mig__cache_has(c, key);
}

/* Sets the mtime (the recorded use) of s's object file. */
static void
set_used(const struct fixture *f, const char *s, time_t when)
{
	uint8_t key[MIG_HASH_BYTES];
	char path[PATH_MAX];
	struct timespec ts[2] = { { when, 0 }, { when, 0 } };

	key_of(s, key);
	object_file(f, key, path, sizeof(path));
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static int
tmp_files(const struct fixture *f)
{
	char path[PATH_MAX];
	DIR *d;
	struct dirent *de;
	int n = 0;

	snprintf(path, sizeof(path), "%s/tmp", f->objects);
	assert_non_null(d = opendir(path));
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
round_trip(void **state)
{
	struct fixture *f = *state;
	struct mig_cache *c;
	struct mig_cache_stats st;
	const char *text = "int main(void) { return 0; }\n";
	uint8_t key[MIG_HASH_BYTES], other[MIG_HASH_BYTES];
	char buf[128], path[PATH_MAX];
	struct stat sb;
	int fd;

	assert_int_equal(mig__cache_open(f->objects, 1 << 20, &c, NULL, 0), 0);
	key_of(text, key);
	assert_int_equal(mig__cache_has(c, key), 0);
	assert_int_equal(mig__cache_get(c, key, &fd), MIG__ERR(ENOENT));
	assert_int_equal(fd, -1);

	assert_int_equal(mig__cache_put(c, key, text, strlen(text)), 0);
	assert_int_equal(mig__cache_has(c, key), 1);
	assert_int_equal(mig__cache_get(c, key, &fd), 0);
	assert_true(fd >= 0);
	assert_int_equal(read_all(fd, buf, sizeof(buf)), strlen(text));
	assert_memory_equal(buf, text, strlen(text));
	/* Read-only, for the caller and on disk. */
	assert_int_equal(write(fd, "x", 1), -1);
	close(fd);
	mig__cache_release(c, key);
	object_file(f, key, path, sizeof(path));
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0400);

	/* Putting it again changes nothing. */
	assert_int_equal(mig__cache_put(c, key, text, strlen(text)), 0);
	mig__cache_stats(c, &st);
	assert_int_equal(st.objects, 1);
	assert_int_equal(st.bytes, strlen(text));

	/* Content that is not what its key says is refused, and leaves
	 * nothing behind. */
	key_of("something else", other);
	assert_int_equal(mig__cache_put(c, other, text, strlen(text)),
	    MIG__ERR(EBADMSG));
	assert_int_equal(mig__cache_has(c, other), 0);
	object_file(f, other, path, sizeof(path));
	assert_false(exists(path));
	assert_int_equal(tmp_files(f), 0);

	/* The empty object is an object too. */
	key_of("", key);
	assert_int_equal(mig__cache_put(c, key, "", 0), 0);
	assert_int_equal(mig__cache_get(c, key, &fd), 0);
	assert_int_equal(read_all(fd, buf, sizeof(buf)), 0);
	close(fd);
	mig__cache_release(c, key);
	mig__cache_close(c);
}

static void
corrupt_dropped(void **state)
{
	struct fixture *f = *state;
	struct mig_cache *c;
	struct mig_cache_stats st;
	const char *good = "the same length, a different byte";
	const char *cut = "a truncated object";
	uint8_t key[MIG_HASH_BYTES], key2[MIG_HASH_BYTES];
	char path[PATH_MAX], path2[PATH_MAX];
	int fd;

	assert_int_equal(mig__cache_open(f->objects, 1 << 20, &c, NULL, 0), 0);
	put_str(c, good);
	put_str(c, cut);
	put_str(c, "an intact neighbour");
	mig__cache_close(c);

	/* Damage both while no cache has them open: one byte flipped, and
	 * a file cut short. */
	key_of(good, key);
	object_file(f, key, path, sizeof(path));
	assert_int_equal(chmod(path, 0600), 0);
	assert_true((fd = open(path, O_WRONLY)) >= 0);
	assert_int_equal(pwrite(fd, "T", 1, 0), 1);
	close(fd);
	key_of(cut, key2);
	object_file(f, key2, path2, sizeof(path2));
	assert_int_equal(chmod(path2, 0600), 0);
	assert_int_equal(truncate(path2, 5), 0);

	assert_int_equal(mig__cache_open(f->objects, 1 << 20, &c, NULL, 0), 0);
	mig__cache_stats(c, &st);
	assert_int_equal(st.objects, 3);
	assert_int_equal(mig__cache_get(c, key, &fd), MIG__ERR(ENOENT));
	assert_int_equal(fd, -1);
	assert_false(exists(path));
	assert_int_equal(mig__cache_has(c, key), 0);
	assert_int_equal(mig__cache_get(c, key2, &fd), MIG__ERR(ENOENT));
	assert_false(exists(path2));
	mig__cache_stats(c, &st);
	assert_int_equal(st.corrupt, 2);
	assert_int_equal(st.objects, 1);
	assert_int_equal(st.bytes, strlen("an intact neighbour"));

	/* The intact one is served after its check. */
	key_of("an intact neighbour", key);
	assert_int_equal(mig__cache_get(c, key, &fd), 0);
	close(fd);
	mig__cache_release(c, key);

	/* A good copy can come back under the key. */
	put_str(c, good);
	key_of(good, key);
	assert_int_equal(mig__cache_get(c, key, &fd), 0);
	close(fd);
	mig__cache_release(c, key);
	mig__cache_close(c);
}

/* Objects of 100 bytes each: "A" * 100, "B" * 100, ... */
static const char *
obj100(char name, char buf[101])
{
	memset(buf, name, 100);
	buf[100] = '\0';
	return buf;
}

static void
lru_cap(void **state)
{
	struct fixture *f = *state;
	struct mig_cache *c;
	struct mig_cache_stats st;
	char a[101], b[101], cc[101], d[101], e[101], g[101];
	uint8_t key[MIG_HASH_BYTES];
	int fd;

	obj100('A', a);
	obj100('B', b);
	obj100('C', cc);
	obj100('D', d);
	obj100('E', e);
	obj100('G', g);
	assert_int_equal(mig__cache_open(f->objects, 300, &c, NULL, 0), 0);
	put_str(c, a);
	put_str(c, b);
	put_str(c, cc);
	mig__cache_stats(c, &st);
	assert_int_equal(st.bytes, 300);
	assert_int_equal(st.evicted, 0);

	/* A used again: B is now the least recently used, and goes. */
	key_of(a, key);
	assert_int_equal(mig__cache_get(c, key, &fd), 0);
	close(fd);
	mig__cache_release(c, key);
	put_str(c, d);
	assert_true(has_str(c, a));
	assert_false(has_str(c, b));
	assert_true(has_str(c, cc));
	assert_true(has_str(c, d));
	mig__cache_stats(c, &st);
	assert_int_equal(st.bytes, 300);
	assert_int_equal(st.evicted, 1);

	/* C is the oldest now, but held: A and D go instead. */
	key_of(cc, key);
	assert_int_equal(mig__cache_get(c, key, &fd), 0);
	put_str(c, e);
	put_str(c, g);
	assert_true(has_str(c, cc));
	assert_false(has_str(c, a));
	assert_false(has_str(c, d));
	assert_true(has_str(c, e));
	assert_true(has_str(c, g));
	close(fd);
	mig__cache_release(c, key);

	/* An object bigger than the whole cap is refused. */
	{
		char big[302];
		memset(big, 'Z', 301);
		big[301] = '\0';
		key_of(big, key);
		assert_int_equal(mig__cache_put(c, key, big, 301),
		    MIG_ETOOBIG);
		assert_false(mig__cache_has(c, key));
	}
	mig__cache_stats(c, &st);
	assert_true(st.bytes <= 300);
	mig__cache_close(c);
}

static void
held_over_cap(void **state)
{
	struct fixture *f = *state;
	struct mig_cache *c;
	struct mig_cache_stats st;
	char a[101], b[101], cc[101];
	uint8_t ka[MIG_HASH_BYTES], kb[MIG_HASH_BYTES];
	int fa, fb;

	obj100('a', a);
	obj100('b', b);
	obj100('c', cc);
	assert_int_equal(mig__cache_open(f->objects, 200, &c, NULL, 0), 0);
	put_str(c, a);
	put_str(c, b);
	key_of(a, ka);
	key_of(b, kb);
	assert_int_equal(mig__cache_get(c, ka, &fa), 0);
	assert_int_equal(mig__cache_get(c, kb, &fb), 0);
	/* Everything else is held: the cache goes over its cap for now... */
	put_str(c, cc);
	mig__cache_stats(c, &st);
	assert_int_equal(st.bytes, 300);
	/* ...and back under it once a hold ends. */
	close(fa);
	mig__cache_release(c, ka);
	mig__cache_stats(c, &st);
	assert_int_equal(st.bytes, 200);
	assert_false(mig__cache_has(c, ka));
	close(fb);
	mig__cache_release(c, kb);
	mig__cache_close(c);
}

static void
persists(void **state)
{
	struct fixture *f = *state;
	struct mig_cache *c;
	struct mig_cache_stats st;
	char a[101], b[101], cc[101], buf[200];
	uint8_t key[MIG_HASH_BYTES];
	int fd;

	obj100('1', a);
	obj100('2', b);
	obj100('3', cc);
	assert_int_equal(mig__cache_open(f->objects, 1000, &c, NULL, 0), 0);
	put_str(c, a);
	put_str(c, b);
	put_str(c, cc);
	mig__cache_close(c);

	/* Everything is there again, and checked before it is served. */
	assert_int_equal(mig__cache_open(f->objects, 1000, &c, NULL, 0), 0);
	mig__cache_stats(c, &st);
	assert_int_equal(st.objects, 3);
	assert_int_equal(st.bytes, 300);
	key_of(b, key);
	assert_int_equal(mig__cache_get(c, key, &fd), 0);
	assert_int_equal(read_all(fd, buf, sizeof(buf)), 100);
	assert_memory_equal(buf, b, 100);
	close(fd);
	mig__cache_release(c, key);
	mig__cache_close(c);

	/* The use order survives too: it is in the files' mtimes. */
	set_used(f, a, 1000);
	set_used(f, b, 3000);
	set_used(f, cc, 2000);
	assert_int_equal(mig__cache_open(f->objects, 1000, &c, NULL, 0), 0);
	/* A get records a use that outlives the process. */
	key_of(a, key);
	assert_int_equal(mig__cache_get(c, key, &fd), 0);
	close(fd);
	mig__cache_release(c, key);
	mig__cache_close(c);

	/* Reopened with room for two: the oldest use (C at 2000) goes. */
	assert_int_equal(mig__cache_open(f->objects, 200, &c, NULL, 0), 0);
	assert_true(has_str(c, a));
	assert_true(has_str(c, b));
	assert_false(has_str(c, cc));
	mig__cache_stats(c, &st);
	assert_int_equal(st.evicted, 1);
	mig__cache_close(c);
}

static void
leftovers_swept(void **state)
{
	struct fixture *f = *state;
	struct mig_cache *c;
	struct mig_cache_writer *w;
	char path[PATH_MAX], junk[PATH_MAX];
	uint8_t key[MIG_HASH_BYTES];
	int fd;

	assert_int_equal(mig__cache_open(f->objects, 1000, &c, NULL, 0), 0);
	mig__cache_close(c);
	/* A crashed writer's temporary file (no lock on it) goes; a live
	 * writer's (another process: here, another open cache) stays. */
	snprintf(path, sizeof(path), "%s/tmp/put.crashed", f->objects);
	assert_true((fd = open(path, O_CREAT | O_WRONLY, 0600)) >= 0);
	assert_int_equal(write(fd, "half", 4), 4);
	close(fd);
	/* A file that is no object of ours is left alone. */
	snprintf(junk, sizeof(junk), "%s/00", f->objects);
	assert_int_equal(mkdir(junk, 0700), 0);
	snprintf(junk, sizeof(junk), "%s/00/not-a-key", f->objects);
	assert_true((fd = open(junk, O_CREAT | O_WRONLY, 0600)) >= 0);
	close(fd);

	assert_int_equal(mig__cache_open(f->objects, 1000, &c, NULL, 0), 0);
	key_of("in flight", key);
	assert_int_equal(mig__cache_begin(c, key, &w), 0);
	assert_int_equal(mig__cache_write(w, "in ", 3), 0);
	assert_false(exists(path));
	assert_int_equal(tmp_files(f), 1);
	{
		struct mig_cache *c2;
		assert_int_equal(mig__cache_open(f->objects, 1000, &c2, NULL, 0), 0);
		mig__cache_close(c2);
	}
	assert_int_equal(tmp_files(f), 1);
	assert_int_equal(mig__cache_write(w, "flight", 6), 0);
	assert_int_equal(mig__cache_commit(w), 0);
	assert_int_equal(tmp_files(f), 0);
	assert_true(mig__cache_has(c, key));
	assert_true(exists(junk));

	/* An aborted writer leaves nothing. */
	assert_int_equal(mig__cache_begin(c, key, &w), 0);
	assert_int_equal(mig__cache_write(w, "in", 2), 0);
	mig__cache_abort(w);
	assert_int_equal(tmp_files(f), 0);
	mig__cache_close(c);
}

/* Deterministic bytes for object number seed, chunk i. */
static void
fill(unsigned char *buf, size_t n, uint32_t seed, uint32_t i)
{
	uint8_t nonce[crypto_stream_chacha20_NONCEBYTES] = { 0 };
	uint8_t k[crypto_stream_chacha20_KEYBYTES] = { 0 };

	memcpy(k, &seed, sizeof(seed));
	memcpy(nonce, &i, sizeof(i));
	crypto_stream_chacha20(buf, n, nonce, k);
}

#define CHUNK (1u << 20)

static void
big_key(uint32_t seed, uint32_t chunks, uint8_t key[MIG_HASH_BYTES])
{
	crypto_generichash_state hs;
	unsigned char *buf = malloc(CHUNK);

	assert_non_null(buf);
	crypto_generichash_init(&hs, NULL, 0, MIG_HASH_BYTES);
	for (uint32_t i = 0; i < chunks; i++) {
		fill(buf, CHUNK, seed, i);
		crypto_generichash_update(&hs, buf, CHUNK);
	}
	crypto_generichash_final(&hs, key, MIG_HASH_BYTES);
	free(buf);
}

static void
big_streamed(void **state)
{
	struct fixture *f = *state;
	const uint32_t chunks = 64; /* 64 MiB */
	struct mig_cache *c;
	struct mig_cache_writer *w;
	struct mig_cache_stats st;
	uint8_t key[MIG_HASH_BYTES], got[MIG_HASH_BYTES];
	unsigned char *buf, *back;
	uint64_t size;
	int fd;

	assert_non_null(buf = malloc(CHUNK));
	assert_non_null(back = malloc(CHUNK));
	big_key(7, chunks, key);
	assert_int_equal(mig__cache_open(f->objects, 128u << 20, &c, NULL, 0), 0);
	assert_int_equal(mig__cache_begin(c, key, &w), 0);
	for (uint32_t i = 0; i < chunks; i++) {
		fill(buf, CHUNK, 7, i);
		/* In uneven pieces, as a link delivers them. */
		assert_int_equal(mig__cache_write(w, buf, 1000), 0);
		assert_int_equal(mig__cache_write(w, buf + 1000, CHUNK - 1000), 0);
	}
	assert_false(mig__cache_has(c, key)); /* nothing before commit */
	assert_int_equal(mig__cache_commit(w), 0);
	mig__cache_stats(c, &st);
	assert_int_equal(st.bytes, (uint64_t)chunks * CHUNK);
	mig__cache_close(c);

	/* After a restart: checked on the first get, then byte for byte. */
	assert_int_equal(mig__cache_open(f->objects, 128u << 20, &c, NULL, 0), 0);
	assert_int_equal(mig__cache_get(c, key, &fd), 0);
	assert_int_equal(mig__hash_fd(fd, got, &size), 0);
	assert_memory_equal(got, key, MIG_HASH_BYTES);
	assert_int_equal(size, (uint64_t)chunks * CHUNK);
	for (uint32_t i = 0; i < chunks; i += 21) {
		fill(buf, CHUNK, 7, i);
		assert_int_equal(pread(fd, back, CHUNK, (off_t)i * CHUNK),
		    (ssize_t)CHUNK);
		assert_memory_equal(back, buf, CHUNK);
	}
	close(fd);
	mig__cache_release(c, key);

	/* A stream whose content is not the key's is refused at commit. */
	big_key(8, 2, key);
	assert_int_equal(mig__cache_begin(c, key, &w), 0);
	fill(buf, CHUNK, 8, 0);
	assert_int_equal(mig__cache_write(w, buf, CHUNK), 0);
	fill(buf, CHUNK, 8, 0); /* chunk 0 twice: wrong */
	assert_int_equal(mig__cache_write(w, buf, CHUNK), 0);
	assert_int_equal(mig__cache_commit(w), MIG__ERR(EBADMSG));
	assert_false(mig__cache_has(c, key));
	assert_int_equal(tmp_files(f), 0);

	/* A stream that outgrows the cap fails as it goes. */
	mig__cache_close(c);
	assert_int_equal(mig__cache_open(f->objects, 3 * CHUNK, &c, NULL, 0), 0);
	big_key(9, 4, key);
	assert_int_equal(mig__cache_begin(c, key, &w), 0);
	for (uint32_t i = 0; i < 3; i++) {
		fill(buf, CHUNK, 9, i);
		assert_int_equal(mig__cache_write(w, buf, CHUNK), 0);
	}
	assert_int_equal(mig__cache_write(w, buf, CHUNK), MIG_ETOOBIG);
	assert_int_equal(mig__cache_commit(w), MIG_ETOOBIG);
	assert_int_equal(tmp_files(f), 0);
	mig__cache_close(c);
	free(buf);
	free(back);
}

static void
concurrent_same_key(void **state)
{
	struct fixture *f = *state;
	struct mig_cache *c;
	struct mig_cache_writer *w1, *w2;
	struct mig_cache_stats st;
	const uint32_t chunks = 2;
	uint8_t key[MIG_HASH_BYTES], got[MIG_HASH_BYTES];
	unsigned char *buf;
	uint64_t size;
	pid_t pids[4];
	int fd, status;

	assert_non_null(buf = malloc(CHUNK));
	big_key(3, chunks, key);
	assert_int_equal(mig__cache_open(f->objects, 64u << 20, &c, NULL, 0), 0);

	/* Two writers of one key, interleaved in one process. */
	assert_int_equal(mig__cache_begin(c, key, &w1), 0);
	assert_int_equal(mig__cache_begin(c, key, &w2), 0);
	for (uint32_t i = 0; i < chunks; i++) {
		fill(buf, CHUNK, 3, i);
		assert_int_equal(mig__cache_write(w1, buf, CHUNK), 0);
		assert_int_equal(mig__cache_write(w2, buf, CHUNK), 0);
	}
	assert_int_equal(mig__cache_commit(w2), 0);
	assert_int_equal(mig__cache_get(c, key, &fd), 0); /* held */
	assert_int_equal(mig__cache_commit(w1), 0);
	assert_int_equal(mig__hash_fd(fd, got, &size), 0);
	assert_memory_equal(got, key, MIG_HASH_BYTES);
	close(fd);
	mig__cache_release(c, key);
	mig__cache_stats(c, &st);
	assert_int_equal(st.objects, 1);
	assert_int_equal(st.bytes, (uint64_t)chunks * CHUNK);
	mig__cache_close(c);

	/* Four processes, each with its own cache on the folder, putting
	 * and getting the same key over and over. */
	big_key(4, chunks, key);
	for (int p = 0; p < 4; p++) {
		if ((pids[p] = fork()) == 0) {
			struct mig_cache *pc;
			struct mig_cache_writer *pw;
			int ok = 1, pfd;

			if (mig__cache_open(f->objects, 64u << 20, &pc, NULL, 0) != 0)
				_exit(2);
			for (int round = 0; round < 10 && ok; round++) {
				ok = mig__cache_begin(pc, key, &pw) == 0;
				for (uint32_t i = 0; ok && i < chunks; i++) {
					fill(buf, CHUNK, 4, i);
					ok = mig__cache_write(pw, buf, CHUNK) == 0;
				}
				ok = ok && mig__cache_commit(pw) == 0;
				ok = ok && mig__cache_get(pc, key, &pfd) == 0;
				if (ok) {
					ok = mig__hash_fd(pfd, got, &size) == 0 &&
					    memcmp(got, key, MIG_HASH_BYTES) == 0;
					close(pfd);
					mig__cache_release(pc, key);
				}
			}
			mig__cache_close(pc);
			_exit(ok ? 0 : 1);
		}
		assert_true(pids[p] > 0);
	}
	for (int p = 0; p < 4; p++) {
		assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(tmp_files(f), 0);
	assert_int_equal(mig__cache_open(f->objects, 64u << 20, &c, NULL, 0), 0);
	mig__cache_stats(c, &st);
	assert_int_equal(st.objects, 2);
	assert_int_equal(mig__cache_get(c, key, &fd), 0);
	close(fd);
	mig__cache_release(c, key);
	mig__cache_stats(c, &st);
	assert_int_equal(st.corrupt, 0);
	mig__cache_close(c);
	free(buf);
}

/* The cache refuses a folder, with the sentence why: the folder or its
 * parent is another user's, writable by others, or a symbolic link. */
static void
refused(const struct fixture *f, const char *says)
{
	struct mig_cache *c = (struct mig_cache *)1;
	char why[PATH_MAX + 128] = "";

	assert_int_equal(mig__cache_open(f->objects, 1 << 20, &c, why,
	    sizeof(why)), MIG_EUNSAFE);
	assert_null(c);
	if (strstr(why, says) == NULL)
		fail_msg("\"%s\" does not say \"%s\"", why, says);
}

static void
folder_of_another_user(void **state)
{
	struct fixture *f = *state;
	struct mig_cache *c;
	char parent[PATH_MAX];

	if (geteuid() != 0)
		skip(); /* only root gives a folder away */
	assert_int_equal(mig__cache_open(f->objects, 1 << 20, &c, NULL, 0), 0);
	mig__cache_close(c);
	assert_int_equal(chown(f->objects, 65534, 65534), 0);
	refused(f, "belongs to uid 65534");
	assert_int_equal(chown(f->objects, 0, 0), 0);
	/* The parent's owner could swap the folder. */
	snprintf(parent, sizeof(parent), "%s/cache/mig", f->dir);
	assert_int_equal(chown(parent, 65534, 65534), 0);
	refused(f, "belongs to uid 65534");
	assert_int_equal(chown(parent, 0, 0), 0);
	/* Its tmp/ too. */
	snprintf(parent, sizeof(parent), "%s/tmp", f->objects);
	assert_int_equal(chown(parent, 65534, 65534), 0);
	refused(f, "tmp");
}

static void
folder_open_to_others(void **state)
{
	struct fixture *f = *state;
	struct mig_cache *c;
	char parent[PATH_MAX], real[PATH_MAX];

	assert_int_equal(mig__cache_open(f->objects, 1 << 20, &c, NULL, 0), 0);
	mig__cache_close(c);
	assert_int_equal(chmod(f->objects, 0770), 0);
	refused(f, "others may write");
	assert_int_equal(chmod(f->objects, 0702), 0);
	refused(f, "others may write");
	assert_int_equal(chmod(f->objects, 0755), 0);
	assert_int_equal(mig__cache_open(f->objects, 1 << 20, &c, NULL, 0), 0);
	mig__cache_close(c);
	/* A parent anyone may write to, unless sticky as /tmp is. */
	snprintf(parent, sizeof(parent), "%s/cache/mig", f->dir);
	assert_int_equal(chmod(parent, 0777), 0);
	refused(f, "could swap");
	assert_int_equal(chmod(parent, 01777), 0);
	assert_int_equal(mig__cache_open(f->objects, 1 << 20, &c, NULL, 0), 0);
	mig__cache_close(c);
	assert_int_equal(chmod(parent, 0700), 0);
	/* The folder a symbolic link, even to a good folder. */
	snprintf(real, sizeof(real), "%s/cache/mig/real", f->dir);
	assert_int_equal(rename(f->objects, real), 0);
	assert_int_equal(symlink("real", f->objects), 0);
	refused(f, "symbolic link");
}

/* An object that is a symbolic link, or in a subfolder that is one, is
 * not followed, even to the right content, and is gone after. */
static void
symlinked_object(void **state)
{
	struct fixture *f = *state;
	struct mig_cache *c;
	const char *text = "the object's content";
	uint8_t key[MIG_HASH_BYTES];
	char path[PATH_MAX], elsewhere[PATH_MAX], sub[PATH_MAX];
	char *slash;
	FILE *fp;
	int fd;

	assert_int_equal(mig__cache_open(f->objects, 1 << 20, &c, NULL, 0), 0);
	put_str(c, text);
	key_of(text, key);
	object_file(f, key, path, sizeof(path));
	snprintf(elsewhere, sizeof(elsewhere), "%s/elsewhere", f->dir);
	assert_non_null(fp = fopen(elsewhere, "w"));
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(elsewhere, 0400), 0);
	/* While it is open, and after a reopen. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink(elsewhere, path), 0);
	assert_int_equal(mig__cache_get(c, key, &fd), MIG__ERR(ENOENT));
	assert_false(exists(path));
	put_str(c, text);
	mig__cache_close(c);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink(elsewhere, path), 0);
	/* Not an object at all then: left alone, and replaced by a put. */
	assert_int_equal(mig__cache_open(f->objects, 1 << 20, &c, NULL, 0), 0);
	assert_int_equal(mig__cache_has(c, key), 0);
	assert_int_equal(mig__cache_get(c, key, &fd), MIG__ERR(ENOENT));
	/* The subfolder a link to a folder holding the object. */
	put_str(c, text);
	mig__cache_close(c);
	strlcpy(sub, path, sizeof(sub));
	slash = strrchr(sub, '/');
	*slash = '\0';
	snprintf(elsewhere, sizeof(elsewhere), "%s/otherdir", f->dir);
	assert_int_equal(rename(sub, elsewhere), 0);
	assert_int_equal(symlink(elsewhere, sub), 0);
	assert_int_equal(mig__cache_open(f->objects, 1 << 20, &c, NULL, 0), 0);
	assert_int_equal(mig__cache_has(c, key), 0);
	assert_int_equal(mig__cache_get(c, key, &fd), MIG__ERR(ENOENT));
	mig__cache_close(c);
}

/* Replaces the object of key by a file holding s, by rename (a new
 * inode) or in place (the same inode, a new mtime). */
static void
swap_object(const struct fixture *f, const uint8_t key[MIG_HASH_BYTES],
    const char *s, int in_place)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int fd;

	object_file(f, key, path, sizeof(path));
	if (in_place) {
		assert_int_equal(chmod(path, 0600), 0);
		assert_true((fd = open(path, O_WRONLY | O_TRUNC)) >= 0);
	} else {
		snprintf(tmp, sizeof(tmp), "%s.new", path);
		assert_true((fd = open(tmp, O_WRONLY | O_CREAT, 0400)) >= 0);
	}
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
	if (!in_place)
		assert_int_equal(rename(tmp, path), 0);
}

/* An object checked by this process and swapped on disk after is checked
 * again, and dropped rather than served: it would run in a job. */
static void
swapped_object(void **state)
{
	struct fixture *f = *state;
	struct mig_cache *c;
	struct mig_cache_stats st;
	const char *good = "the compiler, as home has it";
	const char *evil = "the compiler, as another has it";
	const char *same = "the compiler, as home has iT";
	uint8_t key[MIG_HASH_BYTES];
	char buf[64];
	int fd;

	assert_int_equal(mig__cache_open(f->objects, 1 << 20, &c, NULL, 0), 0);
	put_str(c, good);
	key_of(good, key);
	assert_int_equal(mig__cache_get(c, key, &fd), 0);
	close(fd);
	mig__cache_release(c, key);
	/* A new file under its name. */
	swap_object(f, key, evil, 0);
	assert_int_equal(mig__cache_get(c, key, &fd), MIG__ERR(ENOENT));
	/* The same file, rewritten to the same size. */
	put_str(c, good);
	assert_int_equal(mig__cache_get(c, key, &fd), 0);
	close(fd);
	mig__cache_release(c, key);
	swap_object(f, key, same, 1);
	assert_int_equal(mig__cache_get(c, key, &fd), MIG__ERR(ENOENT));
	mig__cache_stats(c, &st);
	assert_int_equal(st.corrupt, 2);
	/* A new file with the right content is checked, and served. */
	put_str(c, good);
	swap_object(f, key, good, 0);
	assert_int_equal(mig__cache_get(c, key, &fd), 0);
	assert_int_equal(read_all(fd, buf, sizeof(buf)), strlen(good));
	close(fd);
	mig__cache_release(c, key);
	mig__cache_close(c);
}

static void
default_dir(void **state)
{
	char buf[PATH_MAX];

	setenv("XDG_CACHE_HOME", "/x/cache", 1);
	setenv("HOME", "/home/u", 1);
	assert_int_equal(mig__cache_default_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/x/cache/mig/objects");
	setenv("XDG_CACHE_HOME", "relative", 1);
	assert_int_equal(mig__cache_default_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/home/u/.cache/mig/objects");
	unsetenv("XDG_CACHE_HOME");
	assert_int_equal(mig__cache_default_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/home/u/.cache/mig/objects");
	assert_int_equal(mig__cache_default_dir(buf, 10), MIG_ETOOBIG);
	unsetenv("HOME");
	assert_int_equal(mig__cache_default_dir(buf, sizeof(buf)), MIG_ECONFIG);
}

static void
hex_round_trip(void **state)
{
	uint8_t h[MIG_HASH_BYTES], back[MIG_HASH_BYTES];
	char hex[MIG_HASH_HEX];

	mig__hash_buf("abc", 3, h);
	mig__hash_hex(h, hex);
	assert_int_equal(strlen(hex), 64);
	assert_int_equal(mig__hash_unhex(hex, back), 0);
	assert_memory_equal(h, back, MIG_HASH_BYTES);
	/* BLAKE2b-256("abc"), as published. */
	assert_string_equal(hex, "bddd813c634239723171ef3fee98579b"
	    "94964e3bb1cb3e427262c8c068d52319");
	hex[5] = 'G';
	assert_int_equal(mig__hash_unhex(hex, back), MIG_EPROTO);
	assert_int_equal(mig__hash_unhex("abcd", back), MIG_EPROTO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hex_round_trip),
		cmocka_unit_test(default_dir),
		cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(corrupt_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(lru_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(held_over_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(persists, setup, teardown),
		cmocka_unit_test_setup_teardown(leftovers_swept, setup, teardown),
		cmocka_unit_test_setup_teardown(big_streamed, setup, teardown),
		cmocka_unit_test_setup_teardown(concurrent_same_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(folder_of_another_user, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(folder_open_to_others, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(symlinked_object, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(swapped_object, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
