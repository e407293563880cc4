#!/usr/bin/env bats
# Why did it run here? mig ps says where each job runs and why, mig ps
# --recent lists the jobs that ended and how, and the run-time history
# behind "too short to place" outlives the daemon.
#
# home has 1 slot, host1 3: a lone placed job goes to host1.

load helpers

setup_file() {
	cluster_up --slots 1,3,3
	wait_until 10 all_up
}

# ps_field JSONFILTER: runs mig ps --json --recent 50 and prints what the
# python expression says of the list j.
ps_field() {
	timeout -k 2 10 "$MIG" ps --json --recent 50 3>&- | python3 -c "
import json, sys
j = json.load(sys.stdin)
print($1)"
}

@test "why: a placed job says where it runs and why, and once ended, how it ended" {
	local pid out=$BATS_TEST_TMPDIR/ps
	use_policy sleep
	"$MIG" sleep 4.5 </dev/null >/dev/null 2>&1 3>&- &
	pid=$!
	bg_track "$pid"
	# One look at mig ps while it runs, in both forms.
	# Its FILES come with the host's STARTED: wait for that too.
	wait_until 10 eval 'timeout -k 2 10 "$MIG" ps >"$out" 3>&- && grep -qE "its hosts file\) +sleep 4.5" "$out"'
	timeout -k 2 10 "$MIG" ps --json >"$out.json" 3>&-
	grep -E "^ *$pid +host1 +[0-9]+ .* running +placed: most free slots \(host1 3, home 1\) +shared \(its hosts file\) +sleep 4.5\$" "$out" ||
		{ cat "$out" >&2; false; }
	python3 -c '
import json, sys
j = [x for x in json.load(open(sys.argv[1])) if x["command"] == "sleep 4.5"]
assert len(j) == 1 and j[0]["why"] == "placed: most free slots (host1 3, home 1)", j
assert j[0]["files"] == "shared (its hosts file)", j' "$out.json"
	wait_exit "$pid" 20
	run ps_field '[(x["host"], x["state"]) for x in j if x["command"] == "sleep 4.5"][-1]'
	expect_eq "ended job" "$output" "('host1', 'exit 0')"
	# Without --recent, an ended job is not shown.
	run --separate-stderr timeout -k 2 10 "$MIG" ps --json
	[[ $output != *"sleep 4.5"* ]]
}

@test "why: the history outlives the daemon, and a program it finds too short runs at home and says so" {
	local state=$MIG_CLUSTER_DIR/home/state/mig
	use_policy true
	# An earlier daemon's history: five runs of true, 1 ms each.
	"$CLUSTER" kill home
	mkdir -p "$state"
	printf 'true 5 5 0 1 1 1 1 1\n' >"$state/history-home"
	"$CLUSTER" start home
	wait_until 20 all_up
	run --separate-stderr timeout -k 2 10 "$MIG" policy --json
	[ "$status" -eq 0 ]
	echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
runs = [p for p in d["history"] if p["program"] == "true"]
assert runs and runs[0]["runs"] == 5 and not runs[0]["still_placed"], d'
	"$MIG" true </dev/null 3>&-
	run ps_field '[(x["host"], x["why"]) for x in j if x["command"] == "true"][-1]'
	expect_eq "where and why" "$output" "('home', 'history: true runs under 25 ms')"
	# Stopped, the daemon leaves the history with the sixth run in it.
	# Under valgrind 3.19 (no pidfd_open) home cannot watch a run of
	# its own, and times nothing of it: the five runs may be left.
	local runs=6
	[[ ${MIG_CLUSTER_VALGRIND:-0} == 1 ]] && runs='[56]'
	"$CLUSTER" kill home
	grep -q "^true $runs " "$state/history-home"
	"$CLUSTER" start home
	wait_until 20 all_up
}
