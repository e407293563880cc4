/* keygen.c: mig keygen writes the user's key for the peer links. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launcher.h"

static int
mkdirs(char *dir)
{
	for (char *p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(dir, 0700) == -1 && errno != EEXIST ? -1 : 0;
}

int
mig__keygen_main(int argc, char **argv)
{
	uint8_t key[MIG_KEY_BYTES];
	char dir[PATH_MAX], path[PATH_MAX];
	int force = 0, r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0)
			force = 1;
		else if (strcmp(argv[i], "--help") == 0) {
			puts("usage: mig keygen [-f]: writes the key for the "
			    "links between daemons\n"
			    "(-f replaces an existing key)");
			return 0;
		} else
			mig__fatal("usage: mig keygen [-f]");
	}
	if (mig_config_dir(dir, sizeof(dir)) != 0 ||
	    mig_path(path, sizeof(path), dir, "key") != 0)
		mig__fatal("config dir path too long");
	if (mkdirs(dir) == -1)
		mig__fatal("cannot create %s: %s", dir, strerror(errno));
	if (getrandom(key, sizeof(key), 0) != sizeof(key))
		mig__fatal("no randomness: %s", strerror(errno));
	r = mig__key_write(path, key, force);
	explicit_bzero(key, sizeof(key));
	if (r == MIG__ERR(EEXIST))
		mig__fatal("%s exists; 'mig keygen -f' replaces it (and every "
		    "host then needs the new one)", path);
	if (r != 0)
		mig__fatal("%s: %s", path, mig_strerror(r));
	printf("%s\n", path);
	return 0;
}
