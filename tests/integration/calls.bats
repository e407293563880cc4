#!/usr/bin/env bats
# calls.bats: a placed job's calls that must act at home (a kill of its
# home group, the home pid a fork asks for) while home does not answer:
# they return after the call deadline (MIG_CALL_TIMEOUT_MS, 300 ms here)
# instead of hanging with home, and an answer that comes later is not
# used (docs/design.md, "Forwarded calls and their deadline").
#
# The daemons run with a 30 s ping timeout, so that the link of a job
# whose home is stopped for a while stays up, and -v, so that home logs
# each placeholder it starts.

load helpers

setup_file() {
	export MIG_CLUSTER_HOMED_ARGS="--ping-timeout 30 -v"
	cluster_up
	wait_until 10 all_up
}

all_up() {
	timeout -k 2 10 "$MIG" hosts --json 3>&- | python3 -c '
import json, sys
sys.exit(not all(h["state"] in ("home", "up") for h in json.load(sys.stdin)))'
}

# cont_home: wakes home (stopped by home_stopped_job) and waits until its
# links are up.
cont_home() {
	kill -CONT "$(host_pid home)" 2>/dev/null || true
	wait_until 20 all_up
}

# home_stopped_job FILE CODE: runs CODE (python) in a job on host1 with a
# short call deadline; the job says it is ready (FILE.ready), waits for
# FILE.go, runs CODE, which leaves its result in the variable r, writes r
# to FILE, and runs on until FILE.end. Home is stopped in between, so
# every call the job makes home waits for an answer that does not come;
# home is woken once FILE is there.
home_stopped_job() {
	local f=$1 code=$2
	CLEANUP+=("cont_home")
	MIG_CALL_TIMEOUT_MS=300 "$MIG" -h host1 python3 -c "
import errno, os, sys, time
f = sys.argv[1]
open(f + '.ready', 'w').close()
while not os.path.exists(f + '.go'):
    time.sleep(0.02)
$code
open(f + '.tmp', 'w').write(r + '\n')
os.rename(f + '.tmp', f)
while not os.path.exists(f + '.end'):
    time.sleep(0.02)
" "$f" </dev/null >/dev/null 2>&1 3>&- &
	bg_track $!
	wait_until 20 test -e "$f.ready"
	kill -STOP "$(host_pid home)"
	touch "$f.go"
	wait_until 20 test -e "$f"
	cont_home
}

@test "calls: a job's kill of its home group while home is stopped fails with EAGAIN after the deadline, rather than hang" {
	local f=$BATS_TEST_TMPDIR/kill
	home_stopped_job "$f" "
try:
    os.killpg(os.getpgrp(), 0)
    r = 'sent'
except OSError as e:
    r = errno.errorcode[e.errno]"
	touch "$f.end"
	expect_eq "the job's killpg" "$(cat "$f")" EAGAIN
}

@test "calls: a job's fork while home is stopped returns after the deadline; the child keeps its pid on the host" {
	local f=$BATS_TEST_TMPDIR/fork
	home_stopped_job "$f" "
rd, wr = os.pipe()
pid = os.fork()
if pid == 0:
    os.write(wr, str(os.getpid()).encode())
    os._exit(0)
os.close(wr)
child = os.read(rd, 32).decode()
os.waitpid(pid, 0)
r = 'same' if child == str(pid) else 'parent %d child %s' % (pid, child)"
	touch "$f.end"
	expect_eq "the pid fork gave, against the child's own" "$(cat "$f")" same
}

@test "calls: a home pid that comes after the fork gave up is given back: its placeholder ends while the job runs on" {
	local f=$BATS_TEST_TMPDIR/late child
	home_stopped_job "$f" "
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
r = str(pid)"
	child=$(cat "$f")
	# Woken, home starts the placeholder the fork asked for; the host,
	# whose caller went on without it, gives it back.
	wait_until 20 grep -q "here stands for pid $child on host1" "$MIG_CLUSTER_DIR/home.log"
	wait_until 20 eval "! pgrep -f 'mig: pid $child on host1' >/dev/null"
	touch "$f.end"
}
