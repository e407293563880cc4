#!/usr/bin/env bats
# mig make: a build's compiles placed across the cluster give the same
# objects, the same errors and the same Ctrl-C as a local make; the shim
# catches every way of starting a program; mig hosts, ps and policy.
#
# The cluster gives home 2 slots and host1 and host2 4 each: a lone job
# goes to host1 (ties would keep it home), a -j16 build uses all three.

load helpers

setup_file() {
	cc -std=c17 -Wall -Wextra -Werror -o "$BATS_FILE_TMPDIR/sigdfl" \
		"$HELPERS_DIR/sigdfl.c"
	cc -std=c17 -Wall -Wextra -Werror -o "$BATS_FILE_TMPDIR/execpaths" \
		"$HELPERS_DIR/execpaths.c"
	export SIGDFL=$BATS_FILE_TMPDIR/sigdfl EXECPATHS=$BATS_FILE_TMPDIR/execpaths
	# markprog: placed by the tests' policy; prints the name of the UTS
	# namespace it runs in, from /proc rather than uname(2), which the
	# remote shim may answer with the home name. The sleep keeps its
	# median run above the short-run threshold, so it stays placed.
	mkdir "$BATS_FILE_TMPDIR/bin"
	export MARKPROG=$BATS_FILE_TMPDIR/bin/markprog
	printf '#!/bin/sh\nsleep 0.05\nexec cat /proc/sys/kernel/hostname\n' >"$MARKPROG"
	chmod +x "$MARKPROG"
	HOME_UTS=$(cat /proc/sys/kernel/hostname)
	export HOME_UTS
	cluster_up --slots 2,4,4
	wait_until 10 all_up
}

# jobs_done: "HOME HOST1 HOST2", each host's jobs_done.
jobs_done() {
	timeout -k 2 10 "$MIG" hosts --json 3>&- | python3 -c '
import json, sys
d = {h["host"]: h["jobs_done"] for h in json.load(sys.stdin)}
print(d["home"], d["host1"], d["host2"])'
}

# restore_host2: host2 running and linked again, whatever the test did.
restore_host2() {
	if ! alive "$(cat "$MIG_CLUSTER_DIR/host2.wrap" 2>/dev/null)"; then
		"$CLUSTER" start host2
	fi
	wait_until 15 all_up
}

@test "make: mig make -j16 gives the objects of a local make, compiles on every host" {
	local p=$BATS_TEST_TMPDIR/p b a
	project "$p" 40 1
	build_ref "$p"
	b=$(jobs_done)
	make_ok "$p" -j16
	a=$(jobs_done)
	local b0 b1 b2 a0 a1 a2
	read -r b0 b1 b2 <<<"$b"
	read -r a0 a1 a2 <<<"$a"
	echo "jobs_done before: $b, after: $a" >&2
	# 40 modules, main.c and the link: 42 placed jobs.
	expect_eq "jobs done in all" "$((a0 + a1 + a2 - b0 - b1 - b2))" 42
	((a0 > b0 && a1 > b1 && a2 > b2))
}

# capture NAME CMD...: runs CMD (a build) in the current dir and keeps its
# status, stdout, stderr and the objects it left in $BATS_TEST_TMPDIR/NAME.*;
# then make clean.
capture() {
	local name=$BATS_TEST_TMPDIR/$1 st=0
	shift
	timeout -k 5 300 "$@" >"$name.out" 2>"$name.err" || st=$?
	echo "$st" >"$name.status"
	ls obj >"$name.objs" 2>/dev/null || true
	make clean >/dev/null
}

# same_capture A B [sorted]: two captures agree (stdout sorted if asked).
same_capture() {
	local a=$BATS_TEST_TMPDIR/$1 b=$BATS_TEST_TMPDIR/$2 bad=0 what
	for what in status err objs out; do
		if [[ $what == out && ${3:-} == sorted ]]; then
			diff -u <(sort "$a.out") <(sort "$b.out") >&2 || bad=1
		else
			diff -u "$a.$what" "$b.$what" >&2 || bad=1
		fi
		((bad == 0)) || {
			echo "$1 and $2 differ in $what" >&2
			return 1
		}
	done
}

@test "make: a compile error fails mig make exactly as it fails make" {
	local p=$BATS_TEST_TMPDIR/p
	project "$p" 40 1
	# Sorts between m019.c and m020.c.
	printf '/* does not compile */\nint\nbroken(void)\n{\n\treturn 1 +;\n}\n' \
		>"$p/src/m019_broken.c"
	cd "$p"
	# Without -k, one job at a time: make stops at the broken file,
	# having built main.o (demo's first prerequisite) and m000-m019.
	local b0 b1 b2 a0 a1 a2
	capture local make -j1
	read -r b0 b1 b2 <<<"$(jobs_done)"
	capture mig "$MIG" make -j1
	read -r a0 a1 a2 <<<"$(jobs_done)"
	# main.c, m000-m019 and the broken one: placed, one at a time.
	expect_eq "jobs done by mig make -j1" "$((a0 + a1 + a2 - b0 - b1 - b2))" 22
	((a1 + a2 > b1 + b2))
	expect_eq "local make status" "$(cat "$BATS_TEST_TMPDIR/local.status")" 2
	grep -q "m019_broken.c:5:19: error: expected expression before" "$BATS_TEST_TMPDIR/local.err"
	expect_eq "objects left by make" "$(tr '\n' ' ' <"$BATS_TEST_TMPDIR/local.objs")" \
		"$(printf 'm%03d.o ' {0..19})main.o "
	same_capture local mig
	# With -k and -j16, everything else gets built; the order in which
	# commands start (stdout) depends on which compiles end first.
	capture local-k make -k -j16
	capture mig-k "$MIG" make -k -j16
	expect_eq "local make -k status" "$(cat "$BATS_TEST_TMPDIR/local-k.status")" 2
	grep -qx "make: Target 'all' not remade because of errors." "$BATS_TEST_TMPDIR/local-k.err"
	same_capture local-k mig-k sorted
}

# interrupt NAME CMD...: runs the build CMD in its own process group in the
# current dir, SIGINTs the group (as a terminal's Ctrl-C does) once all 8
# module compiles run, and records in $BATS_TEST_TMPDIR/NAME.* its status,
# its sorted stderr, the objects it left and how long the compiles
# outlived the signal (ms).
interrupt() {
	local name=$BATS_TEST_TMPDIR/$1 tag pid t0 ms
	shift
	tag=MIGTEST_$$_$RANDOM
	# setsid: a new group whose id is make's pid (neither setsid nor
	# sigdfl forks; mig execs make); sigdfl: SIGINT not ignored.
	setsid "$SIGDFL" "$@" CPPFLAGS="-Iinclude -D$tag" \
		</dev/null >"$name.out" 2>"$name.err.raw" 3>&- &
	pid=$!
	bg_track "$pid"
	# gcc's cc1 has the -D option and the source on its command line.
	wait_until 60 eval "(( \$(pgrep -af -- 'cc1 .*$tag' | grep -c ' src/m00') == 8 ))" || {
		pgrep -af -- "$tag" >&2
		return 1
	}
	expect_eq "process group of make" "$(ps -o pgid= -p "$pid" | tr -d ' ')" "$pid"
	sleep 0.2
	t0=$(date +%s%N)
	kill -INT -- "-$pid"
	# Stubs, gcc drivers, cc1 and as carry the tag, at home and on the
	# hosts (whose pid namespaces are visible from here); make does too.
	if ! wait_until 10 eval "! pgrep -af -- '$tag' | grep -qvE '^[0-9]+ make '"; then
		echo "$1: still running 10 s after SIGINT:" >&2
		pgrep -af -- "$tag" >&2
		return 1
	fi
	ms=$((($(date +%s%N) - t0) / 1000000))
	echo "$ms" >"$name.ms"
	wait_exit "$pid" 10 || return 1
	echo "$WAIT_STATUS" >"$name.status"
	sort "$name.err.raw" >"$name.err"
	ls obj >"$name.objs" 2>/dev/null || true
	make clean >/dev/null
}

# interrupted_like_make NAME: the interrupted build NAME ended the way GNU
# make 4.3 ends on SIGINT. That is not one way: make dies of SIGINT (130)
# after "*** [target] Interrupt" for each running compile, or, when its
# signal handler races its own wait (make's bug, seen with plain make
# too), exits 2 with "wait: No child processes". What it never shows is
# "Error N": a compile that ended with an exit status rather than killed
# by the signal.
interrupted_like_make() {
	local name=$BATS_TEST_TMPDIR/$1 st l ok=1
	st=$(cat "$name.status")
	case $st in
	130) ;;
	2) grep -q 'wait: No child processes' "$name.err" || ok=0 ;;
	*) ok=0 ;;
	esac
	while IFS= read -r l; do
		case $l in
		"make: *** [Makefile:"*": obj/m00"[0-7]".o] Interrupt") ;;
		"make: *** Waiting for unfinished jobs...." | \
			"make: *** wait: No child processes.  Stop.") ;;
		*) ok=0 ;;
		esac
	done <"$name.err"
	grep -q 'Interrupt$' "$name.err" || ok=0
	if ((!ok)); then
		echo "$1: status $st (want 130, or 2 from make's wait race), stderr:" >&2
		cat "$name.err" >&2
		return 1
	fi
}

@test "make: Ctrl-C stops mig make and every compile on every host, as it stops make" {
	local p=$BATS_TEST_TMPDIR/p
	# 8 modules of about 2 s of gcc each, 9 compiles with main.c: main.o
	# is built and all 8 module compiles run when the signal comes.
	project "$p" 8 15
	cd "$p"
	interrupt local make -j8
	interrupt mig "$MIG" make -j8
	echo "compiles ended $(cat "$BATS_TEST_TMPDIR/local.ms") ms after SIGINT locally," \
		"$(cat "$BATS_TEST_TMPDIR/mig.ms") ms under mig; make's status:" \
		"$(cat "$BATS_TEST_TMPDIR/local.status") locally," \
		"$(cat "$BATS_TEST_TMPDIR/mig.status") under mig" >&2
	interrupted_like_make local
	interrupted_like_make mig
	# Only main.o: make deletes the objects of the compiles it interrupted.
	diff -u "$BATS_TEST_TMPDIR/local.objs" "$BATS_TEST_TMPDIR/mig.objs" >&2
}

@test "make: a host lost mid-build: its compiles run again elsewhere, the build succeeds" {
	local p=$BATS_TEST_TMPDIR/p
	CLEANUP+=(restore_host2)
	project "$p" 12 6
	build_ref "$p"
	build_bg "$p"
	# Stopped first, so that no compile can end there before it is lost.
	stop_busy host2
	"$CLUSTER" kill host2
	build_ok
	grep -E 'host2 lost .*running gcc again elsewhere' "$MIG_CLUSTER_DIR/home.log" >&2
}

@test "make: make CC=\"mig gcc\" places each compile, objects as a local make's" {
	local p=$BATS_TEST_TMPDIR/p b0 b1 b2 a0 a1 a2
	project "$p" 24 1
	build_ref "$p"
	read -r b0 b1 b2 <<<"$(jobs_done)"
	cd "$p"
	run --separate-stderr timeout -k 5 300 make -j16 CC="mig gcc"
	if ((status != 0)); then
		echo "make CC='mig gcc': status $status, stderr: $stderr" >&2
		return 1
	fi
	same_objects "$p"
	read -r a0 a1 a2 <<<"$(jobs_done)"
	echo "jobs_done before: $b0 $b1 $b2, after: $a0 $a1 $a2" >&2
	expect_eq "jobs done in all" "$((a0 + a1 + a2 - b0 - b1 - b2))" 26
	((a1 > b1 && a2 > b2))
}

# placed: after `run --separate-stderr`, markprog ran placed: status 0,
# one line of output, and (as root, where hosts have UTS namespaces of
# their own) a host's name, not home's.
placed() {
	if ((status != 0)) || [[ ${#lines[@]} -ne 1 || -z ${lines[0]} ]]; then
		echo "status $status, stdout $(printf %q "$output"), stderr $(printf %q "$stderr")" >&2
		return 1
	fi
	is_root || return 0
	if [[ ! ${lines[0]} =~ ^host[12]$ ]]; then
		echo "markprog ran on '${lines[0]}' (home is '$HOME_UTS'), not on host1 or host2" >&2
		return 1
	fi
}

@test "make: the shim places a program that make runs with posix_spawn" {
	use_policy markprog
	export PATH=$BATS_FILE_TMPDIR/bin:$PATH
	# No shell syntax in the recipe: GNU make 4.3 posix_spawns it.
	mkdir "$BATS_TEST_TMPDIR/m"
	printf 'all:\n\tmarkprog\n' >"$BATS_TEST_TMPDIR/m/Makefile"
	cd "$BATS_TEST_TMPDIR/m"
	run --separate-stderr timeout -k 5 30 "$MIG" make -s
	placed
}

@test "make: the shim places a program run by /bin/sh -c" {
	use_policy markprog
	export PATH=$BATS_FILE_TMPDIR/bin:$PATH
	# Not the last command: sh forks (dash: vfork) and execs it.
	# shellcheck disable=SC2016
	run --separate-stderr timeout -k 5 30 "$MIG" sh -c 'markprog; exit $?'
	placed
}

@test "make: the shim places a program run by system()" {
	use_policy markprog
	export PATH=$BATS_FILE_TMPDIR/bin:$PATH
	run --separate-stderr timeout -k 5 30 "$MIG" "$EXECPATHS" system markprog
	placed
}

@test "make: the shim places a program run by popen()" {
	use_policy markprog
	export PATH=$BATS_FILE_TMPDIR/bin:$PATH
	run --separate-stderr timeout -k 5 30 "$MIG" "$EXECPATHS" popen markprog
	placed
}

@test "make: the shim places a program run by posix_spawn() and posix_spawnp()" {
	use_policy markprog
	export PATH=$BATS_FILE_TMPDIR/bin:$PATH
	run --separate-stderr timeout -k 5 30 "$MIG" "$EXECPATHS" spawn "$MARKPROG"
	placed
	run --separate-stderr timeout -k 5 30 "$MIG" "$EXECPATHS" spawnp markprog
	placed
}

@test "make: the shim places a program run by execvp(), execl() and vfork+execvp" {
	use_policy markprog
	export PATH=$BATS_FILE_TMPDIR/bin:$PATH
	run --separate-stderr timeout -k 5 30 "$MIG" "$EXECPATHS" execvp markprog
	placed
	run --separate-stderr timeout -k 5 30 "$MIG" "$EXECPATHS" execl "$MARKPROG"
	placed
	run --separate-stderr timeout -k 5 30 "$MIG" "$EXECPATHS" vfork markprog
	placed
}

@test "make: the shim places a program run with a cleared environment (env -i)" {
	use_policy markprog
	export PATH=$BATS_FILE_TMPDIR/bin:$PATH
	run --separate-stderr timeout -k 5 30 "$MIG" env -i PATH="$PATH" markprog
	placed
}

@test "make: mig hosts, ps and policy --json are JSON; mig ps shows a placed job" {
	use_policy sleep
	local pid
	"$MIG" sleep 9 </dev/null >/dev/null 2>&1 3>&- &
	pid=$!
	bg_track "$pid"
	# shellcheck disable=SC2016
	wait_until 10 eval 'timeout -k 2 10 "$MIG" ps --json | python3 -c "
import json, sys
sys.exit(not any(j[\"command\"].endswith(\"sleep 9\") and j[\"state\"] == \"running\"
                 for j in json.load(sys.stdin)))"'
	run --separate-stderr timeout -k 2 10 "$MIG" ps --json
	[ "$status" -eq 0 ]
	echo "$output" | python3 -m json.tool >/dev/null
	# One job, on host1 (4 free slots against home's 2), with its stub's
	# pid and a remote pid.
	echo "$output" | python3 -c '
import json, sys
pid = int(sys.argv[1])
jobs = [j for j in json.load(sys.stdin) if j["command"].endswith("sleep 9")]
assert len(jobs) == 1, jobs
j = jobs[0]
assert j["host"] == "host1", j
assert j["pid"] == pid, (j, pid)
assert j["remote_pid"] > 0, j
' "$pid"
	run --separate-stderr timeout -k 2 10 "$MIG" ps
	[ "$status" -eq 0 ]
	echo "$output" | grep -E "^ *$pid +host1 +[0-9]+ .* running +.*sleep 9\$"
	run --separate-stderr timeout -k 2 10 "$MIG" hosts --json
	[ "$status" -eq 0 ]
	echo "$output" | python3 -m json.tool >/dev/null
	echo "$output" | python3 -c '
import json, sys
h = {x["host"]: x for x in json.load(sys.stdin)}
assert sorted(h) == ["home", "host1", "host2"], h
assert h["home"]["state"] == "home" and h["home"]["slots"] == 2, h
assert h["host1"]["slots"] == 4 and h["host2"]["slots"] == 4, h
assert h["host1"]["slots_used"] >= 1, h
'
	run --separate-stderr timeout -k 2 10 "$MIG" policy --json
	[ "$status" -eq 0 ]
	echo "$output" | python3 -m json.tool >/dev/null
	wait_exit "$pid" 30
	expect_eq "mig sleep 9 status" "$WAIT_STATUS" 0
}

@test "make: mig policy shows gcc's history; a policy line !gcc stops placing gcc" {
	local p=$BATS_TEST_TMPDIR/p b a
	project "$p" 8 1
	cd "$p"
	run --separate-stderr timeout -k 5 300 "$MIG" make -j8
	[ "$status" -eq 0 ]
	make clean >/dev/null
	run --separate-stderr timeout -k 2 10 "$MIG" policy
	[ "$status" -eq 0 ]
	echo "$output" | grep -E '^gcc +[0-9]+ +[0-9]+ +[0-9]+ placed$'
	run --separate-stderr timeout -k 2 10 "$MIG" policy --json
	echo "$output" | python3 -c '
import json, sys
p = json.load(sys.stdin)
assert "gcc" in p["patterns"], p
g = [h for h in p["history"] if h["program"] == "gcc"]
assert len(g) == 1 and g[0]["runs"] >= 3 and g[0]["still_placed"], g
'
	use_policy '!gcc'
	run --separate-stderr timeout -k 2 10 "$MIG" policy --json
	echo "$output" | python3 -c '
import json, sys
p = json.load(sys.stdin)
assert "gcc" not in p["patterns"] and "cc" in p["patterns"], p
'
	b=$(jobs_done)
	run --separate-stderr timeout -k 5 300 "$MIG" make -j8
	[ "$status" -eq 0 ]
	[ -x demo ]
	a=$(jobs_done)
	expect_eq "jobs_done (home host1 host2) after a build with !gcc" "$a" "$b"
}

@test "make: a static program the default policy names is not placed; named by the user, it is, with a warning" {
	# gcc-99 matches the default pattern gcc-[0-9]*, but is static: the
	# shim could not follow it, so it stays home unless the user names it.
	cat >"$BATS_TEST_TMPDIR/s.c" <<'C'
#include <stdio.h>
int main(void) {
	char b[128] = "";
	FILE *f = fopen("/proc/sys/kernel/hostname", "r");
	if (f == NULL || fgets(b, sizeof(b), f) == NULL) return 1;
	fputs(b, stdout);
	return 0;
}
C
	mkdir "$BATS_TEST_TMPDIR/sbin"
	cc -static -o "$BATS_TEST_TMPDIR/sbin/gcc-99" "$BATS_TEST_TMPDIR/s.c" 2>/dev/null ||
		skip "no static libc to link with"
	export PATH=$BATS_TEST_TMPDIR/sbin:$PATH
	run --separate-stderr timeout -k 5 30 "$MIG" sh -c gcc-99
	[ "$status" -eq 0 ]
	expect_eq "where the static gcc-99 ran" "$output" "$HOME_UTS"
	expect_eq "its stderr" "$stderr" ""
	use_policy gcc-99
	run --separate-stderr timeout -k 5 30 "$MIG" sh -c gcc-99
	placed
	[[ $stderr == "mig: warning: "*"statically linked"* ]]
}
