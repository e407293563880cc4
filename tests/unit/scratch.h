/*
 * scratch.h: a unit test's scratch folder of files, shared by the tests
 * of homed/fs's hash table and seeding. One folder at a time, made by
 * scratch_make before each test and removed by scratch_remove after it.
 */
#ifndef MIG_TEST_SCRATCH_H
#define MIG_TEST_SCRATCH_H

#include <limits.h>
#include <stddef.h>

extern char scratch_dir[PATH_MAX];

/* $TMPDIR (else /tmp)/mig-test-WHAT-XXXXXX; 0, or -1 when not made. */
int scratch_make(const char *what);
/* rm -rf of the folder; 0, or -1 when it failed. */
int scratch_remove(void);
void scratch_path(const char *name, char *buf, size_t size);
/* Writes text to the folder's file name, replacing what it held. */
void scratch_write(const char *name, const char *text);
/*
 * Waits until the clock that stamps files is past the file's ctime, so a
 * table may keep its hash (a file changed within the current tick is
 * never kept). It waits for an event, a clock tick; nothing here depends
 * on how long that takes.
 */
void scratch_settle(const char *name);

#endif
