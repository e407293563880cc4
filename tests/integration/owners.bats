#!/usr/bin/env bats
# Owners first: the jobs of other homes run below a host's owner
# (SCHED_IDLE, in a session at nice 19, unless the hosts file says
# otherwise); mig drain keeps new
# jobs off a host; mig evict, run by the owner on the host, makes it busy:
# nothing new goes there, restartable compiles run again elsewhere and
# other jobs are frozen until the host is available again.
#
# The cluster gives home 2 slots and host1 and host2 4 each; host1 runs
# jobs under the default priority, host2 at "priority normal". As root, each
# host is a machine of its own for its owner's activity (cluster --owners:
# its own terminals and CPU), and a local user, OWNER, made here and
# removed after, is host1's owner: a session on a terminal there, and
# programs in its CPU.

load helpers

setup_file() {
	if is_root; then
		OWNER=migown$$
		useradd -M -r -s /bin/sh "$OWNER"
		export OWNER
		cluster_up --slots 2,4,4 --owners
	else
		# (Without --owners the test cluster says "priority normal".)
		MIG_CLUSTER_WORDS="priority idle" cluster_up --slots 2,4,4
	fi
	wait_until 10 all_up
	# host1 is a desktop lent under the default priority; host2 stands
	# for a machine of mig's own, whose jobs need not give way (on a
	# loaded test machine, builds crawl where every host's jobs do).
	local f=$MIG_CLUSTER_DIR/host2/config/hosts log=$MIG_CLUSTER_DIR/host2.log n
	n=$(grep -c 'read again' "$log" || true)
	sed -i -E '/^host2 /{s/ priority [a-z]+//; s/$/ priority normal/}' "$f"
	wait_until 20 eval "(( \$(grep -c 'read again' '$log') > $n ))"
}

teardown_file() {
	cluster_down
	if [[ -n ${OWNER:-} ]]; then userdel "$OWNER"; fi
}

# as_owner CMD...: (root) CMD run on host1 by its owner, the user OWNER:
# on host1's terminals and in its CPU.
as_owner() {
	"$CLUSTER" owner host1 setpriv --reuid="$OWNER" --regid="$OWNER" \
		--clear-groups -- "$@"
}

# owner_gone: ends every process of OWNER's (all of them this suite's),
# by pid.
owner_gone() {
	local p
	for p in $(pgrep -u "$OWNER"); do kill -KILL "$p" 2>/dev/null || true; done
}

# owner_of HOST: OWNER in mig hosts: why it is busy, or "owner idle".
owner_of() {
	timeout -k 2 10 "$MIG" hosts --json 3>&- | python3 -c '
import json, sys
print(next(h["owner"] for h in json.load(sys.stdin) if h["host"] == sys.argv[1]))' "$1"
}

# evictions_of HOST: jobs of ours HOST evicted, and froze.
evictions_of() {
	timeout -k 2 10 "$MIG" hosts --json 3>&- | python3 -c '
import json, sys
h = next(h for h in json.load(sys.stdin) if h["host"] == sys.argv[1])
print(h["evictions"], h["freezes"])' "$1"
}

# job_ticks: "PID TICKS" (utime+stime) of every process under host1's
# daemon (its jobs), the daemon left out.
job_ticks() { python3 "$HELPERS_DIR/../cluster/jobticks.py" "$(host_pid host1)"; }

# on1 CMD...: CMD as host1's owner would run it there, against host1's
# own daemon.
on1() { on_daemon host1 "$@"; }

# sched_on HOST: "NICE POLICY" of a job on HOST, from its own /proc entry
# (fields 19 and 41 of stat; SCHED_IDLE is 5, SCHED_OTHER 0). A job
# starts with its stub's nice value (ctest may run us under nice).
sched_on() {
	timeout -k 2 30 "$MIG" -h "$1" cut -d' ' -f19,41 /proc/self/stat 3>&-
}

# autogroups_on: the kernel shares the CPU between sessions first.
autogroups_on() {
	[[ $(cat /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null) == 1 ]]
}

# autogroup_on HOST: the CPU group of a job's session on HOST, as the
# kernel shows it: "/autogroup-N nice X".
autogroup_on() {
	(cd / && timeout -k 2 60 "$MIG" -h "$1" cat /proc/self/autogroup 3>&-)
}

# state_of HOST: its STATE in mig hosts, as home sees it.
state_of() {
	timeout -k 2 10 "$MIG" hosts --json 3>&- | python3 -c '
import json, sys
print(next(h["state"] for h in json.load(sys.stdin) if h["host"] == sys.argv[1]))' "$1"
}

# state_is HOST STATE
state_is() { [[ $(state_of "$1") == "$2" ]]; }

# done_on HOST: jobs this home ran on HOST.
done_on() {
	timeout -k 2 10 "$MIG" hosts --json 3>&- | python3 -c '
import json, sys
print(next(h["jobs_done"] for h in json.load(sys.stdin) if h["host"] == sys.argv[1]))' "$1"
}

# set_line WORDS: host1's own hosts file line ends with WORDS; waits
# until its daemon has read the file again.
set_line() {
	local f=$MIG_CLUSTER_DIR/host1/config/hosts log=$MIG_CLUSTER_DIR/host1.log n
	n=$(grep -c 'read again' "$log" || true)
	sed -i "s/^\(host1 [^ ]*\).*/\1 shared $*/" "$f"
	wait_until 20 eval "(( \$(grep -c 'read again' '$log') > $n ))"
}

restore_hosts1() {
	install -m 0644 "$MIG_CLUSTER_DIR/hosts" "$MIG_CLUSTER_DIR/host1/config/hosts"
}

# on_host NAME PATTERN: the pids (numbered here) of host NAME's
# processes, the descendants of its daemon, that match PATTERN. By
# descent, not by pid namespace: unprivileged, the hosts share home's,
# where the job's stub matches too.
on_host() {
	local daemon p q st
	daemon=$(host_pid "$1")
	for p in $(mig_pgrep "$2"); do
		q=$p
		while ((q > 1)); do
			st=$(cat "/proc/$q/stat" 2>/dev/null) || break
			st=${st##*) }
			q=$(cut -d' ' -f2 <<<"$st")
			if [[ $q == "$daemon" ]]; then
				echo "$p"
				break
			fi
		done
	done
	return 0
}

on_host1() { on_host host1 "$1"; }

# host_runs NAME PATTERN: a process of host NAME's matches PATTERN.
host_runs() { [[ -n $(on_host "$1" "$2") ]]; }
host1_runs() { host_runs host1 "$1"; }

# stopped PATTERN: every process of host1's matching PATTERN is stopped
# (state T), and there is one.
stopped() {
	local p st n=0
	for p in $(on_host1 "$1"); do
		st=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		st=${st##*) }
		[[ ${st%% *} == T ]] || return 1
		n=$((n + 1))
	done
	((n > 0))
}

@test "owners: another home's job runs at SCHED_IDLE on a host by default" {
	run sched_on host1
	expect_eq "nice and policy on host1" "$output" "$(nice) 5"
	expect_eq "status" "$status" 0
}

@test "owners: by default a job's session is at nice 19 too, where the kernel shares the CPU between sessions first" {
	autogroups_on || skip "the kernel does not group the CPU by session (autogroups) here"
	run autogroup_on host1
	expect_eq "status" "$status" 0
	[[ $output == "/autogroup-"*" nice 19" ]]
	# Not so with priority normal: the job runs as its home asked.
	CLEANUP+=("restore_hosts1")
	set_line priority normal
	run autogroup_on host1
	[[ $output == "/autogroup-"*" nice 0" ]]
}

# burst_lowered N: N mig -h host1 jobs, started at once, each print their
# session's CPU group; every one of them is at nice 19.
burst_lowered() {
	local n=$1 i out=$BATS_TEST_TMPDIR/burst pids=()
	mkdir -p "$out"
	for ((i = 0; i < n; i++)); do
		autogroup_on host1 >"$out/$i" 2>&1 &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[i]}" || {
			echo "job $i failed: $(cat "$out/$i")" >&2
			return 1
		}
	done
	grep . "$out"/* >&2
	for ((i = 0; i < n; i++)); do
		[[ $(cat "$out/$i") == "/autogroup-"*" nice 19" ]] || return 1
	done
}

@test "owners: a burst of jobs on a host whose daemon has no privilege: every one's session is at nice 19" {
	autogroups_on || skip "the kernel does not group the CPU by session (autogroups) here"
	# Without CAP_SYS_ADMIN the kernel takes one autogroup change in
	# 100 ms on the whole machine: jobs started together would race for
	# it. As root, a cluster of our own whose host runs as a user.
	if ! is_root; then
		burst_lowered 4
		return
	fi
	local u=migbur$$ c out
	c=$(mktemp -d /tmp/mig-cluster.XXXXXX)
	useradd --system --no-create-home --shell /usr/sbin/nologin "$u"
	CLEANUP+=("'$CLUSTER' down '$c'" "userdel '$u'")
	out=$(MIG_CLUSTER_DIR=$c MIG_CLUSTER_WORDS="priority idle" "$CLUSTER" up 1 --user "$u" --slots 1,6)
	(
		eval "$out"
		wait_until 20 all_up
		[ "$(ps -o uid= -p "$(host_pid host1)" | tr -d ' ')" = "$(id -u "$u")" ]
		burst_lowered 6
		# The step through mig-reaper that lowers the job there
		# reports a program it cannot run as the leader would.
		run -127 --separate-stderr timeout -k 2 60 "$MIG" -h host1 /nonexistent/prog 3>&-
		expect_eq "status" "$status" 127
		expect_eq "stderr" "$stderr" "mig: host1: /nonexistent/prog: No such file or directory"
	)
}

@test "owners: 'priority normal' runs jobs as their home asked, 'priority low' at nice 19" {
	CLEANUP+=("restore_hosts1")
	set_line priority normal
	run sched_on host1
	expect_eq "with priority normal" "$output" "$(nice) 0"
	set_line priority low
	run sched_on host1
	expect_eq "with priority low" "$output" "19 0"
	# "lowest", idle's name in earlier builds, still says idle.
	set_line priority lowest
	run sched_on host1
	expect_eq "with priority lowest" "$output" "$(nice) 5"
	if autogroups_on; then
		run autogroup_on host1
		[[ $output == "/autogroup-"*" nice 19" ]]
	fi
	restore_hosts1
	set_line
	run sched_on host1
	expect_eq "without the keyword" "$output" "$(nice) 5"
}

@test "owners: mig drain keeps a build off a host, mig undrain lets it back" {
	local p=$BATS_TEST_TMPDIR/p q=$BATS_TEST_TMPDIR/q before
	CLEANUP+=("'$MIG' undrain host1 3>&-")
	project "$p" 16 4
	build_ref "$p"
	run --separate-stderr "$MIG" drain host1
	expect_eq "mig drain status" "$status" 0
	expect_eq "mig drain output" "$output$stderr" ""
	expect_eq "host1 state" "$(state_of host1)" drained
	before=$(done_on host1)
	make_ok "$p" -j12
	expect_eq "jobs done on drained host1" "$(done_on host1)" "$before"
	run --separate-stderr "$MIG" undrain host1
	expect_eq "mig undrain status" "$status" 0
	expect_eq "host1 state" "$(state_of host1)" up
	# A light build now: host1's jobs run below everything else (the
	# default priority), which on a loaded machine can take minutes for
	# the heavy one above.
	project "$q" 16 1
	build_ref "$q"
	make_ok "$q" -j12
	(($(done_on host1) > before))
}

@test "owners: mig drain of a host the hosts file lacks says so" {
	run --separate-stderr "$MIG" drain nosuchhost
	expect_mig_failure
	[[ ${stderr_lines[0]} == *nosuchhost*"hosts file"* ]]
	run --separate-stderr "$MIG" drain
	expect_mig_failure
	run --separate-stderr "$MIG" evict --later
	expect_mig_failure
}

@test "owners: mig evict freezes a running job until mig evict --end; its output is whole and in order, its status exact" {
	local out=$BATS_TEST_TMPDIR/out mark pid
	mark=owners$$x$RANDOM
	CLEANUP+=("on1 '$MIG' evict --end 3>&-")
	"$MIG" -h host1 sh -c ": $mark; i=0; while [ \$i -lt 40 ]; do echo \$i; i=\$((i+1)); sleep 0.1; done; exit 7" \
		</dev/null >"$out" 2>&1 3>&- &
	pid=$!
	bg_track "$pid"
	wait_until 30 eval "[[ -s '$out' ]]"
	run --separate-stderr on1 "$MIG" evict
	expect_eq "mig evict status" "$status" 0
	# Frozen: every process of the job is stopped, the host is busy.
	wait_until 10 stopped "$mark"
	wait_until 10 state_is host1 busy
	alive "$pid"
	expect_eq "host1's owner in mig hosts" "$(owner_of host1)" "mig evict"
	timeout -k 2 10 "$MIG" ps 3>&- | grep -E " frozen .*$mark"
	# Nothing new goes there meanwhile; named jobs are refused.
	run --separate-stderr timeout -k 2 30 "$MIG" -h host1 echo never
	expect_mig_failure
	[[ ${stderr_lines[0]} == *host1*"owner is using it"* ]]
	run --separate-stderr on1 "$MIG" evict --end
	expect_eq "mig evict --end status" "$status" 0
	wait_until 10 state_is host1 up
	wait_exit "$pid" 60
	expect_eq "status" "$WAIT_STATUS" 7
	expect_eq "output" "$(cat "$out")" "$(seq 0 39)"
	timeout -k 2 10 "$MIG" ps --recent 20 3>&- |
		grep -E "exit 7 .*frozen while its host was busy.*$mark"
	(($(evictions_of host1 | cut -d' ' -f2) >= 1))
	grep -E 'owner back \(mig evict\); frozen' "$MIG_CLUSTER_DIR/host1.log" >&2
	grep -E 'resumed' "$MIG_CLUSTER_DIR/host1.log" >&2
}

@test "owners: a host evicted mid-build stops its compiles; they run again elsewhere and the objects are byte-identical" {
	local p=$BATS_TEST_TMPDIR/p
	CLEANUP+=("on1 '$MIG' evict --end 3>&-")
	project "$p" 8 4
	build_ref "$p"
	build_bg "$p"
	wait_until 60 gcc_on host1
	run --separate-stderr on1 "$MIG" evict
	expect_eq "mig evict status" "$status" 0
	wait_until 20 eval "! gcc_on host1"
	# Gone from host1 itself within the grace, not just from home's view.
	wait_until 20 eval "! host1_runs 'cc1 .*$p'"
	build_ok
	# Each compile host1 evicted ran again elsewhere. (One that ended
	# between the look above and the eviction was not evicted: on a
	# loaded machine that can be all of them.)
	local evicted again
	evicted=$(grep -c 'evicting it, its home runs it again' "$MIG_CLUSTER_DIR/host1.log" || true)
	again=$(grep -cE "job [0-9]+: host1's owner is using it; running gcc again elsewhere" \
		"$MIG_CLUSTER_DIR/home.log" || true)
	((again >= evicted)) || {
		echo "host1 evicted $evicted compiles, home ran $again again" >&2
		return 1
	}
	# mig hosts counts them (not the jobs refused before they started);
	# mig ps --recent marks each that ran again.
	local ev
	ev=$(evictions_of host1 | cut -d' ' -f1)
	echo "mig hosts: host1 evicted $ev" >&2
	((ev <= again && (ev >= 1 || evicted == 0)))
	(($(timeout -k 2 10 "$MIG" ps --recent 200 3>&- |
		grep -c 'placed again: host1 was busy') >= again))
	# No output twice: make's lines once each, and no compile's.
	if sort "$BATS_TEST_TMPDIR/out" | uniq -d | grep -q .; then
		cat "$BATS_TEST_TMPDIR/out" >&2
		return 1
	fi
	on1 "$MIG" evict --end 3>&-
	wait_until 10 state_is host1 up
}

@test "owners: with 'idle N' a host is busy while its owner types on a terminal there, then available again" {
	local stop=$BATS_TEST_TMPDIR/stop keys=$BATS_TEST_TMPDIR/keys
	CLEANUP+=("restore_hosts1" "rm -f '$stop'")
	# The kernel moves a terminal's access time at most every 8 s (what
	# w(1) sees too): 9 s keeps a host busy while its owner types.
	set_line idle 9
	: >"$stop"
	if is_root; then
		# A session of host1's owner on a terminal of host1's; once the
		# host is available (its login was activity too), the owner
		# types a line every 0.2 s.
		CLEANUP+=("owner_gone")
		mkfifo "$keys"
		as_owner script -qfc 'cat >/dev/null' /dev/null <"$keys" >/dev/null 2>&1 3>&- &
		bg_track $!
		exec {kfd}>"$keys"
		wait_until 30 pgrep -u "$OWNER" -x cat
		wait_until 30 state_is host1 up
		(while [[ -e $stop ]]; do echo x; sleep 0.2; done) >&$kfd 3>&- &
		bg_track $!
		exec {kfd}>&-
	else
		# Unprivileged, the hosts are this machine: a terminal of ours
		# whose access time moves every 0.2 s stands in.
		python3 -c '
import os, pty, sys, time
m, s = pty.openpty()
while os.path.exists(sys.argv[1]):
    os.utime(os.ttyname(s), None)
    time.sleep(0.2)' "$stop" 3>&- &
		bg_track $!
	fi
	wait_until 30 state_is host1 busy
	[[ $(owner_of host1) == "owner input "*"s ago" ]]
	run --separate-stderr timeout -k 2 30 "$MIG" -h host1 echo never
	expect_mig_failure
	[[ ${stderr_lines[0]} == *"owner is using it (owner input "*"s ago)"* ]]
	rm -f "$stop"
	wait_until 60 state_is host1 up
	expect_eq "host1's owner in mig hosts" "$(owner_of host1)" "owner idle"
	grep -E 'busy \(owner input [0-9]+s ago\)' "$MIG_CLUSTER_DIR/host1.log" >&2
	grep -E 'available again \(owner idle\)' "$MIG_CLUSTER_DIR/host1.log" >&2
}

@test "owners: host1's owner starts a CPU-bound program mid-build: within 1 s host1's jobs use no CPU, they run again elsewhere, the objects are byte-identical" {
	is_root || skip "needs root: a user of its own for host1's owner, and hosts with CPUs of their own"
	local p=$BATS_TEST_TMPDIR/p t1 t2 evicted again
	CLEANUP+=("restore_hosts1" "owner_gone")
	set_line idle 2 owner-cpu 0.05
	project "$p" 8 4
	build_ref "$p"
	wait_until 30 state_is host1 up
	build_bg "$p"
	wait_until 60 gcc_on host1
	# In a session of its own, as from a terminal of the owner's.
	as_owner setsid sh -c 'while :; do :; done' </dev/null >/dev/null 2>&1 3>&- &
	bg_track $!
	wait_until 60 grep -qE 'busy \(owner cpu [0-9.]+\)' "$MIG_CLUSTER_DIR/host1.log"
	[[ $(owner_of host1) == "owner cpu "* ]]
	# A second after it turned busy, no job process on host1 uses CPU:
	# the evicted are gone, anything else is stopped.
	sleep 1
	t1=$(job_ticks)
	sleep 0.5
	t2=$(job_ticks)
	echo "host1's job processes, then and 0.5 s later (pid ticks):" >&2
	echo "$t1" >&2
	echo "$t2" >&2
	python3 -c '
import sys
a = dict(l.split() for l in sys.argv[1].splitlines() if l)
b = dict(l.split() for l in sys.argv[2].splitlines() if l)
grew = [p for p in a if p in b and int(b[p]) > int(a[p])]
sys.exit(f"still using CPU: {grew}" if grew else 0)' "$t1" "$t2"
	owner_gone
	wait_until 60 state_is host1 up
	build_ok
	# Each compile host1 evicted ran again elsewhere; mig ps --recent
	# marks it, mig hosts counts it.
	evicted=$(grep -c 'evicting it, its home runs it again' "$MIG_CLUSTER_DIR/host1.log" || true)
	again=$(timeout -k 2 10 "$MIG" ps --recent 200 3>&- | grep -c 'placed again: host1 was busy' || true)
	echo "host1 evicted $evicted compiles; mig ps shows $again run again" >&2
	((again >= evicted))
	(($(evictions_of host1 | cut -d' ' -f1) >= evicted))
}

@test "owners: host1 flapping between busy and available every 2 s during a build: objects identical, no output lost or doubled" {
	local p=$BATS_TEST_TMPDIR/p out=$BATS_TEST_TMPDIR/count flap=$BATS_TEST_TMPDIR/flap mark pid
	mark=owners$$f$RANDOM
	CLEANUP+=("rm -f '$flap'" "on1 '$MIG' evict --end 3>&-")
	project "$p" 12 4
	build_ref "$p"
	# A job that prints a counter, frozen and resumed with each flap.
	"$MIG" -h host1 sh -c ": $mark; i=0; while [ \$i -lt 60 ]; do echo \$i; i=\$((i+1)); sleep 0.1; done; exit 5" \
		</dev/null >"$out" 2>&1 3>&- &
	pid=$!
	bg_track "$pid"
	wait_until 30 eval "[[ -s '$out' ]]"
	build_bg "$p"
	: >"$flap"
	(while [[ -e $flap ]]; do
		on1 "$MIG" evict
		sleep 2
		on1 "$MIG" evict --end
		sleep 2
	done) </dev/null >/dev/null 2>&1 3>&- &
	bg_track $!
	build_ok
	wait_exit "$pid" 120
	rm -f "$flap"
	expect_eq "counter's status" "$WAIT_STATUS" 5
	expect_eq "counter's output" "$(cat "$out")" "$(seq 0 59)"
	if sort "$BATS_TEST_TMPDIR/out" | uniq -d | grep -q .; then
		cat "$BATS_TEST_TMPDIR/out" >&2
		return 1
	fi
	# make printed each compile once: one line per object.
	expect_eq "compile lines" "$(grep -o -- '-o obj/[^ ]*' "$BATS_TEST_TMPDIR/out" | sort)" \
		"$(cd "$p.ref" && ls -- *.o | sed 's|^|-o obj/|' | sort)"
	grep -c 'busy (mig evict)' "$MIG_CLUSTER_DIR/host1.log" >&2
}

# big_c FILE: a C file that gcc -O2 takes seconds to compile.
big_c() {
	python3 -c '
for i in range(3000):
    print(f"int f{i}(int x){{int s=0;for(int j=0;j<x;j++)s+=j*{i}^(s>>3);return s;}}")' >"$1"
}

# gcc_killed HOW: a mig -h host2 gcc, with a TMPDIR of its own, is ended
# once its first /tmp/cc* file is there (HOW: "stub", its stub gets
# SIGKILL; "link", home's daemon stops, so host2 loses the link); then
# nothing of it runs on host2 and its TMPDIR is empty. On host2 (priority
# normal): under the default a job below everything may get no CPU at all
# in its grace on a loaded machine, and its files then stay.
gcc_killed() {
	local t=$BATS_TEST_TMPDIR/tmp.$1 src=$BATS_TEST_TMPDIR/big$1.c pid
	mkdir -m 0700 "$t"
	big_c "$src"
	"$MIG" -h host2 env TMPDIR="$t" gcc -O2 -c "$src" -o "$src.o" \
		</dev/null >"$BATS_TEST_TMPDIR/gcc.err" 2>&1 3>&- &
	pid=$!
	bg_track "$pid"
	wait_until 60 eval "compgen -G '$t/cc*' >/dev/null"
	wait_until 60 host_runs host2 "cc1 .*$src"
	ls -l "$t" >&2
	case $1 in
	stub) kill -KILL "$pid" ;;
	link)
		"$CLUSTER" kill home
		"$CLUSTER" start home
		;;
	esac
	wait_until 20 eval "! host_runs host2 '$src'"
	expect_eq "left in the job's TMPDIR on host2" "$(ls -A "$t")" ""
}

@test "owners: a gcc whose stub is killed mid-way leaves none of its /tmp/cc* files behind" {
	gcc_killed stub
}

@test "owners: a gcc whose host loses its link mid-way leaves none of its /tmp/cc* files behind" {
	CLEANUP+=("wait_until 20 all_up")
	gcc_killed link
	wait_until 20 all_up
}
