/* policy_match.c: matching a program against the placement policy, and
 * telling the programs the shim cannot follow. */
#include <elf.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"

static int
match(const char *p, size_t plen, const char *s)
{
	if (plen == 0)
		return *s == '\0';
	if (*p == '*') {
		for (;; s++) {
			if (match(p + 1, plen - 1, s))
				return 1;
			if (*s == '\0')
				return 0;
		}
	}
	if (plen >= 5 && memcmp(p, "[0-9]", 5) == 0)
		return *s >= '0' && *s <= '9' && match(p + 5, plen - 5, s + 1);
	return *s != '\0' && *s == *p && match(p + 1, plen - 1, s + 1);
}

int
mig__policy_match(const char *policy, const char *path)
{
	const char *base = strrchr(path, '/'), *p = policy;

	base = base != NULL ? base + 1 : path;
	while (*p != '\0') {
		size_t n = strcspn(p, ":");
		int named = *p == '=';
		if (n > (size_t)named && match(p + named, n - named, base))
			return named ? 2 : 1;
		p += n + (p[n] == ':');
	}
	return 0;
}

const char *
mig__unshimmable(const char *path)
{
	const char *why = NULL;
	Elf64_Ehdr eh;
	struct stat st;
	int fd, dynamic = 0;

	if (stat(path, &st) == -1)
		return NULL;
	if (st.st_mode & (S_ISUID | S_ISGID))
		return "setuid or setgid";
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	/* An ELF file without an interpreter loads no LD_PRELOAD. */
	if (read(fd, &eh, sizeof(eh)) == sizeof(eh) &&
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
	    eh.e_ident[EI_CLASS] == ELFCLASS64) {
		for (int i = 0; i < eh.e_phnum && !dynamic; i++) {
			Elf64_Phdr ph;
			if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff +
			    (uint64_t)i * eh.e_phentsize)) != sizeof(ph))
				break;
			dynamic = ph.p_type == PT_INTERP;
		}
		if (!dynamic)
			why = "statically linked";
	}
	close(fd);
	return why;
}
