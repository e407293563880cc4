#!/usr/bin/env bats
# How daemons find each other and say why they cannot: mig hosts' WHY for
# a host refused by protocol, by key, by name, or not listening; a build
# that speaks protocol 4 alone (MIG_PROTO_MAX, for tests) still links;
# a hosts line that points at home's own daemon.

load helpers

# why_is NAME TEXT: home shows NAME down with WHY TEXT.
why_is() {
	[[ $(host_field "$1" state) == down && $(host_field "$1" why) == "$2" ]]
}

# restart NAME [VAR=VALUE...]: daemon NAME started again, with those
# variables in its environment.
restart() {
	local name=$1
	shift
	"$CLUSTER" kill "$name"
	env "$@" "$CLUSTER" start "$name"
}

# restore NAME: NAME runs as the cluster made it, and everyone is up.
restore() {
	restart "$1"
	wait_until 20 all_up
}

# table_why NAME: the WHY column of NAME's row in mig hosts (the words
# after FILES, which is "-" for a host not up).
table_why() {
	timeout -k 2 10 "$MIG" hosts 3>&- | sed -nE "s/^$1 .* -  (.*)\$/\\1/p"
}

# versions_known AT: daemon AT's mig hosts shows the build of every
# other daemon (a link's BUILD follows its handshake).
versions_known() {
	local n want
	want=$(build_words)
	for n in home host1 host2; do
		[[ $n == "$1" || $(host_field "$n" version "$1") == "$want" ]] || return 1
	done
}

@test "peers: mig hosts shows each daemon's release and build, both ways over TCP, and home's own" {
	wait_until 20 all_up
	local want n at
	want=$(build_words)
	[[ $want =~ ^[0-9]+\.[0-9]+\.[0-9]+\ \((git|sources)\ [0-9a-f]{7} ]]
	for at in home host1; do
		wait_until 10 versions_known "$at"
		expect_eq "$at's own" "$(host_field "$at" version "$at")" "$want"
		for n in home host1 host2; do
			[[ $(host_row "$n" "$at") == *"  $want  "* ]] || {
				echo "$at's mig hosts has no VERSION $want for $n:" >&2
				on_daemon "$at" "$MIG" hosts >&2
				return 1
			}
		done
	done
	timeout -k 2 10 "$MIG" hosts 3>&- | head -1 | grep -qE ' SEEDED +VERSION +FILES '
	# The log says which build each link's peer runs.
	grep -F "): it runs $want" "$MIG_CLUSTER_DIR/home.log" | grep -qF "link host1 ("
}

@test "peers: a host that speaks protocol 4 alone (an 0.1.0 build) links with protocol 4 and runs jobs; the others speak the newest" {
	CLEANUP+=("restore host1")
	wait_until 20 all_up
	expect_eq "host1's protocol" "$(host_field host1 protocol)" "$(proto_version)"
	restart host1 MIG_PROTO_MAX=4
	wait_until 20 all_up
	expect_eq "host1's protocol" "$(host_field host1 protocol)" 4
	expect_eq "host2's protocol" "$(host_field host2 protocol)" "$(proto_version)"
	expect_eq "home's own" "$(host_field home protocol)" "$(proto_version)"
	# Protocol 4 says no build: each side shows what it knows of the
	# other, and never a guess; host2's link still says its build.
	wait_until 10 eval '[[ $(host_field host2 version) == "$(build_words)" ]]'
	expect_eq "host1's version at home" "$(host_field host1 version)" "protocol 4"
	expect_eq "home's version at host1" "$(host_field home version host1)" "protocol 4"
	[[ $(host_row host1) == *"  protocol 4  "* ]]
	[[ $(host_row home host1) == *"  protocol 4  "* ]]
	expect_eq "host2's version at host1" "$(host_field host2 version host1)" "protocol 4"
	expect_eq "host1's own" "$(host_field host1 version host1)" "$(build_words)"
	run --separate-stderr timeout -k 2 30 "$MIG" -h host1 echo over-4
	expect_eq "output" "$output" over-4
	grep -qE 'link host1 .*: up \(protocol 4, ' "$MIG_CLUSTER_DIR/home.log"
}

@test "peers: a host of protocol 3 is refused: WHY 'protocol 3 vs 4-NEWEST (0.1.0 vs VERSION)', in mig hosts and the log" {
	CLEANUP+=("restore host1")
	local want
	want="protocol 3 vs 4-$(proto_version) (0.1.0 vs $(mig_version))"
	restart host1 MIG_PROTO_MAX=3
	wait_until 20 why_is host1 "$want"
	wait_until 5 eval '[[ $(table_why host1) == "$want" ]]'
	grep -qF "link host1 (127.0.0.2:" "$MIG_CLUSTER_DIR/home.log"
	grep -qF "$want; closed" "$MIG_CLUSTER_DIR/home.log"
	# The other host is not bothered.
	expect_eq "host2" "$(host_field host2 state)" up
	run --separate-stderr timeout -k 2 30 "$MIG" -h host1 true
	expect_mig_failure
}

@test "peers: a host with another key: WHY 'key refused'; the host's log hears it from home" {
	CLEANUP+=("cp '$MIG_CLUSTER_DIR/key' '$MIG_CLUSTER_DIR/host1/config/key'; restore host1")
	"$CLUSTER" kill host1
	rm -f "$MIG_CLUSTER_DIR/host1/config/key"
	MIG_CONFIG_DIR=$MIG_CLUSTER_DIR/host1/config "$MIG" keygen >/dev/null 3>&-
	"$CLUSTER" start host1
	wait_until 20 why_is host1 "key refused"
	[[ $(table_why host1) == "key refused" ]]
	wait_until 10 grep -qF "refused: key refused; closed" "$MIG_CLUSTER_DIR/host1.log"
}

@test "peers: a renamed host: WHY 'it calls itself NAME' at home; the renamed one says home refused its name and finds its old line is itself" {
	CLEANUP+=("restore host1")
	MIG_CLUSTER_HOMED_ARGS="--name host9" restart host1
	wait_until 20 why_is host1 "it calls itself 'host9'"
	wait_until 10 grep -qF "link home (127.0.0.1:" "$MIG_CLUSTER_DIR/host1.log"
	wait_until 10 grep -qF "refused: 'host9' is not in its hosts file; closed" "$MIG_CLUSTER_DIR/host1.log"
	# Its own old line (host1, 127.0.0.2) is now a peer of its, and
	# reaches itself: said, never dialed again and again.
	wait_until 10 grep -qE "link host1 \(127\.0\.0\.2:[0-9]+\): name resolves to this host; closed" "$MIG_CLUSTER_DIR/host1.log"
	sleep 3
	expect_eq "dials of itself" "$(grep -c 'link host1 (127.0.0.2:[0-9]*): name resolves to this host' "$MIG_CLUSTER_DIR/host1.log")" 1
}

@test "peers: a hosts line that names home's own address: WHY 'name resolves to this host', home keeps serving" {
	local hosts=$MIG_CONFIG_DIR/hosts port
	port=$(sed -n 's/^PORT=//p' "$MIG_CLUSTER_DIR/cluster.conf")
	cp "$hosts" "$BATS_TEST_TMPDIR/hosts"
	CLEANUP+=("cp '$BATS_TEST_TMPDIR/hosts' '$hosts'")
	printf 'myself 127.0.0.1:%s shared\n' "$port" >>"$hosts"
	wait_until 20 why_is myself "name resolves to this host"
	[[ $(table_why myself) == "name resolves to this host" ]]
	grep -qF "this daemon called itself (as 'home')" "$MIG_CLUSTER_DIR/home.log"
	run --separate-stderr timeout -k 2 30 "$MIG" -h host1 echo still
	expect_eq "output" "$output" still
}

@test "peers: a host whose daemon is not running: WHY 'connection refused'" {
	CLEANUP+=("restore host2")
	"$CLUSTER" kill host2
	wait_until 20 why_is host2 "connection refused"
	[[ $(table_why host2) == "connection refused" ]]
	# An up host has no WHY.
	expect_eq "host1's why" "$(host_field host1 why)" ""
}
