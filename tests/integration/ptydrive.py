#!/usr/bin/env python3
"""ptydrive.py: runs a command on a terminal of its own, as a person would.

  ptydrive.py [STEP...] -- CMD [ARG...]

Steps, in order: "expect:TEXT" waits (10 s at most) until the output holds
TEXT, "send:TEXT" types TEXT (\\x03 is Ctrl-C; Python escapes are read),
"resize:ROWS:COLS" resizes the terminal (and sends the command SIGWINCH,
as a terminal emulator would). The terminal starts at 33 rows, 101
columns. At the end it waits for the command, prints everything it
wrote, then a line "status N" (N as a shell gives it: 128+signal), and a
line "termios same" or "termios changed" comparing the terminal's modes
with what they were before the command ran.
"""
import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import time


def winsize(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def main(argv):
    sep = argv.index("--")
    steps, cmd = argv[:sep], argv[sep + 1:]
    master, slave = os.openpty()
    winsize(master, 33, 101)
    before = termios.tcgetattr(slave)

    def child_setup():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave,
                            preexec_fn=child_setup, close_fds=True)
    out = b""

    def pump(timeout):
        nonlocal out
        r, _, _ = select.select([master], [], [], timeout)
        if r:
            try:
                out += os.read(master, 65536)
            except OSError:
                return False
        return True

    for step in steps:
        kind, _, arg = step.partition(":")
        if kind == "expect":
            want = arg.encode()
            end = time.monotonic() + 10
            while want not in out and time.monotonic() < end:
                pump(0.1)
            if want not in out:
                print(f"ptydrive: never saw {arg!r}", file=sys.stderr)
        elif kind == "send":
            os.write(master, arg.encode().decode("unicode_escape").encode("latin-1"))
        elif kind == "resize":
            rows, cols = arg.split(":")
            winsize(master, int(rows), int(cols))
            proc.send_signal(signal.SIGWINCH)
    end = time.monotonic() + 20
    while proc.poll() is None and time.monotonic() < end:
        pump(0.1)
    if proc.poll() is None:
        proc.kill()
    while pump(0.1):
        r, _, _ = select.select([master], [], [], 0)
        if not r:
            break
    after = termios.tcgetattr(slave)
    code = proc.wait()
    sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
    print(f"\nstatus {code if code >= 0 else 128 - code}")
    print("termios " + ("same" if after == before else "changed"))


if __name__ == "__main__":
    main(sys.argv[1:])
