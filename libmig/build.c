/* build.c: which build this is (mig/build.h, made at every build by
 * cmake/buildid.cmake); only this file is compiled again when it
 * changes. */
#include "mig/build.h"
#include "mig/mig.h"

const char *
mig_build_string(void)
{
	return MIG_BUILD_STRING;
}
