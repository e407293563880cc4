/*
 * probe_full: holds more listings of /proc open at once than the shim
 * tracks (MIG_PROC_DIRS, 16) and reads each whole. Prints how many list
 * this process under the pid getpid() gives: in a job with a home pid,
 * the listings past the table show host pids, so they do not.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define LISTINGS 20

int
main(void)
{
	DIR *d[LISTINGS];
	struct dirent *e;
	int found = 0;

	for (int i = 0; i < LISTINGS; i++)
		if ((d[i] = opendir("/proc")) == NULL)
			return 1;
	for (int i = 0; i < LISTINGS; i++) {
		int here = 0;
		while ((e = readdir(d[i])) != NULL)
			here |= atoi(e->d_name) == getpid();
		found += here;
		closedir(d[i]);
	}
	printf("listings %d\nself %d\n", LISTINGS, found);
	return 0;
}
