/* preload.h: the parts of libmig.so; nothing here is exported. */
#ifndef MIG_PRELOAD_H
#define MIG_PRELOAD_H

#define MIG_HIDDEN __attribute__((visibility("hidden")))

/* env.c */
/* Gives the program the environment it had at home: takes the shim's
 * own variables out of environ, in place, without the heap. */
MIG_HIDDEN void mig__env_restore(void);

#endif
