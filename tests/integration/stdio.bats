#!/usr/bin/env bats
# stdin, stdout and stderr of a remote job: three separate binary-safe
# streams that end when they should.

load helpers

@test "stdio: 5 MiB of random bytes go through mig -h host1 cat unchanged (file)" {
	head -c 5M /dev/urandom >"$BATS_TEST_TMPDIR/in"
	timeout -k 5 20 "$MIG" -h host1 cat <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
}

@test "stdio: 5 MiB of random bytes go through mig -h host1 cat unchanged (pipes)" {
	head -c 5M /dev/urandom >"$BATS_TEST_TMPDIR/in"
	cat "$BATS_TEST_TMPDIR/in" | timeout -k 5 20 "$MIG" -h host1 cat | cat >"$BATS_TEST_TMPDIR/out"
	[ "${PIPESTATUS[1]}" -eq 0 ]
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
}

@test "stdio: stdout and stderr stay separate" {
	timeout -k 5 20 "$MIG" -h host1 sh -c 'echo out; echo err >&2' \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	expect_eq stdout "$(od -c <"$BATS_TEST_TMPDIR/out")" "$(printf 'out\n' | od -c)"
	expect_eq stderr "$(od -c <"$BATS_TEST_TMPDIR/err")" "$(printf 'err\n' | od -c)"
}

@test "stdio: 2 MiB binary on stdout and 2 MiB on stderr, each exact" {
	head -c 2M /dev/urandom >"$BATS_TEST_TMPDIR/a"
	head -c 2M /dev/urandom >"$BATS_TEST_TMPDIR/b"
	# shellcheck disable=SC2016
	timeout -k 5 20 "$MIG" -h host1 sh -c 'cat "$1"; cat "$2" >&2; cat "$1"' sh \
		"$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b" \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	cat "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/a" | cmp - "$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/b" "$BATS_TEST_TMPDIR/err"
}

@test "stdio: printf x | mig -h host1 cat ends and prints x" {
	run --separate-stderr timeout -k 5 20 bash -c 'printf x | "$0" -h host1 cat' "$MIG"
	[ "$status" -eq 0 ]
	expect_eq output "$output" x
}

@test "stdio: mig -h host1 head -c1 </dev/zero ends (remote stops reading an endless stdin)" {
	timeout -k 5 20 "$MIG" -h host1 head -c1 </dev/zero >"$BATS_TEST_TMPDIR/out"
	printf '\0' | cmp - "$BATS_TEST_TMPDIR/out"
}

@test "stdio: mig -h host1 yes | head -1 ends promptly, mig dies of SIGPIPE (141)" {
	local start=$SECONDS
	run --separate-stderr bash -c 'timeout -k 5 20 "$0" -h host1 yes | head -1; echo "status=${PIPESTATUS[0]}"' "$MIG"
	[ "$status" -eq 0 ]
	expect_eq "head -1 and mig's status" "$output" $'y\nstatus=141'
	((SECONDS - start < 10))
}

@test "stdio: after mig -h host1 yes TOKEN | head -1, the remote yes is gone too" {
	local token start=$SECONDS
	token=yes-token-$(unique_sleep)
	run --separate-stderr bash -c 'timeout -k 5 20 "$0" -h host1 yes "$1" | head -1' "$MIG" "$token"
	expect_eq output "$output" "$token"
	((SECONDS - start < 10))
	wait_until 3 eval "! mig_pgrep '^yes $token\$' >/dev/null"
}

@test "stdio: -n gives the job EOF on stdin" {
	run --separate-stderr timeout -k 5 20 bash -c '"$0" -h host1 -n cat </dev/zero | wc -c' "$MIG"
	[ "$status" -eq 0 ]
	expect_eq "bytes cat read with -n" "$output" 0
	# Also when stdin is a pipe that never ends (a FIFO opened read-write
	# always has a writer).
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	run --separate-stderr timeout -k 5 20 "$MIG" -h host1 -n cat <>"$BATS_TEST_TMPDIR/fifo"
	[ "$status" -eq 0 ]
	expect_eq "cat output with -n" "$output" ""
}

@test "stdio: empty stdin and empty output" {
	run --separate-stderr timeout -k 5 20 "$MIG" -h host1 cat </dev/null
	[ "$status" -eq 0 ]
	[ -z "$output" ] && [ -z "$stderr" ]
}

@test "stdio: a stdin that is /dev/null or closed is never read, the job reads EOF" {
	run --separate-stderr bash -c 'timeout -k 5 20 "$0" -h host1 sh -c "cat; echo cat \$?" <&-' "$MIG"
	[ "$status" -eq 0 ]
	expect_eq "job with a closed stdin" "$output" "cat 0"
	command -v strace >/dev/null || skip "strace is not installed"
	# As with -n: nothing to relay, so mig never reads its stdin.
	run --separate-stderr timeout -k 5 30 strace -qq -e trace=read,poll,ppoll \
		-e signal=none -o "$BATS_TEST_TMPDIR/trace" \
		"$MIG" -h host1 sh -c 'cat; echo "cat $?"' </dev/null
	[ "$status" -eq 0 ]
	expect_eq "job with stdin /dev/null" "$output" "cat 0"
	run grep -E 'read\(0,|fd=0,' "$BATS_TEST_TMPDIR/trace"
	expect_eq "mig's reads and polls of fd 0" "$output" ""
}

@test "stdio: 50 MiB of output through mig -h host1 head -c, sha256 matches" {
	head -c 50M /dev/urandom >"$BATS_TEST_TMPDIR/big"
	local want got
	want=$(sha256sum <"$BATS_TEST_TMPDIR/big")
	got=$(timeout -k 5 20 "$MIG" -h host1 head -c 52428800 "$BATS_TEST_TMPDIR/big" | sha256sum)
	expect_eq sha256 "$got" "$want"
}

@test "stdio: 50 MiB of input through mig -h host1 sha256sum matches" {
	head -c 50M /dev/urandom >"$BATS_TEST_TMPDIR/big"
	local want got
	want=$(sha256sum <"$BATS_TEST_TMPDIR/big")
	got=$(timeout -k 5 20 "$MIG" -h host1 sha256sum <"$BATS_TEST_TMPDIR/big")
	expect_eq sha256 "$got" "$want"
}
