/* error.c: one table gives both the codes (mig.h) and their text. */
#include <string.h>

#include "mig/mig.h"

const char *
mig_strerror(int code)
{
	switch (code) {
#define MIG__TEXT(name, value, text) \
	case (value):                \
		return (text);
		MIG_ERRNO_MAP(MIG__TEXT)
#undef MIG__TEXT
	case 0:
		return "success";
	}
	if (code < 0 && code > -4096)
		return strerror(-code);
	return "unknown error";
}
