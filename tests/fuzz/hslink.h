/*
 * hslink.h: two daemons' ends of one peer link without sockets or a
 * loop, for tests and fuzzers. The real handshake (homed/transport/
 * handshake.c) and record layer (crypto.c) run on each end; what link.c
 * would do with the socket and the loop is done here instead: bytes an
 * end writes collect in its out buffer, bytes it reads are handed to it
 * with hs_feed, and failing or coming up only set the link's state.
 */
#ifndef MIG_HSLINK_H
#define MIG_HSLINK_H

#include "homed.h"

struct hs_end {
	struct homed d;        /* name, key, the hosts file's peer */
	struct peer peer;      /* the other end */
	struct link l;
	struct mig_buf out;    /* what this end wrote, not yet taken */
};

/* A new end named name, whose hosts file lists peer_name, holding key;
 * initiator says it dials. Returns NULL when out of memory. */
struct hs_end *hs_new(const char *name, const char *peer_name,
    const uint8_t key[MIG_KEY_BYTES], int initiator);
void hs_free(struct hs_end *e);
/* Starts the handshake (the initiator writes its HELLO). */
void hs_start(struct hs_end *e);
/* n bytes arrive on e's socket: the handshake reads what it can, as
 * link.c's reader does; records after it are left in e->l.in. */
void hs_feed(struct hs_end *e, const uint8_t *p, size_t n);
/* Moves everything from's out buffer to to (hs_feed). */
void hs_pass(struct hs_end *from, struct hs_end *to);
/* Runs a whole honest handshake between i and a; 0 when both are up. */
int hs_run(struct hs_end *i, struct hs_end *a);

#endif
