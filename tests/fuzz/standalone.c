/*
 * standalone.c: a main for the fuzz targets where libFuzzer is not used
 * (gcc, the default build). It feeds every file named on the command
 * line, or found in a named folder, to LLVMFuzzerTestOneInput, then
 * -runs=N inputs made from them by a few random mutations. The seed is
 * fixed (-seed=N to change it), so a failure repeats run after run; the
 * input that crashed is printed in hex on the way down.
 *
 *   fuzz_frame_replay [-runs=N] [-seed=N] [-max_len=N] FILE|DIR...
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

struct input {
	uint8_t *p;
	size_t n;
};

static struct input *inputs;
static size_t ninputs;
static uint64_t rng;
static size_t max_len = 4096;

/* The input under test, for the crash handler. */
static const uint8_t *volatile cur;
static volatile size_t curlen;

static uint64_t
next(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static size_t
below(size_t n)
{
	return n == 0 ? 0 : (size_t)(next() % n);
}

static void
put(const char *s)
{
	ssize_t r = write(2, s, strlen(s));

	(void)r;
}

static void
on_crash(int sig)
{
	static const char hex[] = "0123456789abcdef";
	char line[3 * 16 + 2];

	put("standalone: crashed on this input:\n");
	for (size_t i = 0; i < curlen; i += 16) {
		size_t k = 0;
		for (size_t j = i; j < curlen && j < i + 16; j++) {
			line[k++] = hex[cur[j] >> 4];
			line[k++] = hex[cur[j] & 15];
			line[k++] = ' ';
		}
		line[k++] = '\n';
		line[k] = '\0';
		put(line);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
add_input(const uint8_t *p, size_t n)
{
	struct input *v = realloc(inputs, (ninputs + 1) * sizeof(*v));

	CHECK(v != NULL);
	inputs = v;
	inputs[ninputs].p = malloc(n ? n : 1);
	CHECK(inputs[ninputs].p != NULL);
	if (n > 0)
		memcpy(inputs[ninputs].p, p, n);
	inputs[ninputs].n = n;
	ninputs++;
}

static void
load_file(const char *path)
{
	uint8_t *p = NULL;
	size_t n = 0, cap = 0;
	FILE *f = fopen(path, "rb");

	if (f == NULL) {
		fprintf(stderr, "standalone: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	for (;;) {
		size_t got;
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			p = realloc(p, cap);
			CHECK(p != NULL);
		}
		if ((got = fread(p + n, 1, cap - n, f)) == 0)
			break;
		n += got;
	}
	fclose(f);
	add_input(p, n);
	free(p);
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static void
load(const char *path)
{
	struct dirent **names;
	struct stat st;
	char sub[4096];
	int n;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		/* Sorted, so the mutations do not depend on the file system. */
		if ((n = scandir(path, &names, NULL, by_name)) < 0) {
			fprintf(stderr, "standalone: %s: %s\n", path,
			    strerror(errno));
			exit(2);
		}
		for (int i = 0; i < n; i++) {
			if (names[i]->d_name[0] != '.') {
				snprintf(sub, sizeof(sub), "%s/%s", path,
				    names[i]->d_name);
				load(sub);
			}
			free(names[i]);
		}
		free(names);
		return;
	}
	load_file(path);
}

static void
run(const uint8_t *p, size_t n)
{
	cur = p;
	curlen = n;
	LLVMFuzzerTestOneInput(p, n);
}

/* Values that sit on the edges of the formats' checks. */
static const uint32_t edges[] = { 0, 1, 2, 3, 4, 7, 8, 12, 15, 16, 17, 255,
	256, 0x7fff, 0xffff, 0x10000, 1u << 20, (1u << 20) + 1, 0x7fffffff,
	0x80000000, 0xffffffff };
static const char bytes[] = "\0\n\r\t #:[]0139aZ.-_\x7f\x80\xff";

static size_t
mutate(uint8_t *p, size_t n, size_t cap)
{
	size_t at = below(n + 1), k;
	const struct input *o;

	switch (next() % 9) {
	case 0: /* flip a bit */
		if (n > 0)
			p[below(n)] ^= (uint8_t)(1u << below(8));
		break;
	case 1: /* a byte from the formats' alphabet */
		if (n > 0)
			p[below(n)] = (uint8_t)bytes[below(sizeof(bytes) - 1)];
		break;
	case 2: /* a random byte */
		if (n > 0)
			p[below(n)] = (uint8_t)next();
		break;
	case 3: /* insert a byte */
		if (n < cap) {
			memmove(p + at + 1, p + at, n - at);
			p[at] = (uint8_t)bytes[below(sizeof(bytes) - 1)];
			n++;
		}
		break;
	case 4: /* delete a few bytes */
		k = below(n - (at < n ? at : n) + 1);
		if (k > 8)
			k = 1 + below(8);
		if (at + k <= n) {
			memmove(p + at, p + at + k, n - at - k);
			n -= k;
		}
		break;
	case 5: /* a little-endian u32 or u16 edge value */
		if (n >= 4) {
			uint32_t v = edges[below(sizeof(edges) /
			    sizeof(edges[0]))];
			at = below(n - 3);
			for (int i = 0; i < (next() & 1 ? 4 : 2); i++)
				p[at + (size_t)i] = (uint8_t)(v >> (8 * i));
		}
		break;
	case 6: /* duplicate a piece in place */
		k = 1 + below(32);
		if (n > 0 && n + k <= cap) {
			size_t from = below(n);
			if (from + k > n)
				k = n - from;
			memmove(p + at + k, p + at, n - at);
			memmove(p + at, p + (from >= at ? from + k : from), k);
			n += k;
		}
		break;
	case 7: /* cut the tail */
		n = at;
		break;
	default: /* splice in the head of another input */
		o = &inputs[below(ninputs)];
		k = below(o->n + 1);
		if (at + k > cap)
			k = cap - at;
		memcpy(p + at, o->p, k);
		if (at + k > n)
			n = at + k;
		break;
	}
	return n;
}

int
main(int argc, char **argv)
{
	unsigned long runs = 0, seed = 1;
	uint8_t *buf;
	size_t n;

	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "-runs=", 6) == 0)
			runs = strtoul(argv[i] + 6, NULL, 10);
		else if (strncmp(argv[i], "-seed=", 6) == 0)
			seed = strtoul(argv[i] + 6, NULL, 10);
		else if (strncmp(argv[i], "-max_len=", 9) == 0)
			max_len = strtoul(argv[i] + 9, NULL, 10);
		else if (argv[i][0] == '-') {
			fprintf(stderr, "usage: %s [-runs=N] [-seed=N] "
			    "[-max_len=N] FILE|DIR...\n", argv[0]);
			return 2;
		} else
			load(argv[i]);
	}
	signal(SIGABRT, on_crash);
	signal(SIGSEGV, on_crash);
	signal(SIGBUS, on_crash);
	signal(SIGFPE, on_crash);
	signal(SIGILL, on_crash);

	for (size_t i = 0; i < ninputs; i++)
		run(inputs[i].p, inputs[i].n);
	if (ninputs == 0)
		add_input(NULL, 0);
	rng = seed * 0x9e3779b97f4a7c15ull + 1;
	CHECK(max_len > 0 && (buf = malloc(max_len)) != NULL);
	for (unsigned long r = 0; r < runs; r++) {
		const struct input *in = &inputs[below(ninputs)];
		uint8_t *p;

		n = in->n < max_len ? in->n : max_len;
		memcpy(buf, in->p, n);
		for (int m = 1 + (int)below(4); m > 0; m--)
			n = mutate(buf, n, max_len);
		/* Its own allocation, so the sanitizers see its end. */
		p = malloc(n ? n : 1);
		CHECK(p != NULL);
		memcpy(p, buf, n);
		run(p, n);
		free(p);
	}
	printf("standalone: %zu inputs and %lu mutations passed\n", ninputs,
	    runs);
	free(buf);
	for (size_t i = 0; i < ninputs; i++)
		free(inputs[i].p);
	free(inputs);
	return 0;
}
