#!/usr/bin/env python3
"""jobticks.py: the CPU a host daemon's jobs have used, from /proc.

    jobticks.py DAEMON_PID

prints "PID TICKS" a line for every process under the daemon (its jobs'
subreapers and all below them; the daemon left out): TICKS is utime +
stime, in clock ticks. A process that ends meanwhile is left out.
tests/integration/owners.bats runs it; bench/owners' evict_latency.py
imports job_ticks().
"""
import glob
import sys


def job_ticks(daemon):
    """{pid: utime+stime} of every process under the daemon pid."""
    todo, out = [str(daemon)], {}
    while todo:
        p = todo.pop()
        for f in glob.glob(f"/proc/{p}/task/*/children"):
            try:
                with open(f) as c:
                    todo += c.read().split()
            except OSError:
                pass
        if p == str(daemon):
            continue
        try:
            with open(f"/proc/{p}/stat") as s:
                st = s.read().rsplit(")", 1)[1].split()
            out[p] = int(st[11]) + int(st[12])
        except (OSError, IndexError):
            pass
    return out


if __name__ == "__main__":
    for pid, ticks in job_ticks(sys.argv[1]).items():
        print(pid, ticks)
