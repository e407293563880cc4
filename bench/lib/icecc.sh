# bench/lib/icecc.sh: icecream (Debian's icecc 1.4) beside mig and distcc,
# for bench/build. Sourced after lib/common.sh; needs root.
#
# Every iceccd listens on one fixed port (10245) and its scheduler on
# 8765, and the client talks to the compile servers directly, so one
# machine cannot hold several of them side by side. Each gets a network
# namespace of its own instead: "home" holds the scheduler and home's
# iceccd (-m 0: it compiles nothing itself, as mig's home places every
# compile), and each host N a namespace joined to home's by a veth pair,
# 10.213.N.1 (home) <-> 10.213.N.2 (host), a /30 that exists inside these
# namespaces only: nothing reaches the machine's own interfaces, and the
# scheduler's broadcasts stay on the veths. Each iceccd gets its own
# socket (ICECC_TEST_SOCKET), env folder (-b) and log (-l), owned by the
# icecc user it runs as. The build runs in home's network namespace
# (nsenter --net) with ICECC_TEST_SOCKET pointing at home's daemon.
#
# icecream's scheduler gives no job to a host whose CPU its iceccd reads
# as busy (from /proc/stat), and here every "host" reads the same, shared
# machine, busy with whatever else runs on it: with other work on it the
# build waits for "a suitable host" and never gets one. Each iceccd runs
# in a mount namespace of its own (unshare -m, private) where /proc/stat
# is a file the bench keeps up to date as an idle machine's (ice_stat),
# as each host of a real farm would be apart from the build. mig and
# distcc do not look at the load either.
# Everything is stopped and the namespaces deleted on exit (ice_down is a
# cleanup hook), also on failure.
# shellcheck shell=bash

ICE=$TMP/icecc
ICE_NS=migbench$$
ICE_PIDS=()
ICE_SCHED=
ICE_STATP=

ice_down() {
	local p
	for p in "${ICE_PIDS[@]}" $ICE_SCHED $ICE_STATP; do kill -TERM "$p" 2>/dev/null; done
	for p in "${ICE_PIDS[@]}" $ICE_SCHED $ICE_STATP; do
		for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.02; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	ICE_PIDS=()
	ICE_SCHED=
	ICE_STATP=
	# Should our /proc/stat ever show in the bench's own mount namespace,
	# it goes.
	while awk -v f="$ICE/stat" '$4 == f && $5 == "/proc/stat" { found = 1 } END { exit !found }' /proc/self/mountinfo; do
		say "icecc.sh: $ICE/stat was mounted on this namespace's /proc/stat; unmounting it"
		umount /proc/stat || break
	done
	for p in $(ip netns list 2>/dev/null | awk -v n="$ICE_NS" '$1 ~ "^" n "-" { print $1 }'); do
		ip netns del "$p" 2>/dev/null
	done
}

# ice_stat: $ICE/stat as /proc/stat of an idle machine now: the cpu
# lines all idle, counting clock ticks (1/100 s) since the epoch; the
# other lines as they are.
ice_stat() {
	local t=$((${EPOCHREALTIME/./} / 10000)) n i s
	n=$(nproc)
	s="cpu  0 0 0 $((t * n)) 0 0 0 0 0 0"
	for ((i = 0; i < n; i++)); do s+=$'\n'"cpu$i 0 0 0 $t 0 0 0 0 0 0"; done
	s+=$'\n'$(grep -v '^cpu' /proc/stat)
	# In place: the bind mounts hold this inode.
	printf '%s\n' "$s" >"$ICE/stat"
}

# ice_dir NAME: the folder of daemon NAME (home, host1...).
ice_dir() { echo "$ICE/$1"; }

# ice_net N: namespaces home and host1..hostN with their veths.
ice_net() {
	local n=$1 i
	ip netns add "$ICE_NS-home" || return 1
	CLEANUP_HOOKS+=(ice_down)
	ip -n "$ICE_NS-home" link set lo up
	for ((i = 1; i <= n; i++)); do
		ip netns add "$ICE_NS-host$i" &&
			ip -n "$ICE_NS-home" link add "vh$i" type veth peer name eth0 netns "$ICE_NS-host$i" &&
			ip -n "$ICE_NS-home" addr add "10.213.$i.1/30" dev "vh$i" &&
			ip -n "$ICE_NS-home" link set "vh$i" up &&
			ip -n "$ICE_NS-host$i" addr add "10.213.$i.2/30" dev eth0 &&
			ip -n "$ICE_NS-host$i" link set eth0 up &&
			ip -n "$ICE_NS-host$i" link set lo up || return 1
	done
}

# ice_daemons N SLOTS: (re)start every iceccd with empty env folders and
# logs, then wait until each is connected to the scheduler (the
# scheduler stays up: it is the network's, not a daemon's). Home's
# iceccd takes no job (-m 0); each host's takes SLOTS.
ice_daemons() {
	local n=$1 slots=$2 i name d m t p ns
	for p in "${ICE_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${ICE_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	ICE_PIDS=()
	for ((i = 0; i <= n; i++)); do
		name=home m=0 ns=$ICE_NS-home
		((i > 0)) && name=host$i m=$slots ns=$ICE_NS-host$i
		d=$(ice_dir "$name")
		rm -rf "$d"
		mkdir -p "$d/envs"
		: >"$d/log"
		chown -R icecc:icecc "$d"
		# ip, unshare and sh each exec the next: $! is iceccd's pid. The
		# bind mount happens only in a mount namespace that is not the
		# bench's and where /proc is private, so it cannot reach the
		# machine's /proc/stat.
		# shellcheck disable=SC2016 # for the inner sh
		ICECC_TEST_SOCKET=$d/sock ip netns exec "$ns" unshare -m --propagation private \
			sh -c 'f=$0 outer=$1; shift
				[ "$(readlink /proc/self/ns/mnt)" != "$outer" ] &&
					[ "$(findmnt -no PROPAGATION /proc)" = private ] ||
					{ echo "icecc.sh: not in a private mount namespace" >&2; exit 1; }
				mount --bind "$f" /proc/stat && exec "$@"' "$ICE/stat" "$(readlink /proc/self/ns/mnt)" \
			iceccd -n "$ICE_NS" -s "10.213.$((i > 0 ? i : 1)).1" \
			-m "$m" -N "$name" -b "$d/envs" -l "$d/log" -vvv </dev/null >"$d/out" 2>&1 &
		ICE_PIDS+=($!)
	done
	t=$((SECONDS + 90)) # a loaded machine is slow to connect them
	for ((i = 0; i <= n; i++)); do
		name=home
		((i > 0)) && name=host$i
		d=$(ice_dir "$name")
		until grep -q 'Connected to scheduler' "$d/log"; do
			((SECONDS < t)) || { tail -n 5 "$d/log" "$d/out" "$ICE/sched/log" "$ICE/sched/out" >&2; return 1; }
			kill -0 "${ICE_PIDS[$i]}" 2>/dev/null || { cat "$d/out" >&2; return 1; }
			sleep 0.2
		done
	done
}

# ice_up N SLOTS: the network, the scheduler and the daemons.
ice_up() {
	local n=$1 slots=$2
	chmod 0711 "$TMP" # the icecc user reaches its folders
	mkdir -p "$ICE/sched"
	chmod 0755 "$ICE"
	chown icecc:icecc "$ICE/sched"
	ice_net "$n" || return 1
	ice_stat
	(while :; do sleep 0.5; ice_stat; done) </dev/null >/dev/null 2>&1 &
	ICE_STATP=$!
	ip netns exec "$ICE_NS-home" icecc-scheduler -n "$ICE_NS" -l "$ICE/sched/log" -vvv \
		</dev/null >"$ICE/sched/out" 2>&1 &
	ICE_SCHED=$!
	ice_daemons "$n" "$slots"
}

# ice_run CMD...: CMD in home's network namespace, its icecc clients
# talking to home's iceccd.
ice_run() {
	nsenter --net="/run/netns/$ICE_NS-home" env ICECC_TEST_SOCKET="$(ice_dir home)/sock" "$@"
}

# ice_cpu: CPU (µs) of home's iceccd (with what it reaped), then of
# the hosts' iceccds with their compilers, then of the scheduler.
ice_cpu() {
	local h=0 i
	for ((i = 1; i < ${#ICE_PIDS[@]}; i++)); do
		h=$((h + $(cpu_us "${ICE_PIDS[$i]}" own reaped)))
	done
	echo "$(cpu_us "${ICE_PIDS[0]}" own reaped) $h $(cpu_us "$ICE_SCHED" own reaped)"
}

# ice_bytes: bytes home's namespace sent on its veths (to the hosts),
# as the kernel counts them (with TCP/IP headers).
ice_bytes() {
	local n=0 i b
	for ((i = 1; i < ${#ICE_PIDS[@]}; i++)); do
		b=$(ip -n "$ICE_NS-home" -j -s link show "vh$i" | jq '.[0].stats64.tx.bytes')
		n=$((n + b))
	done
	echo "$n"
}

# ice_jobs: per daemon, "NAME SENT RAN": the compiles the scheduler sent
# it (its log: "BEGIN: N client=home(...) server=NAME(...)") and those the
# daemon's own log says it ran ("Remote compilation completed with exit
# code 0"), one daemon a line.
ice_jobs() {
	local i name
	for ((i = 0; i < ${#ICE_PIDS[@]}; i++)); do
		name=home
		((i > 0)) && name=host$i
		echo "$name $(grep -c "BEGIN: .* server=$name(" "$ICE/sched/log") $(grep -c 'Remote compilation completed with exit code 0' "$(ice_dir "$name")/log")"
	done
}
