/*
 * ident.c: a job's identity page (include/mig/ident.h): the home's pid
 * space, names and clock, as the shim in the job reads them. The daemon
 * keeps a writable mapping; the job's subreaper maps it too, to write the
 * leader's pid, and then seals the memfd against growing, shrinking and
 * any new writer (F_SEAL_FUTURE_WRITE, helpers/start.c) before any
 * process of the job exists, so none can truncate the page under its
 * daemon (SIGBUS) or forge what the job's other processes read.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "homed.h"

void
mig__ident_clock(struct mig_ident *id, const struct peer *home)
{
	__atomic_store_n(&id->seq, id->seq + 1, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (home != NULL && home->have_offset) {
		id->offset_ns = home->offset_ns;
		id->flags |= MIG_IDENT_CLOCK;
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&id->seq, id->seq + 1, __ATOMIC_RELEASE);
}

int
mig__ident_new(const struct mig_job *job, const struct peer *home,
    struct mig_ident **idp)
{
	struct mig_ident *id;
	int fd;

	*idp = NULL;
	if ((fd = memfd_create("mig-ident", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1)
		return -1;
	if (ftruncate(fd, MIG_IDENT_SIZE) == -1 ||
	    (id = mmap(NULL, MIG_IDENT_SIZE, PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, 0)) == MAP_FAILED) {
		mig__close(fd);
		return -1;
	}
	id->magic = MIG_IDENT_MAGIC;
	id->size = sizeof(*id);
	id->pid = job->pid;
	id->ppid = job->ppid;
	id->pgid = job->pgid;
	id->sid = job->sid;
	strlcpy(id->nodename, job->nodename, sizeof(id->nodename));
	strlcpy(id->domainname, job->domainname, sizeof(id->domainname));
	mig__ident_clock(id, home);
	*idp = id;
	return fd;
}

void
mig__ident_stdio(struct mig_ident *id, uint32_t flags, const int fds[3])
{
	struct stat st;

	if (flags & MIG_JOB_TTY)
		return; /* real terminals here */
	for (int i = 0; i < 3; i++) {
		if (!(flags & (MIG_JOB_ISATTY0 << i)) || fstat(fds[i], &st) != 0)
			continue;
		id->stdio_tty |= 1u << i;
		id->stdio_dev[i] = (uint64_t)st.st_dev;
		id->stdio_ino[i] = (uint64_t)st.st_ino;
	}
}

void
mig__ident_free(struct mig_ident *id)
{
	if (id != NULL)
		munmap(id, MIG_IDENT_SIZE);
}
