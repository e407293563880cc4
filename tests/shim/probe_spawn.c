/* probe_spawn: children started every way keep the home identity (the
 * page's descriptor and the shim's variables pass through exec). */
#include <spawn.h>
#include <sys/wait.h>

#include "probe.h"

extern char **environ;

/* key, then the child's own line. */
static void
child_says(const char *key)
{
	printf("%s ", key);
	fflush(stdout);
}

int
main(void)
{
	char *uname_n[] = { "uname", "-n", NULL };
	char *host[] = { "hostname", NULL };
	char line[256];
	long ppid;
	pid_t pid;
	FILE *f;
	int status;

	child_says("vfork+execvp(uname-n)");
	if ((pid = vfork()) == 0) {
		execvp(uname_n[0], uname_n);
		_exit(127);
	}
	waitpid(pid, &status, 0);

	child_says("fork+execv(hostname)");
	if ((pid = fork()) == 0) {
		execv("/bin/hostname", host);
		_exit(127);
	}
	waitpid(pid, &status, 0);

	child_says("posix_spawnp(hostname)");
	if (posix_spawnp(&pid, "hostname", NULL, NULL, host, environ) == 0)
		waitpid(pid, &status, 0);

	child_says("system(sh-c-hostname)");
	system("sh -c hostname");

	if ((f = popen("hostname", "r")) != NULL &&
	    fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		say("popen(hostname)", "%s", line);
	}
	if (f != NULL)
		pclose(f);

	if ((f = popen("echo $PPID", "r")) != NULL &&
	    fgets(line, sizeof(line), f) != NULL) {
		ppid = strtol(line, NULL, 10);
		say("popen(echo-$PPID)==getpid", "%s",
		    ppid == getpid() ? "yes" : "no");
	}
	if (f != NULL)
		pclose(f);
	return 0;
}
