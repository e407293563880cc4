#!/usr/bin/env bats
# A daemon lost, as the user sees it: a build whose home daemon dies says
# so once, not once per compile, and goes on; a job placed again after its
# host was lost says so in mig ps, also once it ended.
#
# The cluster gives home 1 slot and host1 and host2 3 each: a lone job
# goes to host1.

load helpers

setup_file() {
	cluster_up --slots 1,3,3
	wait_until 10 all_up
}

# restart NAME: the cluster's daemon NAME running and every link up again.
restart() {
	if ! alive "$(cat "$MIG_CLUSTER_DIR/$1.wrap" 2>/dev/null)"; then
		"$CLUSTER" start "$1"
	fi
	wait_until 20 all_up
}

# one_warning FILE: FILE (a build's stderr) holds exactly one mig: line,
# the warning that the daemon is gone and the build runs here.
one_warning() {
	local n
	n=$(grep -c '^mig:' "$1" || true)
	if ((n != 1)) || ! grep -qE "^mig: warning: (lost the connection to|cannot reach) the local mig-homed.*; running .* here, and this build's other placed programs too" "$1"; then
		echo "want one 'mig: warning:' line, got $n mig: lines:" >&2
		cat "$1" >&2
		return 1
	fi
}

@test "lost: the home daemon killed mid-build: one warning for the whole build, which succeeds" {
	local p=$BATS_TEST_TMPDIR/p pid
	CLEANUP+=("restart home")
	project "$p" 12 6
	build_ref "$p"
	cd "$p"
	"$MIG" make -j4 </dev/null >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	BG_PID=$!
	bg_track "$BG_PID"
	wait_until 60 gcc_on host1
	kill -KILL "$(host_pid home)"
	build_ok
	one_warning "$BATS_TEST_TMPDIR/err"
}

@test "lost: the home daemon gone before make starts its compiles: one warning, the build succeeds" {
	local p=$BATS_TEST_TMPDIR/p
	CLEANUP+=("restart home")
	project "$p" 8 1
	build_ref "$p"
	cd "$p"
	# The shell runs in home role, with the daemon's socket in its
	# environment; the daemon dies before make starts.
	run --separate-stderr timeout -k 5 300 "$MIG" sh -c \
		"kill -KILL $(host_pid home) && exec make -j4"
	[ "$status" -eq 0 ]
	same_objects "$p"
	printf '%s\n' "$stderr" >"$BATS_TEST_TMPDIR/err"
	one_warning "$BATS_TEST_TMPDIR/err"
	# The mark that kept the others quiet stays while the build runs
	# (its process, sh then make, is gone now); the next mig make, or
	# any mig in home role, removes it.
	compgen -G "$MIG_RUNTIME_DIR/lost-*" >/dev/null
	restart home
	"$MIG" sh -c true </dev/null 3>&-
	run compgen -G "$MIG_RUNTIME_DIR/lost-*"
	expect_eq "marks left in the runtime folder" "$output" ""
}

# ps_why PATTERN [--recent]: the "host why" of the jobs whose command
# matches PATTERN, from mig ps --json, one a line.
ps_why() {
	local pattern=$1
	shift
	timeout -k 2 10 "$MIG" ps --json "$@" 3>&- | python3 -c '
import json, re, sys
for j in json.load(sys.stdin):
    if re.search(sys.argv[1], j["command"]):
        print(j["host"], j["why"])' "$pattern"
}

@test "lost: a job placed again after its host was lost says so in mig ps and mig ps --recent" {
	local pid
	CLEANUP+=("restart host1")
	# A program the default policy places and may run twice (gcc-NN):
	# a script that sleeps long enough to lose its host meanwhile.
	mkdir "$BATS_TEST_TMPDIR/bin"
	# Long enough to be seen running on host2 too, on a loaded machine.
	printf '#!/bin/sh\nsleep 10\necho done\n' >"$BATS_TEST_TMPDIR/bin/gcc-97"
	chmod +x "$BATS_TEST_TMPDIR/bin/gcc-97"
	export PATH=$BATS_TEST_TMPDIR/bin:$PATH
	"$MIG" gcc-97 </dev/null >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	bg_track "$pid"
	wait_until 20 eval '[[ $(ps_why gcc-97) == "host1 placed: "* ]]'
	"$CLUSTER" kill host1
	# Placed again, on host2: the table and the JSON say why.
	wait_until 20 eval '[[ $(ps_why gcc-97) == host2\ * ]]'
	expect_eq "mig ps --json, placed again" "$(ps_why gcc-97)" \
		"host2 placed again: host1 lost; most free slots (host2 3, home 1)"
	run --separate-stderr timeout -k 2 10 "$MIG" ps
	[ "$status" -eq 0 ]
	echo "$output" | grep -E "^ *$pid +host2 +[0-9]+ .* running +placed again: host1 lost; most free slots \(host2 3, home 1\) +.* +gcc-97\$"
	wait_exit "$pid" 60
	expect_eq "status" "$WAIT_STATUS" 0
	expect_eq "output, once" "$(cat "$BATS_TEST_TMPDIR/out")" done
	# Ended, it keeps its reason in mig ps --recent.
	expect_eq "mig ps --recent" "$(ps_why gcc-97 --recent 50)" \
		"host2 placed again: host1 lost; most free slots (host2 3, home 1)"
	run --separate-stderr timeout -k 2 10 "$MIG" ps --recent 50
	echo "$output" | grep -E "^ *$pid +host2 +[0-9]+ .* exit 0 +placed again: host1 lost; most free slots"
}
