/*
 * owner.c: mig drain HOST and mig undrain HOST (at home: place nothing
 * more there, or again), and mig evict [--end] (on a host, by its owner:
 * the host turns busy, or is available again). Each is one request to
 * the local daemon; it prints nothing when done.
 */
#include <stdio.h>
#include <string.h>

#include "launcher.h"
#include "mig/proto.h"

static void __attribute__((noreturn))
usage(void)
{
	mig__fatal("usage: mig drain HOST | mig undrain HOST | "
	    "mig evict [--end]");
}

int
mig__owner_main(int argc, char **argv)
{
	struct mig_buf q = { NULL, 0, 0 }, a = { NULL, 0, 0 };
	struct mig_frame f;
	const char *host = "";
	uint32_t op;

	if (strcmp(argv[0], "evict") == 0) {
		if (argc == 1)
			op = MIG_OWNER_EVICT;
		else if (argc == 2 && strcmp(argv[1], "--end") == 0)
			op = MIG_OWNER_EVICT_END;
		else
			usage();
	} else {
		if (argc != 2 || argv[1][0] == '-' || argv[1][0] == '\0')
			usage();
		op = strcmp(argv[0], "drain") == 0 ? MIG_OWNER_DRAIN :
						       MIG_OWNER_UNDRAIN;
		host = argv[1];
	}
	if (proto_put_u32(&q, op) != 0 || proto_put_str(&q, host) != 0)
		mig__fatal("out of memory");
	mig__ask(MIG_M_OWNER, q.data, q.len, &a, &f);
	mig_buf_free(&q);
	mig_buf_free(&a);
	return 0;
}
