#!/usr/bin/env bats
# The runtime folder (docs/security.md, "Other local users"): without
# XDG_RUNTIME_DIR or MIG_RUNTIME_DIR every client and the daemon use
# /tmp/mig-UID, which anyone may make first. mig, its stub and the
# daemon refuse a folder that is not the user's own (owner, mode 0700,
# no symlink) and a daemon that does not run as the user (SO_PEERCRED),
# before sending it a single byte.
#
# As root: two users are made for the test (an attacker and a victim,
# removed at the end), and a listener (../shim/fakehomed.py) records
# every byte it receives. No cluster is needed.

load helpers

setup_file() {
	mig_env_setup
}

teardown_file() {
	:
}

# The listeners end before their users go: userdel refuses a user who
# still runs a process.
teardown() {
	local p
	for p in "${BG_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	for p in "${CLEANUP[@]}"; do
		eval "$p" || true
	done
}

setup() {
	exec </dev/null
	BG_PIDS=()
	CLEANUP=()
	is_root || skip "needs root (useradd)"
	command -v useradd >/dev/null && command -v setpriv >/dev/null ||
		skip "no useradd or setpriv"
	[[ -x /usr/bin/python3 ]] || skip "no /usr/bin/python3"
	FAKE=$HELPERS_DIR/../shim/fakehomed.py
	ATK=migatk$$
	VIC=migvic$$
	useradd -M -N -d /nonexistent -s /usr/sbin/nologin "$ATK"
	CLEANUP+=("gone_user '$ATK'")
	useradd -M -N -d /nonexistent -s /usr/sbin/nologin "$VIC"
	CLEANUP+=("gone_user '$VIC'")
	VUID=$(id -u "$VIC")
	DIR=/tmp/mig-$VUID
	# A fresh uid: a folder of that name is another run's leftover.
	rm -rf "$DIR"
	CLEANUP+=("rm -rf '$DIR'")
	WORK=$(mktemp -d /tmp/mig-rundir-test.XXXXXX)
	chmod 0777 "$WORK"
	CLEANUP+=("rm -rf '$WORK'")
	mkdir -m 0700 "$WORK/config"
	chown "$VIC" "$WORK/config"
}

# gone_user NAME: removes the test user; a process of its that is still
# ending keeps userdel from it for a moment.
gone_user() {
	wait_until 10 eval "userdel '$1' 2>>'$BATS_FILE_TMPDIR/userdel.err'" || {
		cat "$BATS_FILE_TMPDIR/userdel.err" >&2
		return 1
	}
}

# as_cmd USER: into AS, the command prefix that runs a command as USER in
# the environment a user without XDG_RUNTIME_DIR has.
as_cmd() {
	AS=(env -u XDG_RUNTIME_DIR -u MIG_RUNTIME_DIR HOME=/nonexistent
		MIG_CONFIG_DIR="$WORK/config" MIG_NO_AUTOSTART=1)
	[[ $1 == root ]] && return
	AS+=(setpriv --reuid="$1" --regid="$(id -g "$1")" --clear-groups)
}

# as USER CMD...: CMD as USER.
as() {
	as_cmd "$1"
	shift
	"${AS[@]}" "$@"
}

# listen AS: the recording listener on $DIR/homed.sock, as user AS (or
# root). It is started directly, so that its pid is the one tracked.
listen() {
	as_cmd "$1"
	rm -f "$WORK/log"
	"${AS[@]}" /usr/bin/python3 "$FAKE" "$DIR/homed.sock" "$WORK/log" \
		>"$WORK/listener.err" 2>&1 3>&- &
	bg_track $!
	wait_until 10 test -e "$DIR/homed.sock.ready" || {
		cat "$WORK/listener.err" >&2
		return 1
	}
}

# received: the bytes the listener got (0 if none).
received() {
	local n
	n=$(awk '$1 == "bytes" { n = $2 } END { print n + 0 }' "$WORK/log")
	echo "$n"
}

# refused WHAT: mig failed as it should, naming $DIR, and sent nothing.
refused() {
	expect_mig_failure || return 1
	[[ ${stderr_lines[0]} == *"$DIR"*"$1"* ]] || {
		echo "the message does not name $DIR and '$1': ${stderr_lines[0]}" >&2
		return 1
	}
	expect_eq "bytes the listener received" "$(received)" 0
}

@test "rundir: another user's 0777 /tmp/mig-UID with a listener in it: mig, its stub and mig hosts refuse, sending nothing" {
	as "$ATK" mkdir -m 0777 "$DIR"
	chmod 0777 "$DIR"
	listen "$ATK"
	run --separate-stderr as "$VIC" "$MIG" -h host1 true
	refused "belongs to uid"
	run --separate-stderr as "$VIC" "$MIG" --stub "$DIR/homed.sock" -- /bin/true
	refused "belongs to uid"
	run --separate-stderr as "$VIC" "$MIG" hosts
	refused "belongs to uid"
	run --separate-stderr as "$VIC" "$MIG" true
	refused "belongs to uid"
}

@test "rundir: mig-homed refuses another user's /tmp/mig-UID, naming it and the way out" {
	as "$ATK" mkdir -m 0777 "$DIR"
	chmod 0777 "$DIR"
	run --separate-stderr as "$VIC" "$HOMED" -f
	[ "$status" -ne 0 ]
	[[ $stderr == mig:*"$DIR belongs to uid $(id -u "$ATK")"*MIG_RUNTIME_DIR* ]] || {
		echo "stderr: $stderr" >&2
		return 1
	}
	# It made nothing there.
	run ls -A "$DIR"
	expect_eq "files in $DIR" "$output" ""
}

@test "rundir: the user's own folder, open to others (0777), is refused by mig and mig-homed" {
	mkdir -m 0777 "$DIR"
	chmod 0777 "$DIR"
	chown "$VIC" "$DIR"
	listen "$VIC"
	run --separate-stderr as "$VIC" "$MIG" -h host1 true
	refused "has mode 0777"
	run --separate-stderr as "$VIC" "$HOMED" -f
	[ "$status" -ne 0 ]
	[[ $stderr == mig:*"$DIR has mode 0777"*chmod* ]]
}

@test "rundir: a symlink at /tmp/mig-UID is refused, even to the user's own folder" {
	mkdir -m 0700 "$WORK/real"
	chown "$VIC" "$WORK/real"
	as "$ATK" ln -s "$WORK/real" "$DIR"
	run --separate-stderr as "$VIC" "$MIG" -h host1 true
	expect_mig_failure
	[[ ${stderr_lines[0]} == *"$DIR is a symbolic link"* ]]
}

@test "rundir: the user's 0700 folder with another uid listening in it: refused by SO_PEERCRED, nothing sent" {
	mkdir -m 0700 "$DIR"
	chown "$VIC" "$DIR"
	# Only root can put a socket there; any uid but the user's will do.
	listen root
	run --separate-stderr as "$VIC" "$MIG" -h host1 true
	refused "is served by uid 0"
}

@test "rundir: the same listener run by the user itself does get the request (the test can see bytes)" {
	mkdir -m 0700 "$DIR"
	chown "$VIC" "$DIR"
	listen "$VIC"
	# The listener never answers: mig waits, and is stopped.
	as "$VIC" timeout -k 2 3 "$MIG" -h host1 true 2>/dev/null || true
	[ "$(received)" -gt 0 ]
}
