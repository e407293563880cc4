#!/usr/bin/env bats
# The commands themselves: --help and --version, usage errors, and what mig
# says when its daemon cannot start because its port is taken. No cluster.

load helpers

setup_file() {
	mig_env_setup
}

teardown_file() { :; }

@test "cli: mig --help prints the usage on stdout, status 0" {
	run --separate-stderr "$MIG" --help
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "usage: mig "* ]]
	[[ $output == *"mig -h HOST"* && $output == *"mig-rsh"* ]]
	expect_eq stderr "$stderr" ""
}

@test "cli: mig --version and mig-rsh --version print 'mig VERSION' from CMakeLists.txt" {
	local v
	v=$(mig_version)
	[[ $v =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]
	run --separate-stderr "$MIG" --version
	[ "$status" -eq 0 ]
	expect_eq "mig --version" "$output" "mig $v"
	run --separate-stderr "$RSH" --version
	[ "$status" -eq 0 ]
	expect_eq "mig-rsh --version" "$output" "mig $v"
}

@test "cli: mig hosts|ps|policy|keygen --help: usage on stdout, status 0" {
	local c
	for c in hosts ps policy keygen; do
		run --separate-stderr "$MIG" "$c" --help
		[ "$status" -eq 0 ]
		[[ ${lines[0]} == "usage: mig $c"* ]]
		expect_eq "stderr of $c --help" "$stderr" ""
	done
}

@test "cli: mig-homed --help and --version" {
	run --separate-stderr "$HOMED" --help
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "usage: mig-homed"* ]]
	[[ -z $stderr ]]
	run --separate-stderr "$HOMED" --version
	[ "$status" -eq 0 ]
	expect_eq "mig-homed --version" "$output" "mig-homed $(mig_version)"
	run --separate-stderr "$HOMED" --no-such-option
	[ "$status" -eq 2 ]
}

@test "cli: no arguments, an unknown option, -h without a command: 255 and one 'mig:' line" {
	run --separate-stderr "$MIG"
	expect_mig_failure
	run --separate-stderr "$MIG" -Q true
	expect_mig_failure
	[[ $stderr == *"unknown option -Q"* ]]
	run --separate-stderr "$MIG" -h host1
	expect_mig_failure
}

@test "cli: a daemon whose port is taken: mig names the port and the way out" {
	solo_setup
	solo_env
	# Something else listens on the solo daemon's address and port.
	python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
time.sleep(600)' "$SOLO_PORT" 3>&- &
	bg_track $!
	wait_until 20 eval '[[ -n $(ss -ltnH "src 127.0.0.1:$SOLO_PORT") ]]'
	local root=()
	is_root && root=(MIG_ALLOW_ROOT=1)
	run --separate-stderr timeout -k 5 30 env "${SOLO_ENV[@]}" "${root[@]}" "$MIG" -h solo true
	expect_mig_failures
	[[ $stderr == *"mig: cannot start mig-homed: 127.0.0.1:$SOLO_PORT, from the line 'solo' in $SOLO/config/hosts, is taken"* ]]
	[[ $stderr == *"--listen ADDR:PORT"* ]]
	# mig hosts says the same.
	run --separate-stderr timeout -k 5 30 env "${SOLO_ENV[@]}" "${root[@]}" "$MIG" hosts
	expect_mig_failures
	[[ $stderr == *"127.0.0.1:$SOLO_PORT"*"is taken"* ]]
}
