#!/usr/bin/env bats
# exact.bats: a placed job sees home's files, exactly (docs/design.md,
# "Mode, per job"): a host's own files stand in for home's only where it
# proved them the same (same boot id, same dev and ino of home's mount
# point); a stale copy at the same path on the host is never used.
#
# The cluster: --private-fs hosts (their /tmp is a tmpfs of their own) and
# --same-dir: one folder of home's is a mount point at home and is mounted
# into each host at the same path, the very same files. Root only: the
# trap is planted inside a host daemon's mount namespace (nsenter).

load helpers

setup_file() {
	mig_env_setup || return 1
	if ! is_root; then
		export EXACT_SKIP="needs root (plants files in a host daemon's mount namespace)"
		return 0
	fi
	if ! unshare -m true 2>/dev/null; then
		export EXACT_SKIP="no mount namespaces here (unshare -m fails)"
		return 0
	fi
	SAME=$(mktemp -d /tmp/mig-exact-same.XXXXXX)
	export SAME
	cluster_up --private-fs --same-dir "$SAME"
}

teardown_file() {
	[[ -n ${EXACT_SKIP:-} ]] && return 0
	cluster_down
	rm -rf "$SAME"
}

setup() {
	[[ -z ${EXACT_SKIP:-} ]] || skip "$EXACT_SKIP"
	exec </dev/null
	BG_PIDS=()
	CLEANUP=()
	wait_until 10 proven
}

# proven: host1 said what it proved of home's files.
proven() {
	timeout -k 2 10 "$MIG" hosts --json 3>&- | python3 -c '
import json, sys
h = {h["host"]: h for h in json.load(sys.stdin)}["host1"]
sys.exit(not (h["state"] == "up" and h["proven"]))'
}

# in_host1 CMD...: CMD in host1's daemon's mount namespace, where its
# /tmp is its own.
in_host1() {
	nsenter -t "$(host_pid host1)" -m -- "$@"
}

# project: a folder at home in /tmp (served to the hosts); removed at
# teardown, also from host1's namespace.
project() {
	P=$(mktemp -d /tmp/mig-exact.XXXXXX)
	CLEANUP+=("rm -rf '$P'" "in_host1 rm -rf '$P'")
}

# counter NAME: host1's link counter NAME (mig hosts --json).
counter() {
	timeout -k 2 10 "$MIG" hosts --json 3>&- | python3 -c '
import json, sys
print({h["host"]: h for h in json.load(sys.stdin)}["host1"][sys.argv[1]])' "$1"
}

@test "exact: a stale x.c at the cwd's path on the host is not compiled; home's is, and x.o lands at home" {
	project
	printf 'int answer(void) { return 42; }\n' >"$P/x.c"
	# The trap: the host has the same path, with other content.
	in_host1 mkdir -p "$P"
	in_host1 sh -c "printf 'int stale(void) { return 1; }\n' >'$P/x.c'"
	cd "$P"
	gcc -c x.c -o ref.o
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 gcc -c x.c -o x.o
	[ "$status" -eq 0 ]
	cmp ref.o x.o
	# The host's own files are untouched, and got no x.o.
	expect_eq "host1's x.c" "$(in_host1 cat "$P/x.c")" "int stale(void) { return 1; }"
	in_host1 test ! -e "$P/x.o"
	# A listing of the cwd from the job is home's (but for "..", which is
	# /tmp: other tests change it meanwhile).
	touch -d '2020-01-02 03:04:05' x.c
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 ls -la --time-style=full-iso
	[ "$status" -eq 0 ]
	expect_eq "ls -la on host1" "$(grep -v ' \.\.$' <<<"$output")" \
		"$(ls -la --time-style=full-iso | grep -v ' \.\.$')"
}

@test "exact: a stale header in an include folder the host has is not used" {
	project
	mkdir "$P/inc"
	printf '#define VALUE 1\n' >"$P/inc/v.h"
	printf '#include "v.h"\nint value(void) { return VALUE; }\n' >"$P/y.c"
	in_host1 mkdir -p "$P/inc"
	in_host1 sh -c "printf '#define VALUE 2\n' >'$P/inc/v.h'"
	cd "$P"
	gcc -c -I"$P/inc" y.c -o ref.o
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 gcc -c -I"$P/inc" y.c -o y.o
	[ "$status" -eq 0 ]
	cmp ref.o y.o
}

@test "exact: a program only home has runs where the host has the cwd, and its output lands at home" {
	project
	mkdir "$P/bin"
	printf '#!/bin/sh\necho made by "$0" >out.txt\n' >"$P/bin/tool"
	chmod 755 "$P/bin/tool"
	in_host1 mkdir -p "$P"
	cd "$P"
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 ./bin/tool
	[ "$status" -eq 0 ]
	expect_eq "out.txt at home" "$(cat out.txt)" "made by ./bin/tool"
	in_host1 test ! -e "$P/out.txt"
	in_host1 test ! -e "$P/bin/tool"
}

@test "exact: mig hosts shows what host1 proved: /, and the same folder; its own /tmp shadows" {
	run --separate-stderr timeout -k 2 10 "$MIG" hosts --json
	[ "$status" -eq 0 ]
	echo "$output" | python3 -c '
import json, sys
h = {h["host"]: h for h in json.load(sys.stdin)}["host1"]
print(h["files"], h["proven"], h["not_proven"], file=sys.stderr)
assert "/" in h["proven"] and sys.argv[1] in h["proven"], h["proven"]
assert "/tmp" in h["not_proven"] and "/tmp" not in h["proven"], h
assert h["files"].startswith("served; proven: /"), h["files"]' "$SAME"
	run --separate-stderr timeout -k 2 10 "$MIG" hosts
	echo "$output" | grep -E "^host1 .* served; proven: /.*$SAME.*; not proven: .*/tmp"
}

@test "exact: a proven folder is passed through (no file data over the link); a served one is not" {
	local n=4000000 b0 b1 r0 r1
	head -c $n /dev/urandom >"$SAME/data"
	project
	head -c $n /dev/urandom >"$P/data"
	# The proven one: the job reads the host's own mount of it.
	cd "$SAME"
	b0=$(counter fs_answer_bytes)
	r0=$(counter fs_requests)
	timeout -k 2 60 "$MIG" -h host1 cat data >"$BATS_TEST_TMPDIR/got" 3>&-
	cmp "$SAME/data" "$BATS_TEST_TMPDIR/got"
	b1=$(counter fs_answer_bytes)
	r1=$(counter fs_requests)
	echo "proven: $((r1 - r0)) fs requests, $((b1 - b0)) answer bytes" >&2
	((b1 - b0 < n / 10))
	# A write there is home's at once: the same files.
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 sh -c 'echo written >w'
	[ "$status" -eq 0 ]
	expect_eq "w at home" "$(cat "$SAME/w")" "written"
	# The served one: its bytes come over the link.
	cd "$P"
	timeout -k 2 60 "$MIG" -h host1 cat data >"$BATS_TEST_TMPDIR/got" 3>&-
	cmp "$P/data" "$BATS_TEST_TMPDIR/got"
	b0=$b1
	b1=$(counter fs_answer_bytes)
	echo "served: $((b1 - b0)) answer bytes" >&2
	((b1 - b0 >= n))
}

@test "exact: mig -v and mig ps say how each job sees home's files" {
	local pid
	project
	cd "$P"
	run --separate-stderr timeout -k 2 60 "$MIG" -v -h host1 true
	[ "$status" -eq 0 ]
	[[ ${stderr_lines[0]} == "mig: true: on host1, in served; this host's own / "*"$SAME"* ]]
	timeout -k 2 60 "$MIG" -h host1 sleep 5 </dev/null >/dev/null 2>&1 3>&- &
	pid=$!
	bg_track "$pid"
	wait_until 20 eval 'timeout -k 2 10 "$MIG" ps --json 3>&- | grep -q "this host.s own"'
	timeout -k 2 10 "$MIG" ps --json 3>&- | python3 -c '
import json, sys
j = [x for x in json.load(sys.stdin) if x["command"] == "sleep 5"]
assert len(j) == 1 and j[0]["host"] == "host1", j
assert j[0]["files"].startswith("served; this host'"'"'s own / "), j'
	run --separate-stderr timeout -k 2 10 "$MIG" ps
	echo "$output" | grep -E " host1 .* served; this host.s own / .*sleep 5\$"
}

@test "exact: a host that cannot serve takes only jobs in proven files, refuses others with the reason, and mig make counts it only there" {
	local u=migexact$$ c out s2 mode
	[ -c /dev/fuse ] || skip "no /dev/fuse here"
	useradd --system --no-create-home --shell /usr/sbin/nologin "$u"
	c=$(mktemp -d /tmp/mig-cluster.XXXXXX)
	s2=$(mktemp -d /tmp/mig-exact-same.XXXXXX)
	CLEANUP+=("'$CLUSTER' down '$c'" "userdel '$u'" "rm -rf '$s2'")
	chmod 755 "$s2"
	printf 'same\n' >"$s2/f"
	printf 'all:\n\t@true\n' >"$s2/Makefile"
	project
	chmod 755 "$P"
	printf 'other\n' >"$P/f"
	cp "$s2/Makefile" "$P/"
	# /dev/fuse root's alone while host1 probes (at its first link up):
	# run by $u, it cannot serve.
	mode=$(stat -c %a /dev/fuse)
	CLEANUP+=("chmod '$mode' /dev/fuse")
	chmod 0600 /dev/fuse
	out=$(MIG_CLUSTER_DIR=$c "$CLUSTER" up 1 --private-fs --user "$u" --slots 1,3 --same-dir "$s2")
	(
		eval "$out"
		wait_until 10 eval '[[ $(timeout -k 2 10 "$MIG" hosts --json 3>&- | python3 -c "
import json, sys
print({h[\"host\"]: h for h in json.load(sys.stdin)}[\"host1\"][\"proven\"])") == *"$s2"* ]]'
		chmod "$mode" /dev/fuse
		timeout -k 2 10 "$MIG" hosts 3>&- | grep -E "^host1 .* proven only \(served unavailable: .*\); proven: /.*$s2"
		# In the proven folder: it runs there, in its own files.
		cd "$s2"
		run --separate-stderr timeout -k 2 60 "$MIG" -v -h host1 cat f
		[ "$status" -eq 0 ]
		expect_eq "cat f" "$output" "same"
		[[ ${stderr_lines[0]} == "mig: cat: on host1, in this host's own files (its paths proven home's; served mode unavailable)" ]]
		run --separate-stderr timeout -k 2 60 "$MIG" -v make
		[ "$status" -eq 0 ]
		expect_eq "make's job count" "${stderr_lines[0]}" "mig: -j4: 4 slots on 2 hosts up"
		# Elsewhere: refused, with the reason, never "full".
		cd "$P"
		run --separate-stderr timeout -k 2 60 "$MIG" -h host1 cat f
		expect_mig_failure
		[[ ${stderr_lines[0]} == "mig: host1: cannot serve home's files ("?*"), and its cwd $P is not proven to be home's here" ]]
		run --separate-stderr timeout -k 2 60 "$MIG" -v make
		[ "$status" -eq 0 ]
		expect_eq "make's job count" "${stderr_lines[0]}" "mig: -j1: 1 slot on 1 host up"
		expect_eq "left out" "${stderr_lines[1]}" "mig: 1 host up left out: cannot serve home's files, and $P is not proven home's there"
		# A compile placed there (host1 has the most free slots, 3 to
		# home's 1) is refused, runs at home, and mig ps says why.
		printf 'int a(void) { return 1; }\n' >a.c
		printf 'int b(void) { return 2; }\n' >b.c
		printf 'all: a.o b.o\n%%.o: %%.c\n\tgcc -c $< -o $@\n' >Makefile
		run --separate-stderr timeout -k 2 60 "$MIG" make -j2
		[ "$status" -eq 0 ]
		[ -f a.o ] && [ -f b.o ]
		timeout -k 2 10 "$MIG" ps --json --recent 10 3>&- | python3 -c '
import json, sys
j = [x for x in json.load(sys.stdin) if "gcc -c" in x["command"]]
print(j, file=sys.stderr)
assert len(j) == 2 and all(x["host"] == "home" for x in j), j
assert any(x["why"] == "host1 cannot see its files; running at home" for x in j), j'
	)
}

@test "exact: mig -v make says, for each job placed, where it runs and how it sees home's files" {
	use_policy sleep
	project
	printf 'all: a b c d\na b c d:\n\t@sleep 1\n' >"$P/Makefile"
	cd "$P"
	run --separate-stderr timeout -k 2 60 "$MIG" -v make -j4
	[ "$status" -eq 0 ]
	printf '%s\n' "${stderr_lines[@]}" >&2
	printf '%s\n' "${stderr_lines[@]}" | grep -E "^mig: (/usr)?/bin/sleep: on host1, in served; this host's own / .*$SAME"
}

@test "exact: a mount home makes later under a proven folder is never hidden by the host's view of it" {
	# The view (made by an earlier test) binds host1's mount of $SAME;
	# now home mounts a tmpfs inside it, which host1's mount lacks.
	mkdir -p "$SAME/sub"
	nsenter -t "$(host_pid home)" -m -- mount -t tmpfs -o mode=755 tmpfs "$SAME/sub"
	CLEANUP+=("nsenter -t '$(host_pid home)' -m -- umount '$SAME/sub'")
	nsenter -t "$(host_pid home)" -m -- sh -c "echo home\\'s >'$SAME/sub/f'"
	# Home tells host1 at once: it is not proven there.
	wait_until 10 eval 'timeout -k 2 10 "$MIG" hosts --json 3>&- | python3 -c "
import json, sys
h = {h[\"host\"]: h for h in json.load(sys.stdin)}[\"host1\"]
sys.exit(\"$SAME/sub\" not in h[\"not_proven\"])"'
	cd /
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 cat "$SAME/sub/f"
	expect_mig_failure
	[[ ${stderr_lines[0]} == *"home's mounts changed since this host's view of them was made"* ]]
	# A new link, a new view: home's tmpfs is served in it.
	"$CLUSTER" kill host1
	"$CLUSTER" start host1
	wait_until 10 proven
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 cat "$SAME/sub/f"
	[ "$status" -eq 0 ]
	expect_eq "f from host1" "$output" "home's"
}
