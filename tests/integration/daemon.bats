#!/usr/bin/env bats
# mig-homed on its own: autostart, daemon mode, its runtime dir, and what
# it refuses. These start standalone daemons ("solo", 127.0.0.1 on a port
# of their own) beside the file's cluster; teardown stops each one.

load helpers

# root_env: env(1) arguments that let a daemon run as root, when we are.
root_env() {
	ROOT_ENV=()
	if is_root; then ROOT_ENV=(MIG_ALLOW_ROOT=1); fi
}

# solo_pid: the pid in $SOLO/run/homed.pid, if that process is a live
# mig-homed.
solo_pid() {
	local pid
	pid=$(cat "$SOLO/run/homed.pid" 2>/dev/null) || return 1
	[[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 1
	{ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -q mig-homed || return 1
	echo "$pid"
}

expect_no_daemon() {
	local pid
	if pid=$(solo_pid); then
		echo "a daemon runs for $SOLO (pid $pid) but should not" >&2
		return 1
	fi
}

# homed_fails ARGS...: runs mig-homed -f ARGS with $SOLO's dirs and expects
# it to exit by itself (within 5 s) with a non-zero status. Leaves its
# stderr in $BATS_TEST_TMPDIR/err.
homed_fails() {
	local st=0
	solo_env
	timeout -k 2 5 env "${SOLO_ENV[@]}" "$HOMED" "$@" </dev/null \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- || st=$?
	if ((st == 0 || st == 124 || st == 137)); then
		echo "mig-homed $* should have refused to run; status $st, stderr:" >&2
		cat "$BATS_TEST_TMPDIR/err" >&2
		return 1
	fi
}

@test "daemon: mig autostarts the local daemon (mig -h solo echo hi)" {
	solo_setup
	solo_env
	root_env
	[ ! -e "$SOLO/run" ]
	timeout -k 5 20 env -u MIG_NO_AUTOSTART "${SOLO_ENV[@]}" "${ROOT_ENV[@]}" \
		"$MIG" -h solo echo hi >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&-
	expect_eq "output" "$(cat "$BATS_TEST_TMPDIR/out")" hi
	# A daemon now runs, with its socket and pid file in the runtime dir.
	local pid
	pid=$(solo_pid)
	[ -S "$SOLO/run/homed.sock" ]
	# and a second job reuses it
	run --separate-stderr timeout -k 5 20 env "${SOLO_ENV[@]}" MIG_NO_AUTOSTART=1 "$MIG" -h solo echo again
	expect_eq "second job" "$output" again
	expect_eq "daemon pid" "$(solo_pid)" "$pid"
}

@test "daemon: the runtime dir the daemon creates is mode 0700" {
	solo_setup
	solo_env
	root_env
	timeout -k 5 20 env "${SOLO_ENV[@]}" "${ROOT_ENV[@]}" "$MIG" -h solo true \
		</dev/null >/dev/null 2>&1 3>&-
	expect_eq "mode of $SOLO/run" "$(stat -c %a "$SOLO/run")" 700
}

@test "daemon: an autostarted daemon does not hold mig's stdout open" {
	# x=$(mig -h host cmd) must return when cmd ends, not when the daemon
	# that mig started does.
	solo_setup
	solo_env
	root_env
	run --separate-stderr timeout -k 5 20 env "${SOLO_ENV[@]}" "${ROOT_ENV[@]}" \
		bash -c 'x=$("$0" -h solo echo hi) && echo "got $x"' "$MIG" 3>&-
	expect_eq "status" "$status" 0
	expect_eq "output" "$output" "got hi"
}

@test "daemon: mig-homed without -f returns 0 only once its control socket is ready" {
	solo_setup
	solo_env
	root_env
	run --separate-stderr timeout -k 5 20 env "${SOLO_ENV[@]}" "${ROOT_ENV[@]}" \
		"$HOMED" --name solo 3>&-
	expect_eq "status" "$status" 0
	# no waiting: the socket must be there and listening right now
	[ -S "$SOLO/run/homed.sock" ]
	ss -xlnH | grep -qF " $SOLO/run/homed.sock "
	[[ -n $(ss -ltnH "src 127.0.0.1:$SOLO_PORT") ]]
	expect_eq "mode of $SOLO/run" "$(stat -c %a "$SOLO/run")" 700
	local pid
	pid=$(solo_pid)
	# it stops on SIGTERM
	kill -TERM "$pid"
	wait_until 5 eval "! alive $pid"
}

@test "daemon: mig-homed -f runs in the foreground and exits on SIGTERM" {
	solo_setup
	solo_env
	root_env
	env "${SOLO_ENV[@]}" "${ROOT_ENV[@]}" "$HOMED" -f --name solo --log "$SOLO/log" \
		</dev/null >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	local pid=$!
	bg_track "$pid"
	wait_until 10 eval "ss -xlnH | grep -qF ' $SOLO/run/homed.sock '"
	run --separate-stderr timeout -k 5 20 env "${SOLO_ENV[@]}" MIG_NO_AUTOSTART=1 "$MIG" -h solo echo fg
	expect_eq "output" "$output" fg
	kill -TERM "$pid"
	wait_exit "$pid" 5
}

@test "daemon: as root, mig-homed refuses to run without --allow-root" {
	is_root || skip "only root is refused"
	solo_setup
	solo_env
	# foreground
	homed_fails -f --name solo
	grep -q 'mig:' "$BATS_TEST_TMPDIR/err"
	# daemon mode: the first process reports it and fails
	run --separate-stderr timeout -k 5 20 env -u MIG_ALLOW_ROOT "${SOLO_ENV[@]}" "$HOMED" --name solo 3>&-
	[ "$status" -ne 0 ]
	[[ $stderr == mig:* ]]
	expect_no_daemon
	# mig's autostart reports it too, as mig's own failure (the daemon's
	# own reason may come first, on a line of its own)
	run --separate-stderr timeout -k 5 20 env -u MIG_ALLOW_ROOT "${SOLO_ENV[@]}" "$MIG" -h solo true 3>&-
	expect_mig_failures
	expect_no_daemon
}

@test "daemon: a bad hosts line stops the daemon with a message naming file:line" {
	solo_setup
	local bad allow=()
	is_root && allow=(--allow-root)
	for bad in "h2" "h2 127.0.0.2:99999" "h2 127.0.0.2:7410 many-slots"; do
		printf '# test hosts\nsolo 127.0.0.1:%s\n%s\n' "$SOLO_PORT" "$bad" >"$SOLO/config/hosts"
		homed_fails -f --name solo "${allow[@]}"
		if ! grep -qF "$SOLO/config/hosts:3" "$BATS_TEST_TMPDIR/err"; then
			echo "hosts line 3 '$bad': no '$SOLO/config/hosts:3' in stderr:" >&2
			cat "$BATS_TEST_TMPDIR/err" >&2
			return 1
		fi
	done
}

@test "daemon: a key file readable by others (0644) is refused with a mig: message about the key" {
	solo_setup
	local allow=()
	is_root && allow=(--allow-root)
	chmod 0644 "$SOLO/config/key"
	homed_fails -f --name solo "${allow[@]}"
	grep -i 'mig:.*key' "$BATS_TEST_TMPDIR/err" || {
		cat "$BATS_TEST_TMPDIR/err" >&2
		return 1
	}
	# daemon mode
	run --separate-stderr timeout -k 5 20 env "${SOLO_ENV[@]}" "$HOMED" --name solo "${allow[@]}" 3>&-
	[ "$status" -ne 0 ]
	[[ $stderr == mig:* && ${stderr,,} == *key* ]]
	expect_no_daemon
}

# one_mig_line WANT: $BATS_TEST_TMPDIR/err is exactly one line, "mig: "
# then WANT (an ERE).
one_mig_line() {
	local lines
	mapfile -t lines <"$BATS_TEST_TMPDIR/err"
	if ((${#lines[@]} != 1)) || ! [[ ${lines[0]} =~ ^mig:\ $1$ ]]; then
		echo "expected one line 'mig: $1', got:" >&2
		cat "$BATS_TEST_TMPDIR/err" >&2
		return 1
	fi
}

@test "daemon: a hosts file writable by others (0666) is refused with one mig: line; made so while it runs, the hosts read before stay" {
	solo_setup
	solo_env
	root_env
	local hosts=$SOLO/config/hosts pid allow=()
	is_root && allow=(--allow-root)
	chmod 0666 "$hosts"
	homed_fails -f --name solo "${allow[@]}"
	one_mig_line "hosts file $hosts is writable by group or others \(mode 666\); run 'chmod go-w $hosts'"
	expect_no_daemon
	# Running, it reads the hosts file again when it changes: a file
	# open to writers changes nothing, and the log says why.
	chmod 0644 "$hosts"
	env "${SOLO_ENV[@]}" "${ROOT_ENV[@]}" "$HOMED" -f --name solo --log "$SOLO/log" \
		</dev/null >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	pid=$!
	bg_track "$pid"
	wait_until 10 eval "ss -xlnH | grep -qF ' $SOLO/run/homed.sock '"
	# Open it to writers first: the daemon reads the file again on any
	# change, so the new line must never be seen in a file it trusts.
	chmod 0666 "$hosts"
	printf 'other 127.0.0.3:%s\n' "$SOLO_PORT" >>"$hosts"
	kill -HUP "$pid"
	wait_until 10 grep -qF "hosts file $hosts is writable by group or others (mode 666); run 'chmod go-w $hosts'; keeping the hosts read before" "$SOLO/log"
	run --separate-stderr timeout -k 5 20 env "${SOLO_ENV[@]}" MIG_NO_AUTOSTART=1 "$MIG" hosts
	expect_eq "status" "$status" 0
	[[ $output == *solo* ]] && ! grep -q '^other ' <<<"$output"
	# It says so above the table.
	expect_eq "first line" "${lines[0]}" "mig: warning: hosts file $hosts is writable by group or others (mode 666); run 'chmod go-w $hosts'; keeping the hosts read before"
	kill -TERM "$pid"
	wait_exit "$pid" 5
	expect_eq "status" "$WAIT_STATUS" 0
}

@test "daemon: a hosts file of another user's is refused with one mig: line (as root)" {
	is_root || skip "needs root to give the file away"
	solo_setup
	local hosts=$SOLO/config/hosts
	chown 65534 "$hosts"
	homed_fails -f --name solo --allow-root
	one_mig_line "hosts file $hosts belongs to uid 65534, not to you \(uid 0\); copy it to a file of your own"
	expect_no_daemon
}

@test "daemon: a policy file writable by others (0666) or another user's is refused by mig with one mig: line and 255" {
	solo_setup
	solo_env
	local policy=$SOLO/config/policy st=0
	printf 'mycc\n' >"$policy"
	chmod 0666 "$policy"
	timeout -k 5 20 env "${SOLO_ENV[@]}" MIG_NO_AUTOSTART=1 "$MIG" true \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- || st=$?
	expect_eq "status" "$st" 255
	one_mig_line "policy file $policy is writable by group or others \(mode 666\); run 'chmod go-w $policy'"
	chmod 0644 "$policy"
	if is_root; then
		chown 65534 "$policy"
		st=0
		timeout -k 5 20 env "${SOLO_ENV[@]}" MIG_NO_AUTOSTART=1 "$MIG" true \
			>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- || st=$?
		expect_eq "status" "$st" 255
		one_mig_line "policy file $policy belongs to uid 65534, not to you \(uid 0\); copy it to a file of your own"
	fi
}

@test "daemon: mig keygen writes a 0600 key of 64 hex digits and overwrites only with -f" {
	local d
	d=$(mktemp -d /tmp/mig-key.XXXXXX)
	CLEANUP+=("rm -rf '$d'")
	run --separate-stderr env MIG_CONFIG_DIR="$d" "$MIG" keygen
	expect_eq status "$status" 0
	expect_eq "key mode" "$(stat -c %a "$d/key")" 600
	grep -qxE '[0-9a-fA-F]{64}' "$d/key"
	[ "$(wc -l <"$d/key")" -le 1 ]
	cp "$d/key" "$d/key.1"
	run --separate-stderr env MIG_CONFIG_DIR="$d" "$MIG" keygen
	expect_mig_failure
	cmp "$d/key" "$d/key.1"
	run --separate-stderr env MIG_CONFIG_DIR="$d" "$MIG" keygen -f
	expect_eq status "$status" 0
	if cmp -s "$d/key" "$d/key.1"; then
		echo "keygen -f left the key unchanged" >&2
		return 1
	fi
	expect_eq "key mode" "$(stat -c %a "$d/key")" 600
}

@test "daemon: without a key it opens no TCP port, and its log and mig hosts say why" {
	solo_setup
	solo_env
	root_env
	rm "$SOLO/config/key"
	env "${SOLO_ENV[@]}" "${ROOT_ENV[@]}" "$HOMED" -f --name solo --log "$SOLO/log" \
		</dev/null >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	local pid=$!
	bg_track "$pid"
	wait_until 10 eval "ss -xlnH | grep -qF ' $SOLO/run/homed.sock '"
	# Nothing listens on its port, on any address.
	[[ -z $(ss -ltnH "sport = :$SOLO_PORT") ]]
	grep -q "no TCP port open: no key here (run 'mig keygen')" "$SOLO/log"
	run --separate-stderr timeout -k 5 20 env "${SOLO_ENV[@]}" MIG_NO_AUTOSTART=1 "$MIG" hosts
	expect_eq "status" "$status" 0
	[[ $output == *"no key here (run 'mig keygen')"* ]]
	# It still runs jobs for itself, and stops on SIGTERM.
	run --separate-stderr timeout -k 5 20 env "${SOLO_ENV[@]}" MIG_NO_AUTOSTART=1 "$MIG" -h solo echo here
	expect_eq "output" "$output" here
	# Given a key, it opens its port, with no restart.
	MIG_CONFIG_DIR=$SOLO/config "$MIG" keygen >/dev/null 3>&-
	wait_until 10 eval '[[ -n $(ss -ltnH "src 127.0.0.1:$SOLO_PORT") ]]'
	grep -qF "$SOLO/config/key read again (it changed)" "$SOLO/log"
	alive "$pid"
	kill -TERM "$pid"
	wait_exit "$pid" 5
	expect_eq "status" "$WAIT_STATUS" 0
}

@test "daemon: started with SIGTERM blocked (as by a launcher waiting on it), SIGTERM still stops it" {
	solo_setup
	solo_env
	root_env
	# The parent blocks SIGTERM and ignores nothing else; the daemon
	# inherits that mask through exec.
	env "${SOLO_ENV[@]}" "${ROOT_ENV[@]}" python3 -c '
import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
os.execv(sys.argv[1], sys.argv[1:])' "$HOMED" -f --name solo --log "$SOLO/log" \
		</dev/null >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	local pid=$!
	bg_track "$pid"
	wait_until 20 eval "ss -xlnH | grep -qF ' $SOLO/run/homed.sock '"
	grep -q '^SigBlk:[[:space:]]*0*$' "/proc/$pid/status"
	kill -TERM "$pid"
	wait_exit "$pid" 10
	expect_eq "status" "$WAIT_STATUS" 0
}

@test "daemon: mig-homed --status and --stop: 3 and 0 while none runs; 0 with its pid while one runs; --stop ends it" {
	solo_setup
	solo_env
	root_env
	run --separate-stderr env "${SOLO_ENV[@]}" "$HOMED" --status
	expect_eq "status with none" "$status" 3
	expect_eq "says" "$output" "mig-homed: not running ($SOLO/run)"
	env "${SOLO_ENV[@]}" "${ROOT_ENV[@]}" "$HOMED" --log "$SOLO/log" </dev/null >/dev/null 2>&1 3>&-
	local pid
	pid=$(solo_pid)
	run --separate-stderr env "${SOLO_ENV[@]}" "$HOMED" --status
	expect_eq "status while it runs" "$status" 0
	expect_eq "says" "$output" "mig-homed: running, pid $pid, serving $SOLO/run/homed.sock"
	run --separate-stderr env "${SOLO_ENV[@]}" "$HOMED" --stop
	expect_eq "--stop" "$status" 0
	expect_eq "says" "$output" "mig-homed: stopped (pid $pid)"
	! alive "$pid"
	grep -qF "stopping: signal 15" "$SOLO/log"
	run --separate-stderr env "${SOLO_ENV[@]}" "$HOMED" --stop
	expect_eq "--stop with none" "$status" 0
	expect_eq "says" "$output" "mig-homed: not running ($SOLO/run)"
	run --separate-stderr env "${SOLO_ENV[@]}" "$HOMED" --status
	expect_eq "status after" "$status" 3
}

@test "daemon: --stop refuses a pid file that names no mig-homed of ours (a daemon in another pid namespace wrote it)" {
	solo_setup
	solo_env
	mkdir -m 0700 "$SOLO/run"
	# The lock is held (flock), as a daemon holds it; the pid is 1.
	echo 1 >"$SOLO/run/homed.pid"
	flock "$SOLO/run/homed.pid" sleep 30 &
	local holder=$!
	bg_track "$holder"
	wait_until 5 eval "! flock -n '$SOLO/run/homed.pid' true"
	run --separate-stderr env "${SOLO_ENV[@]}" "$HOMED" --stop
	expect_eq "status" "$status" 1
	[[ $stderr == "mig: $SOLO/run/homed.pid names pid 1, which is no mig-homed of yours here"* ]]
	alive 1
}

@test "daemon: with no --name and no line named as the system, its line is the one whose address is bound here" {
	solo_setup
	solo_env
	root_env
	# No line is named as this machine; its address is this host's (any
	# 127.x is). Choosing among lines is tests/unit/test_self.c's: a line
	# not here would be dialed, and tests stay on loopback.
	printf 'me.invalid 127.0.0.9:%s\n' "$SOLO_PORT" >"$SOLO/config/hosts"
	[[ $(uname -n) != me.invalid ]]
	env -u MIG_HOST MIG_CONFIG_DIR="$SOLO/config" MIG_RUNTIME_DIR="$SOLO/run" "${ROOT_ENV[@]}" \
		"$HOMED" --log "$SOLO/log" </dev/null >/dev/null 2>&1 3>&-
	grep -qF "this host is 'me.invalid' of the hosts file (its system name is '$(uname -n)'): its address 127.0.0.9 is this host's" "$SOLO/log"
	[[ -n $(ss -ltnH "src 127.0.0.9:$SOLO_PORT") ]]
	run --separate-stderr timeout -k 5 20 env "${SOLO_ENV[@]}" MIG_NO_AUTOSTART=1 "$MIG" hosts --json
	echo "$output" | python3 -c '
import json, sys
h = json.load(sys.stdin)
assert h[0]["host"] == "me.invalid" and h[0]["state"] == "home", h
assert len(h) == 1, h'
	env "${SOLO_ENV[@]}" "$HOMED" --stop
}

# relro_perms PID: the permissions of the page where PID's program's
# relocated data begins (its GNU_RELRO segment), as /proc/PID/maps says.
relro_perms() {
	local exe vaddr base="" range perms rest lo hi at
	exe=$(readlink "/proc/$1/exe")
	vaddr=$(readelf -lW "$exe" | awk '$1 == "GNU_RELRO" { print $3 }')
	[[ -n $vaddr ]] || return 1
	while read -r range perms rest; do
		lo=$((16#${range%-*})) hi=$((16#${range#*-}))
		if [[ -z $base && $rest == *" $exe" ]]; then
			base=$lo
			at=$(((base + vaddr) & ~4095))
		fi
		if [[ -n $base ]] && ((at >= lo && at < hi)); then
			echo "$perms"
			return 0
		fi
	done <"/proc/$1/maps"
	return 1
}

# first_of NAME: the pid of a process running $MIG_BIN/NAME.
first_of() {
	local p
	for p in $(pgrep -x "$1"); do
		if [[ $(readlink "/proc/$p/exe" 2>/dev/null) == "$MIG_BIN/$1" ]]; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

@test "daemon: mig, mig-reaper and mig-standin run with their relocated data read-only (RELRO)" {
	command -v readelf >/dev/null || skip "no readelf"
	# sleep's home pid makes home start its placeholder server.
	"$MIG" -h host1 sh -c 'sleep 60 & wait' &
	local launcher=$! name pid perms
	bg_track "$launcher"
	for name in mig-reaper mig-standin; do
		wait_until 10 first_of "$name" >/dev/null
	done
	for pid in "$launcher" "$(first_of mig-reaper)" "$(first_of mig-standin)"; do
		perms=$(relro_perms "$pid")
		expect_eq "RELRO page of $(readlink "/proc/$pid/exe")" "${perms:0:2}" "r-"
	done
	kill -TERM "$launcher"
	wait "$launcher" || true
}
