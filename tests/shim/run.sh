#!/bin/bash
# run.sh CASE: one differential test of the shim's remote role (CTest
# runs each case as shim.CASE). A probe (probe_*.c) prints "key value"
# lines; it runs
#   (a) natively,
#   (b) under mkident with an identity equal to its own (every value
#       defaults to the real one): the lines must be the same;
#   (c) under mkident with a home identity, in a session of its own as
#       the host daemon gives each job: the lines must be the native ones
#       (run the same way, mkident -N -S) with only the keys listed for
#       the case replaced by home values. Everything else, errors and
#       errno included, must not change.
# Needs MKIDENT (the tool) and PROBES (the folder of probe binaries).
set -u
: "${MKIDENT:?}" "${PROBES:?}"

case_name=${1:?usage: run.sh CASE}
fails=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

HOME_ID=(-S -p 4242 -P 4241 -g 4240 -s 4239 -n homebox -d homedomain)

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# run NAME CMD...: stdout to $work/NAME, status in $work/NAME.status.
run() {
	local name=$1
	shift
	"$@" >"$work/$name" 2>"$work/$name.err"
	echo $? >"$work/$name.status"
}

# same WHAT A B: files A and B (and their statuses) must agree.
same() {
	local what=$1 a=$2 b=$3
	if ! diff -u "$work/$a" "$work/$b" >"$work/diff"; then
		fail "$what: output differs"
		cat "$work/diff"
		sed 's/^/  stderr: /' "$work/$b.err"
	fi
	if [ "$(cat "$work/$a.status")" != "$(cat "$work/$b.status")" ]; then
		fail "$what: exit status $(cat "$work/$a.status") natively," \
			"$(cat "$work/$b.status") under the shim"
		sed 's/^/  stderr: /' "$work/$b.err"
	fi
}

# expect NAME OVERRIDES: NAME.expected is the native output NAME with the
# "key value" lines of OVERRIDES (a string) put in place of its own.
expect() {
	local name=$1 overrides=$2
	printf '%s\n' "$overrides" | grep -v '^$' >"$work/overrides"
	awk 'FILENAME == ARGV[1] { k = $1; sub(/^[^ ]* /, ""); want[k] = $0; next }
	     { k = $1; if (k in want) { print k " " want[k]; used[k] = 1 }
	       else print }
	     END { for (k in want) if (!(k in used))
	             print "override of a key never printed: " k > "/dev/stderr" }' \
		"$work/overrides" "$work/$name" >"$work/$name.expected" \
		2>"$work/expect.err"
	cp "$work/$name.status" "$work/$name.expected.status"
	if [ -s "$work/expect.err" ]; then
		fail "$(cat "$work/expect.err")"
	fi
}

# differential PROBE OVERRIDES [MKIDENT-OPTIONS...]: (a) against (b),
# then (c) with the options given (after the home identity) against the
# native run with OVERRIDES.
differential() {
	local name=$1 probe=$PROBES/$1 overrides=$2
	shift 2
	run native "$probe"
	run same-ident "$MKIDENT" -- "$probe"
	same "$name: identity equal to the real one" native same-ident
	run native-s "$MKIDENT" -N -S -- "$probe"
	run home "$MKIDENT" "${HOME_ID[@]}" "$@" -- "$probe"
	expect native-s "$overrides"
	same "$name: home identity $*" native-s.expected home
}

# fake_daemon [NAMELEN]: fakehomed.py on $work/run/homed.sock, answering
# with a host name of NAMELEN characters and home pid 5555 for every
# HOLD (without NAMELEN: answering nothing), logging to
# $work/daemon.log; stopped when we exit.
fake_daemon() {
	mkdir -m 0700 "$work/run"
	python3 "$(dirname "$0")/fakehomed.py" "$work/run/homed.sock" \
		"$work/daemon.log" ${1:+"$1" 5555} </dev/null >"$work/daemon.err" 2>&1 &
	daemon=$!
	trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null; rm -rf "$work"' EXIT
	for _ in $(seq 500); do
		[ -e "$work/run/homed.sock.ready" ] && break
		sleep 0.02
	done
}

PID_HOME='
getpid 4242
getppid 4241
gettid 4242
getpgrp 4240
getpgid(0) 4240
getpgid(getpid) 4240
getpgid(real) 4240
getsid(0) 4239
getsid(getpid) 4239
syscall(getpid) 4242
syscall(getppid) 4241
syscall(gettid) 4242
syscall(getpgid,0) 4240
syscall(getpgid,getpid) 4240
syscall(getsid,0) 4239
syscall(getpgrp) 4240
/proc/self/stat.pid 4242
/proc/getpid/stat.pid 4242
child.getpgrp 4240
child.getsid(0) 4239
child.getpgid(parent) 4240
thread.getpid 4242
'

# The lines of probe_clock that read the wall clock, at OFFSET ms.
clock_home() {
	local ms=$1
	for k in 'clock_gettime(REALTIME)' 'clock_gettime(REALTIME_COARSE)' \
		'clock_gettime(TAI)' gettimeofday 'timespec_get(UTC)' ftime \
		ntp_gettime ntp_gettimex 'syscall(clock_gettime,REALTIME)' \
		'syscall(clock_gettime,TAI)' 'syscall(gettimeofday)'; do
		echo "$k $ms"
	done
}

HOST_HOME='
uname.nodename homebox
uname.domainname homedomain
syscall(uname).nodename homebox
syscall(uname).domainname homedomain
gethostname.name homebox
getdomainname.name homedomain
'

case $case_name in
pid)
	differential probe_pid "$PID_HOME"
	;;
sig)
	differential probe_sig ""
	;;
clock)
	differential probe_clock "$(clock_home 3600000)" -o 3600s
	run home-frac "$MKIDENT" "${HOME_ID[@]}" -o -1234.3s -- \
		"$PROBES/probe_clock"
	expect native-s "$(clock_home -1234300)"
	same "probe_clock: offset -1234.3 s" native-s.expected home-frac
	# An offset not measured yet is not applied.
	run home-unmeasured "$MKIDENT" "${HOME_ID[@]}" -o 3600s -u -- \
		"$PROBES/probe_clock"
	same "probe_clock: offset not measured" native-s home-unmeasured
	;;
host)
	differential probe_host "$HOST_HOME"
	# A node name of 64 bytes, the most utsname holds.
	long=$(printf 'n%.0s' $(seq 64))
	run native-s "$MKIDENT" -N -S -- "$PROBES/probe_host"
	run home-long "$MKIDENT" "${HOME_ID[@]}" -n "$long" -- \
		"$PROBES/probe_host"
	grep -qx "gethostname.name $long" "$work/home-long" ||
		fail "64-byte node name not given whole"
	;;
host_fortify)
	if command -v nm >/dev/null &&
		! nm -D "$PROBES/probe_host_fortify" | grep -q __gethostname_chk; then
		fail "probe_host_fortify does not call __gethostname_chk"
	fi
	differential probe_host_fortify "$HOST_HOME"
	;;
deadline)
	differential probe_deadline "" -o 3600s
	run home-neg "$MKIDENT" "${HOME_ID[@]}" -o -3600s -- \
		"$PROBES/probe_deadline"
	same "probe_deadline: offset -3600 s" native-s.expected home-neg
	;;
timer)
	differential probe_timer "" -o 3600s
	run home-neg "$MKIDENT" "${HOME_ID[@]}" -o -3600s -- \
		"$PROBES/probe_timer"
	same "probe_timer: offset -3600 s" native-s.expected home-neg
	;;
spawn)
	differential probe_spawn '
vfork+execvp(uname-n) homebox
fork+execv(hostname) homebox
posix_spawnp(hostname) homebox
system(sh-c-hostname) homebox
popen(hostname) homebox
' -o 3600s
	;;
commands)
	# Real programs, and the shell's children after them.
	home=("$MKIDENT" "${HOME_ID[@]}" -o 3600s --)
	for cmd in hostname 'uname -n' 'sh -c hostname' \
		'sh -c "sh -c hostname"' 'bash -c "hostname; true"'; do
		got=$(eval "${home[*]} $cmd" 2>&1)
		[ "$got" = homebox ] || fail "$cmd under the shim: '$got', not homebox"
	done
	got=$("${home[@]}" sh -c 'echo $$ $PPID')
	[ "$got" = "4242 4241" ] || fail "sh's \$\$ \$PPID: '$got', not '4242 4241'"
	got=$("${home[@]}" sh -c 'sh -c "echo \$PPID"; echo $$')
	[ "$(echo $got | tr ' ' '\n' | sort -u | wc -l)" = 1 ] ||
		fail "a child's \$PPID is not its parent's \$\$: $got"
	for i in 1 2 3; do
		native=$(date +%s)
		shifted=$("${home[@]}" date +%s)
		d=$((shifted - native - 3600))
		[ $d -ge -2 ] && [ $d -le 2 ] && break
	done
	[ $d -ge -2 ] && [ $d -le 2 ] ||
		fail "date +%s under +3600 s: $shifted, natively $native"
	# date's own formatting goes through the same clock.
	want=$(date -u -d @$((native + 3600)) +%Y-%m-%dT%H)
	got=$("${home[@]}" date -u +%Y-%m-%dT%H)
	[ "$got" = "$want" ] || [ "$got" = "$(date -u -d @$((native + 3601)) +%Y-%m-%dT%H)" ] ||
		fail "date -u under +3600 s: $got, not $want"
	;;
fallback)
	# No usable page: every wrapper passes through, whatever the page
	# would have said.
	for probe in probe_pid probe_sig probe_clock probe_host probe_timer \
		probe_pidarg; do
		run native-s "$MKIDENT" -N -S -- "$PROBES/$probe"
		for opt in -M -T -C; do
			run broken "$MKIDENT" "${HOME_ID[@]}" -o 3600s $opt -- \
				"$PROBES/$probe"
			same "$probe with $opt" native-s broken
		done
	done
	# A page that is not ours to map (host_pid another process): names
	# and clock are home's, pids stay real.
	run native-s "$MKIDENT" -N -S -- "$PROBES/probe_pid"
	run other "$MKIDENT" "${HOME_ID[@]}" -H 1 -- "$PROBES/probe_pid"
	expect native-s ""
	same "probe_pid with host_pid 1" native-s.expected other
	run native-s "$MKIDENT" -N -S -- "$PROBES/probe_host"
	run other "$MKIDENT" "${HOME_ID[@]}" -H 1 -- "$PROBES/probe_host"
	expect native-s "$HOST_HOME"
	same "probe_host with host_pid 1" native-s.expected other
	;;
live)
	run live "$MKIDENT" -o 3600s -f 100 -- "$PROBES/probe_live" 100
	printf '%s\n' 'start 3600' 'updated 7200' 'negative -250' \
		'unmeasured 0' 'stuck-writer 0' 'after-stuck 60' \
		'racing.torn 0' 'racing.saw-both yes' >"$work/live.expected"
	echo 0 >"$work/live.expected.status"
	same "probe_live" live.expected live
	;;
guard)
	# popen's streams, exec with 3,000,000 arguments, dlsym from a
	# signal handler, popen from threads: as without the shim.
	differential probe_guard ""
	;;
late)
	# A child whose line in the page comes late still gets its home pid.
	run native-s "$MKIDENT" -N -S -- "$PROBES/probe_guard" late
	run home "$MKIDENT" "${HOME_ID[@]}" -- "$PROBES/probe_guard" late
	expect native-s 'late.after 7777'
	same "probe_guard late" native-s.expected home
	;;
calls)
	# A daemon (fakehomed.py) that answers with a host name of 60
	# characters: the job's own home group is signalled at home, other
	# pids and groups here, errno stays as the call leaves it, and fork
	# gets its home pid.
	fake_daemon 60
	run native-s "$MKIDENT" -N -S -- "$PROBES/probe_guard" calls
	run home "$MKIDENT" "${HOME_ID[@]}" -k "$work/run/homed.sock" -- \
		"$PROBES/probe_guard" calls
	expect native-s 'fork.pid 5555'
	same "probe_guard calls" native-s.expected home
	for want in 'frame CALL killpg 4240 0' 'frame HOLD'; do
		grep -q "^$want" "$work/daemon.log" ||
			fail "the daemon never got '$want'"
	done
	if grep -E '^frame CALL (kill|sigqueue|tgkill) |^frame CALL killpg 999999999' \
		"$work/daemon.log"; then
		fail "a pid or group not the job's was signalled at home"
	fi
	# The same daemon in a folder open to others gets nothing.
	rm -f "$work/daemon.log"
	chmod 0777 "$work/run"
	run open "$MKIDENT" "${HOME_ID[@]}" -k "$work/run/homed.sock" -- \
		"$PROBES/probe_guard" calls
	expect native-s ''
	same "probe_guard calls, socket in a 0777 folder" native-s.expected open
	if grep -q '^bytes' "$work/daemon.log" 2>/dev/null; then
		fail "the shim talked to a daemon in a 0777 folder"
	fi
	;;
silent)
	# A daemon that takes the calls and never answers (fakehomed.py
	# without NAMELEN): after the deadline (MIG_CALL_TIMEOUT_MS, short
	# here) the job's calls on its home group fail with EAGAIN rather
	# than hang or act here, and fork, whose child already runs, gives
	# the child's own pid.
	fake_daemon
	run native-s "$MKIDENT" -N -S -- "$PROBES/probe_guard" calls
	MIG_CALL_TIMEOUT_MS=200 run home "$MKIDENT" "${HOME_ID[@]}" \
		-k "$work/run/homed.sock" -- "$PROBES/probe_guard" calls
	expect native-s 'killpg(getpgrp,0) -1 errno=EAGAIN
kill(-getpgrp,0) -1 errno=EAGAIN'
	same "probe_guard calls, daemon silent" native-s.expected home
	for want in 'frame CALL killpg 4240 0' 'frame HOLD'; do
		grep -q "^$want" "$work/daemon.log" ||
			fail "the daemon never got '$want'"
	done
	;;
pidarg)
	# Calls that name a process by the pids the probe sees, its own and
	# its group's home ones; then with a daemon (fakehomed.py) that gives
	# its child home pid 5555, by which the child is named too. Nothing
	# goes home but the child's HOLD.
	differential probe_pidarg ""
	fake_daemon 8
	run home-held "$MKIDENT" "${HOME_ID[@]}" -k "$work/run/homed.sock" -- \
		"$PROBES/probe_pidarg"
	same "probe_pidarg, child held as 5555" native-s.expected home-held
	grep -q '^frame HOLD' "$work/daemon.log" ||
		fail "the child never got a home pid"
	if grep '^frame CALL' "$work/daemon.log"; then
		fail "a call that names a process went home"
	fi
	;;
*)
	echo "run.sh: no case $case_name"
	exit 2
	;;
esac

if [ $fails -ne 0 ]; then
	echo "shim.$case_name: $fails failure(s)"
	exit 1
fi
echo "shim.$case_name: ok"
