#!/usr/bin/env bats
# Hosts from Slurm: inside an allocation of a real Slurm (tests/cluster/slurm:
# munged, slurmctld and three slurmd n1..n3 on this machine), `mig make`
# with no hosts file builds on the allocation's nodes, and nothing of mig
# is left running once the allocation ends. Root only (the bed runs
# Slurm's daemons), and only where Debian's Slurm packages are installed.
# The scripts run inside the allocation expand their own variables:
# shellcheck disable=SC2016

load helpers

BED=$HELPERS_DIR/../cluster/slurm

setup_file() {
	mig_env_setup || return 1
	if ! is_root; then
		export SLURM_SKIP="the Slurm bed needs root (munged, slurmctld, slurmd)"
		return 0
	fi
	local b
	for b in munged slurmctld slurmd srun salloc scontrol; do
		if ! command -v "$b" >/dev/null; then
			export SLURM_SKIP="no $b (Debian's munge, slurmctld, slurmd, slurm-client)"
			return 0
		fi
	done
	local out
	out=$("$BED" up 3) || return 1
	eval "$out"
	# If bats is killed before teardown_file, the bed goes anyway.
	local owner=$$ dir=$SLURM_BED_DIR
	(
		while [[ -d $dir ]] && alive "$owner"; do sleep 1; done
		if [[ -d $dir ]]; then "$BED" down "$dir"; fi
	) </dev/null >/dev/null 2>&1 3>&- &
}

teardown_file() {
	if [[ -n ${SLURM_BED_DIR:-} ]]; then "$BED" down "$SLURM_BED_DIR"; fi
}

setup() {
	[[ -z ${SLURM_SKIP:-} ]] || skip "$SLURM_SKIP"
	exec </dev/null
	BG_PIDS=()
	CLEANUP=()
}

# mig's folders for one test: a config folder with no hosts file (so the
# allocation's nodes are the hosts), home's runtime folder where
# failure_report shows its log ($SOLO/run), and TMPDIR, under which the
# nodes' daemons keep theirs.
slurm_env() {
	SOLO=$BATS_TEST_TMPDIR/solo
	mkdir -m 0700 "$SOLO" "$SOLO/config"
	mkdir -p "$BATS_TEST_TMPDIR/tmp"
	export MIG_CONFIG_DIR=$SOLO/config MIG_RUNTIME_DIR=$SOLO/run
	export TMPDIR=$BATS_TEST_TMPDIR/tmp MIG_ALLOW_ROOT=1
	CLEANUP+=("kill_left")
}

# The pids of the allocation's mig daemons and srun, as their pid files
# and home's log name them.
mig_pids() {
	local f
	for f in "$MIG_RUNTIME_DIR/homed.pid" "$TMPDIR"/mig-*-slurm-*-n*/run/homed.pid; do
		[[ -f $f ]] && cat "$f"
	done
	sed -n 's/.*started with srun (pid \([0-9]*\)).*/\1/p' "$MIG_RUNTIME_DIR/homed.log" 2>/dev/null
}

# none_alive PID...: none of them runs.
none_alive() {
	local p
	for p in "$@"; do
		if alive "$p"; then return 1; fi
	done
}

# A test that failed midway leaves nothing: the daemons it started, by pid.
kill_left() {
	local p
	for p in $(mig_pids); do
		if alive "$p" && tr '\0' ' ' <"/proc/$p/cmdline" | grep -Eq 'mig-homed|srun'; then
			kill -KILL "$p"
		fi
	done
}

# in_alloc SCRIPT: runs SCRIPT (bash) in `salloc -N3 --exclusive` (every
# CPU of each node, so SLURM_JOB_CPUS_PER_NODE is C(x3)); its output in
# $BATS_TEST_TMPDIR/alloc.out; the pids of mig's daemons and srun it ran
# in $BATS_TEST_TMPDIR/pids.
in_alloc() {
	printf '%s\n' "$1" >"$BATS_TEST_TMPDIR/alloc.sh"
	local rc=0
	timeout -k 5 400 salloc -N3 --exclusive bash "$BATS_TEST_TMPDIR/alloc.sh" \
		</dev/null >"$BATS_TEST_TMPDIR/alloc.out" 2>"$BATS_TEST_TMPDIR/alloc.err" 3>&- || rc=$?
	mig_pids >"$BATS_TEST_TMPDIR/pids"
	return $rc
}

@test "inside salloc -N 3, mig make builds on every node of the allocation; nothing is left once it ends" {
	slurm_env
	local dir=$BATS_TEST_TMPDIR/demo
	project "$dir" 24 1
	build_ref "$dir"
	cd "$dir"
	in_alloc 'set -e
echo "job=$SLURM_JOB_ID"
mig make
mig ps --json --recent 100 >"'"$BATS_TEST_TMPDIR"'/ps.json"
mig hosts --json >"'"$BATS_TEST_TMPDIR"'/hosts.json"'
	same_objects "$dir"
	# Every compile ran on a node of the allocation, and every node had some.
	python3 - "$BATS_TEST_TMPDIR/ps.json" <<'EOF'
import json, sys
jobs = [j for j in json.load(open(sys.argv[1])) if "gcc" in j["command"]]
hosts = sorted({j["host"] for j in jobs})
print("compiles:", len(jobs), "on", hosts, file=sys.stderr)
assert len(jobs) >= 25, len(jobs)
assert hosts == ["n1", "n2", "n3"], hosts
assert all(j["state"] == "exit 0" for j in jobs), [j["state"] for j in jobs]
EOF
	# Each node's slots are its CPUs in the allocation.
	python3 - "$BATS_TEST_TMPDIR/hosts.json" "$(nproc)" <<'EOF'
import json, sys
hosts = {h["host"]: h for h in json.load(open(sys.argv[1]))}
for n in ("n1", "n2", "n3"):
    assert hosts[n]["state"] == "up", hosts[n]
    assert hosts[n]["slots"] == int(sys.argv[2]), hosts[n]
EOF
	# The allocation is over: home's daemon, the nodes' and srun are gone.
	local pids
	mapfile -t pids <"$BATS_TEST_TMPDIR/pids"
	((${#pids[@]} == 5)) || {
		echo "expected 5 pids (home, 3 nodes, srun), got: ${pids[*]}" >&2
		return 1
	}
	wait_until 60 none_alive "${pids[@]}"
	grep -q "srun ended" "$MIG_RUNTIME_DIR/homed.log"
}

@test "in an sbatch job, mig make builds on the job's nodes; nothing is left once the job ends" {
	slurm_env
	local dir=$BATS_TEST_TMPDIR/demo
	project "$dir" 8 1
	build_ref "$dir"
	cd "$dir"
	printf '%s\n' '#!/bin/bash' 'set -e' 'mig make' \
		"mig ps --json --recent 100 >'$BATS_TEST_TMPDIR/ps.json'" >"$BATS_TEST_TMPDIR/job.sh"
	run timeout -k 5 400 sbatch --wait -N3 --exclusive \
		--output="$BATS_TEST_TMPDIR/job.out" "$BATS_TEST_TMPDIR/job.sh" 3>&-
	cat "$BATS_TEST_TMPDIR/job.out" >&2 || true
	((status == 0))
	same_objects "$dir"
	python3 - "$BATS_TEST_TMPDIR/ps.json" <<'EOF'
import json, sys
jobs = [j for j in json.load(open(sys.argv[1])) if "gcc" in j["command"]]
hosts = {j["host"] for j in jobs}
print("compiles:", len(jobs), "on", sorted(hosts), file=sys.stderr)
assert len(jobs) >= 9 and hosts <= {"n1", "n2", "n3"} and len(hosts) >= 2, hosts
EOF
	local pids
	mapfile -t pids < <(mig_pids)
	((${#pids[@]} == 5))
	wait_until 60 none_alive "${pids[@]}"
}

@test "mig hosts inside an allocation shows its job id on home's and each node's line; home named as a node is NAME-home; the key is on no command line" {
	slurm_env
	# Home named as a node is (a batch script runs on the first node):
	# home is n1-home, and n1 is the node.
	export MIG_HOST=n1
	in_alloc 'echo "job=$SLURM_JOB_ID"; mig hosts
# The allocation key: in srun'"'"'s environment, on no command line, and
# gone from the node daemons'"'"' environment.
srun=$(sed -n "s/.*started with srun (pid \([0-9]*\)).*/\1/p" "$MIG_RUNTIME_DIR/homed.log")
key=$(tr "\0" "\n" <"/proc/$srun/environ" | sed -n "s/^MIG_SLURM_KEY=//p")
echo "keylen=${#key}"
echo "$key" >"$TMPDIR/key" # grep reads it there: on its command line, it would find itself
echo "in cmdlines: $(cat /proc/[0-9]*/cmdline 2>/dev/null | tr "\0" " " | grep -cFf "$TMPDIR/key")"
for f in "$TMPDIR"/mig-*-slurm-*-n*/run/homed.pid; do
	echo "in node environ: $(tr "\0" "\n" <"/proc/$(cat "$f")/environ" | grep -c "MIG_SLURM_KEY\|$key")"
done'
	cat "$BATS_TEST_TMPDIR/alloc.out" >&2
	grep -qx "keylen=64" "$BATS_TEST_TMPDIR/alloc.out"
	grep -qx "in cmdlines: 0" "$BATS_TEST_TMPDIR/alloc.out"
	expect_eq "node daemons without the key" "$(grep -c '^in node environ: 0$' "$BATS_TEST_TMPDIR/alloc.out")" 3
	local job
	job=$(sed -n 's/^job=//p' "$BATS_TEST_TMPDIR/alloc.out")
	[[ $job =~ ^[0-9]+$ ]]
	grep -E "^n1 +Slurm job $job node +up " "$BATS_TEST_TMPDIR/alloc.out"
	grep -E "^n2 +Slurm job $job node +up " "$BATS_TEST_TMPDIR/alloc.out"
	grep -E "^n3 +Slurm job $job node +up " "$BATS_TEST_TMPDIR/alloc.out"
	grep -E "^n1-home +0\.0\.0\.0:[0-9]+ Slurm job $job +home " "$BATS_TEST_TMPDIR/alloc.out"
	local pids
	mapfile -t pids <"$BATS_TEST_TMPDIR/pids"
	wait_until 60 none_alive "${pids[@]}"
}

@test "home's daemon stopped inside the allocation takes the nodes' daemons, their caches and srun with it" {
	slurm_env
	in_alloc 'mig hosts >/dev/null
# What a node cached for the job goes with it (its log stays).
for n in "$TMPDIR"/mig-*-slurm-*-n*; do
	mkdir -p "$n/cache/mig/objects/ab" && echo x >"$n/cache/mig/objects/ab/cd"
done
home=$(cat "$MIG_RUNTIME_DIR/homed.pid")
kill -TERM "$home"
# The allocation goes on meanwhile; mig of the allocation is gone.
for i in $(seq 300); do
	left=0
	for p in $(cat "$MIG_RUNTIME_DIR/homed.pid" "$TMPDIR"/mig-*-slurm-*-n*/run/homed.pid); do
		if kill -0 "$p" 2>/dev/null && ! grep -q "^State:.*Z" "/proc/$p/status"; then left=1; fi
	done
	((left == 0)) && break
	sleep 0.1
done
echo "left=$left"
squeue -h -j "$SLURM_JOB_ID" -o "%T"'
	cat "$BATS_TEST_TMPDIR/alloc.out" >&2
	grep -qx "left=0" "$BATS_TEST_TMPDIR/alloc.out"
	grep -qx "RUNNING" "$BATS_TEST_TMPDIR/alloc.out"
	local n
	for n in "$TMPDIR"/mig-*-slurm-*-n*; do
		[[ ! -e $n/cache && -s $n/run/homed.log ]]
	done
	local pids
	mapfile -t pids <"$BATS_TEST_TMPDIR/pids"
	((${#pids[@]} == 5))
	wait_until 60 none_alive "${pids[@]}"
}

@test "a key file written and SIGHUP inside the allocation leave its daemons on the allocation's key: none reads the key file, every node still up" {
	slurm_env
	in_alloc 'set -e
mig hosts >/dev/null
echo "job=$SLURM_JOB_ID"
mig keygen
kill -HUP $(cat "$MIG_RUNTIME_DIR/homed.pid" "$TMPDIR"/mig-*-slurm-*-n*/run/homed.pid)
for i in $(seq 300); do
	n=$(cat "$MIG_RUNTIME_DIR/homed.log" "$TMPDIR"/mig-*-slurm-*-n*/run/homed.log | grep -c "the hosts file is not read (SIGHUP)" || true)
	((n == 4)) && break
	sleep 0.1
done
echo "took SIGHUP=$n"
mig hosts'
	cat "$BATS_TEST_TMPDIR/alloc.out" >&2
	grep -qx "took SIGHUP=4" "$BATS_TEST_TMPDIR/alloc.out"
	local job n
	job=$(sed -n 's/^job=//p' "$BATS_TEST_TMPDIR/alloc.out")
	for n in n1 n2 n3; do
		grep -E "^$n +Slurm job $job node +up " "$BATS_TEST_TMPDIR/alloc.out"
	done
	local said
	said=$(grep -h "keeping the key\|key.* read again" "$MIG_RUNTIME_DIR/homed.log" \
		"$TMPDIR"/mig-*-slurm-*-n*/run/homed.log || true)
	[[ -z $said ]] || {
		echo "a daemon of the allocation read the key file: $said" >&2
		return 1
	}
	expect_eq "daemons that left the key file alone" "$(cat "$MIG_RUNTIME_DIR/homed.log" \
		"$TMPDIR"/mig-*-slurm-*-n*/run/homed.log | grep -c "the key file is not read (SIGHUP)")" 4
	local pids
	mapfile -t pids <"$BATS_TEST_TMPDIR/pids"
	wait_until 60 none_alive "${pids[@]}"
}

@test "a job whose SLURM_JOB_CPUS_PER_NODE mig cannot read: mig lines saying so, no daemon" {
	slurm_env
	run --separate-stderr env SLURM_JOB_ID=99 SLURM_JOB_NODELIST='n[1-3]' \
		SLURM_JOB_CPUS_PER_NODE='2(x3' "$MIG" hosts
	expect_mig_failures
	[[ $stderr == *"Slurm job 99: cannot read SLURM_JOB_CPUS_PER_NODE='2(x3'"* ]]
	[[ ! -S $MIG_RUNTIME_DIR/homed.sock ]]
}
