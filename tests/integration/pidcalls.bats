#!/usr/bin/env bats
# Calls that name a process by pid (priority, affinity, scheduling,
# limits, I/O priority, process group) take the pids a placed job sees:
# util-linux's renice, taskset, chrt, prlimit and ionice on the job's
# shell, its child, a grandchild and its group, and bash's job control,
# do on host1 what they do at home.
# Each script runs natively and placed, in a session of its own (setsid
# -w): same status, same output and stderr once its pids read as names.
#
# Only as root do the hosts have pid namespaces of their own; without
# them a home pid is also a process on the host (the stub), and a call
# that was never translated would seem to work.

load helpers

setup_file() {
	if ! is_root; then
		export PIDCALLS_SKIP="the hosts share home's pid space unless run as root"
		return 0
	fi
	# Placed jobs run below the host's owner (SCHED_IDLE) by default;
	# these tests compare priorities with a native run, so as asked.
	MIG_CLUSTER_WORDS="priority normal" cluster_up
}

setup() {
	[[ -z ${PIDCALLS_SKIP:-} ]] || skip "$PIDCALLS_SKIP"
	exec </dev/null
	BG_PIDS=()
	CLEANUP=()
}

# named PIDS TEXT: TEXT with the pids of PIDS ("pids SELF KID GRANDKID",
# the script's first line of output) as those words.
named() {
	local self kid gkid
	read -r _ self kid gkid <<<"$1"
	sed -E "s/\\b$self\\b/SELF/g; ${kid:+s/\\b$kid\\b/KID/g;} \
		${gkid:+s/\\b$gkid\\b/GRANDKID/g}" <<<"$2"
}

# same_as_native SCRIPT [SHELL]: SHELL (sh) -c SCRIPT natively and on
# host1 (each in a session of its own) exits alike and prints alike,
# pids aside.
same_as_native() {
	local script=$1 sh=${2:-sh} n_status n_out n_err
	run --separate-stderr timeout -k 5 60 setsid -w "$sh" -c "$script"
	n_status=$status
	n_out=$(named "${lines[0]}" "$output")
	n_err=$(named "${lines[0]}" "$stderr")
	run --separate-stderr timeout -k 5 60 setsid -w "$MIG" -h host1 \
		"$sh" -c "$script"
	printf 'native: status %s\n%s\n%s\n' "$n_status" "$n_out" "$n_err" >&2
	printf 'on host1: status %s\n%s\n%s\n' "$status" "$output" "$stderr" >&2
	expect_eq "status on host1" "$status" "$n_status"
	expect_eq "output on host1" "$(named "${lines[0]}" "$output")" "$n_out"
	expect_eq "stderr on host1" "$(named "${lines[0]}" "$stderr")" "$n_err"
	# The pids line and more: the script ran.
	((${#lines[@]} > 1))
}

# The script's start: a child, and a grandchild (a child's child, whose
# home pid the job knows only from the identity page), both sleeping;
# then the pids, for named().
START='f=$(mktemp); sleep 60 & kid=$!
sh -c '\''sleep 60 & echo $! >"$1"; wait'\'' _ "$f" &
until [ -s "$f" ]; do sleep 0.05; done; gkid=$(cat "$f"); rm -f "$f"
echo "pids $$ $kid $gkid"
'
END='kill $kid $gkid; wait'

@test "renice: the shell, its child, a grandchild and its group, by the pids they have at home" {
	same_as_native "$START"'
renice -n 7 $$ >/dev/null; renice -n 5 $$
renice -n 9 $kid; renice -n 11 $gkid
for p in $$ $kid $gkid; do ps -o ni= -p $p; done
renice -n 4 -g $$
for p in $$ $kid $gkid; do ps -o ni= -p $p; done
'"$END"
}

@test "renice: a pid that names no process fails as at home" {
	same_as_native 'echo "pids $$"; renice -n 5 999999; echo "status $?"'
}

@test "taskset: affinity of the shell, its child and a grandchild" {
	same_as_native "$START"'
taskset -p $$; taskset -pc 0 $kid; taskset -p $kid; taskset -pc 1 $gkid
taskset -cp $gkid; taskset -p $$
'"$END"
}

@test "chrt: scheduling policy of the shell, its child and a grandchild" {
	same_as_native "$START"'
chrt -p $$; chrt -b -p 0 $kid; chrt -p $kid; chrt -i -p 0 $gkid
chrt -p $gkid; chrt -o -p 0 $kid; chrt -p $kid; chrt -p $$
'"$END"
}

@test "prlimit: limits of the shell, its child and a grandchild" {
	same_as_native "$START"'
prlimit --pid $$ --nofile=512:1024
prlimit --pid $kid --nofile=1000:2000 --core=0:0
prlimit --pid $gkid --nproc=100:200
for p in $$ $kid $gkid; do
	prlimit --pid $p --nofile --core --nproc --noheadings -o RESOURCE,SOFT,HARD
done
prlimit --pid 999999 --nofile; echo "status $?"
'"$END"
}

@test "ionice: I/O class of the shell, its child, a grandchild and its group" {
	same_as_native "$START"'
ionice -c 2 -n 3 -p $$; ionice -p $$
ionice -c 3 -p $kid; ionice -p $kid
ionice -c 2 -n 6 -p $gkid; ionice -p $gkid
ionice -c 2 -n 1 -P $$; ionice -p $$ $kid $gkid
ionice -p 999999; echo "status $?"
'"$END"
}

@test "bash job control (set -m): a background job leads a group named by its pid, kill -- -\$! ends it" {
	same_as_native 'set -m; sleep 60 & kid=$!; echo "pids $$ $kid"
echo "group of" $(ps -o pid=,pgid= -p $kid)
kill -- -$kid; wait $kid; echo "wait $?"' bash
}

@test "job control, the calls bash makes for Ctrl-Z and kill -9 %1: a stopped child's group, killed by its pgid, is reaped under its pid" {
	# waitpid(-1) as bash's SIGCHLD handler calls it (WUNTRACED and
	# WCONTINUED); killpg as bash's kill %N. The child stops itself, so
	# every step waits for the one before it.
	same_as_native 'import os, signal
kid = os.fork()
if kid == 0:
    os.setpgid(0, 0)
    os.kill(os.getpid(), signal.SIGSTOP)
    os._exit(3)
print("pids", os.getpid(), kid, flush=True)
pid, st = os.waitpid(-1, os.WUNTRACED | os.WCONTINUED)
print("waitpid", pid, "stopped by", signal.Signals(os.WSTOPSIG(st)).name)
print("group of", kid, os.getpgid(kid))
os.killpg(kid, signal.SIGKILL)
pid, st = os.waitpid(-1, os.WUNTRACED | os.WCONTINUED)
print("waitpid", pid, "killed by", signal.Signals(os.WTERMSIG(st)).name)' python3
}
