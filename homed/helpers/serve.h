/*
 * serve.h: the loop of mig-homed's helper servers (serve.c): mig-standin
 * (home placeholders) and "mig-reaper serve" (hosts' job subreapers).
 * The daemon starts one with one end of a SOCK_SEQPACKET pair as fd 3
 * (homed/server.c); each request is a message with descriptors, and the
 * server answers with the pid of a clone of itself made for it (a fork
 * of a small static image, no exec) that the kernel makes the daemon's
 * child (CLONE_PARENT), so the daemon reaps and watches it as any other
 * child of its own; or with minus an errno.
 */
#ifndef MIG_SERVE_H
#define MIG_SERVE_H

#include <stddef.h>
#include <sys/types.h>

#define MIG_SERVE_FD 3     /* the daemon's socket */
#define MIG_SERVE_FDS 12   /* the most descriptors a request carries */
#define MIG_SERVE_MSG 512  /* the longest request */

/* In the clone: what it is for. msg is the request (n bytes), fds its
 * nfds descriptors (close-on-exec); every signal is blocked, every
 * disposition the server's. Never returns. */
typedef void (*mig_serve_fn)(const char *msg, size_t n, const int *fds,
    size_t nfds);

/* Whether fd 3 is such a socket: we were started as a server. */
int mig__serve_started(void);

/* Receives one request on fd: its bytes (the count returned) and its
 * descriptors (*nfds of them, close-on-exec). 0 when the daemon hung
 * up, -1 on a failure of fd, -2 for a request too long (its descriptors
 * closed). */
ssize_t mig__serve_recv(int fd, char msg[MIG_SERVE_MSG],
    int fds[MIG_SERVE_FDS], size_t *nfds);

/* Serves requests of min_fds to max_fds descriptors (others are
 * answered -EINVAL) until the daemon hangs up: 0, or 1 when our socket
 * fails (main's exit status). */
int mig__serve(size_t min_fds, size_t max_fds, mig_serve_fn child);

#endif
