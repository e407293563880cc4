#!/usr/bin/env bats
# The job runs with the home environment, cwd, umask and rlimits, on the
# host it was sent to (mig -h).

load helpers

# What a job on host1 sees as its host name. The host daemons run in their
# own UTS namespaces (as root), so today that is the host's own name; issue
# 3 makes the remote-role shim report the home name: set this to "home"
# then, and nothing else needs to change.

@test "env: mig -h host1 env prints the home environment byte for byte, order included" {
	# bash hands every program it runs a "_" variable naming that
	# program, so `env` and `mig ... env` started from this shell differ
	# in "_" alone. Both go through env -u _, which removes it in the same
	# way, so the rest of the environment is compared unchanged.
	timeout -k 5 20 /usr/bin/env -u _ /usr/bin/env -0 >"$BATS_TEST_TMPDIR/home"
	timeout -k 5 20 /usr/bin/env -u _ "$MIG" -h host1 /usr/bin/env -0 >"$BATS_TEST_TMPDIR/host1"
	cmp "$BATS_TEST_TMPDIR/home" "$BATS_TEST_TMPDIR/host1"
	# The same for plain `env` (newline-separated), "_" aside.
	timeout -k 5 20 /usr/bin/env -u _ /usr/bin/env >"$BATS_TEST_TMPDIR/home2"
	timeout -k 5 20 /usr/bin/env -u _ "$MIG" -h host1 env >"$BATS_TEST_TMPDIR/host2"
	cmp "$BATS_TEST_TMPDIR/home2" "$BATS_TEST_TMPDIR/host2"
}

@test "env: a controlled environment arrives exactly: odd bytes, empty values, order" {
	local vars=(
		"Z_FIRST=1"
		"EMPTY="
		"SPACES=a  b"
		$'NEWLINE=line1\nline2'
		$'HIGH=\xff\xfe\x80'
		"EQUALS=a=b=c"
		"MIG_CONFIG_DIR=$MIG_CONFIG_DIR"
		"MIG_RUNTIME_DIR=$MIG_RUNTIME_DIR"
		"A_LAST=z"
	)
	printf '%s\0' "${vars[@]}" >"$BATS_TEST_TMPDIR/want"
	timeout -k 5 20 env -i "${vars[@]}" "$MIG" -h host1 /usr/bin/env -0 >"$BATS_TEST_TMPDIR/got"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}

@test "env: the job runs in the home cwd" {
	local d
	d=$(mktemp -d /tmp/mig-cwd.XXXXXX)
	CLEANUP+=("rm -rf '$d'")
	mkdir "$d/sub dir"
	cd "$d/sub dir"
	run --separate-stderr timeout -k 5 20 "$MIG" -h host1 pwd
	[ "$status" -eq 0 ]
	expect_eq "remote pwd" "$output" "$d/sub dir"
	expect_eq "remote pwd vs local /bin/pwd" "$output" "$(/bin/pwd)"
}

@test "env: the job runs with the home umask" {
	local m
	for m in 0000 0022 0027 0077 0057; do
		umask "$m"
		run --separate-stderr timeout -k 5 20 "$MIG" -h host1 sh -c umask
		[ "$status" -eq 0 ]
		expect_eq "remote umask after umask $m" "$output" "$m"
		expect_eq "remote vs local sh -c umask" "$output" "$(sh -c umask)"
	done
}

@test "env: the job runs with the home rlimits (ulimit -n 512)" {
	ulimit -n 512
	run --separate-stderr timeout -k 5 20 "$MIG" -h host1 sh -c 'ulimit -n'
	[ "$status" -eq 0 ]
	expect_eq "remote ulimit -n" "$output" 512
}

@test "env: every soft and hard rlimit matches home" {
	ulimit -S -n 300
	ulimit -S -c 0
	ulimit -S -s 4096
	sh -c 'ulimit -a' >"$BATS_TEST_TMPDIR/home-soft"
	sh -c 'ulimit -H -a' >"$BATS_TEST_TMPDIR/home-hard"
	timeout -k 5 20 "$MIG" -h host1 sh -c 'ulimit -a' >"$BATS_TEST_TMPDIR/host1-soft"
	timeout -k 5 20 "$MIG" -h host1 sh -c 'ulimit -H -a' >"$BATS_TEST_TMPDIR/host1-hard"
	diff "$BATS_TEST_TMPDIR/home-soft" "$BATS_TEST_TMPDIR/host1-soft"
	diff "$BATS_TEST_TMPDIR/home-hard" "$BATS_TEST_TMPDIR/host1-hard"
}

@test "hostname: on host1, hostname and uname -n print the home's name, while the host is host1" {
	is_root || skip "host daemons get their own UTS namespace only as root"
	run --separate-stderr timeout -k 5 20 "$MIG" -h host1 hostname
	[ "$status" -eq 0 ]
	expect_eq "hostname on host1" "$output" "$(hostname)"
	run --separate-stderr timeout -k 5 20 "$MIG" -h host1 uname -n
	[ "$status" -eq 0 ]
	expect_eq "uname -n on host1" "$output" "$(uname -n)"
	# The kernel's own view, which the shim does not touch: it did run there.
	run --separate-stderr timeout -k 5 20 "$MIG" -h host1 cat /proc/sys/kernel/hostname
	[ "$status" -eq 0 ]
	expect_eq "the host's kernel hostname" "$output" host1
}

@test "placement: mig -h hostN runs the job in that host daemon's pid and UTS namespaces" {
	is_root || skip "host daemons get their own namespaces only as root"
	local h ns want
	for h in host1 host2; do
		for ns in pid uts; do
			want=$(readlink "/proc/$(host_pid "$h")/ns/$ns")
			run --separate-stderr timeout -k 5 20 "$MIG" -h "$h" readlink /proc/self/ns/$ns
			[ "$status" -eq 0 ]
			expect_eq "$ns namespace of a job on $h" "$output" "$want"
			[ "$output" != "$(readlink /proc/self/ns/$ns)" ]
		done
	done
}

@test "placement: mig -h home runs the job on the home host, in the home cwd" {
	local d
	d=$(mktemp -d /tmp/mig-cwd.XXXXXX)
	CLEANUP+=("rm -rf '$d'")
	cd "$d"
	run --separate-stderr timeout -k 5 20 "$MIG" -h home pwd
	[ "$status" -eq 0 ]
	expect_eq "pwd on home" "$output" "$d"
	if is_root; then
		run --separate-stderr timeout -k 5 20 "$MIG" -h home readlink /proc/self/ns/uts
		expect_eq "uts namespace on home" "$output" "$(readlink /proc/self/ns/uts)"
	fi
}
