#!/usr/bin/env bats
# The hosts file and the key, changed while the daemons run: a host's
# mode keyword applies to the next jobs, a new key to the next links, and
# a bad line keeps what was read before, said in mig hosts and the log.
# No daemon restarts for any of it.

load helpers

# last_files: how the last job that ended saw home's files (mig ps).
last_files() {
	timeout -k 2 10 "$MIG" ps --json --recent 1 3>&- | python3 -c '
import json, sys
print(json.load(sys.stdin)[-1]["files"])'
}

# edit NAME SED: daemon NAME's hosts file changed by sed expression SED,
# kept first for the cleanup to put back.
edit() {
	local f=$MIG_CLUSTER_DIR/$1/config/hosts
	[[ -f $BATS_TEST_TMPDIR/$1.hosts ]] || {
		cp "$f" "$BATS_TEST_TMPDIR/$1.hosts"
		CLEANUP+=("cp '$BATS_TEST_TMPDIR/$1.hosts' '$f'")
	}
	sed -i -E "$2" "$f"
}

@test "reload: a host's priority keyword applies to the next job, without a restart" {
	local pid
	pid=$(host_pid host1)
	wait_until 20 all_up
	# Under the test cluster's "priority normal" the job keeps the nice
	# value it has at home.
	run --separate-stderr timeout -k 2 30 "$MIG" -h host1 nice
	expect_eq "nice under 'priority normal'" "$output" "$(nice)"
	edit host1 's/^(host1 .*) priority normal/\1 priority low/'
	wait_until 10 grep -qF "read again (it changed)" "$MIG_CLUSTER_DIR/host1.log"
	run --separate-stderr timeout -k 2 30 "$MIG" -h host1 nice
	expect_eq "nice under 'priority low'" "$output" 19
	expect_eq "host1's daemon" "$(host_pid host1)" "$pid"
}

@test "reload: a host's files keyword applies to the next job and to mig hosts, without a restart" {
	local pid
	pid=$(host_pid host1)
	wait_until 20 all_up
	expect_eq "host1's files" "$(host_field host1 files)" shared
	timeout -k 2 30 "$MIG" -h host1 true 3>&-
	expect_eq "a job's files" "$(last_files)" "shared (its hosts file)"
	# Its line without "shared": the host tells home again.
	edit host1 's/^(host1 .*) shared$/\1/'
	wait_until 10 eval '[[ $(host_field host1 files) != shared ]]'
	timeout -k 2 30 "$MIG" -h host1 true 3>&-
	[[ $(last_files) != "shared (its hosts file)" ]]
	expect_eq "host1's daemon" "$(host_pid host1)" "$pid"
}

@test "reload: a bad line keeps the hosts read before; mig hosts and the log say so until the file is good again" {
	local pid f=$MIG_CONFIG_DIR/hosts
	pid=$(host_pid home)
	wait_until 20 all_up
	cp "$f" "$BATS_TEST_TMPDIR/home.hosts"
	CLEANUP+=("cp '$BATS_TEST_TMPDIR/home.hosts' '$f'")
	# host2 leaves, and a bad line comes with it (one rename, as an
	# editor saves): nothing of it applies.
	{
		sed -E '/^host2 /d' "$f"
		echo "host3 127.0.0.4:1 many"
	} >"$f.new"
	mv "$f.new" "$f"
	local want="$f:4: slots must be a number from 0 to 4096; keeping the hosts read before"
	wait_until 10 grep -qF "$want" "$MIG_CLUSTER_DIR/home.log"
	run --separate-stderr timeout -k 2 10 "$MIG" hosts
	expect_eq "first line" "${lines[0]}" "mig: warning: $want"
	[[ ${lines[1]} == HOST* ]]
	expect_eq "config_error" "$(host_field home config_error)" "$want"
	expect_eq "host2 still" "$(host_field host2 state)" up
	run --separate-stderr timeout -k 2 30 "$MIG" -h host2 echo kept
	expect_eq "output" "$output" kept
	# Fixed: it applies (host2 drains away), and the warning goes.
	sed -E '/^host3 /d' "$f" >"$f.new"
	mv "$f.new" "$f"
	wait_until 10 eval '[[ -z $(host_field home config_error) ]]'
	wait_until 10 eval '! timeout -k 2 10 "$MIG" hosts 3>&- | grep -q "^host2 "'
	run --separate-stderr timeout -k 2 10 "$MIG" hosts
	[[ ${lines[0]} == HOST* ]]
	expect_eq "home's daemon" "$(host_pid home)" "$pid"
	cp "$BATS_TEST_TMPDIR/home.hosts" "$f"
	wait_until 20 all_up
}

@test "reload: a new key is used by the next links, without a restart; links up stay; a bad key is refused and said" {
	local pid d=$MIG_CLUSTER_DIR
	pid=$(host_pid home)
	CLEANUP+=("cp '$d/key' '$d/home/config/key'; cp '$d/key' '$d/host1/config/key'; '$CLUSTER' kill host1; '$CLUSTER' start host1")
	wait_until 20 all_up
	# host1 starts again with a key of its own: home's is refused.
	"$CLUSTER" kill host1
	rm -f "$d/host1/config/key"
	MIG_CONFIG_DIR=$d/host1/config "$MIG" keygen >/dev/null 3>&-
	"$CLUSTER" start host1
	wait_until 20 eval '[[ $(host_field host1 why) == "key refused" ]]'
	# Home takes host1's key: host1 comes up; host2, up before, stays up.
	install -m 0600 "$d/host1/config/key" "$d/home/config/key.new"
	mv "$d/home/config/key.new" "$d/home/config/key"
	wait_until 10 grep -qF "$d/home/config/key read again (it changed)" "$d/home.log"
	wait_until 20 eval '[[ $(host_field host1 state) == up ]]'
	run --separate-stderr timeout -k 2 30 "$MIG" -h host1 echo new-key
	expect_eq "output" "$output" new-key
	expect_eq "host2 still" "$(host_field host2 state)" up
	# A key of the wrong length: the key read before stays, said.
	echo 1234 >"$d/home/config/key.new"
	chmod 0600 "$d/home/config/key.new"
	mv "$d/home/config/key.new" "$d/home/config/key"
	wait_until 10 eval '[[ $(host_field home config_error) == *"expected 64 hex digits"*"keeping the key read before" ]]'
	expect_eq "home's daemon" "$(host_pid home)" "$pid"
}
