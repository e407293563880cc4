/* hash.c: BLAKE2b-256 of buffers and files, and its hex form. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "fs.h"

/* Large enough that a 64 MiB file costs few system calls, small enough
 * for a thread's stack in the daemon's thread pool: it is on the heap. */
#define HASH_CHUNK (256 * 1024)

void
mig__hash_buf(const void *p, size_t n, uint8_t out[MIG_HASH_BYTES])
{
	crypto_generichash(out, MIG_HASH_BYTES, p, n, NULL, 0);
}

int
mig__hash_fd(int fd, uint8_t out[MIG_HASH_BYTES], uint64_t *sizep)
{
	crypto_generichash_state st;
	unsigned char *buf = NULL;
	uint64_t off = 0;
	ssize_t got;
	int r = MIG_EINTERNAL;

	if ((buf = malloc(HASH_CHUNK)) == NULL) {
		r = MIG__ERR(ENOMEM);
		goto out;
	}
	crypto_generichash_init(&st, NULL, 0, MIG_HASH_BYTES);
	for (;;) {
		got = pread(fd, buf, HASH_CHUNK, (off_t)off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = MIG__ERR(errno);
			goto out;
		}
		if (got == 0)
			break;
		crypto_generichash_update(&st, buf, (size_t)got);
		off += (uint64_t)got;
	}
	crypto_generichash_final(&st, out, MIG_HASH_BYTES);
	if (sizep != NULL)
		*sizep = off;
	r = 0;
 out:
	free(buf);
	return r;
}

void
mig__hash_hex(const uint8_t h[MIG_HASH_BYTES], char hex[MIG_HASH_HEX])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < MIG_HASH_BYTES; i++) {
		hex[2 * i] = digits[h[i] >> 4];
		hex[2 * i + 1] = digits[h[i] & 15];
	}
	hex[2 * MIG_HASH_BYTES] = '\0';
}

static int
nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
mig__hash_unhex(const char *s, uint8_t h[MIG_HASH_BYTES])
{
	uint8_t tmp[MIG_HASH_BYTES];

	if (strlen(s) != 2 * MIG_HASH_BYTES)
		return MIG_EPROTO;
	for (int i = 0; i < MIG_HASH_BYTES; i++) {
		int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return MIG_EPROTO;
		tmp[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(h, tmp, sizeof(tmp));
	return 0;
}

size_t
mig__path_hash(const char *p)
{
	uint64_t h = 1469598103934665603ull;

	for (; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	return (size_t)h;
}
