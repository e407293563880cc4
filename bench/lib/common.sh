# bench/lib/common.sh: shared by bench/build, bench/placement, bench/scale.
# Source it after setting NAME (the bench's name, for messages and the
# temp dir). It sets ROOT, BIN, MIG, CLUSTER, OUT, TMP and a cleanup trap
# that stops everything the bench started: the child it is waiting for
# (run), pids in OWN_PIDS, and the loopback clusters it brought up
# (cluster_up). Network traffic stays on 127.0.0.0/8.
# shellcheck shell=bash

HERE=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BIN=$(cd "${MIG_BIN:-$ROOT/build-bench/bin}" 2>/dev/null && pwd) || {
	echo "$NAME: no build dir ${MIG_BIN:-$ROOT/build-bench/bin}; build with:" >&2
	echo "  cmake -S . -B build-bench -DMIG_TESTS=OFF -DCMAKE_BUILD_TYPE=Release && cmake --build build-bench -j2" >&2
	exit 1
}
OUT=${BENCH_OUT:-$HERE/results}
CLUSTER=$ROOT/tests/cluster/cluster
MIG=$BIN/mig
CMDLINE="$(printf '%q ' "$0" "$@")"
CMDLINE=${CMDLINE% }

die() {
	echo "$NAME: $*" >&2
	exit 1
}
say() { echo "$NAME: $*" >&2; }

for b in mig mig-homed libmig.so; do
	[[ -e $BIN/$b ]] || die "no $b in $BIN"
done
[[ -x $CLUSTER ]] || die "no $CLUSTER"
command -v jq >/dev/null || die "jq is needed"

TMP=$(mktemp -d "/tmp/mig-bench-$NAME.XXXXXX")
CLUSTER_DIRS=()
OWN_PIDS=()
CHILD=
CLEANUP_HOOKS=()

# killtree PID [SIG]: signal PID and all its descendants, children first.
killtree() {
	local c
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do killtree "$c" "${2:-TERM}"; done
	kill "-${2:-TERM}" "$1" 2>/dev/null || true
}

# run CMD...: run CMD in the background and wait for it, so that a signal
# reaches the trap at once and the cleanup can stop CMD.
run() {
	local rc=0
	"$@" &
	CHILD=$!
	wait "$CHILD" || rc=$?
	CHILD=
	return "$rc"
}

cleanup() {
	local rc=$? p h d
	trap - EXIT INT TERM
	set +e
	if [[ -n $CHILD ]]; then
		killtree "$CHILD"
		wait "$CHILD" 2>/dev/null
	fi
	for h in "${CLEANUP_HOOKS[@]}"; do "$h"; done
	for p in "${OWN_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${OWN_PIDS[@]}"; do
		for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.02; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for d in "${CLUSTER_DIRS[@]}"; do
		[[ -d $d ]] || continue
		if ((rc != 0 && rc != 130 && rc != 143)); then
			# Keep the daemons' logs and state of a failed run.
			local keep=$OUT/$NAME-failure/${d##*/}
			mkdir -p "$keep"
			MIG_BIN=$BIN "$CLUSTER" status "$d" >"$keep/status" 2>&1
			cp "$d"/*.log "$d"/*.stderr "$d"/hosts "$keep/" 2>/dev/null
			say "daemon logs kept in $keep"
		fi
		MIG_BIN=$BIN "$CLUSTER" down "$d" >&2 || say "cluster down failed ($d)"
	done
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Scheduler autogroups (CONFIG_SCHED_AUTOGROUP): the kernel shares CPU
# between sessions first, then between the threads of a session. The host
# daemon starts every job in a session of its own (setsid), so on a loopback
# cluster each placed job gets a whole session's share, while local work
# (make -j8, jobs placed at home) shares one. On a busy machine that tilts
# figures towards mig. BENCH_AUTOGROUP=0 turns autogroups off for the run
# (root only; the old value is put back on exit); the reports say which.
AUTOGROUP_FILE=/proc/sys/kernel/sched_autogroup_enabled
AUTOGROUP_WAS=$(cat "$AUTOGROUP_FILE" 2>/dev/null || echo n/a)
if [[ ${BENCH_AUTOGROUP:-} == 0 && $AUTOGROUP_WAS == 1 ]]; then
	if echo 0 >"$AUTOGROUP_FILE" 2>/dev/null; then
		restore_autogroup() { echo "$AUTOGROUP_WAS" >"$AUTOGROUP_FILE" 2>/dev/null || true; }
		CLEANUP_HOOKS+=(restore_autogroup)
	else
		say "cannot turn scheduler autogroups off (not root?)"
	fi
fi
autogroup_line() {
	local now
	now=$(cat "$AUTOGROUP_FILE" 2>/dev/null || echo n/a)
	case $now in
	1) echo "on (each placed job runs in a session of its own, so it gets a whole session's CPU share; see bench/README.md)" ;;
	0) [[ $AUTOGROUP_WAS == 1 ]] && echo "off for this run (BENCH_AUTOGROUP=0)" || echo off ;;
	*) echo "n/a" ;;
	esac
}

# hosts_json: `mig hosts --json` of the current cluster.
hosts_json() { "$MIG" hosts --json; }

# cluster_check N SLOTS: every host is up and the home daemon sees SLOTS
# slots on each (home included); waits up to 10 s for the links.
cluster_check() {
	local n=$1 slots=$2 t=$((SECONDS + 10)) j
	while ((SECONDS <= t)); do
		j=$(hosts_json 2>/dev/null) || j='[]'
		if [[ -z $slots ]]; then
			[[ $(jq '[.[] | select(.state == "up" or .state == "home")] | length' <<<"$j") == $((n + 1)) ]] && return 0
		else
			[[ $(jq --argjson s "$slots" '[.[] | select((.state == "up" or .state == "home") and .slots == $s)] | length' <<<"$j") == $((n + 1)) ]] && return 0
		fi
		sleep 0.1
	done
	return 1
}

# cluster_up N [SLOTS]: bring up home + host1..hostN (tests/cluster/cluster),
# every daemon with SLOTS slots when given. Uses `cluster up N --slots S`
# when the script has it, else writes the hosts files' SLOTS column itself
# and restarts the daemons. Exports MIG_* for home; sets CLUSTER_HOW.
cluster_up() {
	local n=$1 slots=${2:-} env name f
	export MIG_CLUSTER_DIR=$TMP/cluster-$n-${slots:-cpus}
	CLUSTER_DIRS+=("$MIG_CLUSTER_DIR")
	CLUSTER_HOW="tests/cluster/cluster up $n"
	if [[ -n $slots ]] && grep -q -- '--slots' "$CLUSTER"; then
		if env=$(MIG_BIN=$BIN "$CLUSTER" up "$n" --slots "$slots" 2>"$TMP/cluster.err"); then
			eval "$env"
			export MIG_NO_AUTOSTART=1
			if cluster_check "$n" "$slots"; then
				CLUSTER_HOW+=" --slots $slots"
				return 0
			fi
			say "cluster up --slots $slots: slots not as asked; setting them by hand"
		else
			say "cluster up $n --slots $slots failed; setting slots by hand:"
			sed 's/^/    /' "$TMP/cluster.err" >&2
			MIG_BIN=$BIN "$CLUSTER" down "$MIG_CLUSTER_DIR" >/dev/null 2>&1 || true
			export MIG_CLUSTER_DIR=$TMP/cluster-$n-${slots}-b
			CLUSTER_DIRS+=("$MIG_CLUSTER_DIR")
			env=$(MIG_BIN=$BIN "$CLUSTER" up "$n" 2>"$TMP/cluster.err") ||
				{ cat "$TMP/cluster.err" >&2; die "cluster up $n failed"; }
			eval "$env"
		fi
	else
		env=$(MIG_BIN=$BIN "$CLUSTER" up "$n" 2>"$TMP/cluster.err") ||
			{ cat "$TMP/cluster.err" >&2; die "cluster up $n failed"; }
		eval "$env"
	fi
	export MIG_NO_AUTOSTART=1 # never let the client start a stray daemon
	if [[ -n $slots ]] && ! cluster_check "$n" "$slots"; then
		# No --slots in the cluster script: add the SLOTS column to every
		# copy of the hosts file and restart the daemons, hosts first.
		for f in "$MIG_CLUSTER_DIR/hosts" "$MIG_CLUSTER_DIR"/*/config/hosts; do
			awk -v s="$slots" '/^#/ || NF < 2 { print; next } { print $1, $2, s }' "$f" >"$f.new"
			chmod 0644 "$f.new"
			mv "$f.new" "$f"
		done
		for name in home $(seq -f 'host%g' 1 "$n"); do
			MIG_BIN=$BIN "$CLUSTER" kill "$name" >&2 || die "cluster kill $name failed"
		done
		for name in $(seq -f 'host%g' 1 "$n") home; do
			MIG_BIN=$BIN "$CLUSTER" start "$name" >&2 || die "cluster start $name failed"
		done
		CLUSTER_HOW+=" + SLOTS column $slots written into the hosts files by the bench, daemons restarted"
	fi
	cluster_check "$n" "$slots" || {
		hosts_json >&2 || true
		die "cluster not up with ${slots:-default} slots on home + $n hosts"
	}
}

cluster_down() {
	[[ -n ${MIG_CLUSTER_DIR:-} && -d $MIG_CLUSTER_DIR ]] || return 0
	MIG_BIN=$BIN "$CLUSTER" down "$MIG_CLUSTER_DIR" >&2 || say "cluster down failed"
	unset MIG_CLUSTER_DIR MIG_CONFIG_DIR MIG_RUNTIME_DIR MIG_HOST
}

# home_pid: pid of the current cluster's home daemon.
home_pid() {
	local p
	p=$(cat "$MIG_CLUSTER_DIR/home.pid" 2>/dev/null) || p=
	[[ -n $p && -r /proc/$p/status ]] || p=$(pgrep -f "mig-homed.*--name home.*--log $MIG_CLUSTER_DIR/" | head -n1)
	echo "$p"
}

# rss_kb PID: VmRSS of PID in kB.
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

now() { echo "$EPOCHREALTIME"; }
# secs T0 T1: T1 - T0 in seconds, 3 decimals.
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
# median X...: median of numbers (mean of the middle two for an even count).
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR % 2) printf "%.3f", v[(NR + 1) / 2]
		else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

machine_line() {
	local cpu
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
	echo "$(nproc) CPUs, ${cpu:-unknown CPU}, $(uname -sr)"
}

rev_line() {
	local rev
	rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')
	[[ -n $(git -C "$ROOT" status --porcelain -- . 2>/dev/null) ]] && rev="$rev (+ uncommitted changes)"
	echo "$rev"
}
