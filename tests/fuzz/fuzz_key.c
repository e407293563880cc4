/*
 * fuzz_key.c: mig__key_parse on arbitrary text, what a key file may
 * hold. A key it accepts is exactly the 64 hex digits the text starts
 * with (blanks after them allowed); anything else is MIG_EKEY with a
 * message naming the file.
 */
#include <ctype.h>
#include <string.h>

#include "fuzz.h"
#include "core.h"

static int
hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t key[MIG_KEY_BYTES];
	char err[160], *text;
	size_t n = size;
	int r;

	text = malloc(size ? size : 1);
	CHECK(text != NULL);
	if (size > 0)
		memcpy(text, data, size);
	memset(key, 0xA5, sizeof(key));
	memset(err, 'Z', sizeof(err));
	r = mig__key_parse(text, size, "f", key, err, sizeof(err));
	while (n > 0 && isspace((unsigned char)text[n - 1]))
		n--;
	if (r == 0) {
		CHECK(n == 2 * MIG_KEY_BYTES);
		CHECK(err[0] == 'Z');
		for (size_t i = 0; i < MIG_KEY_BYTES; i++)
			CHECK(key[i] == (hex((unsigned char)text[2 * i]) << 4 |
			    hex((unsigned char)text[2 * i + 1])));
	} else {
		CHECK(r == MIG_EKEY);
		CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		CHECK(strncmp(err, "key file f:", 11) == 0);
		for (size_t i = 0; i < MIG_KEY_BYTES; i++)
			CHECK(key[i] == 0xA5);
	}
	free(text);
	return 0;
}
