/*
 * hslink.h: two daemons' ends of one peer link without sockets or a
 * loop, for tests and fuzzers: each end is the real handshake
 * (homed/transport/handshake.c, a function without I/O), with the bytes
 * it wrote collected in out and the bytes it received in in, as link.c
 * keeps them.
 */
#ifndef MIG_HSLINK_H
#define MIG_HSLINK_H

#include "homed.h"

struct hs_end {
	struct mig_hs hs;
	uint8_t key[MIG_KEY_BYTES];
	struct mig_host host;       /* the hosts file: the other end alone */
	struct mig_hosts hosts;
	enum mig_hs_event ev;       /* the last event: PROVEN and FAIL end it */
	struct mig_buf in;          /* received, not yet read */
	struct mig_buf out;         /* what this end wrote, not yet taken */
};

/* A new end named name, whose hosts file lists peer_name (the initiator
 * dials it), holding key. Returns NULL when out of memory. */
struct hs_end *hs_new(const char *name, const char *peer_name,
    const uint8_t key[MIG_KEY_BYTES], int initiator);
void hs_free(struct hs_end *e);
/* Starts the handshake (the initiator writes its HELLO). */
void hs_start(struct hs_end *e);
/* n bytes arrive: the handshake reads what messages it can, as link.c
 * does; what follows a proved handshake stays in e->in. */
void hs_feed(struct hs_end *e, const uint8_t *p, size_t n);
/* 1 once the handshake ended (PROVEN or FAIL). */
int hs_over(const struct hs_end *e);
/* Moves everything from's out buffer to to (hs_feed). */
void hs_pass(struct hs_end *from, struct hs_end *to);
/* Runs a whole honest handshake between i and a; 0 when both proved. */
int hs_run(struct hs_end *i, struct hs_end *a);

#endif
