# helpers.bash: shared by every integration test file (load helpers).
#
# Each .bats file gets its own loopback cluster (home, host1, host2) from
# setup_file; teardown_file takes it down, also when tests or setup_file
# fail. Binaries come from $MIG_BIN (CTest sets it), else build/bin.

# shellcheck shell=bash disable=SC2154,SC2034
# (status, output, stderr and stderr_lines come from bats' run; WAIT_STATUS,
# SOLO_ENV and the like are set here for the test files.)

bats_require_minimum_version 1.5.0

HELPERS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLUSTER=$HELPERS_DIR/../cluster/cluster

mig_env_setup() {
	if [[ -z ${MIG_BIN:-} ]]; then
		MIG_BIN=$HELPERS_DIR/../../build/bin
	fi
	MIG_BIN=$(cd "$MIG_BIN" 2>/dev/null && pwd) || {
		echo "no binaries: MIG_BIN=$MIG_BIN does not exist (build first)" >&2
		return 1
	}
	export MIG_BIN
	export MIG=$MIG_BIN/mig HOMED=$MIG_BIN/mig-homed RSH=$MIG_BIN/mig-rsh
	local b dirs
	for b in "$MIG" "$HOMED" "$RSH"; do
		[[ -x $b ]] || {
			echo "missing $b (build first)" >&2
			return 1
		}
	done
	# PATH folders this user cannot search are dropped: the caller's
	# (su without -, root's ~/.cargo/bin) would make execvp report EACCES,
	# 126, for a command that is simply not there.
	local d path=
	IFS=: read -r -a dirs <<<"$PATH"
	for d in "${dirs[@]}"; do
		[[ -n $d && -d $d && -x $d ]] && path+=${path:+:}$d
	done
	export PATH=$MIG_BIN:$path
	# Under valgrind the tests' `timeout`s grow by MIG_TEST_SLOW too.
	if ((${MIG_TEST_SLOW:-1} > 1)); then PATH=$HELPERS_DIR/slow:$PATH; fi
	# Tests state what they want; nothing leaks in from the caller, and
	# no daemon keeps its history in the user's own state folder.
	unset MIG_NO_AUTOSTART MIG_ALLOW_ROOT MIG_CONFIG_DIR MIG_RUNTIME_DIR MIG_HOST
	export XDG_STATE_HOME=${BATS_FILE_TMPDIR:-${BATS_RUN_TMPDIR:-/tmp}}/state
}

# cluster_up [--slots S]: home, host1 and host2; options go to cluster up.
# shellcheck disable=SC2120 # make.bats passes --slots
cluster_up() {
	mig_env_setup || return 1
	MIG_CLUSTER_DIR=$(mktemp -d /tmp/mig-cluster.XXXXXX)
	export MIG_CLUSTER_DIR
	local out
	out=$("$CLUSTER" up 2 "$@") || return 1
	eval "$out"
	cluster_watchdog
}

# cluster_watchdog: if this bats process is killed before teardown_file
# can run (ctest's TIMEOUT, kill -9), takes the cluster down anyway.
cluster_watchdog() {
	local owner=$$ dir=$MIG_CLUSTER_DIR
	(
		while [[ -d $dir ]] && alive "$owner"; do
			sleep 1
		done
		if [[ -d $dir ]]; then "$CLUSTER" down "$dir"; fi
	) </dev/null >/dev/null 2>&1 3>&- &
}

cluster_down() {
	if [[ -n ${MIG_CLUSTER_DIR:-} ]]; then
		"$CLUSTER" down "$MIG_CLUSTER_DIR"
	fi
}

setup_file() {
	cluster_up
}

teardown_file() {
	cluster_down
}

setup() {
	# CI runs without standard input; every command gets an explicit one.
	exec </dev/null
	BG_PIDS=()
	CLEANUP=()
}

teardown() {
	local p
	failure_report
	for p in "${BG_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	for p in "${CLEANUP[@]}"; do
		eval "$p" || true
	done
}

# tail_of FILE N: FILE's last N lines under a heading, if it has any.
tail_of() {
	[[ -s $1 ]] || return 0
	echo "--- last lines of $1:"
	tail -n "$2" -- "$1"
}

# failure_report: when the test failed (teardown calls it first), what
# mig and the daemons said, which bats shows with the failure: the last
# `run` (command, status, stdout, stderr), the stderr files the test kept
# in $BATS_TEST_TMPDIR (err, NAME.err), and the tails of the daemons'
# logs (the cluster's, a standalone daemon's). A test that passed or was
# skipped prints nothing.
failure_report() {
	local f
	[[ -z ${BATS_TEST_COMPLETED:-} && -z ${BATS_TEST_SKIPPED:-} ]] || return 0
	{
		echo "=== what mig and its daemons said (test failed) ==="
		if [[ -n ${BATS_RUN_COMMAND:-} ]]; then
			echo "--- last run: $BATS_RUN_COMMAND"
			echo "status: ${status-}"
			printf 'stdout: %s\n' "${output-}"
			if [[ -n ${stderr+set} ]]; then printf 'stderr: %s\n' "$stderr"; fi
		fi
		for f in "${BATS_TEST_TMPDIR:-/nonexistent}"/{err,*.err,*.err.raw}; do
			if [[ -f $f ]]; then tail_of "$f" 30; fi
		done
		if [[ -n ${MIG_CLUSTER_DIR:-} ]]; then
			tail_of "$MIG_CLUSTER_DIR/home.log" 40
			tail_of "$MIG_CLUSTER_DIR/home.stderr" 10
			for f in "$MIG_CLUSTER_DIR"/host*.log "$MIG_CLUSTER_DIR"/host*/run/homed.log; do
				if [[ -f $f ]]; then tail_of "$f" 10; fi
			done
		fi
		if [[ -n ${SOLO:-} ]]; then tail_of "$SOLO/run/homed.log" 40; fi
	} >&2
}

is_root() { ((EUID == 0)); }

# bg_track PID: teardown kills it if the test did not.
bg_track() { BG_PIDS+=("$1"); }

# alive PID: exists and is not a zombie.
alive() {
	local st
	[[ -n $1 && -r /proc/$1/stat ]] || return 1
	st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n $st && $st != Z && $st != X ]]
}

# wait_until SECS CMD...: polls CMD every 20 ms; fails after SECS seconds
# (times MIG_TEST_SLOW, which scripts/test --valgrind sets: the daemons
# are that much slower there; nothing waits longer than it must).
wait_until() {
	local secs=$(($1 * ${MIG_TEST_SLOW:-1})) end
	shift
	end=$(($(date +%s%N) + secs * 1000000000))
	while ! "$@"; do
		if (($(date +%s%N) > end)); then
			echo "timed out after ${secs}s waiting for: $*" >&2
			return 1
		fi
		sleep 0.02
	done
}

# file_has FILE LINE: FILE holds LINE as a whole line.
file_has() { grep -qxF -- "$2" "$1" 2>/dev/null; }

# wait_exit PID SECS: waits for background job PID (a child of this shell)
# and sets WAIT_STATUS to its status; after SECS it is SIGKILLed and this
# fails.
wait_exit() {
	local pid=$1 secs=$2
	if ! wait_until "$secs" eval "! kill -0 $pid 2>/dev/null"; then
		echo "process $pid still running after ${secs}s; killing it" >&2
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 1
	fi
	WAIT_STATUS=0
	wait "$pid" || WAIT_STATUS=$?
}

# expect_eq WHAT ACTUAL EXPECTED
expect_eq() {
	if [[ "$2" != "$3" ]]; then
		printf '%s: expected %q, got %q\n' "$1" "$3" "$2" >&2
		return 1
	fi
}

# expect_mig_failures: like expect_mig_failure, but for a failure that two
# processes report (mig and the daemon it tried to start): one or more
# lines, each starting "mig:".
expect_mig_failures() {
	local ok=1 l
	[[ $status -eq 255 && -z $output && ${#stderr_lines[@]} -ge 1 ]] || ok=0
	for l in "${stderr_lines[@]}"; do
		[[ $l == mig:* ]] || ok=0
	done
	if ((!ok)); then
		echo "expected exit 255, no stdout and only 'mig: ...' lines on stderr" >&2
		echo "got status $status" >&2
		echo "stdout: $(printf %q "$output")" >&2
		echo "stderr: $(printf %q "$stderr")" >&2
		return 1
	fi
}

# expect_mig_failure: after `run --separate-stderr`, mig's own failure:
# status 255, stdout empty, stderr exactly one line starting "mig:".
expect_mig_failure() {
	local ok=1
	[[ $status -eq 255 ]] || ok=0
	[[ -z $output ]] || ok=0
	[[ ${#stderr_lines[@]} -eq 1 && ${stderr_lines[0]} == mig:* ]] || ok=0
	if ((!ok)); then
		echo "expected exit 255, no stdout and one stderr line 'mig: ...'" >&2
		echo "got status $status" >&2
		echo "stdout: $(printf %q "$output")" >&2
		echo "stderr: $(printf %q "$stderr")" >&2
		return 1
	fi
}

# mig_pgrep PATTERN: pids whose full command line matches PATTERN (an ERE),
# zombies excluded (they have no command line). Processes in the host
# daemons' pid namespaces are visible here, in the parent namespace.
mig_pgrep() { pgrep -f -- "$1"; }

# unique_sleep: a `sleep` argument no other process uses, e.g. 1000.04213123.
unique_sleep() { printf '1000.%05d%05d' "$$" "$((RANDOM))"; }

# host_pid NAME: the cluster daemon's pid in this pid namespace.
host_pid() { cat "$MIG_CLUSTER_DIR/$1.pid"; }

# The daemons are not dumpable (security.md), so only root may read
# their /proc entries beyond stat and cmdline.
# daemon_ns PID KIND: the KIND (pid, uts) namespace a daemon runs in.
# Unprivileged, the cluster gives host daemons none of their own, so it
# is ours when the daemon's own entry cannot be read.
daemon_ns() {
	readlink "/proc/$1/ns/$2" 2>/dev/null || readlink "/proc/self/ns/$2"
}

# daemon_exe PID: the program a daemon runs (its argv[0] when its exe
# link cannot be read).
daemon_exe() {
	readlink "/proc/$1/exe" 2>/dev/null || tr '\0' '\n' <"/proc/$1/cmdline" | head -n 1
}

# solo_setup: a standalone daemon's dirs (not part of the cluster), in
# $SOLO: config with hosts "solo 127.0.0.1:$SOLO_PORT" and a key; run dir
# $SOLO/run not created. teardown stops any daemon started there.
solo_setup() {
	SOLO=$(mktemp -d /tmp/mig-solo.XXXXXX)
	SOLO_PORT=$("$CLUSTER" freeport)
	mkdir -m 0700 "$SOLO/config"
	printf '# standalone daemon for one test\nsolo 127.0.0.1:%s\n' "$SOLO_PORT" >"$SOLO/config/hosts"
	MIG_CONFIG_DIR=$SOLO/config "$MIG" keygen </dev/null >/dev/null 3>&-
	[[ -f $SOLO/config/key ]] || {
		echo "mig keygen made no key in $SOLO/config" >&2
		return 1
	}
	CLEANUP+=("solo_cleanup '$SOLO'")
}

# solo_env: env(1) arguments that point mig and mig-homed at $SOLO.
solo_env() {
	SOLO_ENV=(MIG_CONFIG_DIR="$SOLO/config" MIG_RUNTIME_DIR="$SOLO/run" MIG_HOST=solo)
}

solo_cleanup() {
	local dir=$1 pid
	pid=$(cat "$dir/run/homed.pid" 2>/dev/null || true)
	if [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" &&
		{ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -q mig-homed; then
		kill -TERM "$pid"
		wait_until 2 eval "! alive $pid" || kill -KILL "$pid"
	fi
	# A daemon of this dir that wrote no pid file: found by its environment.
	for pid in $(pgrep -f -- mig-homed); do
		if { tr '\0' '\n' <"/proc/$pid/environ"; } 2>/dev/null | grep -qxF "MIG_RUNTIME_DIR=$dir/run"; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
	rm -rf "$dir"
}

# --- builds (make.bats, liveness.bats) ---------------------------------
# GENERATE is examples/demo/generate.
GENERATE=$HELPERS_DIR/../../examples/demo/generate

# all_up: every host's link is up.
all_up() {
	timeout -k 2 10 "$MIG" hosts --json 3>&- | python3 -c '
import json, sys
sys.exit(not all(h["state"] in ("home", "up") for h in json.load(sys.stdin)))'
}

# on_daemon NAME CMD...: CMD against daemon NAME's own socket and config
# (home's: as the cluster's environment says).
on_daemon() {
	local name=$1
	shift
	if [[ $name == home ]]; then
		"$@"
		return
	fi
	env MIG_CONFIG_DIR="$MIG_CLUSTER_DIR/$name/config" \
		MIG_RUNTIME_DIR="$MIG_CLUSTER_DIR/$name/run" MIG_HOST="$name" \
		MIG_NO_AUTOSTART=1 "$@"
}

# host_field NAME FIELD [AT]: FIELD of host NAME in mig hosts --json of
# daemon AT (default home).
host_field() {
	on_daemon "${3:-home}" timeout -k 2 10 "$MIG" hosts --json 3>&- | python3 -c '
import json, sys
print({h["host"]: h for h in json.load(sys.stdin)}[sys.argv[1]][sys.argv[2]])' "$1" "$2"
}

# host_row NAME [AT]: NAME's line of mig hosts' table at daemon AT
# (default home).
host_row() {
	on_daemon "${2:-home}" timeout -k 2 10 "$MIG" hosts 3>&- | grep -E "^$1 "
}

# build_words: the release and build id of this build, as mig hosts'
# VERSION shows them ("0.2.0 (git 1a2b3c4)").
build_words() {
	local v
	v=$("$HOMED" --version)
	echo "${v#mig-homed }"
}

# use_policy LINE...: home's policy file holds LINEs for this test.
use_policy() {
	printf '%s\n' "$@" >"$MIG_CONFIG_DIR/policy"
	CLEANUP+=("rm -f '$MIG_CONFIG_DIR/policy'")
}

# project DIR FILES SCALE: a generated demo project in DIR.
project() {
	"$GENERATE" -n "$2" -s "$3" "$1" >/dev/null
}

# build_ref DIR: a plain local make in DIR, whose objects and program are
# kept in DIR.ref; then make clean, so that the build under test happens
# at the same path (gcc -g records the build directory).
build_ref() {
	local dir=$1
	(cd "$dir" && timeout -k 5 300 make -j2 >/dev/null) || {
		echo "local make in $dir failed" >&2
		return 1
	}
	mkdir "$dir.ref"
	cp "$dir"/obj/*.o "$dir/demo" "$dir.ref/"
	(cd "$dir" && make clean >/dev/null)
}

# same_objects DIR: DIR/obj holds exactly the objects of DIR.ref, byte for
# byte, and ./demo prints what the local build's did.
same_objects() {
	local dir=$1 f bad=0
	expect_eq "objects" "$(cd "$dir/obj" && ls)" "$(cd "$dir.ref" && ls -- *.o)" || return 1
	for f in "$dir.ref"/*.o; do
		cmp -- "$f" "$dir/obj/${f##*/}" >&2 || bad=1
	done
	((bad == 0)) || return 1
	expect_eq "./demo" "$("$dir/demo")" "$("$dir.ref/demo")"
}

# make_ok DIR MAKEARGS...: `mig make MAKEARGS` in DIR ends with status 0
# and the objects of DIR.ref.
make_ok() {
	cd "$1" || return 1
	shift
	run --separate-stderr timeout -k 5 300 "$MIG" make "$@"
	if ((status != 0)); then
		echo "mig make: status $status, stderr: $stderr" >&2
		return 1
	fi
	same_objects "$PWD"
}

# build_bg DIR: starts `mig make -j12` in DIR in the background, stdout and
# stderr to $BATS_TEST_TMPDIR/out and err; sets BG_PID.
build_bg() {
	cd "$1" || return 1
	"$MIG" make -j12 </dev/null >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	BG_PID=$!
	bg_track "$BG_PID"
}

# build_ok: the build of build_bg ended (within 300 s) with status 0 and
# the objects of DIR.ref.
build_ok() {
	wait_exit "$BG_PID" 300
	if ((WAIT_STATUS != 0)); then
		echo "mig make: status $WAIT_STATUS, stderr:" >&2
		cat "$BATS_TEST_TMPDIR/err" >&2
		return 1
	fi
	same_objects "$PWD"
}


# mig_version: the project's version from CMakeLists.txt, as --version
# should print it.
mig_version() {
	sed -n 's/^project(mig VERSION \([0-9.]*\).*/\1/p' "$HELPERS_DIR/../../CMakeLists.txt"
}

# proto_version: the newest protocol this build's daemons speak
# (MIG_PROTO_VERSION), which two of them use between them.
proto_version() {
	sed -n 's/^#define MIG_PROTO_VERSION \([0-9]*\).*/\1/p' "$HELPERS_DIR/../../include/mig/proto.h"
}

# expect_version PROG OUTPUT: OUTPUT is what PROG --version should print:
# "PROG VERSION (ID)", where ID names the commit the build came from
# ("git HASH", "-dirty.HASH" added for changes) or, outside a git
# checkout, a hash of the sources.
expect_version() {
	local prog=$1 out=$2 v head
	v=$(mig_version)
	if ! [[ $out =~ ^"$prog $v ("(git [0-9a-f]{7}(-dirty\.[0-9a-f]{7})?|sources [0-9a-f]{7}, not git)")"$ ]]; then
		printf '%s --version: expected "%s %s (git HASH)", got %q\n' "$prog" "$prog" "$v" "$out" >&2
		return 1
	fi
	# In a checkout, the hash names one of its commits (the build may
	# predate the last commit, so not necessarily HEAD).
	if git -C "$HELPERS_DIR" rev-parse -q --verify HEAD >/dev/null 2>&1; then
		head=${out#"$prog $v (git "}
		head=${head:0:7}
		git -C "$HELPERS_DIR" rev-parse -q --verify "$head^{commit}" >/dev/null || {
			printf '%s --version: %q names no commit of this checkout\n' "$prog" "$out" >&2
			return 1
		}
	fi
}

# gcc_on NAME: mig ps shows a compile running on host NAME.
gcc_on() {
	timeout -k 2 10 "$MIG" ps --json 3>&- | python3 -c '
import json, sys
sys.exit(not any(j["host"] == sys.argv[1] and "gcc" in j["command"]
                 and j["state"] == "running" for j in json.load(sys.stdin)))' "$1"
}

# stop_busy NAME: stops host NAME's daemon while a compile runs there
# (as home sees it once the daemon is stopped, so none can end there).
stop_busy() {
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		wait_until 60 gcc_on "$1" || return 1
		kill -STOP "$(host_pid "$1")"
		gcc_on "$1" && return 0
		kill -CONT "$(host_pid "$1")"
	done
	return 1
}
