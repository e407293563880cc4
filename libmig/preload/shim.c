/*
 * shim.c: libmig.so's entry points. The LD_PRELOAD shim lives inside
 * arbitrary programs: it links libc only, keeps everything but these
 * entry points hidden (libmig.version), and never exits or aborts.
 */
#include "preload.h"

__attribute__((constructor)) static void
shim_init(void)
{
	mig__env_restore();
}
