#!/usr/bin/env bats
# served.bats: hosts without the home's files (cluster up --private-fs)
# run placed jobs in a served view: home's whole tree, served over the
# peer link, at home's paths (docs/design.md, "Served file view"). Every
# file of these tests lives in /tmp at home, which the hosts do not have.
#
# Skips when the probe says served mode is unavailable here (no user
# namespaces, no usable /dev/fuse for the host daemons).

load helpers

setup_file() {
	mig_env_setup || return 1
	if ! unshare -Urm true 2>/dev/null && ! { is_root && unshare -m true 2>/dev/null; }; then
		export SERVED_SKIP="no mount namespaces here (unshare -m and unshare -Urm both fail)"
		return 0
	fi
	# -v: home logs each job's fs requests and each file put home.
	# Under valgrind (MIG_TEST_SLOW) the daemons' ping timeout grows as
	# the tests' waits do: a file put home goes out in 512 KiB frames,
	# each sealed and opened on the daemons' loops, and a pong waits
	# behind up to 8 of them, seconds each there. Exported: daemons
	# started again later get the same.
	MIG_CLUSTER_HOMED_ARGS=-v
	if ((${MIG_TEST_SLOW:-1} > 1)); then
		MIG_CLUSTER_HOMED_ARGS+=" --ping-timeout $((6 * MIG_TEST_SLOW))"
	fi
	export MIG_CLUSTER_HOMED_ARGS
	cluster_up --private-fs --slots 2,4,4
	wait_until 10 all_up
	# One job in a folder only home has says whether the hosts can serve.
	local d err
	d=$(mktemp -d /tmp/mig-served-probe.XXXXXX)
	err=$(cd "$d" && timeout -k 2 60 "$MIG" -h host1 true 2>&1 3>&-) || true
	rm -rf "$d"
	if [[ $err == *"served mode is unavailable"* || $err == *"served view failed"* ||
		$err == *"cannot serve home's files"* ]]; then
		export SERVED_SKIP="served mode unavailable on the hosts: ${err#mig: }"
	fi
}

teardown_file() {
	cluster_down
}

setup() {
	exec </dev/null
	BG_PIDS=()
	CLEANUP=()
	if [[ -n ${SERVED_SKIP:-} ]]; then
		skip "$SERVED_SKIP"
	fi
}

all_up() {
	timeout -k 2 10 "$MIG" hosts --json 3>&- | python3 -c '
import json, sys
sys.exit(not all(h["state"] in ("home", "up") for h in json.load(sys.stdin)))'
}

# jobs_done: "HOME HOST1 HOST2", each host's jobs_done.
jobs_done() {
	timeout -k 2 10 "$MIG" hosts --json 3>&- | python3 -c '
import json, sys
d = {h["host"]: h["jobs_done"] for h in json.load(sys.stdin)}
print(d["home"], d["host1"], d["host2"])'
}

# home_dir: a new folder at home, in /tmp (hidden from the hosts);
# teardown removes it.
home_dir() {
	HDIR=$(mktemp -d /tmp/mig-served.XXXXXX)
	CLEANUP+=("rm -rf '$HDIR'")
}

# tree DIR: one line per entry: path, type, mode, size (files), target.
tree() {
	(cd "$1" && find . -printf '%p %y %m %s %l\n' | LC_ALL=C sort)
}

@test "served: a file only home has reads back byte for byte on a host" {
	home_dir
	head -c 3000000 /dev/urandom >"$HDIR/data.bin"
	printf 'int main(void) { return 0; }\n' >"$HDIR/main.c"
	cd "$HDIR"
	# The host really lacks it: its daemon's namespace has no such file.
	[ ! -e "/proc/$(host_pid host1)/root$HDIR/data.bin" ]
	timeout -k 2 60 "$MIG" -h host1 cat data.bin >"$BATS_TEST_TMPDIR/got" 3>&-
	cmp "$HDIR/data.bin" "$BATS_TEST_TMPDIR/got"
	run --separate-stderr timeout -k 2 60 "$MIG" -h host2 cat "$HDIR/main.c"
	[ "$status" -eq 0 ]
	expect_eq "main.c on host2" "$output" "int main(void) { return 0; }"
	# A second read comes from the host's object cache, same bytes.
	timeout -k 2 60 "$MIG" -h host1 cat data.bin >"$BATS_TEST_TMPDIR/got2" 3>&-
	cmp "$HDIR/data.bin" "$BATS_TEST_TMPDIR/got2"
}

@test "served: ls -la and find on a host list the folder as home does" {
	home_dir
	# Under a folder of the test's own: the listing of .. must not be
	# /tmp, whose link count other processes change meanwhile.
	local t=$HDIR/t
	mkdir -p "$t/d/e" "$t/.hidden"
	printf 'x\n' >"$t/d/e/y"
	printf 'hello\n' >"$t/f.txt"
	chmod 640 "$t/f.txt"
	chmod 711 "$t/d/e"
	ln -s f.txt "$t/lnk"
	: >"$t/.hidden/empty"
	cd "$t"
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 ls -la . d d/e
	[ "$status" -eq 0 ]
	expect_eq "ls -la" "$output" "$(ls -la . d d/e)"
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 find . -printf '%p %y %m %s %l\n'
	[ "$status" -eq 0 ]
	expect_eq "find" "$(LC_ALL=C sort <<<"$output")" "$(tree .)"
}

@test "served: a program only home has (a script in a hidden folder) runs on a host" {
	home_dir
	mkdir "$HDIR/.tools"
	printf '#!/bin/sh\necho "tool in $(pwd): $*"\n' >"$HDIR/.tools/tool"
	chmod 755 "$HDIR/.tools/tool"
	cd "$HDIR"
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 "$HDIR/.tools/tool" a b
	[ "$status" -eq 0 ]
	expect_eq "tool's output" "$output" "tool in $HDIR: a b"
	run --separate-stderr timeout -k 2 60 "$MIG" -h host2 env PATH="$HDIR/.tools:/usr/bin:/bin" tool c
	[ "$status" -eq 0 ]
	expect_eq "tool's output by PATH" "$output" "tool in $HDIR: c"
}

@test "served: a job writing, renaming and removing leaves home as a local run does" {
	home_dir
	cat >"$HDIR/ops.sh" <<'SH'
set -e
mkdir -p w/sub/deep
echo one >w/a
printf 'two\n' >w/sub/b
cp w/a w/c
mv w/c w/sub/deep/c2
chmod 751 w/sub/b
ln -s ../a w/sub/l
mkdir w/gone
touch w/gone/x
rm -r w/gone
echo more >>w/a
mv w/sub w/sub2
rm w/sub2/deep/c2
seq 1 300000 >w/big
truncate -s 100 w/sub2/b2
truncate -s 3 w/sub2/b
umask 027
mkdir w/m
echo z >w/m/z
cat w/a w/sub2/b
SH
	mkdir "$HDIR/local" "$HDIR/remote"
	(cd "$HDIR/local" && sh ../ops.sh >../local.out)
	cd "$HDIR/remote"
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 sh ../ops.sh
	[ "$status" -eq 0 ]
	expect_eq "the job's output" "$output" "$(cat "$HDIR/local.out")"
	diff -r "$HDIR/local" "$HDIR/remote" >&2
	expect_eq "tree (names, types, modes, sizes, targets)" "$(tree "$HDIR/remote")" "$(tree "$HDIR/local")"
}

@test "served: a job whose cwd the host has still sees home's files (a cwd proves nothing)" {
	home_dir
	printf 'x\n' >"$HDIR/f"
	cd /
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 test -e "$HDIR/f"
	[ "$status" -eq 0 ]
}

@test "served: mig make -j8 gives the objects of a local make, compiles on the hosts" {
	home_dir
	local p=$HDIR/p b0 b1 b2 a0 a1 a2
	project "$p" 16 1
	build_ref "$p"
	read -r b0 b1 b2 <<<"$(jobs_done)"
	make_ok "$p" -j8
	read -r a0 a1 a2 <<<"$(jobs_done)"
	echo "jobs_done before: $b0 $b1 $b2, after: $a0 $a1 $a2" >&2
	expect_eq "jobs done in all" "$((a0 + a1 + a2 - b0 - b1 - b2))" 18
	((a1 + a2 > b1 + b2))
	grep -q 'served view for home ready' "$MIG_CLUSTER_DIR/host1.log" "$MIG_CLUSTER_DIR/host2.log"
}

@test "served: an incremental mig make after a header edit at home gives the objects of a local build" {
	home_dir
	local p=$HDIR/p
	project "$p" 8 1
	cd "$p"
	run --separate-stderr timeout -k 5 300 "$MIG" make -j8
	((status == 0)) || { echo "mig make: $stderr" >&2; return 1; }
	# Every module includes demo.h: all of them must see the new one.
	sed -i 's/char tag\[16\];/char tag[24];/' include/demo.h
	run --separate-stderr timeout -k 5 300 "$MIG" make -j8
	((status == 0)) || { echo "incremental mig make: $stderr" >&2; return 1; }
	mkdir "$p.ref"
	cp obj/*.o demo "$p.ref/"
	make clean >/dev/null
	timeout -k 5 300 make -j2 >/dev/null
	same_objects "$p"
}

@test "served: a file changed at home between two jobs on one host is seen by the second" {
	home_dir
	cd "$HDIR"
	printf 'one\n' >f
	printf 'x\n' >gone
	local job='cat f; test -e gone && echo gone is there; test -e new && cat new; :'
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 sh -c "$job"
	[ "$status" -eq 0 ]
	expect_eq "first job" "$output" "one
gone is there"
	# Same size, and most likely the same second: the second job must
	# still see the new content, and what was removed and made.
	printf 'two\n' >f
	rm gone
	printf 'new\n' >new
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 sh -c "$job"
	[ "$status" -eq 0 ]
	expect_eq "second job" "$output" "two
new"
	printf 'six\n' >f
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 sh -c "$job"
	expect_eq "third job" "$output" "six
new"
}

@test "served: a name absent at the first job, a folder's listing and a file turned folder, changed at home, are seen by the second" {
	home_dir
	cd "$HDIR"
	mkdir d
	printf 'a\n' >d/a
	printf 'k\n' >d/kind
	local job='cat d/late 2>/dev/null || echo no late; ls d; test -d d/kind && echo kind is a folder; cat d/a; :'
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 sh -c "$job"
	[ "$status" -eq 0 ]
	expect_eq "first job" "$output" "no late
a
kind
a"
	printf 'late\n' >d/late
	rm d/a d/kind
	mkdir d/kind
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 sh -c "$job"
	[ "$status" -eq 0 ]
	expect_eq "second job" "$output" "late
kind
late
kind is a folder"
}

@test "served: a name absent to one program's job, made at home, is seen by another program's job" {
	home_dir
	cd "$HDIR"
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 sh -c 'cat late 2>/dev/null || echo none'
	[ "$status" -eq 0 ]
	expect_eq "first job" "$output" "none"
	printf 'late\n' >late
	# cat's own runs never looked the name up: its job's prime says
	# nothing of it, and what the kernel was told must not hold.
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 cat late
	[ "$status" -eq 0 ]
	expect_eq "second job" "$output" "late"
}

@test "served: a name absent in a folder the job renamed, made at home under the new name, is seen" {
	home_dir
	cd "$HDIR"
	mkdir x
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 sh -c 'cat x/late 2>/dev/null || echo none; mv x y'
	[ "$status" -eq 0 ]
	expect_eq "first job" "$output" "none"
	[ -d y ]
	printf 'late\n' >y/late
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 cat y/late
	[ "$status" -eq 0 ]
	expect_eq "second job" "$output" "late"
}

@test "served: renameat2(RENAME_EXCHANGE) in a job swaps both names, in the job, in the next job and at home" {
	home_dir
	cd "$HDIR"
	printf 'apple\n' >a
	printf 'banana split\n' >b
	# The job reads a and b (the kernel keeps their nodes, attributes
	# and pages), writes a new file n, exchanges a with b and n with a,
	# then reads all three again by name and through the files it held
	# open across the exchanges.
	cat >"$HDIR/swap.py" <<'PY'
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def exchange(x, y):
    if libc.renameat2(-100, x.encode(), -100, y.encode(), 2) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), x)
def read(name):
    with open(name) as f:
        return f.read().strip()
print(read("a"), read("b"), os.stat("a").st_size, os.stat("b").st_size)
fa, fb = open("a"), open("b")
with open("n", "w") as f:
    f.write("new file\n")
exchange("a", "b")
print(read("a"), read("b"), os.stat("a").st_size, os.stat("b").st_size)
exchange("n", "a")
print(read("a"), read("b"), read("n"))
print(fa.read().strip(), fb.read().strip())
PY
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 /usr/bin/python3 swap.py
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	expect_eq "the job's reads" "$output" "apple banana split 6 13
banana split apple 13 6
new file apple banana split
apple banana split"
	expect_eq "home: a b n" "$(cat a b n)" "new file
apple
banana split"
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 sh -c 'cat a b n; stat -c %s a b n'
	[ "$status" -eq 0 ]
	expect_eq "the next job: a b n" "$output" "new file
apple
banana split
9
6
13"
}

@test "served: a job appending to a big file home has, and two jobs reading it, see and leave it whole" {
	home_dir
	cd "$HDIR"
	head -c 40000000 /dev/urandom >big
	{ cat big; printf 'tail\n'; } >"$BATS_TEST_TMPDIR/expect"
	# The open for append copies home's content into a local file, and
	# the close's put goes into the host's cache: both on the host
	# daemon's thread pool, the opens that wait answered from there.
	run --separate-stderr timeout -k 2 120 "$MIG" -h host1 sh -c 'printf "tail\n" >>big; tail -c 5 big; wc -c <big'
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	expect_eq "the job's view of big" "$output" "tail
40000005"
	cmp big "$BATS_TEST_TMPDIR/expect"
	local want
	want=$(md5sum <big)
	# Two jobs at once: the second open of the object waits on the first.
	timeout -k 2 120 "$MIG" -h host1 sh -c 'md5sum <big' >"$BATS_TEST_TMPDIR/sum0" 3>&- </dev/null &
	bg_track $!
	run --separate-stderr timeout -k 2 120 "$MIG" -h host1 sh -c 'md5sum <big'
	[ "$status" -eq 0 ]
	expect_eq "md5sum of big on host1" "$output" "$want"
	wait "${BG_PIDS[-1]}"
	expect_eq "md5sum of big from the job beside it" "$(cat "$BATS_TEST_TMPDIR/sum0")" "$want"
}

# holds_open PID FILE: process PID has a file of FILE's content open.
holds_open() {
	local f
	for f in /proc/"$1"/fd/*; do
		[[ -f $f ]] && cmp -s -- "$f" "$2" && return 0
	done
	return 1
}

@test "served: the files a job holds open when its home link drops are let go by the host's daemon" {
	# The daemon is not dumpable: only root reads its fds.
	is_root || skip "reading the daemon's fds needs root"
	home_dir
	cd "$HDIR"
	head -c 100000 /dev/urandom >data
	local pid out=$BATS_TEST_TMPDIR/out gone
	pid=$(host_pid host1)
	gone=$(grep -c 'served view for home: its home link is gone' "$MIG_CLUSTER_DIR/host1.log" || true)
	# A file read (its cached object open in the daemon), one written,
	# the folder: all open while the job sleeps.
	"$MIG" -h host1 sh -c 'exec 6<data 7>>log 8<.; echo ready; exec sleep 1000' \
		>"$out" 2>&1 3>&- &
	bg_track $!
	wait_until 30 grep -q ready "$out"
	holds_open "$pid" data
	# home goes at once (it kills no job first), and with it host1's
	# link and view; the kernel's releases of the job's files, killed
	# then, no longer reach the daemon.
	CLEANUP+=("cd /; '$CLUSTER' start home; wait_until 20 all_up")
	kill -KILL "$(host_pid home)"
	# shellcheck disable=SC2016
	wait_until 20 eval '(($(grep -c "served view for home: its home link is gone" "$MIG_CLUSTER_DIR/host1.log") > gone))'
	# shellcheck disable=SC2016
	wait_until 20 eval '! holds_open "$pid" data'
	unset 'CLEANUP[-1]'
	"$CLUSTER" start home
	wait_until 20 all_up
	timeout -k 2 60 "$MIG" -h host1 cat data >"$BATS_TEST_TMPDIR/got" 3>&-
	cmp data "$BATS_TEST_TMPDIR/got"
}

@test "served: a job's end sends home only its own files, not those of a job still running beside it" {
	home_dir
	cd "$HDIR"
	# A makes a.tmp and waits for go (made by a later job in the same
	# view), then removes it: a.tmp's content never goes home.
	timeout -k 2 60 "$MIG" -h host1 sh -c 'printf abc >a.tmp; while [ ! -e go ]; do sleep 0.05; done; rm a.tmp; printf done >a.out' \
		>"$HDIR/a.log" 2>&1 3>&- &
	local a=$!
	bg_track "$a"
	# The empty name is made at home at once (O_EXCL and listings).
	wait_until 30 test -e a.tmp
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 sh -c 'printf b >b.out'
	[ "$status" -eq 0 ]
	expect_eq "b.out at home when B returns" "$(cat b.out)" "b"
	expect_eq "a.tmp's size at home while A runs" "$(stat -c %s a.tmp)" "0"
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 touch go
	[ "$status" -eq 0 ]
	wait "$a" || { cat "$HDIR/a.log" >&2; false; }
	expect_eq "a.out" "$(cat a.out)" "done"
	[ ! -e a.tmp ]
	local puts
	puts=$(sed -n "s|.*: put \($HDIR/.*\)|\1|p" "$MIG_CLUSTER_DIR/home.log" | LC_ALL=C sort)
	expect_eq "files put home" "$puts" "$HDIR/a.out
$HDIR/b.out"
}

# fs_requests PROG HOST: the fs requests of each of PROG's jobs on HOST,
# one line each, in order (home's log, -v).
fs_requests() {
	sed -n -E "s/.*job [0-9]+: $1 on $2: ([0-9]+) fs requests.*/\1/p" "$MIG_CLUSTER_DIR/home.log"
}

@test "served: a warm compile asks home far fewer times than the cold one before it" {
	home_dir
	# A program name no job had: its first run learns everything.
	local cc=cc$$ n
	ln -s "$(command -v gcc)" "$HDIR/$cc"
	printf '#include <stdio.h>\n#include <stdlib.h>\nint main(void) { puts("hi"); return EXIT_SUCCESS; }\n' >"$HDIR/hi.c"
	cd "$HDIR"
	gcc -c hi.c -o local.o
	for i in 1 2 3; do
		timeout -k 2 120 "$MIG" -h host1 "$HDIR/$cc" -c hi.c -o hi.o 3>&-
		cmp local.o hi.o
	done
	mapfile -t n < <(fs_requests "$cc" host1)
	echo "fs requests per run: ${n[*]}" >&2
	sed -n -E 's/.*served view: ([0-9]+) FUSE requests.*/\1/p' "$MIG_CLUSTER_DIR/host1.log" | tail -n 3 | tr '\n' ' ' | sed 's/^/FUSE requests of the last 3 jobs on host1: /' >&2
	expect_eq "runs logged" "${#n[@]}" 3
	# Less than half: the headers and the compiler are known at once.
	((n[1] * 2 < n[0]))
	((n[2] * 2 < n[0]))
}

# fs_total: the fs requests home answered its hosts so far.
fs_total() {
	timeout -k 2 10 "$MIG" hosts --json 3>&- | python3 -c '
import json, sys
print(sum(h.get("fs_requests", 0) for h in json.load(sys.stdin)))'
}

@test "served: compiles placed at once on a host each start from what home sent with them, so a warm build asks home little" {
	home_dir
	local p=$HDIR/p t0 t1 t2
	project "$p" 24 1
	cd "$p"
	# make -j12 places its compiles in bursts on both hosts: home sends
	# the next jobs' primes while the first one's mode is decided.
	t0=$(fs_total)
	timeout -k 2 300 "$MIG" make -j12 >/dev/null 3>&-
	t1=$(fs_total)
	make clean >/dev/null
	timeout -k 2 300 "$MIG" make -j12 >/dev/null 3>&-
	./demo >/dev/null
	t2=$(fs_total)
	echo "fs requests: cold build $((t1 - t0)), warm build $((t2 - t1))" >&2
	# A warm compile asks about its own files (its temporary .s made and
	# removed, its object made and put home); one whose prime was lost
	# asks about every name the host's kernel holds, as the cold build's
	# first compiles did.
	((2 * (t2 - t1) < t1 - t0))
}

# host_field NAME FIELD: FIELD of host NAME in home's mig hosts --json.
host_field() {
	timeout -k 2 10 "$MIG" hosts --json 3>&- | python3 -c '
import json, sys
print({h["host"]: h for h in json.load(sys.stdin)}[sys.argv[1]][sys.argv[2]])' "$1" "$2"
}

# restart_host NAME [VAR=VALUE...]: NAME's daemon starts again (with
# those variables), and everyone is up; from / (a cleanup runs where the
# test's folder is gone).
restart_host() (
	local name=$1
	shift
	cd / || exit 1
	"$CLUSTER" kill "$name"
	env "$@" "$CLUSTER" start "$name"
	wait_until 20 all_up
)

# hi_compiler CC: $HDIR/CC is gcc under a name no job had, hi.c a small
# program, local.o its object made here; the test's folder is $HDIR.
hi_compiler() {
	ln -s "$(command -v gcc)" "$HDIR/$1"
	printf '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n' >"$HDIR/hi.c"
	cd "$HDIR"
	gcc -c hi.c -o local.o
}

# hi_on_host1 CC: three compiles of hi.c with CC on host1, each object
# the local one, with its mode; prints the last one's fs requests (run in
# $(...): each step returns on failure, errexit does not reach there).
hi_on_host1() {
	local i
	for i in 1 2 3; do
		rm -f hi.o
		timeout -k 2 120 "$MIG" -h host1 "$HDIR/$1" -c hi.c -o hi.o 3>&- || return 1
		cmp local.o hi.o || return 1
	done
	expect_eq "hi.o's mode" "$(stat -c %a hi.o)" "$(stat -c %a local.o)" || return 1
	fs_requests "$1" host1 | tail -n 1
}

@test "served: over protocol 5 and later a warm compile's object goes home in one request; a protocol-4 host puts it by PUT_BEGIN..PUT_COMMIT; the same object" {
	home_dir
	CLEANUP+=("restart_host host1")
	local cc=bc$$ n5 n4 from
	hi_compiler "$cc"
	expect_eq "host1's protocol" "$(host_field host1 protocol)" "$(proto_version)"
	from=$(wc -l <"$MIG_CLUSTER_DIR/home.log")
	n5=$(hi_on_host1 "$cc")
	tail -n +"$((from + 1))" "$MIG_CLUSTER_DIR/home.log" | grep -q "link host1 .*: a batch of 1 files"
	# Played by an 0.1.0 build: no batch, the same object.
	restart_host host1 MIG_PROTO_MAX=4
	expect_eq "host1's protocol" "$(host_field host1 protocol)" 4
	from=$(wc -l <"$MIG_CLUSTER_DIR/home.log")
	n4=$(hi_on_host1 "$cc")
	! tail -n +"$((from + 1))" "$MIG_CLUSTER_DIR/home.log" | grep -q "a batch of"
	tail -n +"$((from + 1))" "$MIG_CLUSTER_DIR/home.log" | grep -q "link host1 .*: put $HDIR/hi.o"
	echo "fs requests of a warm compile: protocol $(proto_version) $n5, protocol 4 $n4" >&2
	# PUT_BEGIN, PUT_DATA and PUT_COMMIT are one PUT_BATCH.
	((n4 >= n5 + 2))
}

# gcc -c makes /tmp/cc*.s and removes it; each change makes the kernel
# ask again for the folder's attributes, which over protocol 6 the
# change's answer carried.
@test "served: over protocol 6 a warm compile asks home fewer times than over 5: a change's answer carries its folder; the same object" {
	home_dir
	CLEANUP+=("restart_host host1")
	local cc=fc$$ n6 n5 from
	hi_compiler "$cc"
	expect_eq "host1's protocol" "$(host_field host1 protocol)" 6
	n6=$(hi_on_host1 "$cc")
	restart_host host1 MIG_PROTO_MAX=5
	expect_eq "host1's protocol" "$(host_field host1 protocol)" 5
	from=$(wc -l <"$MIG_CLUSTER_DIR/home.log")
	n5=$(hi_on_host1 "$cc")
	echo "fs requests of a warm compile: protocol 6 $n6, protocol 5 $n5" >&2
	# Over 5 the folder is asked for (LSTAT) after a change in it.
	tail -n +"$((from + 1))" "$MIG_CLUSTER_DIR/home.log" | grep -qE "link host1 .*: fs request 1 /tmp$|link host1 .*: fs request 1 $HDIR$"
	((n6 < n5))
}

@test "served: mig make with one host of protocol 4 and one of the newest gives the objects of a local make; the newer host batches them" {
	home_dir
	CLEANUP+=("restart_host host1")
	local p=$HDIR/p from
	restart_host host1 MIG_PROTO_MAX=4
	expect_eq "host2's protocol" "$(host_field host2 protocol)" "$(proto_version)"
	project "$p" 16 1
	build_ref "$p"
	from=$(wc -l <"$MIG_CLUSTER_DIR/home.log")
	make_ok "$p" -j8
	tail -n +"$((from + 1))" "$MIG_CLUSTER_DIR/home.log" >"$BATS_TEST_TMPDIR/log"
	grep -q "link host2 .*: a batch of" "$BATS_TEST_TMPDIR/log"
	! grep -q "link host1 .*: a batch of" "$BATS_TEST_TMPDIR/log"
	# Both hosts compiled.
	grep -qE "job [0-9]+: .* on host1: " "$BATS_TEST_TMPDIR/log"
	grep -qE "job [0-9]+: .* on host2: " "$BATS_TEST_TMPDIR/log"
}

@test "served: gcc without -pipe keeps its temporary files on the host; its object is home when it returns" {
	home_dir
	printf 'static int g(int x) { return x * 3; }\nint f(int x) { return g(x) + 1; }\n' >"$HDIR/t.c"
	cd "$HDIR"
	gcc -O2 -c t.c -o local.o
	local puts tmp=$HDIR/tmp
	# gcc writes the assembly to $TMPDIR/cc*.s, which as reads.
	mkdir "$tmp"
	run --separate-stderr timeout -k 2 120 env TMPDIR="$tmp" "$MIG" -h host1 gcc -O2 -c t.c -o t.o
	[ "$status" -eq 0 ]
	cmp local.o t.o
	expect_eq "t.o's mode" "$(stat -c %a t.o)" "$(stat -c %a local.o)"
	expect_eq "temporary files left at home" "$(ls -A "$tmp")" ""
	puts=$(sed -n "s|.*: put \($HDIR/.*\)|\1|p" "$MIG_CLUSTER_DIR/home.log")
	expect_eq "files put home" "$puts" "$HDIR/t.o"
}

# files_of HOST: what mig hosts --json says of HOST's files.
files_of() {
	timeout -k 2 10 "$MIG" hosts --json 3>&- | python3 -c '
import json, sys
print({h["host"]: h["files"] for h in json.load(sys.stdin)}[sys.argv[1]])' "$1"
}

# set_files HOST WORD: HOST's line in its own hosts file ends with WORD
# (shared, served, or nothing); its daemon starts again with it.
set_files() {
	local h=$1 w=$2 f=$MIG_CLUSTER_DIR/$1/config/hosts
	"$CLUSTER" kill "$h"
	sed -i -E "s/^($h [^ ]+( [0-9]+)?( priority [a-z]+)?)( (shared|served))?\$/\1${w:+ $w}/" "$f"
	"$CLUSTER" start "$h"
	wait_until 15 all_up
	wait_until 10 eval "[[ \$(files_of $h) != - ]]"
}

@test "served: the hosts file forces a host's mode; mig hosts shows each host's" {
	CLEANUP+=("set_files host1 ''")
	home_dir
	printf 'x\n' >"$HDIR/f"
	# By default: served, but for the mounts proven the same files (the
	# host's root file system is home's; its tmpfs over /tmp is its own).
	wait_until 10 eval '[[ $(files_of host1) == "served; proven: "* ]]'
	[[ $(files_of host1) == "served; proven: /"*"; not proven: "*/tmp* ]]
	expect_eq "home's" "$(files_of home)" "home"
	run --separate-stderr timeout -k 2 10 "$MIG" hosts
	echo "$output" | grep -E '^host2 +127\.0\.0\.3:[0-9]+ +up .* served; proven: /'
	# served: in the view, home's tree served all through.
	set_files host1 served
	expect_eq "host1's files, served" "$(files_of host1)" "served"
	cd /
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 test -e "$HDIR/f"
	[ "$status" -eq 0 ]
	# By default too: the job's cwd (/) proves nothing.
	run --separate-stderr timeout -k 2 60 "$MIG" -h host2 test -e "$HDIR/f"
	[ "$status" -eq 0 ]
	# shared: never in a view, the host's own files trusted as home's;
	# a cwd it lacks is mig's failure, said so.
	set_files host1 shared
	expect_eq "host1's files, shared" "$(files_of host1)" "shared"
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 test -e "$HDIR/f"
	[ "$status" -eq 1 ]
	cd "$HDIR"
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 cat f
	expect_mig_failure
	[[ ${stderr_lines[0]} == *"shared in its hosts file"* ]]
}

@test "served: hosts that cannot see a build's files refuse its compiles, which then run at home" {
	CLEANUP+=("set_files host1 ''" "set_files host2 ''")
	set_files host1 shared
	set_files host2 shared
	home_dir
	local p=$HDIR/p b0 b1 b2 a0 a1 a2
	project "$p" 8 1
	build_ref "$p"
	read -r b0 b1 b2 <<<"$(jobs_done)"
	make_ok "$p" -j8
	read -r a0 a1 a2 <<<"$(jobs_done)"
	echo "jobs_done before: $b0 $b1 $b2, after: $a0 $a1 $a2" >&2
	expect_eq "jobs done at home" "$((a0 - b0))" 10
	grep -E 'host[12] lacks its files; running gcc here' "$MIG_CLUSTER_DIR/home.log" >&2
}

@test "served: unprivileged host daemons say whether they can serve, in mig hosts and in a refusal" {
	is_root || skip "--user needs root"
	local u=migsrv$$ c out
	useradd --system --no-create-home --shell /usr/sbin/nologin "$u"
	c=$(mktemp -d /tmp/mig-cluster.XXXXXX)
	CLEANUP+=("'$CLUSTER' down '$c'" "userdel '$u'")
	out=$(MIG_CLUSTER_DIR=$c "$CLUSTER" up 1 --private-fs --user "$u")
	home_dir
	chmod 755 "$HDIR"
	printf 'data\n' >"$HDIR/f"
	chmod 644 "$HDIR/f"
	(
		eval "$out"
		wait_until 10 all_up
		wait_until 10 eval '[[ $(files_of host1) != - ]]'
		f=$(files_of host1)
		echo "host1 run by $u: $f" >&2
		cd "$HDIR"
		run --separate-stderr timeout -k 2 60 "$MIG" -h host1 cat f
		if [[ $f == "served; "* ]]; then
			# This machine lets the user serve: the file reads back.
			expect_eq "cat f on host1" "$output" "data"
		else
			[[ $f == "proven only (served unavailable: "?*")"* ]]
			expect_mig_failure
			[[ ${stderr_lines[0]} == *"cannot serve home's files ("?*"), and its cwd $HDIR is not proven to be home's here"* ]]
		fi
	)
}

# need_space GIB: skips unless /tmp (home's files, and the hosts' object
# caches and temporary files, all on this machine) has GIB GiB free.
need_space() {
	local free
	free=$(df --output=avail -B1G /tmp | tail -n1 | tr -d ' ')
	((free >= $1)) || skip "needs $1 GiB free in /tmp, has $free"
}

@test "served: a 1 GiB file written at home reads back byte for byte on a host" {
	need_space 4
	home_dir
	head -c 1G /dev/urandom >"$HDIR/big"
	local want
	want=$(sha256sum <"$HDIR/big")
	cd "$HDIR"
	run --separate-stderr timeout -k 5 900 "$MIG" -h host1 sha256sum big
	if ((status != 0)); then
		echo "status $status, stderr: $stderr" >&2
		return 1
	fi
	expect_eq "sha256sum on host1" "${output%% *}" "${want%% *}"
}

@test "served: a 1 GiB file written by a job on a host lands at home byte for byte" {
	need_space 4
	home_dir
	cd "$HDIR"
	run --separate-stderr timeout -k 5 900 "$MIG" -h host1 sh -c 'head -c 1G /dev/urandom | tee out | sha256sum'
	if ((status != 0)); then
		echo "status $status, stderr: $stderr" >&2
		return 1
	fi
	expect_eq "size at home" "$(stat -c %s "$HDIR/out")" 1073741824
	expect_eq "sha256sum at home" "$(sha256sum <"$HDIR/out" | cut -d' ' -f1)" "${output%% *}"
}

# fuse_for_all: /dev/fuse open to every user, as udev makes it on Debian;
# teardown puts its mode back. Root only.
fuse_for_all() {
	local mode
	mode=$(stat -c %a /dev/fuse)
	CLEANUP+=("chmod '$mode' /dev/fuse")
	chmod 0666 /dev/fuse
}

@test "served: host daemons run by an unprivileged user serve reads, writes and mig make" {
	local u c out
	if is_root; then
		[ -c /dev/fuse ] || skip "no /dev/fuse here"
		u=migtest$$
		useradd --system --no-create-home --shell /usr/sbin/nologin "$u"
		c=$(mktemp -d /tmp/mig-cluster.XXXXXX)
		CLEANUP+=("'$CLUSTER' down '$c'" "userdel '$u'")
		fuse_for_all
		out=$(MIG_CLUSTER_DIR=$c "$CLUSTER" up 1 --private-fs --user "$u")
	else
		# This file's own host daemons are this user's already; here
		# the test only says why they could not serve.
		[[ -r /dev/fuse && -w /dev/fuse ]] ||
			skip "/dev/fuse is not usable by $(id -un) ($(stat -c '%A %U' /dev/fuse 2>&1))"
		c=$(mktemp -d /tmp/mig-cluster.XXXXXX)
		CLEANUP+=("'$CLUSTER' down '$c'")
		out=$(MIG_CLUSTER_DIR=$c "$CLUSTER" up 1 --private-fs)
	fi
	home_dir
	chmod 755 "$HDIR"
	head -c 3000000 /dev/urandom >"$HDIR/data.bin"
	chmod 644 "$HDIR/data.bin"
	(
		eval "$out"
		wait_until 10 all_up
		wait_until 10 eval '[[ $(files_of host1) != - ]]'
		wait_until 10 eval '[[ $(files_of host1) == "served; proven: "* ]]'
		cd "$HDIR"
		# Read: byte for byte.
		timeout -k 2 60 "$MIG" -h host1 cat data.bin >"$BATS_TEST_TMPDIR/got" 3>&-
		cmp "$HDIR/data.bin" "$BATS_TEST_TMPDIR/got"
		# Write: a new file, a folder and a rename land at home.
		run --separate-stderr timeout -k 2 60 "$MIG" -h host1 sh -c 'mkdir w && seq 1 100000 >w/n.tmp && mv w/n.tmp w/n && cat data.bin >w/copy'
		[ "$status" -eq 0 ]
		expect_eq "w/n at home" "$(cat w/n)" "$(seq 1 100000)"
		cmp "$HDIR/data.bin" "$HDIR/w/copy"
		# mig make: the objects of a local make.
		local p=$HDIR/p
		project "$p" 8 1
		build_ref "$p"
		make_ok "$p" -j4
		timeout -k 2 10 "$MIG" hosts --json 3>&- | python3 -c '
import json, sys
sys.exit(not {h["host"]: h["jobs_done"] for h in json.load(sys.stdin)}["host1"] > 0)'
		grep -q 'served view for home ready' "$c/host1.log"
	)
}

@test "served: a cache folder others may write to is refused, with a log line; the host caches in its runtime folder and serves right" {
	local objects=$MIG_CLUSTER_DIR/host2/cache/mig/objects
	home_dir
	printf 'the content home has\n' >"$HDIR/f"
	# Planted before host2 starts, as another user could in /tmp.
	"$CLUSTER" kill host2
	CLEANUP+=("cd /; '$CLUSTER' kill host2; rm -rf '$objects'; '$CLUSTER' start host2")
	rm -rf "$objects"
	mkdir -p "$objects"
	chmod 0777 "$objects"
	"$CLUSTER" start host2
	wait_until 20 all_up
	cd "$HDIR"
	run --separate-stderr timeout -k 2 60 "$MIG" -h host2 cat f
	[ "$status" -eq 0 ]
	expect_eq "f on host2" "$output" "the content home has"
	grep -q "refusing the object cache in $objects: $objects has mode 0777: others may write to it" \
		"$MIG_CLUSTER_DIR/host2.log"
	grep -q "object cache in $MIG_CLUSTER_DIR/host2/run/objects" \
		"$MIG_CLUSTER_DIR/host2.log"
	# Nothing went into the planted folder.
	expect_eq "files in $objects" "$(find "$objects" -mindepth 1 | wc -l)" 0
}
