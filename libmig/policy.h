/* policy.h: which programs are placed, shared by libmigcore and libmig.so. */
#ifndef MIG_POLICY_H
#define MIG_POLICY_H

#include <stddef.h>

/* The C and C++ compiler drivers, by the names Debian installs them. */
#define MIG_POLICY_DEFAULT                                              \
	"cc:c++:gcc:g++:gcc-[0-9]*:g++-[0-9]*:*-linux-gnu-gcc:"         \
	"*-linux-gnu-g++:*-linux-gnu-gcc-[0-9]*:*-linux-gnu-g++-[0-9]*:" \
	"clang:clang++:clang-[0-9]*:clang++-[0-9]*"

/*
 * Does the basename of path match one of policy's ':'-separated
 * patterns? A pattern knows two wildcards: '*' (any run of characters)
 * and "[0-9]" (one digit); one the user wrote starts with '='. Returns
 * 0, 1 for a default pattern, 2 for the user's. No heap, no locale: the
 * shim calls it.
 */
__attribute__((visibility("hidden"))) int mig__policy_match(
    const char *policy, const char *path);

/* Why the shim cannot follow the program at path (setuid or setgid,
 * statically linked), or NULL. No heap. */
__attribute__((visibility("hidden"))) const char *mig__unshimmable(
    const char *path);

#endif
