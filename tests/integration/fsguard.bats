#!/usr/bin/env bats
# fsguard.bats: home answers the served view's requests (MIG_M_FS_REQ)
# only over a link where it placed a job (docs/security.md, "Served
# files"). Any other holder of the cluster's key gets EACCES: without
# that, a peer could read any file of the user, and /proc/self/mem of
# home's daemon, which holds the session keys of its other links.
#
# fspeer (tests/integration/fspeer.c) stands in for host2: it holds the
# key, passes the real handshake, says it serves, and sends one request.

load helpers

setup_file() {
	cluster_up --slots 1,1,1
	wait_until 10 all_up
	# shellcheck source=/dev/null
	. "$MIG_CLUSTER_DIR/cluster.conf" # PORT
	FSPEER=${MIG_BUILD_DIR:-$MIG_BIN/..}/tests/fspeer
	HOST2_ADDR=$(awk '$1 == "host2" { print $2 }' "$MIG_CLUSTER_DIR/hosts")
	export PORT FSPEER HOST2_IP=${HOST2_ADDR%:*}
	# host2 is gone: its name is free for fspeer.
	"$CLUSTER" kill host2
	wait_until 20 eval '[[ $(timeout -k 2 10 "$MIG" hosts --json |
		jq -r ".[] | select(.host == \"host2\") | .state") != up ]]'
}

teardown_file() {
	cluster_down
}

setup() {
	exec </dev/null
	[[ -x $FSPEER ]] || skip "no $FSPEER (build first)"
}

# fspeer ARGS...: fspeer as host2, dialing home; its answer in $output.
fspeer() {
	run timeout -k 2 30 "$FSPEER" "$MIG_CONFIG_DIR/key" host2 home \
		"$HOST2_IP" 127.0.0.1 "$PORT" "$@"
	[ "$status" -eq 0 ] || {
		echo "fspeer: status $status: $output" >&2
		return 1
	}
}

@test "fsguard: a key holder over whose link home placed no job gets EACCES for a stat, and home logs it once" {
	fspeer lstat /
	expect_eq "answer" "$output" "errno 13 bytes 0"
	fspeer lstat /etc/passwd
	expect_eq "answer" "$output" "errno 13 bytes 0"
	run grep -c "link host2.*refusing its fs requests: no job of ours" \
		"$MIG_CLUSTER_DIR/home.log"
	# One line per link: each fspeer run is a link of its own.
	expect_eq "log lines" "$output" 2
}

@test "fsguard: a FETCH of home's /proc/self/mem at a mapped address is refused" {
	local pid addr
	pid=$(cat "$MIG_CLUSTER_DIR/home.pid")
	# The start of home's first mapping: readable memory of the daemon.
	addr=0x$(head -1 "/proc/$pid/maps" | cut -d- -f1)
	fspeer fetch /proc/self/mem "$addr"
	expect_eq "answer" "$output" "errno 13 bytes 0"
	# Home still serves its own cluster.
	run --separate-stderr timeout -k 2 30 "$MIG" -h host1 echo still
	expect_eq "job output" "$output" "still"
}
