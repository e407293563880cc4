#!/usr/bin/env bats
# mig make and mig ninja without a job count run one job per slot of the
# hosts that are up, home's included; a job count the user gives wins.
#
# The cluster gives home 2 slots, host1 3 and host2 4: 9 in all.

load helpers

setup_file() {
	cluster_up --slots 2,3,4
	wait_until 10 all_up
}

# all_up: every host's link is up.
all_up() {
	[[ $(timeout -k 2 10 "$MIG" hosts --json 3>&- | jq -r '[.[] | .state] | unique | join(" ")') == "home up" ]]
}

# project: a Makefile whose recipe prints the MAKEFLAGS it sees.
project() {
	P=$BATS_TEST_TMPDIR/p
	mkdir -p "$P"
	printf 'all:\n\t@echo "MAKEFLAGS=$$MAKEFLAGS"\n' >"$P/Makefile"
}

# jobs_of MAKEFLAGS_LINE: the -jN in it ("-j9"), or nothing.
jobs_of() { grep -o -- ' -j[0-9]*' <<<"$1" | tr -d ' '; }

@test "jobs: mig make without -j runs make -j9 (2 + 3 + 4 slots); -v says so" {
	project
	run --separate-stderr timeout -k 5 60 "$MIG" -v make -s -C "$P"
	[ "$status" -eq 0 ]
	expect_eq "make's job count" "$(jobs_of "$output")" -j9
	expect_eq stderr "$stderr" "mig: -j9: 9 slots on 3 hosts up"
	run --separate-stderr timeout -k 5 60 "$MIG" make -s -C "$P"
	expect_eq "without -v" "$(jobs_of "$output")" -j9
	expect_eq "stderr without -v" "$stderr" ""
}

@test "jobs: an explicit job count wins: -j3, -kj5, --jobs=4, -j, MAKEFLAGS=-j2, MAKEFLAGS=j" {
	project
	run --separate-stderr timeout -k 5 60 "$MIG" -v make -s -j3 -C "$P"
	expect_eq "-j3" "$(jobs_of "$output")" -j3
	expect_eq "-v with -j3" "$stderr" "mig: make has a job count: kept"
	run --separate-stderr timeout -k 5 60 "$MIG" make -s -kj5 -C "$P"
	expect_eq "-kj5" "$(jobs_of "$output")" -j5
	run --separate-stderr timeout -k 5 60 "$MIG" make -s --jobs=4 -C "$P"
	expect_eq "--jobs=4" "$(jobs_of "$output")" -j4
	run --separate-stderr timeout -k 5 60 "$MIG" make -s -j -C "$P"
	expect_eq "-j (no limit)" "$(jobs_of "$output")" -j
	MAKEFLAGS=-j2 run --separate-stderr timeout -k 5 60 "$MIG" make -s -C "$P"
	expect_eq "MAKEFLAGS=-j2" "$(jobs_of "$output")" -j2
	MAKEFLAGS=j run --separate-stderr timeout -k 5 60 "$MIG" make -s -C "$P"
	expect_eq "MAKEFLAGS=j" "$(jobs_of "$output")" -j
	# A -j hidden in a file name is not a job count.
	cp "$P/Makefile" "$P/Makefile.j"
	run --separate-stderr timeout -k 5 60 "$MIG" make -s -C "$P" -f Makefile.j
	expect_eq "-f Makefile.j" "$(jobs_of "$output")" -j9
}

@test "jobs: mig ninja without -j runs 9 jobs at once" {
	command -v ninja >/dev/null || skip "ninja is not installed"
	project
	mkdir "$P/started"
	# Each edge waits until 9 have started: with fewer at once the build
	# never ends and the timeout fails the test; nothing is timed.
	{
		printf 'rule wait\n  command = touch started/$out; until [ "$$(ls started | wc -l)" -ge 9 ]; do sleep 0.05; done\n'
		for i in $(seq 9); do printf 'build e%d: wait\n' "$i"; done
	} >"$P/build.ninja"
	run --separate-stderr timeout -k 5 120 "$MIG" -v ninja -C "$P"
	[ "$status" -eq 0 ]
	expect_eq stderr "$stderr" "mig: -j9: 9 slots on 3 hosts up"
	expect_eq "edges started" "$(ls "$P/started" | wc -l)" 9
}

@test "jobs: with host2 down, mig make runs make -j5 (2 + 3); back up, -j9" {
	project
	"$CLUSTER" kill host2
	CLEANUP+=("'$CLUSTER' start host2")
	wait_until 20 eval '[[ $(timeout -k 2 10 "$MIG" hosts --json | jq -r ".[] | select(.host == \"host2\") | .state") == down ]]'
	run --separate-stderr timeout -k 5 60 "$MIG" -v make -s -C "$P"
	[ "$status" -eq 0 ]
	expect_eq "make's job count" "$(jobs_of "$output")" -j5
	expect_eq stderr "$stderr" "mig: -j5: 5 slots on 2 hosts up"
	# cluster start finds the binaries up used, without MIG_BIN or PATH.
	env -u MIG_BIN PATH=/usr/bin:/bin "$CLUSTER" start host2
	CLEANUP=()
	wait_until 20 all_up
	run --separate-stderr timeout -k 5 60 "$MIG" make -s -C "$P"
	expect_eq "make's job count with host2 back" "$(jobs_of "$output")" -j9
}

@test "jobs: mig policy labels the run window and the placed count apart" {
	run --separate-stderr timeout -k 5 20 "$MIG" policy
	[ "$status" -eq 0 ]
	[[ $output == *$'\nPROGRAM '*' LAST RUNS '*'MEDIAN(ms)'*'PLACED SO FAR'*'VERDICT'* ]]
	[[ $output == *"LAST RUNS: the runs the median is taken over"* ]]
	[[ $output == *"PLACED SO FAR: runs placed on another host, kept across restarts of the daemon"* ]]
}
