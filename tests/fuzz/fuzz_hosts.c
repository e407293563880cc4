/*
 * fuzz_hosts.c: mig__hosts_parse on arbitrary text. A table it accepts
 * holds only what the format allows; a text it refuses gets a message
 * naming the file and the line.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "core.h"

static int
valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= MIG_NAME_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("-_.", *s) == NULL)
			return 0;
	return 1;
}

/* Lines in the text, the last one counted whether or not it ends. */
static unsigned long
lines(const char *text, size_t size)
{
	unsigned long n = 1;

	for (size_t i = 0; i < size; i++)
		n += text[i] == '\n';
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mig_hosts h = { (struct mig_host *)1, 99 };
	char err[128], *text;
	int r;

	/* Not NUL-terminated, and no larger than the input. */
	text = malloc(size ? size : 1);
	CHECK(text != NULL);
	if (size > 0)
		memcpy(text, data, size);
	memset(err, 'Z', sizeof(err));
	r = mig__hosts_parse(text, size, "f", &h, err, sizeof(err));
	if (r == 0) {
		CHECK(err[0] == 'Z');
		CHECK(h.n == 0 || h.v != NULL);
		for (size_t i = 0; i < h.n; i++) {
			const struct mig_host *e = &h.v[i];
			CHECK(valid_name(e->name));
			CHECK(memchr(e->addr, '\0', sizeof(e->addr)) != NULL);
			CHECK(e->addr[0] != '\0');
			CHECK(strpbrk(e->addr, " \t\r\n#") == NULL);
			/* An ssh destination is never read as an option. */
			CHECK(e->ssh ? e->port == 0 && e->addr[0] != '-' :
				       e->port != 0);
			CHECK(e->slots <= 4096);
			CHECK(mig__hosts_find(&h, e->name) == e);
		}
	} else {
		CHECK(r == MIG_ECONFIG || r == MIG__ERR(ENOMEM));
		CHECK(h.v == NULL && h.n == 0);
		if (r == MIG_ECONFIG) {
			unsigned long line;
			char *end;
			CHECK(memchr(err, '\0', sizeof(err)) != NULL);
			CHECK(strncmp(err, "f:", 2) == 0);
			line = strtoul(err + 2, &end, 10);
			CHECK(line >= 1 && strncmp(end, ": ", 2) == 0);
			CHECK(line <= lines(text, size));
			CHECK(end[2] != '\0');
		}
	}
	mig__hosts_free(&h);
	free(text);
	return 0;
}
