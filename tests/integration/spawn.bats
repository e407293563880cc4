#!/usr/bin/env bats
# posix_spawn of a placed program: the shim forks the stub and runs its
# loop in the child, with no exec of mig. What the caller asked of
# posix_spawn (file actions, signal mask and defaults, a process group)
# and what it sees (the pid it waits on, the status, the output) are
# those of a native run. A child of fork or vfork that execs a placed
# program becomes its stub in place, with no exec either.

load helpers

setup_file() {
	cc -std=c17 -Wall -Wextra -Werror -o "$BATS_FILE_TMPDIR/spawnfa" \
		"$HELPERS_DIR/spawnfa.c"
	cc -std=c17 -Wall -Wextra -Werror -o "$BATS_FILE_TMPDIR/execpaths" \
		"$HELPERS_DIR/execpaths.c"
	export SPAWNFA=$BATS_FILE_TMPDIR/spawnfa EXECPATHS=$BATS_FILE_TMPDIR/execpaths
	# fakecc: placed by the tests' policy. Its $$ is its home pid; the
	# sleep keeps its median run above the short-run threshold.
	mkdir "$BATS_FILE_TMPDIR/bin"
	export FAKECC=$BATS_FILE_TMPDIR/bin/fakecc
	cat >"$FAKECC" <<'SH'
#!/bin/sh
sleep 0.05
echo "pid=$$ cwd=$(pwd)"
echo "to stderr, from $(pwd)" >&2
if [ "$1" = wait ]; then echo ready; exec sleep 30; fi
exit 3
SH
	chmod +x "$FAKECC"
	cluster_up --slots 2,4,4
	wait_until 10 all_up
}

# native_and_placed MODE ARG...: runs spawnfa MODE fakecc ARG... natively
# and under mig, each in a folder of its own; the outputs, with the
# "stub:" line aside, in $BATS_TEST_TMPDIR/{native,mig}.
native_and_placed() {
	local mode=$1 d
	shift
	for d in native mig; do
		mkdir -p "$BATS_TEST_TMPDIR/$d.dir"
	done
	timeout -k 5 60 "$SPAWNFA" "$BATS_TEST_TMPDIR/native.dir" "$mode" \
		"$FAKECC" "$@" >"$BATS_TEST_TMPDIR/native.all"
	timeout -k 5 60 "$MIG" "$SPAWNFA" "$BATS_TEST_TMPDIR/mig.dir" "$mode" \
		"$FAKECC" "$@" >"$BATS_TEST_TMPDIR/mig.all" \
		2>"$BATS_TEST_TMPDIR/mig.err"
	for d in native mig; do
		grep -v '^stub: ' "$BATS_TEST_TMPDIR/$d.all" |
			sed "s|$BATS_TEST_TMPDIR/$d.dir|DIR|g" >"$BATS_TEST_TMPDIR/$d"
	done
	cat "$BATS_TEST_TMPDIR/mig.all" "$BATS_TEST_TMPDIR/mig.err" >&2
	diff -u "$BATS_TEST_TMPDIR/native" "$BATS_TEST_TMPDIR/mig"
}

# ran_on_a_host: the last fakecc job ran on host1 or host2, not at home.
ran_on_a_host() {
	timeout -k 2 10 "$MIG" ps --json --recent 1 3>&- | python3 -c '
import json, sys
j = [x for x in json.load(sys.stdin) if "fakecc" in x["command"]]
print(j, file=sys.stderr)
assert len(j) == 1 and j[0]["host"] in ("host1", "host2"), j'
}

@test "spawn: file actions and attributes of posix_spawn apply to a placed program's forked stub" {
	use_policy fakecc
	native_and_placed plain
	file_has "$BATS_TEST_TMPDIR/native" "status: exit 3"
	file_has "$BATS_TEST_TMPDIR/native" "out: pid=SPAWNED cwd=DIR"
	file_has "$BATS_TEST_TMPDIR/native" "err.txt: to stderr, from DIR"
	file_has "$BATS_TEST_TMPDIR/native" "waitpid: the spawned pid"
	file_has "$BATS_TEST_TMPDIR/native" "own group: yes"
	# No mig was exec'd: the process the caller waits on runs the
	# caller's own program, as its fork.
	file_has "$BATS_TEST_TMPDIR/mig.all" "stub: forked"
	ran_on_a_host
}

@test "spawn: SIGTERM to the pid posix_spawn returned ends the placed program by SIGTERM" {
	use_policy fakecc
	native_and_placed kill wait
	file_has "$BATS_TEST_TMPDIR/native" "status: signal 15"
	file_has "$BATS_TEST_TMPDIR/mig.all" "stub: forked"
	ran_on_a_host
}

@test "spawn: file actions the shim cannot replay get the exec'd stub, with the same result" {
	use_policy fakecc
	native_and_placed closefrom
	file_has "$BATS_TEST_TMPDIR/native" "status: exit 3"
	file_has "$BATS_TEST_TMPDIR/mig.all" "stub: exec'd"
	ran_on_a_host
}

@test "spawn: a caller with several threads gets the exec'd stub, with the same result" {
	use_policy fakecc
	native_and_placed thread
	file_has "$BATS_TEST_TMPDIR/native" "status: exit 3"
	file_has "$BATS_TEST_TMPDIR/mig.all" "stub: exec'd"
	ran_on_a_host
}

@test "spawn: make's compiles are forked stubs: no mig --stub is exec'd" {
	command -v strace >/dev/null || skip "strace is not installed"
	use_policy fakecc
	local p=$BATS_TEST_TMPDIR/p
	mkdir "$p"
	printf 'all: a b\na b:\n\t%s\n' "$FAKECC" >"$p/Makefile"
	run timeout -k 5 60 strace -f -qq -e trace=execve -e signal=none \
		-o "$BATS_TEST_TMPDIR/trace" "$MIG" make -s -k -C "$p" -j2
	echo "$output" >&2
	# fakecc exits 3: make -k runs both and fails.
	expect_eq "make's status" "$status" 2
	expect_eq "fakecc runs" "$(grep -c '^pid=' <<<"$output")" 2
	expect_eq "execs of mig --stub" \
		"$(grep -c '"--stub"' "$BATS_TEST_TMPDIR/trace")" 0
}

@test "spawn: vfork+exec, a shell's fork+exec and its exec: the process becomes the stub, no mig --stub is exec'd" {
	command -v strace >/dev/null || skip "strace is not installed"
	use_policy fakecc
	export PATH=$BATS_FILE_TMPDIR/bin:$PATH
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr timeout -k 5 60 strace -f -qq -e trace=execve \
		-e signal=none -o "$BATS_TEST_TMPDIR/trace" \
		"$MIG" "$EXECPATHS" vfork fakecc
	echo "status $status, stdout $output, stderr $stderr" >&2
	expect_eq "status of vfork+exec" "$status" 3
	[[ $output == "pid="[0-9]*" cwd=$BATS_TEST_TMPDIR" ]]
	ran_on_a_host
	# shellcheck disable=SC2016
	run --separate-stderr timeout -k 5 60 strace -f -qq -e trace=execve \
		-e signal=none -o "$BATS_TEST_TMPDIR/trace2" \
		"$MIG" sh -c 'fakecc; echo "status $?"'
	echo "status $status, stdout $output, stderr $stderr" >&2
	expect_eq "the shell's line" "${lines[1]}" "status 3"
	ran_on_a_host
	# exec in place: the shell itself becomes the stub.
	run --separate-stderr timeout -k 5 60 strace -f -qq -e trace=execve \
		-e signal=none -o "$BATS_TEST_TMPDIR/trace3" \
		"$MIG" sh -c 'exec fakecc'
	echo "status $status, stdout $output, stderr $stderr" >&2
	expect_eq "status of exec fakecc" "$status" 3
	[[ $output == "pid="[0-9]*" cwd=$BATS_TEST_TMPDIR" ]]
	ran_on_a_host
	cat "$BATS_TEST_TMPDIR"/trace* >&2
	expect_eq "execs of mig --stub" \
		"$(cat "$BATS_TEST_TMPDIR"/trace* | grep -c '"--stub"')" 0
}

@test "spawn: a child of clone(CLONE_VM) that execs a placed program, which shares its parent's memory, gets the exec'd stub" {
	command -v strace >/dev/null || skip "strace is not installed"
	use_policy fakecc
	export PATH=$BATS_FILE_TMPDIR/bin:$PATH
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr timeout -k 5 60 strace -f -qq -e trace=execve \
		-e signal=none -o "$BATS_TEST_TMPDIR/trace" \
		"$MIG" "$EXECPATHS" clonevm fakecc
	echo "status $status, stdout $output, stderr $stderr" >&2
	expect_eq "status" "$status" 3
	[[ $output == "pid="[0-9]*" cwd=$BATS_TEST_TMPDIR" ]]
	ran_on_a_host
	expect_eq "execs of mig --stub" \
		"$(grep -c '"--stub"' "$BATS_TEST_TMPDIR/trace")" 1
}
