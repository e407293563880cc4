#!/usr/bin/env bats
# privatefs.bats: `cluster up --private-fs` hides the home's files from the
# host daemons, as a machine without a shared file system would (the test
# bed for served mode, docs/design.md "Served file view"). As root the host
# daemons also run as an unprivileged user made for this file (--user).

load helpers

setup_file() {
	mig_env_setup || return 1
	if ! unshare -Urm true 2>/dev/null && ! { is_root && unshare -m true 2>/dev/null; }; then
		skip "no mount namespaces here (unshare -m and unshare -Urm both fail)"
	fi
	if is_root; then
		# A name of our own, never an existing user's.
		PFS_USER=migpfs$$
		export PFS_USER
		useradd --system --no-create-home --shell /usr/sbin/nologin "$PFS_USER" || return 1
		cluster_up --private-fs --user "$PFS_USER"
	else
		cluster_up --private-fs
	fi
}

teardown_file() {
	cluster_down
	if [[ -n ${PFS_USER:-} ]] && id -u "$PFS_USER" >/dev/null 2>&1; then
		userdel "$PFS_USER"
	fi
}

# all_up: every host's link is up.
all_up() {
	timeout -k 2 10 "$MIG" hosts --json 3>&- | python3 -c '
import json, sys
sys.exit(not all(h["state"] in ("home", "up") for h in json.load(sys.stdin)))'
}

# project: a project dir at home, in /tmp where users' and tests' files
# live; teardown removes it.
project() {
	PROJECT=$(mktemp -d /tmp/mig-pfs-project.XXXXXX)
	CLEANUP+=("rm -rf '$PROJECT'")
	printf 'int main(void) { return 0; }\n' >"$PROJECT/main.c"
}

@test "privatefs: a file of the home's project does not exist in a host daemon's namespace" {
	project
	local f=$PROJECT/main.c h pid
	[ -f "$f" ]
	for h in host1 host2; do
		pid=$(host_pid "$h")
		alive "$pid"
		# /proc/PID/root looks paths up in the daemon's mount namespace.
		[ ! -e "/proc/$pid/root$f" ]
		[ ! -e "/proc/$pid/root$PROJECT" ]
		# Nor is home's config (or any other daemon's) there...
		[ ! -e "/proc/$pid/root$MIG_CLUSTER_DIR/home/config/key" ]
		[ ! -e "/proc/$pid/root$MIG_CLUSTER_DIR/key" ]
		# ...but the daemon's own dirs are, at the same paths.
		[ -S "/proc/$pid/root$MIG_CLUSTER_DIR/$h/run/homed.sock" ]
		[ -f "/proc/$pid/root$MIG_CLUSTER_DIR/$h/config/key" ]
		if is_root; then
			run nsenter -t "$pid" -m test -e "$f"
			[ "$status" -eq 1 ]
			nsenter -t "$pid" -m test -S "$MIG_CLUSTER_DIR/$h/run/homed.sock"
			# The other hidden trees are empty tmpfs.
			run nsenter -t "$pid" -m stat -f -c %T /home
			[ "$output" = tmpfs ]
		fi
	done
	# At home (the home daemon shares this test's root) it is there: the
	# hiding is the host daemons' alone.
	[ -e "$f" ]
}

@test "privatefs: the host daemons keep running and mig hosts shows them up" {
	wait_until 10 all_up
	alive "$(host_pid host1)"
	alive "$(host_pid host2)"
	run --separate-stderr timeout -k 2 10 "$MIG" hosts
	[ "$status" -eq 0 ]
	echo "$output" | grep -E '^host1 +127\.0\.0\.2:[0-9]+ +up '
	echo "$output" | grep -E '^host2 +127\.0\.0\.3:[0-9]+ +up '
}

@test "privatefs: a job placed on a host sees the project where it is served, else is refused" {
	project
	wait_until 10 all_up
	cd /
	run --separate-stderr timeout -k 2 20 "$MIG" -h home test -e "$PROJECT/main.c"
	[ "$status" -eq 0 ]
	run --separate-stderr timeout -k 2 20 "$MIG" -h host1 test -e "$PROJECT/main.c"
	if [[ $(timeout -k 2 10 "$MIG" hosts) == *"served unavailable"* ]]; then
		# The daemon's namespace lacks it, and its /tmp is not home's.
		expect_mig_failure
		[[ ${stderr_lines[0]} == *"$PROJECT/main.c is not proven to be home's here"* ]]
	else
		[ "$status" -eq 0 ]
	fi
}

@test "privatefs: with --user the host daemons run as that user, home as the caller" {
	is_root || skip "--user needs root"
	local uid h
	uid=$(id -u "$PFS_USER")
	for h in host1 host2; do
		[ "$(ps -o uid= -p "$(host_pid "$h")" | tr -d ' ')" = "$uid" ]
	done
	[ "$(ps -o uid= -p "$(host_pid home)" | tr -d ' ')" = 0 ]
}
