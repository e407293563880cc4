/* real.c: finding the functions the shim wraps. */
#include <dlfcn.h>

#include "preload.h"

void *
mig__real(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}
