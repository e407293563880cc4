/* probe_pid: getpid and friends, in the placed process, a forked child,
 * a vfork child and a thread. */
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "probe.h"

static void *
thread(void *arg)
{
	pid_t *pid = arg;

	say("thread.getpid", "%s", pidname(getpid()));
	say("thread.getpid==main.getpid", "%s",
	    getpid() == *pid ? "yes" : "no");
	say("thread.gettid==getpid", "%s", gettid() == getpid() ? "yes" : "no");
	say("thread.gettid==realtid", "%s",
	    gettid() == ((pid_t (*)(void))libc_fn("gettid"))() ? "yes" : "no");
	return NULL;
}

/* The first field of DIR/stat, read as any program would. */
static long
proc_stat_pid(const char *dir)
{
	char path[64];
	long pid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/stat", dir);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = -1;
	fclose(f);
	return pid;
}

int
main(void)
{
	char path[64];
	pid_t me, child, vchild = 0;
	static volatile pid_t vpid, vppid;
	int vpipe[2];
	pthread_t t;
	int status;

	ids = real_ids();
	me = getpid();
	say("getpid", "%s", pidname(me));
	say("getppid", "%s", pidname(getppid()));
	say("gettid", "%s", pidname(gettid()));
	say("getpgrp", "%s", pidname(getpgrp()));
	say("getpgid(0)", "%s", pidname(getpgid(0)));
	say("getpgid(getpid)", "%s", pidname(getpgid(me)));
	say("getpgid(real)", "%s", pidname(getpgid((pid_t)ids.pid)));
	say("getsid(0)", "%s", pidname(getsid(0)));
	say("getsid(getpid)", "%s", pidname(getsid(me)));
	say("getpgid(realparent)", "%s", pidname(getpgid((pid_t)ids.ppid)));
	say("getpgid(-5)", "%s", res(getpgid(-5)));
	say("getsid(-5)", "%s", res(getsid(-5)));
	say("getpgid(bad)", "%s", res(getpgid(999999999)));
	say("getsid(bad)", "%s", res(getsid(999999999)));
	say("syscall(getpid)", "%s", pidname(syscall(SYS_getpid)));
	say("syscall(getppid)", "%s", pidname(syscall(SYS_getppid)));
	say("syscall(gettid)", "%s", pidname(syscall(SYS_gettid)));
	say("syscall(getpgid,0)", "%s", pidname(syscall(SYS_getpgid, 0)));
	say("syscall(getpgid,getpid)", "%s",
	    pidname(syscall(SYS_getpgid, me)));
	say("syscall(getsid,0)", "%s", pidname(syscall(SYS_getsid, 0)));
	say("syscall(getpgid,bad)", "%s",
	    res(syscall(SYS_getpgid, 999999999)));
	say("syscall(getpgrp)", "%s", pidname(syscall(SYS_getpgrp)));
	/* /proc about itself, as ps and pgrep read it: the pids it sees. */
	say("/proc/self/stat.pid", "%s", pidname(proc_stat_pid("/proc/self")));
	snprintf(path, sizeof(path), "/proc/%d", (int)me);
	say("/proc/getpid/stat.pid", "%s", pidname(proc_stat_pid(path)));
	/* errno untouched by a call that succeeds */
	errno = 1234;
	(void)getpid();
	(void)getppid();
	(void)getpgid(0);
	(void)syscall(SYS_getpid);
	say("errno-kept", "%d", errno);

	fflush(stdout);
	if ((child = fork()) == 0) {
		struct real_ids mine = real_ids();
		say("child.getpid==real", "%s",
		    getpid() == (pid_t)mine.pid ? "yes" : "no");
		say("child.getppid==parent.getpid", "%s",
		    getppid() == me ? "yes" : "no");
		say("child.syscall(getppid)==parent.getpid", "%s",
		    syscall(SYS_getppid) == me ? "yes" : "no");
		say("child.getpgrp", "%s", pidname(getpgrp()));
		say("child.getsid(0)", "%s", pidname(getsid(0)));
		say("child.getpgid(parent)", "%s", pidname(getpgid(getppid())));
		_exit(0);
	}
	waitpid(child, &status, 0);
	say("child.status", "%d", status);

	/* The child reports through a pipe, not through memory it may
	 * share with us: the shim gives placed jobs fork for vfork. */
	if (pipe(vpipe) != 0)
		return 1;
	if ((vchild = vfork()) == 0) {
		pid_t ids[2] = { getpid(), getppid() };
		(void)!write(vpipe[1], ids, sizeof(ids));
		_exit(0);
	}
	waitpid(vchild, &status, 0);
	{
		pid_t ids[2] = { 0, 0 };
		(void)!read(vpipe[0], ids, sizeof(ids));
		vpid = ids[0];
		vppid = ids[1];
	}
	say("vfork.getpid==child", "%s", vpid == vchild ? "yes" : "no");
	say("vfork.getppid==getpid", "%s", vppid == me ? "yes" : "no");

	pthread_create(&t, NULL, thread, &me);
	pthread_join(t, NULL);
	return 0;
}
