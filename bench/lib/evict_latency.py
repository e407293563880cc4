#!/usr/bin/env python3
"""evict_latency.py: bench/owners' eviction rounds.

    [BENCH_TRACE=FILE] evict_latency.py MIG DAEMON_PID HOST1_LOG KEYS_FIFO BIG_C ROUNDS

Each round: a placed compile (mig gcc, restartable: it runs again; a
second takes home's one slot) and a `mig -h host1` loop (frozen) run on
host1; once each of them is using
CPU there, host1's owner types a line on the terminal of its session
(KEYS_FIFO is that session's input). From that keystroke until host1 is
available again, the CPU ticks (utime+stime) of the processes that were
under host1's daemon at the keystroke are read every 5 ms; the round's
latency is the time of the last tick that moved (ticks read once the
log says "available again" are left out: the frozen job is resumed
then). BENCH_TRACE: for each round, which processes ticked last and
host1's log lines, appended to FILE. Then the
stubs are killed (their process groups), and the next round waits for host1 to be available
again and for the terminal's access time to move again (the kernel moves
it at most once in an 8 s window). Prints one latency in ms a line.
"""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "tests", "cluster"))
import jobticks  # noqa: E402 (tests/cluster/jobticks.py)

MIG, DAEMON, LOG, KEYS, BIG, ROUNDS = sys.argv[1:7]
ROUNDS = int(ROUNDS)


def job_ticks():
    """{pid: utime+stime} of every process under host1's daemon."""
    return jobticks.job_ticks(DAEMON)


def log_count(what):
    with open(LOG) as f:
        return sum(what in line for line in f)


def wait_for(cond, secs):
    end = time.monotonic() + secs
    while not cond():
        if time.monotonic() > end:
            sys.exit(f"evict_latency: timed out waiting ({secs} s)")
        time.sleep(0.02)


TRACE = os.environ.get("BENCH_TRACE")
with open(LOG) as f:
    nlog = len(f.readlines())
keys = open(KEYS, "w", buffering=1)
# The session's login moved the terminal's access time a moment ago: a
# keystroke within its 8 s window would not show (on a quiet machine the
# first round gets there that fast).
last_key = time.time()
for r in range(ROUNDS):
    avail = log_count("available again")
    null = subprocess.DEVNULL
    # Two: home (1 slot) takes one, host1 the other.
    err = open(f"{BIG}.err", "a")
    stubs = [subprocess.Popen([MIG, "gcc", "-O2", "-c", BIG, "-o",
                               f"{BIG}.{i}.o"],
                              stdin=null, stdout=null, stderr=err,
                              start_new_session=True)
             for i in range(2)]
    stubs.append(subprocess.Popen([MIG, "-h", "host1", "sh", "-c",
                                   "while :; do :; done"],
                                  stdin=null, stdout=null, stderr=null,
                                  start_new_session=True))
    # Both jobs run there and have used CPU: a cc1 and the loop.
    first = {}

    def comm(p):
        try:
            return open(f"/proc/{p}/comm").read().strip()
        except OSError:
            return ""

    def all_ticking():
        t = job_ticks()
        for p, v in t.items():
            first.setdefault(p, v)
        moved = {comm(p) for p, v in t.items() if v > first[p]}
        return "cc1" in moved and "sh" in moved

    wait_for(all_ticking, 120)
    # The terminal's access time moves only in a new 8 s window.
    wait_for(lambda: time.time() - last_key > 9, 20)
    busy = log_count("busy (owner input")
    before = job_ticks()
    t0 = time.monotonic()
    w0 = time.time()
    keys.write("x\n")
    last_key = time.time()
    t_last = t0
    who = ""
    while True:
        time.sleep(0.005)
        now = time.monotonic()
        t = job_ticks()
        moved = [p for p, v in t.items() if p in before and v > before[p]]
        # The log after the ticks: the daemon logs "available again"
        # before it resumes the frozen job, so ticks read before that
        # line shows are the eviction's; those read after may be the
        # resumed job's and end the round uncounted.
        if log_count("available again") != avail:
            break
        if moved:
            t_last = now
            who = ",".join(f"{p}:{comm(p)}" for p in moved)
        before = {p: v for p, v in t.items() if p in before}
        if now - t0 > 30:
            sys.exit("evict_latency: host1 stayed busy for 30 s")
    if log_count("busy (owner input") == busy:
        sys.exit("evict_latency: the keystroke did not make host1 busy")
    print(round((t_last - t0) * 1000), flush=True)
    if TRACE:
        with open(LOG) as f:
            lines = f.readlines()[nlog:]
        nlog += len(lines)
        with open(TRACE, "a") as tr:
            tr.write(f"round {r}: keystroke at {w0:.3f}, last tick "
                     f"{round((t_last - t0) * 1000)} ms after, by {who}; "
                     f"host1's log:\n")
            tr.writelines("  " + x for x in lines)
    # Each stub's whole group: the compile home runs itself is the stub's
    # gcc, whose cc1 a kill of the stub alone would leave running.
    for s in stubs:
        os.killpg(s.pid, signal.SIGKILL)
        s.wait()
    wait_for(lambda: not job_ticks(), 30)
