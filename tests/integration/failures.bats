#!/usr/bin/env bats
# mig's own failures: one line starting "mig:" on stderr, exit status 255,
# never silence and never a hang.

load helpers

# Tests below stop or re-key host2; this puts it back as it was, whatever
# the test did, so that every test starts from a whole cluster.
restore_host2() {
	local d=$MIG_CLUSTER_DIR
	if ! cmp -s "$d/key" "$d/host2/config/key"; then
		"$CLUSTER" kill host2
		install -m 0600 "$d/key" "$d/host2/config/key"
	fi
	if ! alive "$(cat "$d/host2.wrap" 2>/dev/null)"; then
		"$CLUSTER" start host2
	fi
}

@test "failures: unknown host -> 255 and one 'mig:' line" {
	run --separate-stderr timeout -k 5 20 "$MIG" -h no-such-host true
	expect_mig_failure
}

@test "failures: no daemon and MIG_NO_AUTOSTART=1 -> 255 and one 'mig:' line" {
	local empty
	empty=$(mktemp -d /tmp/mig-empty.XXXXXX)
	CLEANUP+=("rm -rf '$empty'")
	run --separate-stderr env MIG_RUNTIME_DIR="$empty" MIG_NO_AUTOSTART=1 \
		timeout -k 5 20 "$MIG" -h host1 true
	expect_mig_failure
	# and nothing was started there
	[ ! -e "$empty/homed.sock" ]
}

@test "failures: cwd deleted at home -> 255 and one 'mig:' line" {
	local d
	d=$(mktemp -d /tmp/mig-gone.XXXXXX)
	# shellcheck disable=SC2016
	run --separate-stderr timeout -k 5 20 bash -c 'cd "$1" && rmdir "$1" && exec "$0" -h host1 true' \
		"$MIG" "$d"
	[ ! -e "$d" ]
	expect_mig_failure
}

@test "failures: cwd that exists at home but not on host1 -> 255 and one 'mig:' line" {
	is_root || skip "needs a mount namespace per host daemon (root)"
	# host1 runs in a mount namespace copied at cluster start with private
	# propagation: a tmpfs mounted here now is not there, so the
	# directory inside it exists at home only.
	local d
	d=$(mktemp -d /tmp/mig-mnt.XXXXXX)
	mount -t tmpfs -o size=1m mig-test "$d"
	CLEANUP+=("cd /; umount '$d'; rmdir '$d'")
	mkdir "$d/only-at-home"
	cd "$d/only-at-home"
	run --separate-stderr timeout -k 5 20 "$MIG" -h host1 true
	expect_mig_failure
}

@test "failures: host down -> 255 and one 'mig:' line, promptly" {
	CLEANUP+=(restore_host2)
	"$CLUSTER" kill host2
	local start=$SECONDS
	run --separate-stderr timeout -k 5 20 "$MIG" -h host2 true
	expect_mig_failure
	((SECONDS - start < 10))
	# host1 is unaffected
	run --separate-stderr timeout -k 5 20 "$MIG" -h host1 echo ok
	expect_eq "host1 output" "$output" ok
}

@test "failures: a host that comes back runs jobs again" {
	CLEANUP+=(restore_host2)
	run --separate-stderr timeout -k 5 20 "$MIG" -h host2 echo before
	expect_eq "before" "$output" before
	"$CLUSTER" kill host2
	run --separate-stderr timeout -k 5 20 "$MIG" -h host2 true
	[ "$status" -eq 255 ]
	"$CLUSTER" start host2
	run --separate-stderr timeout -k 5 20 "$MIG" -h host2 echo after
	[ "$status" -eq 0 ]
	expect_eq "after" "$output" after
}

@test "failures: host with a different key -> 255 and one 'mig:' line" {
	CLEANUP+=(restore_host2)
	"$CLUSTER" kill host2
	MIG_CONFIG_DIR=$MIG_CLUSTER_DIR/host2/config "$MIG" keygen -f >/dev/null 3>&-
	if cmp -s "$MIG_CLUSTER_DIR/key" "$MIG_CLUSTER_DIR/host2/config/key"; then
		echo "keygen -f did not change host2's key" >&2
		return 1
	fi
	"$CLUSTER" start host2
	run --separate-stderr timeout -k 5 20 "$MIG" -h host2 true
	expect_mig_failure
	# host1 shares home's key and still works.
	run --separate-stderr timeout -k 5 20 "$MIG" -h host1 echo ok
	expect_eq "host1 output" "$output" ok
}
