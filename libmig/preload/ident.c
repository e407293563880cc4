/*
 * ident.c: the identity page, in remote role. The host daemon hands the
 * placed program a memfd (at the descriptor named by __MIG_IDENT_FD,
 * which env.c has parsed) holding a struct mig_ident; we map it
 * read-only once, at start-up, and check it. From then on pid.c, time.c
 * and host.c answer from it without a lock or a system call: the fields
 * written before exec are copied into mig__home here, and offset_ns,
 * the one the daemon keeps current, is read under the seqlock
 * (mig__ident_offset() in preload.h).
 *
 * The descriptor stays open and inheritable, so that the children of
 * the placed program (whose environment exec.c doctors) find the same
 * page.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "preload.h"

const struct mig_ident *mig__ident;
struct mig_home mig__home;
int64_t mig__ident_last;

static long (*real_syscall)(long, ...);
static pid_t (*real_getpgid)(pid_t);
static pid_t (*real_getsid)(pid_t);

/* A name out of the page, always terminated. */
static void
copy_name(char *dst, const char *src, size_t size)
{
	size_t i;

	for (i = 0; i + 1 < size; i++) {
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
		if (dst[i] == '\0')
			return;
	}
	dst[i] = '\0';
}

/* The fields the daemon wrote before exec, under the seqlock all the
 * same: a page being rewritten must not give us half of a name. Gives
 * up as mig__ident_offset() does, and then keeps what it read. */
static void
snapshot(const struct mig_ident *p, struct mig_home *h)
{
	uint32_t s;

	for (long n = 0; n < MIG_IDENT_TRIES; n++) {
		s = __atomic_load_n(&p->seq, __ATOMIC_ACQUIRE);
		h->pid = __atomic_load_n(&p->pid, __ATOMIC_RELAXED);
		h->ppid = __atomic_load_n(&p->ppid, __ATOMIC_RELAXED);
		h->pgid = __atomic_load_n(&p->pgid, __ATOMIC_RELAXED);
		h->sid = __atomic_load_n(&p->sid, __ATOMIC_RELAXED);
		h->host_pid = __atomic_load_n(&p->host_pid, __ATOMIC_RELAXED);
		h->stdio_tty = p->stdio_tty;
		for (int i = 0; i < 3; i++) {
			h->stdio_dev[i] = p->stdio_dev[i];
			h->stdio_ino[i] = p->stdio_ino[i];
		}
		copy_name(h->nodename, p->nodename, sizeof(h->nodename));
		copy_name(h->domainname, p->domainname, sizeof(h->domainname));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (!(s & 1) && __atomic_load_n(&p->seq, __ATOMIC_RELAXED) == s)
			return;
		mig__cpu_relax();
	}
}

/* Maps the page when we run in remote role and it is one; leaves
 * mig__ident NULL (every wrapper passes through) otherwise. */
void
mig__ident_init(void)
{
	int saved = errno, fd = mig__shim.ident_fd;
	const struct mig_ident *p;
	struct stat st;
	void *m;

	MIG_REAL(real_syscall, "syscall");
	MIG_REAL(real_getpgid, "getpgid");
	MIG_REAL(real_getsid, "getsid");
	mig__pid_init();
	mig__pidarg_init();
	mig__time_init();
	mig__host_init();
	mig__proc_init();
	if (mig__shim.role != MIG_ROLE_REMOTE || fd < 0 || mig__ident != NULL)
		goto out;
	/* Beyond the end of a shorter file the page would be SIGBUS. */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size < MIG_IDENT_SIZE)
		goto out;
	m = mmap(NULL, MIG_IDENT_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		goto out;
	p = m;
	if (__atomic_load_n(&p->magic, __ATOMIC_ACQUIRE) != MIG_IDENT_MAGIC ||
	    p->size != sizeof(struct mig_ident)) {
		munmap(m, MIG_IDENT_SIZE);
		goto out;
	}
	snapshot(p, &mig__home);
	if (mig__home.pid <= 0 || mig__home.host_pid <= 0) {
		/* No pid identity: only names and clock are home's. */
		mig__home.pid = mig__home.host_pid = 0;
	} else {
		/* The group and session the job had here when we started:
		 * those read as home's (pid.c). The daemon starts the job
		 * as their leader, so they are usually host_pid itself. */
		pid_t g = real_getpgid(mig__home.host_pid);
		pid_t s = real_getsid(mig__home.host_pid);
		mig__home.job_pgid = g > 0 ? g : mig__home.host_pid;
		mig__home.job_sid = s > 0 ? s : mig__home.host_pid;
	}
	mig__ident = p;
	(void)mig__ident_offset(); /* the first mig__ident_last */
 out:
	errno = saved;
}

/*
 * syscall(2) itself, for the numbers the page answers (a program may
 * ask the kernel directly, as glibc did for gettid before 2.30). The
 * real call is made and its result mapped, so that errors, EFAULT
 * included, stay the kernel's.
 */
long
mig__syscall(long nr, const long a[6])
{
	long r;

	MIG_REAL(real_syscall, "syscall");
	if (mig__ident != NULL && (mig__pid_syscall(nr, a, &r) ||
	    mig__pidarg_syscall(nr, a, &r) || mig__time_syscall(nr, a, &r) ||
	    mig__host_syscall(nr, a, &r)))
		return r;
	return real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
