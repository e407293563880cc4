#!/usr/bin/env bats
# A job placed with mig -h keeps its home identity: pids, descendants'
# pids held at home, the wall clock of a host whose clock is an hour off,
# host names, the environment with the user's own LD_PRELOAD, and calls
# that must act at home.

load helpers

FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1

setup_file() {
	cluster_up
	# host2's clock is an hour ahead: its daemon and its jobs run under
	# libfaketime (MIG_HOST_ENV hands the daemon's preload to its jobs).
	"$CLUSTER" kill host2 "$MIG_CLUSTER_DIR"
	env MIG_HOST_ENV=LD_PRELOAD:FAKETIME LD_PRELOAD="$FAKETIME_LIB" \
		FAKETIME=+1h "$CLUSTER" start host2 "$MIG_CLUSTER_DIR"
}

# now: this host's realtime, in nanoseconds.
now() { date +%s%N; }

@test "identity: host2's clock really is an hour off (its daemon logs an hour ahead)" {
	local line stamp delta
	# The last start's line: `cluster start` returned once it listened
	# (a link line could still be the first daemon's, not yet faked).
	line=$(grep 'host2: serving' "$MIG_CLUSTER_DIR/host2.log" | tail -n1)
	stamp=$(date -d "${line:0:19}" +%s)
	delta=$((stamp - $(date +%s)))
	((delta > 3500 && delta < 3700)) || {
		echo "host2 log stamp $stamp is $delta s from now" >&2
		return 1
	}
}

# clock_agrees: `date +%s%N` run on host2 through mig lies between two
# home readings taken around it, within 20 ms.
clock_agrees() {
	local t0 t1 there
	t0=$(now)
	there=$(timeout -k 5 20 "$MIG" -h host2 date +%s%N) || return 1
	t1=$(now)
	((there >= t0 - 20000000 && there <= t1 + 20000000)) || {
		echo "home $t0..$t1, host2 said $there ($(((there - t0) / 1000000)) ms)" >&2
		return 1
	}
}

@test "clock: date on a host an hour off agrees with home within 20 ms" {
	# The daemons measure the offset once a second; give them a few.
	wait_until 10 clock_agrees
	for _ in 1 2 3 4 5; do
		clock_agrees
	done
}

@test "clock: gettimeofday, time and the coarse clock agree too (python3 on host2)" {
	command -v python3 >/dev/null || skip "no python3"
	wait_until 10 clock_agrees
	local t0 out t1
	t0=$(date +%s)
	out=$(timeout -k 5 20 "$MIG" -h host2 python3 -c \
		'import time; print(int(time.time())); print(int(time.clock_gettime(5)))')
	t1=$(date +%s)
	for v in $out; do
		((v >= t0 - 1 && v <= t1 + 1)) || {
			echo "home $t0..$t1, host2 said $v" >&2
			return 1
		}
	done
}

@test "pid: the placed process's getpid and getppid are mig's pid and mig's parent at home" {
	"$MIG" -h host1 sh -c 'echo $$ $PPID' >"$BATS_TEST_TMPDIR/out" 2>&1 &
	local pid=$!
	wait_exit "$pid" 20
	expect_eq "pid and ppid seen on host1" "$(cat "$BATS_TEST_TMPDIR/out")" "$pid $$"
}

@test "pid: a background child's pid exists at home, kill at home ends it, no zombie left" {
	local out=$BATS_TEST_TMPDIR/out pid home title
	"$MIG" -h host1 sh -c 'sleep 300 & echo $!; wait; echo waited' >"$out" 2>&1 &
	pid=$!
	bg_track "$pid"
	wait_until 10 test -s "$out"
	home=$(head -n1 "$out")
	# A placeholder at home holds that pid and says what it stands for.
	title=$(ps -o args= -p "$home")
	[[ $title == *"on host1"* ]] || {
		echo "pid $home at home is '$title'" >&2
		return 1
	}
	mig_pgrep 'sleep 300' >/dev/null
	kill -TERM "$home"
	wait_exit "$pid" 10
	expect_eq "mig's status" "$WAIT_STATUS" 0
	expect_eq "the job's output" "$(tail -n1 "$out")" waited
	# Gone and reaped: a zombie would still answer kill -0.
	wait_until 5 eval "! kill -0 $home 2>/dev/null"
}

@test "pid: the placeholder server, killed, is started again: the next process gets its home pid" {
	local home srv out=$BATS_TEST_TMPDIR/out pid title
	home=$(cat "$MIG_CLUSTER_DIR/home.pid")
	# A first placeholder starts the server, the home daemon's child.
	"$MIG" -h host1 sh -c 'true & wait'
	srv=$(pgrep -P "$home" -f '^mig-standin: placeholder server$')
	[[ -n $srv ]]
	kill -KILL "$srv"
	# Reaped by the daemon: a zombie would still answer kill -0.
	wait_until 10 eval "! kill -0 $srv 2>/dev/null"
	"$MIG" -h host1 sh -c 'sleep 300 & echo $!; wait' >"$out" 2>&1 &
	pid=$!
	bg_track "$pid"
	wait_until 10 test -s "$out"
	title=$(ps -o args= -p "$(head -n1 "$out")")
	[[ $title == *"on host1"* ]] || {
		echo "pid $(head -n1 "$out") at home is '$title'" >&2
		return 1
	}
	[[ $(pgrep -P "$home" -f '^mig-standin: placeholder server$') != "$srv" ]]
	kill -TERM "$(head -n1 "$out")"
	wait_exit "$pid" 10
}

@test "pid: fork, wait and a child's getppid agree on home pids" {
	run --separate-stderr timeout -k 5 20 "$MIG" -h host1 sh -c \
		'sh -c "echo \$PPID" & child=$!; wait $child; echo "$? $$ $child"'
	[ "$status" -eq 0 ]
	local ppid status_mine
	ppid=${lines[0]}
	read -r st me child <<<"${lines[1]}"
	expect_eq "wait status of the child" "$st" 0
	expect_eq "the child's getppid" "$ppid" "$me"
	[[ $child != "$me" && $child -gt 0 ]]
}

@test "proc: ps in a placed job runs, and lists the job's processes under the pids it sees" {
	# ps runs once the child has become sleep: on a loaded machine it
	# may not have run at all yet (through its home pid, as a user would
	# look).
	run --separate-stderr timeout -k 5 20 "$MIG" -h host1 sh -c \
		'sleep 30 & until read -r c </proc/$!/comm && [ "$c" = sleep ]; do :; done
		echo "$$ $!"; ps -o pid=,ppid=,comm=; kill $!'
	expect_eq status "$status" 0
	expect_eq stderr "$stderr" ""
	local me child
	read -r me child <<<"${lines[0]}"
	# Its own line, found by "lookup self" at its home pid, and its
	# shell and the shell's child, by the same pids as $$ and $!.
	grep -Eq "^ *[0-9]+ +$me +ps\$" <<<"$output"
	grep -Eq "^ *$me +[0-9]+ +sh\$" <<<"$output"
	grep -Eq "^ *$child +$me +sleep\$" <<<"$output"
}

@test "proc: pgrep leaves itself out, as at home; top and /proc/\$\$ readers see the job's pids" {
	local script='sleep 30 & s=$!; pgrep -P $$; echo "$s"; read -r p rest </proc/$$/stat; echo "$p $$"
		top -b -n1 -w 200 -p $$ | grep -c "^ *$$ .* sh\$"; kill $s'
	# At home first: what a user expects.
	run --separate-stderr timeout -k 5 20 sh -c "$script"
	local native=$output
	run --separate-stderr timeout -k 5 20 "$MIG" -h host1 sh -c "$script"
	expect_eq status "$status" 0
	expect_eq stderr "$stderr" ""
	[[ ${lines[0]} == "${lines[1]}" ]] || { echo "pgrep -P: ${lines[0]}, child ${lines[1]}" >&2; return 1; }
	read -r a b <<<"${lines[2]}"
	expect_eq "pid in /proc/\$\$/stat" "$a" "$b"
	expect_eq "top's line for the shell" "${lines[3]}" 1
	expect_eq "native run, same shape" "$(wc -l <<<"$native")" "$(wc -l <<<"$output")"
}

@test "calls: kill of a home pid that is not the job's acts on the host, never at home" {
	is_root || skip "the hosts share home's pid space unless run as root"
	sleep 300 &
	local victim=$! st=0
	bg_track "$victim"
	run timeout -k 5 20 "$MIG" -h host1 kill -TERM "$victim"
	[ "$status" -ne 0 ]
	run timeout -k 5 20 "$MIG" -h host1 /usr/bin/python3 -c \
		"import ctypes, os; exit(ctypes.CDLL(None).tgkill($victim, $victim, 15) != -1)"
	[ "$status" -eq 0 ]
	alive "$victim"
}

@test "calls: the job's own home process group, signalled from the host, is signalled at home" {
	local dir=$BATS_TEST_TMPDIR victim pid
	# A session and group of their own at home: a sleep, and mig.
	setsid bash -c 'sleep 300 & echo $! >"$1/sleep"; exec "$2" -h host1 \
		/usr/bin/python3 -c "import os, time; os.killpg(os.getpgrp(), 15); time.sleep(30)"' \
		_ "$dir" "$MIG" &
	pid=$!
	bg_track "$pid"
	wait_until 10 test -s "$dir/sleep"
	victim=$(cat "$dir/sleep")
	CLEANUP+=("kill -KILL $victim 2>/dev/null")
	wait_exit "$pid" 30
	expect_eq "status of mig" "$WAIT_STATUS" 143
	wait_until 10 eval "! alive $victim"
}

@test "hostname: uname -n on a host prints the home's name" {
	run --separate-stderr timeout -k 5 20 "$MIG" -h host2 uname -n
	[ "$status" -eq 0 ]
	expect_eq "uname -n on host2" "$output" "$(uname -n)"
}

@test "env: the user's own LD_PRELOAD keeps working and keeps its place" {
	# A preload of the user's own, which says it was loaded.
	cat >"$BATS_TEST_TMPDIR/up.c" <<'C'
#include <stdio.h>
__attribute__((constructor)) static void hello(void) { fputs("user preload\n", stderr); }
C
	cc -shared -fPIC -o "$BATS_TEST_TMPDIR/up.so" "$BATS_TEST_TMPDIR/up.c"
	local want
	want=$(env A=1 LD_PRELOAD="$BATS_TEST_TMPDIR/up.so" B=2 /usr/bin/env -u _ \
		/usr/bin/env 2>/dev/null)
	run --separate-stderr timeout -k 5 20 env A=1 \
		LD_PRELOAD="$BATS_TEST_TMPDIR/up.so" B=2 /usr/bin/env -u _ \
		"$MIG" -h host1 /usr/bin/env
	[ "$status" -eq 0 ]
	expect_eq "environment on host1" "$output" "$want"
	# Loaded into env at home, into mig unless it is static (it is,
	# but for a sanitized build), then into env on host1.
	local loads=3
	readelf -l "$MIG" | grep -q 'program interpreter' || loads=2
	expect_eq "loads" "$(grep -c 'user preload' <<<"$stderr")" "$loads"
}

@test "env: a child started with a cleared environment still has the home identity" {
	run --separate-stderr timeout -k 5 20 "$MIG" -h host2 env -i /bin/uname -n
	[ "$status" -eq 0 ]
	expect_eq "uname -n after env -i" "$output" "$(uname -n)"
}

@test "static: a static program runs, with one mig: warning that it sees the host" {
	cat >"$BATS_TEST_TMPDIR/s.c" <<'C'
#include <stdio.h>
int main(void) { puts("static ran"); return 3; }
C
	cc -static -o "$BATS_TEST_TMPDIR/s" "$BATS_TEST_TMPDIR/s.c" 2>/dev/null ||
		skip "no static libc to link with"
	run --separate-stderr timeout -k 5 20 "$MIG" -h host1 "$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 3 ]
	expect_eq "stdout" "$output" "static ran"
	expect_eq "warnings" "${#stderr_lines[@]}" 1
	[[ ${stderr_lines[0]} == "mig: warning: "*"statically linked"* ]]
}

@test "page: a job cannot truncate or write its identity page; its daemon serves on" {
	local before
	before=$(host_pid host1)
	run --separate-stderr timeout -k 2 20 "$MIG" -h host1 python3 -c '
import os
for what, f in (("truncate", lambda: os.ftruncate(100, 0)),
                ("write", lambda: os.write(100, b"forged")),
                ("grow", lambda: os.ftruncate(100, 1 << 20))):
    try:
        f()
        print(what, "worked")
    except PermissionError:
        print(what, "refused")
print(os.getpid())'
	expect_eq "status" "$status" 0
	expect_eq "page" "${lines[*]:0:3}" "truncate refused write refused grow refused"
	# The page still gives the job its home pid, and the daemon lives.
	[[ ${lines[3]} =~ ^[0-9]+$ ]]
	sleep 1
	expect_eq "host1's daemon" "$(host_pid host1)" "$before"
	alive "$before"
	run --separate-stderr timeout -k 2 20 "$MIG" -h host1 echo alive
	expect_eq "output" "$output" alive
}

@test "calls: a job that talks to its daemon itself still cannot signal another home process" {
	local victim version
	sleep 1000.7 </dev/null >/dev/null 2>&1 3>&- &
	victim=$!
	bg_track "$victim"
	version=$(sed -n 's/^#define MIG_PROTO_VERSION \([0-9]*\).*/\1/p' "$HELPERS_DIR/../../include/mig/proto.h")
	# A placed python asks for kill(victim, SIGKILL) at home by the
	# daemon's socket, with raw frames, trying each job token.
	run --separate-stderr timeout -k 2 60 "$MIG" -h host1 python3 -c '
import socket, struct, sys
sock, victim, version = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
HELLO, CALL, CALLRET, KILL = 1, 21, 22, 0
def frame(t, p, stream=0):
    return struct.pack("<IHHI", len(p), t, 0, stream) + p
def read(s):
    h = b""
    while len(h) < 12:
        c = s.recv(12 - len(h))
        if not c: return None
        h += c
    n, t, fl, st = struct.unpack("<IHHI", h)
    p = b""
    while len(p) < n: p += s.recv(n - len(p))
    return t, p
for token in range(1, 64):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    s.sendall(frame(HELLO, struct.pack("<I", version)))
    read(s)
    args = struct.pack("<qq", victim, 9)
    s.sendall(frame(CALL, struct.pack("<III", 1, KILL, 2) + args, token))
    t, p = read(s)
    seq, ret, err = struct.unpack("<IqI", p[:16])
    s.close()
    if err != 113:  # EHOSTUNREACH: no such job here
        print("token", token, "ret", ret, "errno", err)
        break' "$MIG_CLUSTER_DIR/host1/run/homed.sock" "$victim" "$version"
	expect_eq "status" "$status" 0
	[[ $output == *"ret -1 errno 3" ]]
	alive "$victim"
}

@test "rsh: mig-rsh, like ssh, gives host2's own identity: its clock an hour ahead, its pids, its name" {
	local t0 out pid
	wait_until 10 clock_agrees
	t0=$(date +%s)
	"$RSH" host2 'date +%s; echo $$ $PPID; uname -n' >"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	wait_exit "$pid" 20
	mapfile -t out <"$BATS_TEST_TMPDIR/out"
	# host2's clock, not home's: an hour ahead.
	((out[0] - t0 > 3500 && out[0] - t0 < 3700)) || {
		echo "host2's date through mig-rsh: ${out[0]}, home's $t0" >&2
		return 1
	}
	# Pids of host2's, not mig-rsh's and its parent at home.
	[[ ${out[1]} =~ ^[0-9]+\ [0-9]+$ && ${out[1]} != "$pid $$" ]] || {
		echo "pid and ppid through mig-rsh: '${out[1]}' (mig-rsh $pid, its parent $$)" >&2
		return 1
	}
	# The same command under mig -h keeps home's identity.
	"$MIG" -h host2 sh -c 'echo $$ $PPID' >"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	wait_exit "$pid" 20
	expect_eq "pid and ppid under mig -h" "$(cat "$BATS_TEST_TMPDIR/out")" "$pid $$"
	is_root || skip "the name: unprivileged, the test hosts share this machine's UTS namespace"
	expect_eq "uname -n through mig-rsh" "${out[2]}" host2
}
