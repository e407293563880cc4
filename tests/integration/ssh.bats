#!/usr/bin/env bats
# Links over ssh: host1 and host2 are reached only through a throwaway
# sshd each (cluster up --ssh), with no mig there until home's ssh pushes
# home's own build into the host's cache and starts it. Builds, mig -h
# and a killed ssh behave as over TCP; ssh's own failure is the reason.

load helpers

setup_file() {
	# The hosts' daemons, started over ssh with no hosts file, have a
	# slot per CPU whatever home's hosts file says (2 on a small
	# machine); home gets fewer, so that ties, which stay home, do not
	# keep every compile there (under valgrind, with no pidfd_open, a
	# compile at home frees its slot at its exec: home looks idle).
	cluster_up --ssh --slots 1,2,2
	wait_until 60 all_up
}

# ssh_pid NAME: the ssh process home's daemon runs for host NAME.
ssh_pid() {
	local addr
	addr=127.0.0.$((${1#host} + 1))
	pgrep -P "$(host_pid home)" -f -- "ssh -F .* $addr sh -c"
}

# version_dirs NAME: the version folders (VERSION-HASH) of host NAME's
# mig cache.
version_dirs() {
	(cd "$MIG_CLUSTER_DIR/$1/cache/mig" && ls -d -- [0-9]*-*/ | tr -d /)
}

# pushed_ok NAME: host NAME's daemon runs home's build, from a folder
# named VERSION-HASH of its cache holding the very files of the build.
pushed_ok() {
	local dir pid f want
	want=$("$HOMED" --version | cut -d' ' -f2)
	dir=$(cd "$MIG_CLUSTER_DIR/$1/cache/mig" && ls -d -- "$want"-*)
	[[ $dir =~ ^${want//./\\.}-[0-9a-f]{12}$ ]] || {
		echo "no folder $want-HASH in $1's cache: $(version_dirs "$1")" >&2
		return 1
	}
	for f in mig-homed mig-reaper libmig.so mig-standin mig; do
		cmp -- "$MIG_BIN/$f" "$MIG_CLUSTER_DIR/$1/cache/mig/$dir/bin/$f" >&2 || return 1
	done
	expect_eq "mig-rsh" "$(readlink "$MIG_CLUSTER_DIR/$1/cache/mig/$dir/bin/mig-rsh")" mig
	pid=$(cat "$MIG_CLUSTER_DIR/$1/run/homed.pid")
	expect_eq "$1's daemon" "$(daemon_exe "$pid")" "$MIG_CLUSTER_DIR/$1/cache/mig/$dir/bin/mig-homed"
}

@test "ssh: a host without mig gets home's build in its cache; nothing of mig listens on TCP there" {
	pushed_ok host1
	pushed_ok host2
	expect_eq "host1's cache" "$(version_dirs host1 | wc -l)" 1
	# host1's daemon listens on no TCP port; its sshd does.
	local pid
	pid=$(cat "$MIG_CLUSTER_DIR/host1/run/homed.pid")
	run ! grep -q "pid=$pid," <(ss -ltnpH)
	grep -q "pid=$(host_pid host1)," <(ss -ltnpH 'src 127.0.0.2')
	run ! ls "$MIG_CLUSTER_DIR/host1/config/key"
	grep -E 'link host1 \(ssh:127\.0\.0\.2\): pushing this build' "$MIG_CLUSTER_DIR/home.log" >&2
	run "$MIG" hosts
	[[ $output == *"host1 "*"ssh:127.0.0.2"*" up "* ]]
	# mig hosts shows the build each runs now: home's, as home's own
	# line does; the link's HELLO said it, so no guess.
	local want n
	want=$(build_words)
	for n in home host1 host2; do
		expect_eq "$n's version" "$(host_field "$n" version)" "$want"
		[[ $(host_row "$n") == *"  $want  "* ]]
	done
	expect_eq "host1's protocol" "$(host_field host1 protocol)" "$(proto_version)"
}

@test "ssh: mig -h over an ssh link: exit status, stdin and stdout bytes, signals" {
	run "$MIG" -h host1 sh -c 'exit 7'
	expect_eq status "$status" 7
	head -c 3000000 /dev/urandom >"$BATS_TEST_TMPDIR/in"
	"$MIG" -h host1 cat <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
	run --separate-stderr "$MIG" -h host2 sh -c 'printf out; printf err >&2'
	expect_eq stdout "$output" out
	expect_eq stderr "$stderr" err
	run "$MIG" -h host1 sh -c 'kill -TERM $$'
	expect_eq status "$status" 143
	# A signal to mig reaches the program on the host.
	"$MIG" -h host2 sh -c 'trap "echo got INT; exit 5" INT; echo ready; while :; do sleep 0.1; done' \
		>"$BATS_TEST_TMPDIR/sig" 3>&- &
	local pid=$!
	bg_track "$pid"
	wait_until 20 grep -q ready "$BATS_TEST_TMPDIR/sig"
	kill -INT "$pid"
	wait_exit "$pid" 20
	expect_eq status "$WAIT_STATUS" 5
	expect_eq output "$(cat "$BATS_TEST_TMPDIR/sig")" "$(printf 'ready\ngot INT')"
}

@test "ssh: mig make of the demo over ssh links gives the local build's objects" {
	local p=$BATS_TEST_TMPDIR/p
	project "$p" 24 6
	build_ref "$p"
	make_ok "$p" -j10
	# The hosts did compile.
	run "$MIG" hosts --json
	python3 -c '
import json, sys
d = {h["host"]: h for h in json.loads(sys.argv[1])}
sys.exit(not (d["host1"]["jobs_done"] > 0 or d["host2"]["jobs_done"] > 0))' "$output"
}

@test "ssh: the ssh process killed mid-build: the link comes back and the build succeeds" {
	local p=$BATS_TEST_TMPDIR/p old
	project "$p" 24 8
	build_ref "$p"
	old=$(ssh_pid host1)
	[[ -n $old ]]
	build_bg "$p"
	wait_until 120 gcc_on host1
	kill -KILL "$old"
	build_ok
	grep -E 'link host1 \(ssh:127\.0\.0\.2\): its ssh was killed by signal 9; closed' "$MIG_CLUSTER_DIR/home.log" >&2
	wait_until 30 all_up
	[[ $(ssh_pid host1) != "$old" ]]
}

@test "ssh: a host with an older build in its cache gets home's beside it" {
	"$CLUSTER" kill host2
	rm -rf "$MIG_CLUSTER_DIR/host2/cache/mig"
	mkdir -p "$MIG_CLUSTER_DIR/host2/cache/mig/0.0.9-0123456789ab/bin"
	printf '#!/bin/sh\necho old build >&2\nexit 1\n' >"$MIG_CLUSTER_DIR/host2/cache/mig/0.0.9-0123456789ab/bin/mig-homed"
	chmod +x "$MIG_CLUSTER_DIR/host2/cache/mig/0.0.9-0123456789ab/bin/mig-homed"
	"$CLUSTER" start host2
	wait_until 90 all_up
	pushed_ok host2
	expect_eq "host2's cache" "$(version_dirs host2 | wc -l)" 2
	[[ -x $MIG_CLUSTER_DIR/host2/cache/mig/0.0.9-0123456789ab/bin/mig-homed ]]
	expect_eq "host2's version" "$(host_field host2 version)" "$(build_words)"
	[[ $(host_row host2) == *"  $(build_words)  "* ]]
	run "$MIG" -h host2 echo hi
	expect_eq output "$output" hi
}

@test "ssh: ssh's own failure is the host's reason, in the log and for mig -h" {
	CLEANUP+=("sed -i '/^host3 /d' '$MIG_CONFIG_DIR/hosts'")
	echo "host3 ssh:nobody@127.0.0.2" >>"$MIG_CONFIG_DIR/hosts"
	wait_until 30 grep -qF 'link host3 (ssh:nobody@127.0.0.2): ssh: Permission denied (publickey).' \
		"$MIG_CLUSTER_DIR/home.log"
	run --separate-stderr timeout -k 2 30 "$MIG" -h host3 true
	expect_mig_failure
	[[ ${stderr_lines[0]} == *"ssh: Permission denied (publickey)"* ]]
}

@test "ssh: mig hosts remove and add against an ssh test host; refusals leave the hosts file as it was" {
	local hosts=$MIG_CONFIG_DIR/hosts
	run --separate-stderr "$MIG" hosts remove host2
	expect_eq status "$status" 0
	expect_eq output "$output" "host2: removed; its jobs drain"
	run ! grep -q '^host2 ' "$hosts"
	wait_until 30 eval "! \"$MIG\" hosts | grep -q '^host2 '"
	run --separate-stderr "$MIG" hosts add host2 ssh:127.0.0.3
	expect_eq status "$status" 0
	expect_eq output "$output" "host2: added (ssh:127.0.0.3), up"
	file_has "$hosts" "host2 ssh:127.0.0.3"
	run "$MIG" -h host2 echo back
	expect_eq output "$output" back
	cp "$hosts" "$BATS_TEST_TMPDIR/before"
	run --separate-stderr "$MIG" hosts add host2 ssh:127.0.0.3
	expect_mig_failure
	[[ ${stderr_lines[0]} == *"host2 is in "*" already"* ]]
	run --separate-stderr timeout -k 2 60 "$MIG" hosts add host7 ssh:nobody@127.0.0.2
	expect_mig_failure
	[[ ${stderr_lines[0]} == "mig: host7 not added ("*"ssh: Permission denied (publickey)"* ]]
	run --separate-stderr "$MIG" hosts add host7 ssh:-oProxyCommand=touch
	expect_mig_failure
	[[ ${stderr_lines[0]} == *"an ssh destination may not start with '-'"* ]]
	run --separate-stderr "$MIG" hosts remove host7
	expect_mig_failure
	cmp "$BATS_TEST_TMPDIR/before" "$hosts"
}

@test "ssh: mig hosts add --tcp enrols a host for a direct TCP link over ssh once; remove stops its daemon" {
	local hosts=$MIG_CONFIG_DIR/hosts cfg=$MIG_CLUSTER_DIR/host2/config port sport pid
	port=$("$CLUSTER" freeport)
	sport=$(ss -ltnpH 'src 127.0.0.3' | grep "pid=$(host_pid host2)," | awk '{print $4}' | sed 's/.*://' | head -1)
	[[ -n $sport ]]
	CLEANUP+=("rm -f '$cfg/key' '$cfg/hosts'; sed -i '/^host2 /d' '$hosts'; echo 'host2 ssh:127.0.0.3' >>'$hosts'")
	run "$MIG" hosts remove host2
	expect_eq status "$status" 0
	wait_until 30 eval "! \"$MIG\" hosts | grep -q '^host2 '"
	cp "$hosts" "$BATS_TEST_TMPDIR/before"
	# Refusals: no plain host name to default to; a port the host cannot
	# listen on (its sshd's): the hosts file is as it was.
	run --separate-stderr "$MIG" hosts add host2 ssh:me_alias --tcp
	expect_mig_failure
	[[ ${stderr_lines[0]} == "mig: --tcp: ssh:me_alias is no plain host name: say --tcp ADDR[:PORT]" ]]
	run --separate-stderr timeout -k 2 120 "$MIG" hosts add host2 ssh:127.0.0.3 --tcp "127.0.0.3:$sport"
	expect_mig_failure
	[[ ${stderr_lines[0]} == "mig: host2 not added over TCP ("*"); $hosts is as it was" ]]
	cmp "$BATS_TEST_TMPDIR/before" "$hosts"
	[[ ! -e $cfg/key ]]
	run --separate-stderr timeout -k 2 120 "$MIG" hosts add host2 ssh:127.0.0.3 --tcp "127.0.0.3:$port"
	expect_eq status "$status" 0
	expect_eq output "$output" "host2: added (127.0.0.3:$port over TCP, enrolled over ssh:127.0.0.3), up"
	file_has "$hosts" "host2 127.0.0.3:$port # ssh:127.0.0.3"
	# The host has home's key (0600) and runs home's pushed build on
	# its own, listening on the port.
	cmp "$MIG_CONFIG_DIR/key" "$cfg/key"
	expect_eq "key mode" "$(stat -c %a "$cfg/key")" 600
	pushed_ok host2
	pid=$(cat "$MIG_CLUSTER_DIR/host2/run/homed.pid")
	# Which process listens, ss tells root only: the daemon is not
	# dumpable, so its own user cannot read its sockets.
	if is_root; then
		grep -q "pid=$pid," <(ss -ltnpH "src 127.0.0.3:$port")
	else
		[[ -n $(ss -ltnH "src 127.0.0.3:$port") ]]
	fi
	run "$MIG" -h host2 uname -n
	expect_eq status "$status" 0
	expect_eq output "$output" "$(uname -n)"
	run "$MIG" hosts --json
	python3 -c '
import json, sys
d = {h["host"]: h for h in json.loads(sys.argv[1])}
sys.exit(not (d["host2"]["address"] == sys.argv[2] and d["host2"]["state"] == "up"))' "$output" "127.0.0.3:$port"
	# No ssh of home's runs for host2 now.
	wait_until 30 eval "! pgrep -P $(host_pid home) -f -- 'ssh -F .* 127.0.0.3 sh -c' >/dev/null"
	run --separate-stderr "$MIG" hosts remove host2
	expect_eq status "$status" 0
	expect_eq output "$output" "host2: removed; its daemon over ssh:127.0.0.3 stopped"
	cmp "$BATS_TEST_TMPDIR/before" "$hosts"
	wait_until 30 eval "! alive $pid"
	[[ ! -e $cfg/key && ! -e $cfg/hosts ]]
}

@test "ssh: a host daemon that home's ssh started stops once unused, keeps its cache, and is started again without a push" {
	local pid objs
	# Its sshd gives host1's sessions a short idle time.
	"$CLUSTER" kill host1
	sed -i 's/^SetEnv /SetEnv MIG_IDLE_EXIT=2 /' "$MIG_CLUSTER_DIR/ssh/host1.conf"
	"$CLUSTER" start host1
	wait_until 60 all_up
	pid=$(cat "$MIG_CLUSTER_DIR/host1/run/homed.pid")
	# A served file in its object cache, to be found there after.
	mkdir -p "$MIG_CLUSTER_DIR/host1/cache/mig/objects"
	echo keep >"$MIG_CLUSTER_DIR/host1/cache/mig/objects/marker"
	run "$MIG" hosts remove host1
	expect_eq status "$status" 0
	wait_until 30 eval "! alive $pid"
	grep -qF 'stopping: unused for the --idle-exit time' "$MIG_CLUSTER_DIR/host1/run/homed.log"
	grep -qF 'stopped' "$MIG_CLUSTER_DIR/host1/run/homed.log"
	[[ ! -e $MIG_CLUSTER_DIR/host1/run/link.sock && ! -e $MIG_CLUSTER_DIR/host1/run/homed.sock ]]
	objs=$(cat "$MIG_CLUSTER_DIR/host1/cache/mig/objects/marker")
	expect_eq "object cache" "$objs" keep
	local pushes
	pushes=$(grep -c 'link host1 .*: pushing this build' "$MIG_CLUSTER_DIR/home.log")
	run "$MIG" hosts add host1 ssh:127.0.0.2
	expect_eq status "$status" 0
	[[ $(cat "$MIG_CLUSTER_DIR/host1/run/homed.pid") != "$pid" ]]
	expect_eq pushes "$(grep -c 'link host1 .*: pushing this build' "$MIG_CLUSTER_DIR/home.log")" "$pushes"
	pushed_ok host1
}

@test "ssh: a host of another architecture gets nothing pushed, and says why" {
	# host2's sessions find a uname that says riscv64 first in PATH.
	mkdir -p "$MIG_CLUSTER_DIR/fakebin"
	printf '#!/bin/sh\necho riscv64\n' >"$MIG_CLUSTER_DIR/fakebin/uname"
	chmod +x "$MIG_CLUSTER_DIR/fakebin/uname"
	"$CLUSTER" kill host2
	CLEANUP+=("'$CLUSTER' kill host2; sed -i 's|^SetEnv PATH=[^ ]* |SetEnv |' '$MIG_CLUSTER_DIR/ssh/host2.conf'; '$CLUSTER' start host2")
	rm -rf "$MIG_CLUSTER_DIR/host2/cache/mig"
	sed -i "s|^SetEnv |SetEnv PATH=$MIG_CLUSTER_DIR/fakebin:/usr/bin:/bin |" "$MIG_CLUSTER_DIR/ssh/host2.conf"
	"$CLUSTER" start host2
	wait_until 60 grep -qF "link host2 (ssh:127.0.0.3): it has no mig of this build, and it is riscv64, this build $(uname -m): install mig there" \
		"$MIG_CLUSTER_DIR/home.log"
	run --separate-stderr timeout -k 2 60 "$MIG" -h host2 true
	expect_mig_failure
	[[ ${stderr_lines[0]} == *"it is riscv64, this build $(uname -m)"* ]]
	run ! ls -d "$MIG_CLUSTER_DIR"/host2/cache/mig/[0-9]*
}
