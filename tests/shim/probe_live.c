/*
 * probe_live: the shim reads the clock offset live, under the seqlock.
 * Run under mkident -o 3600s; it plays the host daemon itself, writing
 * the page through a second, writable mapping of the same memfd.
 *
 *   probe_live FD
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>

#include "mig/ident.h"
#include "probe.h"

#define S 1000000000LL

static struct mig_ident *page;
static volatile int stop;

/* home - host, in whole seconds. */
static long long
offset_s(void)
{
	long long host = host_ns(CLOCK_REALTIME), home;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	home = ts.tv_sec * S + ts.tv_nsec;
	home -= host;
	return home >= 0 ? (home + S / 2) / S : -((-home + S / 2) / S);
}

static void
write_begin(void)
{
	__atomic_store_n(&page->seq, page->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void
write_end(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&page->seq, page->seq + 1, __ATOMIC_RELEASE);
}

/* Flips between (measured, +1000 s) and (not measured, +5000 s): a
 * reader that mixed the two would see +5000 s. A reader that keeps
 * losing the race gives up and answers the last offset it read whole,
 * which may still be the +60 s from before. */
static void *
writer(void *arg)
{
	for (unsigned long i = 0; !stop; i++) {
		write_begin();
		if (i & 1) {
			page->offset_ns = 1000 * S;
			page->flags |= MIG_IDENT_CLOCK;
		} else {
			page->flags &= ~MIG_IDENT_CLOCK;
			page->offset_ns = 5000 * S;
		}
		write_end();
		for (int k = 0; k < 100; k++)
			__asm__ __volatile__("" ::: "memory");
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	char path[64];
	pthread_t t;
	long seen[3] = { 0, 0, 0 }, other = 0;
	int fd;

	if (argc != 2)
		return 99;
	snprintf(path, sizeof(path), "/proc/self/fd/%s", argv[1]);
	if ((fd = open(path, O_RDWR)) == -1 ||
	    (page = mmap(NULL, MIG_IDENT_SIZE, PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, 0)) == MAP_FAILED) {
		perror(path);
		return 99;
	}
	say("start", "%lld", offset_s());

	write_begin();
	page->offset_ns = 7200 * S;
	write_end();
	say("updated", "%lld", offset_s());

	write_begin();
	page->offset_ns = -250 * S - S / 4;
	write_end();
	say("negative", "%lld", offset_s());

	write_begin();
	page->flags &= ~MIG_IDENT_CLOCK;
	write_end();
	say("unmeasured", "%lld", offset_s());

	/* A writer that died half-way: readers must not hang, and keep
	 * the last offset they read whole. */
	write_begin();
	page->flags |= MIG_IDENT_CLOCK;
	page->offset_ns = 60 * S;
	say("stuck-writer", "%lld", offset_s());
	write_end();
	say("after-stuck", "%lld", offset_s());

	pthread_create(&t, NULL, writer, NULL);
	for (long i = 0; i < 50000000 && (seen[0] < 1000 || seen[1] < 1000);
	    i++) {
		long long o = offset_s();
		if (o == 0)
			seen[0]++;
		else if (o == 1000)
			seen[1]++;
		else if (o != 60)
			other++;
	}
	stop = 1;
	pthread_join(t, NULL);
	say("racing.torn", "%ld", other);
	say("racing.saw-both", "%s", seen[0] > 0 && seen[1] > 0 ? "yes" :
								 "no");
	return 0;
}
