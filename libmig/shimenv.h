/* shimenv.h: the shim's environment, shared by libmigcore and libmig.so. */
#ifndef MIG_SHIMENV_H
#define MIG_SHIMENV_H

#include <stddef.h>
#include <sys/types.h>

#define MIG_SHIMENV_PREFIX "__MIG_"
#define MIG_SHIMENV_SAVED "__MIG_LD_PRELOAD="
#define MIG_SHIMENV_UNSET "__MIG_LD_PRELOAD_UNSET=1"

/*
 * Writes into out (nout slots, NULL-terminated) the environment envp with
 * the shim at path shim preloaded and the extra "__MIG_x=y" strings
 * added; strings it makes go into buf (nbuf bytes). Returns the count of
 * variables, or -1 when out or buf is too small. out[] points into envp,
 * extra and buf: it lives as long as they do.
 */
__attribute__((visibility("hidden"))) ssize_t mig__shimenv(
    char *const envp[], const char *shim, char *const extra[], char **out,
    size_t nout, char *buf, size_t nbuf);

#endif
