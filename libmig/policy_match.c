/* policy_match.c: matching a program against the placement policy, and
 * telling the programs the shim cannot follow. */
#include <elf.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"

/* One pattern token against one character: "[0-9]" or a literal. */
static size_t
token(const char *p, size_t plen, char c, int *ok)
{
	if (plen >= 5 && memcmp(p, "[0-9]", 5) == 0) {
		*ok = c >= '0' && c <= '9';
		return 5;
	}
	*ok = c == *p;
	return 1;
}

/*
 * Wildcard matching without recursion: on a mismatch, the last '*' takes
 * one more character and the rest is tried again. At most length of
 * name times length of pattern steps, whatever the pattern.
 */
static int
match(const char *p, size_t plen, const char *s)
{
	const char *star_s = NULL;
	size_t pi = 0, star_pi = 0;

	while (*s != '\0') {
		int ok = 0;
		size_t n = 0;
		if (pi < plen && p[pi] == '*') {
			star_pi = ++pi;
			star_s = s;
			continue;
		}
		if (pi < plen)
			n = token(p + pi, plen - pi, *s, &ok);
		if (ok) {
			pi += n;
			s++;
		} else if (star_s != NULL) {
			pi = star_pi;
			s = ++star_s;
		} else {
			return 0;
		}
	}
	while (pi < plen && p[pi] == '*')
		pi++;
	return pi == plen;
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
