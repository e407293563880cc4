/*
 * relro.c: a static PIE's relocated data (.got, .data.rel.ro, its init and
 * fini arrays) read-only again once relocated, as glibc's start makes
 * them and musl's does not (RELRO). For the static per-job programs
 * (cmake/static.cmake); where the libc did it already, it changes nothing.
 */
#include <link.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core.h"

static int
protect(struct dl_phdr_info *info, size_t size, void *unused)
{
	uintptr_t mask = ~((uintptr_t)sysconf(_SC_PAGESIZE) - 1);

	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[i];
		uintptr_t start = (info->dlpi_addr + p->p_vaddr) & mask;
		/* Whole pages only: the last one may hold writable data. */
		uintptr_t end = (info->dlpi_addr + p->p_vaddr + p->p_memsz) &
		    mask;

		if (p->p_type == PT_GNU_RELRO && end > start)
			mprotect((void *)start, end - start, PROT_READ);
	}
	return 1; /* the program is the first object */
}

void
mig__relro(void)
{
	dl_iterate_phdr(protect, NULL);
}
