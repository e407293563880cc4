#!/usr/bin/env bats
# Signals sent to mig reach the remote job; killing mig kills the job.

load helpers

setup_file() {
	# bash starts background jobs with SIGINT and SIGQUIT ignored and no
	# trap can undo that; sigdfl starts mig with every signal at default.
	cc -std=c17 -Wall -Wextra -Werror -o "$BATS_FILE_TMPDIR/sigdfl" \
		"$HELPERS_DIR/sigdfl.c"
	export SIGDFL=$BATS_FILE_TMPDIR/sigdfl
	cluster_up
}

# start_bg OUT CMD...: starts CMD in the background through sigdfl, stdout
# and stderr to OUT, stdin from /dev/null; sets BG_PID.
start_bg() {
	local out=$1
	shift
	"$SIGDFL" "$@" </dev/null >"$out" 2>&1 3>&- &
	BG_PID=$!
	bg_track "$BG_PID"
}

@test "signals: the sigdfl helper really starts a background job with no signal ignored" {
	start_bg "$BATS_TEST_TMPDIR/out" grep SigIgn /proc/self/status
	wait_exit "$BG_PID" 10
	expect_eq "SigIgn of a job started by sigdfl" "$(cat "$BATS_TEST_TMPDIR/out")" \
		$'SigIgn:\t0000000000000000'
}

# forward SIG: mig forwards SIG to the remote job, whose trap prints got-SIG
# and exits 7.
forward() {
	local sig=$1 out=$BATS_TEST_TMPDIR/out.$1
	start_bg "$out" "$MIG" -h host1 -n sh -c \
		"trap 'echo got-$sig; exit 7' $sig; echo ready; while :; do sleep 0.05; done"
	wait_until 10 file_has "$out" ready || {
		cat "$out" >&2
		return 1
	}
	kill -s "$sig" "$BG_PID"
	wait_exit "$BG_PID" 10 || {
		cat "$out" >&2
		return 1
	}
	if ! file_has "$out" "got-$sig" || [[ $WAIT_STATUS -ne 7 ]]; then
		echo "after kill -$sig mig: status $WAIT_STATUS (want 7), output:" >&2
		cat "$out" >&2
		return 1
	fi
}

@test "signals: SIGINT to mig reaches the remote job" { forward INT; }
@test "signals: SIGTERM to mig reaches the remote job" { forward TERM; }
@test "signals: SIGHUP to mig reaches the remote job" { forward HUP; }
@test "signals: SIGQUIT to mig reaches the remote job" { forward QUIT; }
@test "signals: SIGUSR1 to mig reaches the remote job" { forward USR1; }
@test "signals: SIGUSR2 to mig reaches the remote job" { forward USR2; }

@test "signals: a signal the job does not catch kills mig the same way (TERM: 143)" {
	local arg
	arg=$(unique_sleep)
	start_bg "$BATS_TEST_TMPDIR/out" "$MIG" -h host1 -n sleep "$arg"
	wait_until 10 eval "mig_pgrep '^sleep $arg\$' >/dev/null"
	kill -TERM "$BG_PID"
	wait_exit "$BG_PID" 10
	expect_eq "mig's status" "$WAIT_STATUS" 143
	wait_until 3 eval "! mig_pgrep '^sleep $arg\$' >/dev/null"
}

@test "signals: a signal reaches the remote job's whole process group" {
	local arg
	arg=$(unique_sleep)
	# The remote sh waits on a background sleep: both are in the job's
	# process group, and both must get the TERM.
	start_bg "$BATS_TEST_TMPDIR/out" "$MIG" -h host1 -n sh -c "sleep $arg & wait"
	wait_until 10 eval "mig_pgrep '^sleep $arg\$' >/dev/null"
	kill -TERM "$BG_PID"
	wait_exit "$BG_PID" 10
	expect_eq "mig's status" "$WAIT_STATUS" 143
	wait_until 3 eval "! mig_pgrep '^sleep $arg\$' >/dev/null"
}

@test "signals: kill -9 of mig kills the remote job within a second or so" {
	local arg
	arg=$(unique_sleep)
	start_bg "$BATS_TEST_TMPDIR/out" "$MIG" -h host1 -n sleep "$arg"
	wait_until 10 eval "mig_pgrep '^sleep $arg\$' >/dev/null" || {
		cat "$BATS_TEST_TMPDIR/out" >&2
		return 1
	}
	kill -KILL "$BG_PID"
	wait_exit "$BG_PID" 5
	expect_eq "mig's status" "$WAIT_STATUS" 137
	wait_until 3 eval "! mig_pgrep '^sleep $arg\$' >/dev/null"
}

@test "signals: kill -9 of mig kills the remote job's whole process group" {
	local arg
	arg=$(unique_sleep)
	start_bg "$BATS_TEST_TMPDIR/out" "$MIG" -h host2 -n sh -c "sleep $arg & sleep $arg; wait"
	wait_until 10 eval "[ \$(mig_pgrep '^sleep $arg\$' | wc -l) -eq 2 ]"
	kill -KILL "$BG_PID"
	wait_exit "$BG_PID" 5
	wait_until 3 eval "! mig_pgrep '^sleep $arg\$' >/dev/null"
}
