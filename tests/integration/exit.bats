#!/usr/bin/env bats
# mig ends exactly like the remote program: same exit code, or death by
# the same signal.

load helpers

@test "exit: sh -c 'exit N' gives exit status N for N in 0 1 2 42 127 254 255" {
	local n st
	for n in 0 1 2 42 127 254 255; do
		st=0
		timeout -k 5 20 "$MIG" -h host1 sh -c "exit $n" || st=$?
		expect_eq "status of remote exit $n" "$st" "$n"
	done
}

@test "exit: a remote job killed by SIGTERM kills mig with SIGTERM (143)" {
	local st=0
	# shellcheck disable=SC2016
	timeout -k 5 20 "$MIG" -h host1 sh -c 'kill -TERM $$' || st=$?
	expect_eq "bash status of mig" "$st" 143
}

@test "exit: death by KILL, HUP, USR1, ALRM is reproduced (137 129 138 142)" {
	local sig want st
	for sig in KILL:137 HUP:129 USR1:138 ALRM:142; do
		want=${sig#*:}
		sig=${sig%:*}
		st=0
		# timeout(1) dies by its child's signal in turn, so bash sees it.
		timeout -k 5 20 "$MIG" -h host1 sh -c "kill -$sig \$\$" || st=$?
		expect_eq "status after remote kill -$sig" "$st" "$want"
	done
}

@test "exit: mig really dies by the signal (WIFSIGNALED), not exit(128+n)" {
	# bash reports a child's death by signal on stderr ("... Terminated");
	# it says nothing about an exit(143).
	run --separate-stderr timeout -k 5 20 bash -c '"$0" -h host1 sh -c "kill -TERM \$\$"; echo "st=$?"' "$MIG"
	expect_eq output "$output" st=143
	[[ $stderr == *Terminated* ]]
	# Python tells the two apart without ambiguity: a negative returncode
	# is death by signal.
	if [[ -x /usr/bin/python3 ]]; then
		run --separate-stderr timeout -k 5 20 /usr/bin/python3 -c '
import subprocess, sys
p = subprocess.run([sys.argv[1], "-h", "host1", "sh", "-c", "kill -TERM $$"])
print(p.returncode)' "$MIG"
		expect_eq "python returncode" "$output" -15
	fi
}

@test "exit: a command not found on the host exits 127" {
	run -127 --separate-stderr timeout -k 5 20 "$MIG" -h host1 no-such-command-mig-test
	run -127 --separate-stderr timeout -k 5 20 "$MIG" -h host1 /nonexistent/dir/cmd
}

@test "exit: a file that is not executable exits 126" {
	printf '#!/bin/sh\necho hi\n' >"$BATS_TEST_TMPDIR/noexec"
	chmod 0644 "$BATS_TEST_TMPDIR/noexec"
	run -126 --separate-stderr timeout -k 5 20 "$MIG" -h host1 "$BATS_TEST_TMPDIR/noexec"
}

@test "exit: a script without #! runs with sh on the host, as execvp runs it at home" {
	printf 'echo "args: $*"\nexit 7\n' >"$BATS_TEST_TMPDIR/bare"
	chmod 0755 "$BATS_TEST_TMPDIR/bare"
	mkdir "$BATS_TEST_TMPDIR/bin"
	cp "$BATS_TEST_TMPDIR/bare" "$BATS_TEST_TMPDIR/bin/bare-on-path"
	local want
	want=$(env "$BATS_TEST_TMPDIR/bare" a 'b c'; echo "status $?")
	expect_eq "at home" "$want" "args: a b c
status 7"
	run --separate-stderr timeout -k 5 20 "$MIG" -h host1 "$BATS_TEST_TMPDIR/bare" a 'b c'
	expect_eq "by its path" "$output
status $status" "$want"
	PATH=$BATS_TEST_TMPDIR/bin:$PATH run --separate-stderr timeout -k 5 20 \
		"$MIG" -h host1 bare-on-path a 'b c'
	expect_eq "found on PATH" "$output
status $status" "$want"
}
