#!/usr/bin/env python3
"""flood.py: attacks on a daemon's TCP port before authentication
(robust.bats). Traffic stays on loopback: every address must be 127.x.y.z.

  flood.py hello ADDR PORT N
      N connections that each announce a 1 MiB HELLO and send up to 1 MiB
      of it, held for 3 s (the memory attack).

  flood.py hold SECS PER SRC,SRC,... ADDR:PORT,ADDR:PORT,...
      A slowloris: from each source address, PER connections to each
      target, each sending the first bytes of a HELLO header and then
      nothing, held for SECS seconds or until SIGTERM. A connection the
      daemon closes (or refuses) is opened again at once, at most RATE
      new connections a second in all. Prints "holding" once it has
      opened as many as it holds, and at the end how many it opened and
      how many the daemons closed.
"""
import select
import signal
import socket
import struct
import sys
import time

RATE = 200


def loopback(a):
    if not a.startswith("127."):
        sys.exit(f"flood.py: refusing non-loopback address {a}")
    return a


def hello(addr, port, n):
    socks = []
    hdr = struct.pack("<IHHI", 1 << 20, 1, 0, 0)
    chunk = b"\x55" * 65536
    for _ in range(n):
        try:
            s = socket.create_connection((loopback(addr), port), timeout=2)
            s.setblocking(False)
            s.send(hdr)
            for _ in range(16):
                try:
                    s.send(chunk)
                except BlockingIOError:
                    break
            socks.append(s)
        except OSError:
            pass
    print(len(socks), "connections held", flush=True)
    time.sleep(3)


def hold(secs, per, srcs, targets):
    stop = [False]
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__(0, True))
    wanted = [(src, t) for src in srcs for t in targets for _ in range(per)]
    slots = [None] * len(wanted)   # the socket holding each slot
    opened = closed = failed = 0
    said = False
    end = time.monotonic() + secs
    budget, last = float(RATE), time.monotonic()
    # The first bytes of a HELLO header: a length of 100, then nothing.
    part = struct.pack("<I", 100)[:3]
    while not stop[0] and time.monotonic() < end:
        now = time.monotonic()
        budget = min(float(RATE), budget + (now - last) * RATE)
        last = now
        for i, (src, (addr, port)) in enumerate(wanted):
            if slots[i] is not None or budget < 1:
                continue
            budget -= 1
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind((src, 0))
                s.settimeout(1)
                s.connect((addr, port))
                s.send(part)
                s.setblocking(False)
                slots[i] = s
                opened += 1
            except OSError:
                s.close()
                failed += 1
        if not said and opened >= len(slots):
            print("holding %d connections" % len(slots), flush=True)
            said = True
        live = [s for s in slots if s is not None]
        r, _, _ = select.select(live, [], [], 0.05) if live else ([], [], [])
        for s in r:
            try:
                if s.recv(4096) != b"":
                    continue
            except BlockingIOError:
                continue
            except OSError:
                pass
            closed += 1
            s.close()
            slots[slots.index(s)] = None
    for s in slots:
        if s is not None:
            s.close()
    print("opened %d, closed by the daemons %d, refused %d" %
          (opened, closed, failed), flush=True)


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "hello":
        hello(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif len(sys.argv) == 6 and sys.argv[1] == "hold":
        srcs = [loopback(a) for a in sys.argv[4].split(",")]
        targets = []
        for t in sys.argv[5].split(","):
            addr, port = t.rsplit(":", 1)
            targets.append((loopback(addr), int(port)))
        hold(float(sys.argv[2]), int(sys.argv[3]), srcs, targets)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
