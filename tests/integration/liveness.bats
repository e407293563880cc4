#!/usr/bin/env bats
# A dead or hung peer is noticed, and a home daemon may die mid-build:
# restartable compiles run again, other jobs end with one mig: line and
# 255, and nothing is left behind on any host. The daemons run with a
# 2 s ping timeout (--ping-timeout), so a silent link is dead after 2 s.
#
# The cluster gives home 2 slots and host1 and host2 4 each.

load helpers

setup_file() {
	cc -std=c17 -Wall -Wextra -Werror -o "$BATS_FILE_TMPDIR/sigdfl" \
		"$HELPERS_DIR/sigdfl.c"
	export SIGDFL=$BATS_FILE_TMPDIR/sigdfl
	export MIG_CLUSTER_HOMED_ARGS="--ping-timeout 2"
	cluster_up --slots 2,4,4
	wait_until 10 all_up
}

# cont NAME: wakes a stopped daemon and waits until every link is up.
cont() {
	kill -CONT "$(host_pid "$1")" 2>/dev/null || true
	wait_until 20 all_up
}

# on_host NAME PATTERN: a process that descends from host NAME's daemon
# matches PATTERN (a job of that host's, wherever pids are numbered).
on_host() {
	local p q st rest daemon
	daemon=$(host_pid "$1")
	for p in $(pgrep -f -- "$2"); do
		q=$p
		while ((q > 1)); do
			st=$(cat "/proc/$q/stat" 2>/dev/null) || break
			rest=${st##*) }
			q=$(cut -d' ' -f2 <<<"$rest")
			[[ $q == "$daemon" ]] && return 0
		done
	done
	return 1
}

@test "liveness: a host stopped mid-build is dropped after the ping timeout; its compiles run again and the build succeeds" {
	local p=$BATS_TEST_TMPDIR/p
	CLEANUP+=("cont host2")
	project "$p" 24 8
	build_ref "$p"
	build_bg "$p"
	stop_busy host2
	build_ok
	grep -E 'link host2 .*: no answer for [0-9]+ ms \(ping timeout 2000 ms\); closed' "$MIG_CLUSTER_DIR/home.log" >&2
	grep -E 'host2 lost .*running gcc again elsewhere' "$MIG_CLUSTER_DIR/home.log" >&2
	# No output twice: make's lines once each, and no compile's.
	if sort "$BATS_TEST_TMPDIR/out" | uniq -d | grep -q .; then
		cat "$BATS_TEST_TMPDIR/out" >&2
		return 1
	fi
	cont host2
	# Woken, host2 finds its link to home gone and kills its jobs.
	wait_until 20 eval "! on_host host2 'cc1 .*$p'"
}

@test "liveness: mig -h on a stopped host ends with one mig: line and 255 after the ping timeout" {
	CLEANUP+=("cont host1")
	kill -STOP "$(host_pid host1)"
	run --separate-stderr timeout -k 2 30 "$MIG" -h host1 echo never
	expect_mig_failure
	[[ ${stderr_lines[0]} == *host1*"ping timeout"* ]]
}

@test "liveness: SIGINT to a stub whose host never answered ends it at once, as SIGINT would, and nothing runs on" {
	local s pid
	CLEANUP+=("cont host1")
	s=$(unique_sleep)
	kill -STOP "$(host_pid host1)"
	"$SIGDFL" "$MIG" -h host1 sleep "$s" </dev/null >/dev/null 2>&1 3>&- &
	pid=$!
	bg_track "$pid"
	sleep 0.5
	kill -INT "$pid"
	wait_exit "$pid" 1
	expect_eq "status" "$WAIT_STATUS" 130
	cont host1
	# The EXEC that waited in host1's socket is killed (or never ran).
	sleep 1
	! on_host host1 "sleep $s"
}

@test "liveness: the home daemon killed mid-build: the build succeeds and nothing is left on any host" {
	local p=$BATS_TEST_TMPDIR/p
	CLEANUP+=("'$CLUSTER' start home || true; wait_until 20 all_up")
	project "$p" 12 6
	build_ref "$p"
	build_bg "$p"
	wait_until 60 gcc_on host1
	kill -KILL "$(host_pid home)"
	build_ok
	grep -qE "^mig: warning: (lost the connection to|cannot reach) the local mig-homed.*; running " \
		"$BATS_TEST_TMPDIR/err"
	# The hosts saw home's link close and killed what they ran for it.
	wait_until 10 eval "! on_host host1 'cc1 .*$p' && ! on_host host2 'cc1 .*$p'"
	# The stale socket and pid file do not stop the next start.
	"$CLUSTER" start home
	wait_until 20 all_up
}

@test "liveness: a job's leader that exits ends the job: mig returns its status and nothing of the job is left" {
	local s
	s=$(unique_sleep)
	run --separate-stderr timeout -k 2 30 "$MIG" -h host1 sh -c "sleep $s & exit 3"
	expect_eq "status" "$status" 3
	wait_until 5 eval "! on_host host1 'sleep $s'"
}

@test "liveness: processes that left the job's group (setsid, an orphaned double fork) die with its leader" {
	local s1 s2
	s1=$(unique_sleep)
	s2=$(unique_sleep)
	run --separate-stderr timeout -k 2 30 "$MIG" -h host1 sh -c \
		"setsid sleep $s1 & (sh -c 'sleep $s2 & exit 0') & sleep 1; exit 3"
	expect_eq "status" "$status" 3
	wait_until 5 eval "! on_host host1 'sleep $s1' && ! on_host host1 'sleep $s2'"
}

@test "liveness: kill -9 of mig kills every process of its job, also one in a session of its own" {
	local s1 s2 pid
	s1=$(unique_sleep)
	s2=$(unique_sleep)
	"$SIGDFL" "$MIG" -h host1 sh -c "setsid sleep $s1 & sleep $s2" </dev/null >/dev/null 2>&1 3>&- &
	pid=$!
	bg_track "$pid"
	wait_until 10 eval "on_host host1 'sleep $s1' && on_host host1 'sleep $s2'"
	kill -KILL "$pid"
	wait_exit "$pid" 5
	wait_until 5 eval "! on_host host1 'sleep $s1' && ! on_host host1 'sleep $s2'"
}

@test "liveness: Ctrl-C gets you out of a job whose shell waits for a child that ignores it" {
	local s pid
	s=$(unique_sleep)
	# The background sleep ignores SIGINT, as a non-interactive shell's
	# background jobs do; the shell waiting for it does not.
	"$SIGDFL" "$MIG" -h host1 sh -c "sleep $s & wait" </dev/null >/dev/null 2>&1 3>&- &
	pid=$!
	bg_track "$pid"
	wait_until 10 on_host host1 "sleep $s"
	kill -INT "$pid"
	if ! wait_exit "$pid" 5; then
		# A second Ctrl-C ends mig whatever the job does.
		kill -INT "$pid"
		wait_exit "$pid" 5
	fi
	expect_eq "status" "$WAIT_STATUS" 130
	wait_until 5 eval "! on_host host1 'sleep $s'"
}

@test "liveness: a second Ctrl-C ends mig even when the job ignores SIGINT" {
	local pid
	"$SIGDFL" "$MIG" -h host1 sh -c 'trap "" INT; sleep 1000.5' </dev/null >/dev/null 2>&1 3>&- &
	pid=$!
	bg_track "$pid"
	wait_until 10 on_host host1 "sleep 1000.5"
	kill -INT "$pid"
	sleep 0.5
	alive "$pid"
	kill -INT "$pid"
	wait_exit "$pid" 5
	expect_eq "status" "$WAIT_STATUS" 130
	# The daemon saw the stub go and killed the job.
	wait_until 5 eval "! on_host host1 'sleep 1000.5'"
}

# host_state NAME: its state in home's mig hosts, or "absent".
host_state() {
	timeout -k 2 10 "$MIG" hosts --json 3>&- | python3 -c '
import json, sys
h = {x["host"]: x["state"] for x in json.load(sys.stdin)}
print(h.get(sys.argv[1], "absent"))' "$1"
}

@test "liveness: an edited hosts file is read again without a restart: a removed host goes, a host put back comes up" {
	local hosts=$MIG_CLUSTER_DIR/home/config/hosts before
	CLEANUP+=("cp '$MIG_CLUSTER_DIR/hosts' '$hosts'; wait_until 20 all_up")
	before=$(host_pid home)
	# Edited in place, as an editor that renames a new file over it.
	grep -v '^host2 ' "$MIG_CLUSTER_DIR/hosts" >"$hosts.new"
	mv "$hosts.new" "$hosts"
	wait_until 10 eval '[[ $(host_state host2) == absent ]]'
	run --separate-stderr timeout -k 2 10 "$MIG" -h host2 true
	expect_mig_failure
	[[ ${stderr_lines[0]} == *"unknown host 'host2'"* ]]
	# Put back, and told with SIGHUP this time.
	cp "$MIG_CLUSTER_DIR/hosts" "$hosts.new"
	mv "$hosts.new" "$hosts"
	kill -HUP "$before"
	wait_until 20 all_up
	run --separate-stderr timeout -k 2 10 "$MIG" -h host2 echo back
	expect_eq "output" "$output" back
	# The same daemon all along.
	expect_eq "home's pid" "$(host_pid home)" "$before"
	grep -q 'hosts read again (it changed): 2 hosts' "$MIG_CLUSTER_DIR/home.log"
}

@test "liveness: a program the stub runs itself inherits what it would from its parent: mask, ignored signals, no fd of mig's" {
	# shellcheck disable=SC2016
	local probe='grep -E "^Sig(Blk|Ign)" /proc/self/status; ls /proc/self/fd | wc -l'
	local want got
	want=$(trap '' PIPE USR2; sh -c "$probe" 3>&-)
	got=$(trap '' PIPE USR2; "$MIG" -h home sh -c "$probe" 3>&-)
	expect_eq "what the program inherited" "$got" "$want"
	# The slot was held until the program ended, and is free again.
	run --separate-stderr timeout -k 2 10 "$MIG" ps --json
	[[ $output == "[]" ]]
}
