#!/usr/bin/env bats
# seed.bats: content seeding (docs/design.md, "Content seeding"). A host
# running a job in a served view takes a file's content from a file of
# its own with the same hash, at the same path or in the folders its
# hosts file line indexes, instead of fetching it from home; a file with
# the right path and size but other content is never used.
#
# The cluster: --private-fs hosts forced to serve everything (the
# `served` keyword: nothing proven is bound in, so even /usr is served).
# host1 indexes /usr and a folder of its own; host2 seeds nothing (`seed
# off`). Both have the machine's /usr, which is home's. Root only: files
# are planted in host1's mount namespace (nsenter).

load helpers

INDEX=/var/tmp/mig-seed-index

setup_file() {
	mig_env_setup || return 1
	if ! is_root; then
		export SEED_SKIP="needs root (plants files in a host daemon's mount namespace)"
		return 0
	fi
	if ! unshare -m true 2>/dev/null; then
		export SEED_SKIP="no mount namespaces here (unshare -m fails)"
		return 0
	fi
	MIG_CLUSTER_WORDS=served cluster_up --private-fs || return 1
	# Each host reads its own line at start: host1's and host2's are
	# changed in their copies, and they start again.
	sed -i "/^host1 /s|\$| seed /usr:$INDEX|" "$MIG_CLUSTER_DIR/host1/config/hosts"
	sed -i '/^host2 /s|$| seed off|' "$MIG_CLUSTER_DIR/host2/config/hosts"
	local h
	for h in host1 host2; do
		"$CLUSTER" kill "$h" "$MIG_CLUSTER_DIR" >/dev/null || return 1
		"$CLUSTER" start "$h" "$MIG_CLUSTER_DIR" >/dev/null || return 1
	done
	# host1's indexed folder, in its own /var/tmp (a tmpfs of its own),
	# planted before its first served job walks it: a copy of a file
	# home has elsewhere, and a decoy of another's size.
	P=$(mktemp -d /tmp/mig-seed.XXXXXX)
	export P
	head -c 300000 /dev/urandom >"$P/lib.bin"
	head -c 200000 /dev/urandom >"$P/other.bin"
	in_host1 mkdir -p "$INDEX"
	in_host1 sh -c "cat >'$INDEX/copy.bin'" <"$P/lib.bin"
	in_host1 sh -c "head -c 200000 /dev/urandom >'$INDEX/decoy.bin'"
}

teardown_file() {
	[[ -n ${SEED_SKIP:-} ]] && return 0
	cluster_down
	rm -rf "$P"
}

setup() {
	[[ -z ${SEED_SKIP:-} ]] || skip "$SEED_SKIP"
	exec </dev/null
	BG_PIDS=()
	CLEANUP=()
	wait_until 10 up host1
	wait_until 10 up host2
}

# in_host1 CMD...: CMD in host1's daemon's mount namespace.
in_host1() {
	nsenter -t "$(host_pid host1)" -m -- "$@"
}

# up HOST: home sees HOST up, and served (its FS_MODE came).
up() {
	timeout -k 2 10 "$MIG" hosts --json 3>&- | python3 -c '
import json, sys
h = {h["host"]: h for h in json.load(sys.stdin)}[sys.argv[1]]
sys.exit(not (h["state"] == "up" and h["files"] == "served"))' "$1"
}

# bytes HOST: "FETCHED SEEDED", what HOST's views had of home's files
# (mig hosts --json).
bytes() {
	timeout -k 2 10 "$MIG" hosts --json 3>&- | python3 -c '
import json, sys
h = {h["host"]: h for h in json.load(sys.stdin)}[sys.argv[1]]
print(h["fetched_bytes"], h["seeded_bytes"])' "$1"
}

# indexed: host1 said it walked its indexed folders.
indexed() {
	grep -q "seeding: index of /usr:$INDEX made" "$MIG_CLUSTER_DIR/host1.log"
}

@test "seed: a cold compile fetches a small fraction with seeding of what it fetches without; objects are a local build's" {
	local d
	d=$(mktemp -d "$P/cc.XXXXXX")
	cat >"$d/hi.c" <<-'EOF'
		#include <stdio.h>
		#include <stdlib.h>
		#include <string.h>
		int main(void) { char b[16]; strcpy(b, "hi"); puts(b); return EXIT_SUCCESS; }
	EOF
	cd "$d"
	gcc -c hi.c -o ref.o
	read -r f2 s2 < <(bytes host2)
	read -r f1 s1 < <(bytes host1)
	# Cold caches: neither host ran a served job yet.
	run --separate-stderr timeout -k 2 120 "$MIG" -h host2 gcc -c hi.c -o h2.o
	[ "$status" -eq 0 ]
	run --separate-stderr timeout -k 2 120 "$MIG" -h host1 gcc -c hi.c -o h1.o
	[ "$status" -eq 0 ]
	cmp ref.o h2.o
	cmp ref.o h1.o
	# The tally reaches home before the job's exit: read at once.
	read -r F2 S2 < <(bytes host2)
	read -r F1 S1 < <(bytes host1)
	local fetched2=$((F2 - f2)) seeded2=$((S2 - s2))
	local fetched1=$((F1 - f1)) seeded1=$((S1 - s1))
	echo "# cold gcc -c: without seeding fetched $fetched2 B (seeded $seeded2 B); with seeding fetched $fetched1 B, seeded $seeded1 B" >&3
	[ "$seeded2" -eq 0 ]
	[ "$fetched2" -gt 1000000 ]
	[ "$seeded1" -gt 1000000 ]
	# At most a tenth of what the host without seeding fetched.
	[ $((fetched1 * 10)) -le "$fetched2" ]
	# mig ps --recent says the same of each job.
	run --separate-stderr timeout -k 2 10 "$MIG" ps --json --recent 50
	[ "$status" -eq 0 ]
	python3 -c '
import json, sys
rows = [r for r in json.loads(sys.argv[1]) if "-o h1.o" in r["command"] or "-o h2.o" in r["command"]]
by = {r["host"]: r for r in rows}
assert by["host2"]["seeded_bytes"] == 0 and by["host2"]["fetched_bytes"] == int(sys.argv[2]), by
assert by["host1"]["seeded_bytes"] == int(sys.argv[3]) and by["host1"]["fetched_bytes"] == int(sys.argv[4]), by
' "$output" "$fetched2" "$seeded1" "$fetched1"
	# And mig hosts, in its FETCHED and SEEDED columns.
	run --separate-stderr timeout -k 2 10 "$MIG" hosts
	[ "$status" -eq 0 ]
	grep -E '^HOST .* FETCHED +SEEDED +VERSION +FILES +WHY$' <<<"$output"
	grep -E '^host2 .* 0 +[0-9.]+ \(.*\) +served$' <<<"$output"
}

@test "seed: a file of the host's at the same path with the same size but other content is never used" {
	local d
	d=$(mktemp -d "$P/trap.XXXXXX")
	head -c 100000 /dev/urandom >"$d/data.bin"
	# The trap: host1 has the same path and size, with other content.
	in_host1 mkdir -p "$d"
	in_host1 sh -c "head -c 100000 /dev/urandom >'$d/data.bin'"
	CLEANUP+=("in_host1 rm -rf '$d'")
	# sha256sum and its libraries in host1's cache first (seeded).
	echo warm >"$d/warm"
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 sha256sum "$d/warm"
	[ "$status" -eq 0 ]
	read -r f1 s1 < <(bytes host1)
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 sha256sum "$d/data.bin"
	[ "$status" -eq 0 ]
	expect_eq "sha256sum on host1" "$output" "$(sha256sum "$d/data.bin")"
	read -r F1 S1 < <(bytes host1)
	# It came from home, whole; nothing of it was seeded.
	[ $((F1 - f1)) -ge 100000 ]
	[ "$((S1 - s1))" -eq 0 ]
	# The host's own file is untouched: still other content.
	[ "$(in_host1 sha256sum "$d/data.bin")" != "$(sha256sum "$d/data.bin")" ]
}

@test "seed: a file in the indexed folder stands in by hash, wherever home has it; a decoy of the same size does not" {
	# The index is walked at the view's start, off the loop.
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 true
	[ "$status" -eq 0 ]
	wait_until 60 indexed
	read -r f1 s1 < <(bytes host1)
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 sha256sum "$P/lib.bin" "$P/other.bin"
	[ "$status" -eq 0 ]
	expect_eq "sha256sum on host1" "$output" "$(sha256sum "$P/lib.bin" "$P/other.bin")"
	read -r F1 S1 < <(bytes host1)
	# lib.bin from host1's copy; other.bin from home, not from the decoy.
	[ $((S1 - s1)) -eq 300000 ]
	[ $((F1 - f1)) -ge 200000 ]
	[ $((F1 - f1)) -lt 300000 ]
}

@test "seed: host1 keeps its files' hashes across a restart" {
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 true
	[ "$status" -eq 0 ]
	"$CLUSTER" kill host1 "$MIG_CLUSTER_DIR" >/dev/null
	test -s "$MIG_CLUSTER_DIR/host1/cache/mig/objects/hashes"
	"$CLUSTER" start host1 "$MIG_CLUSTER_DIR" >/dev/null
}
