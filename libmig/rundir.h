/*
 * rundir.h: the checks every client of mig-homed makes before it sends
 * anything, and the daemon makes on its own folder (rundir.c). Shared
 * by libmigcore and libmig.so.
 */
#ifndef MIG_RUNDIR_H
#define MIG_RUNDIR_H

#include <stddef.h>

#include "mig/mig.h"

/*
 * Is dir a folder of this user's (the effective uid), mode 0700, and
 * not a symbolic link (lstat)? Returns 0; MIG_EUNSAFE when it is not,
 * or a system error (MIG__ERR(ENOENT) when it does not exist). With
 * why, a sentence naming dir and what is wrong goes there.
 */
__attribute__((visibility("hidden"))) int mig__rundir_check(const char *dir,
    char *why, size_t size);
/*
 * The folders of mig's cache and state: is dir a folder of this user's,
 * not a symbolic link (lstat), that neither group nor others may write
 * to? 0, MIG_EUNSAFE, or a system error; a sentence in why as above.
 */
__attribute__((visibility("hidden"))) int mig__dir_check(const char *dir,
    char *why, size_t size);
/* The same of the folder open on fd (fstat), called name in why. */
__attribute__((visibility("hidden"))) int mig__dir_fd_check(int fd,
    const char *name, char *why, size_t size);
/*
 * Makes dir with its parents (mode 0700 where one is made) and checks it
 * (mig__dir_check) and its parent, which whoever may write to could swap
 * dir in: a folder (a symbolic link to one will do) of the user's or
 * root's, that others may write to only when it is sticky, as /tmp.
 */
__attribute__((visibility("hidden"))) int mig__dir_make(const char *dir,
    char *why, size_t size);
/*
 * The runtime folder when neither MIG_RUNTIME_DIR nor XDG_RUNTIME_DIR
 * names one: BASE/UID/mig when BASE/UID (logind's /run/user/UID, which
 * cron, sudo and GNU parallel leave out of the environment) passes
 * mig__dir_check, else /tmp/mig-UID. 0, or MIG_ETOOBIG when it does not
 * fit in buf. mig_runtime_dir calls it with "/run/user".
 */
__attribute__((visibility("hidden"))) int mig__runtime_dir_in(char *buf,
    size_t size, const char *base);
/* The same check on the folder that holds the socket path sock. */
__attribute__((visibility("hidden"))) int mig__sock_dir_check(
    const char *sock, char *why, size_t size);
/*
 * Does the process at the other end of the connected unix socket fd
 * run as this user (SO_PEERCRED)? 0, MIG_EUNSAFE, or a system error;
 * sock names the socket in the sentence put in why.
 */
__attribute__((visibility("hidden"))) int mig__peer_check(int fd,
    const char *sock, char *why, size_t size);
/*
 * Connects to the daemon's socket at path once its folder has passed
 * mig__sock_dir_check, and keeps the connection only when the daemon on
 * it runs as this user (mig__peer_check): nothing is sent before both
 * are known. 0 with the fd (close-on-exec) in *fdp, or the first check's
 * code (with its sentence in err) or a system error.
 */
__attribute__((visibility("hidden"))) int mig__sock_connect(
    const char *path, int *fdp, char *err, size_t errsize);

#endif
