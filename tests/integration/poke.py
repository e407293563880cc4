#!/usr/bin/env python3
"""poke.py: sends what no mig peer or client would to a daemon, and says
what the daemon did about it (robust.bats).

  poke.py tcp WHAT SRC ADDR PORT   WHAT: garbage, huge, version99, half
  poke.py idle N SRC[,SRC...] ADDR PORT
                                   N connections that never say a word,
                                   from each SRC in turn
  poke.py unix WHAT SOCK           WHAT: garbage, huge, run-before-hello,
                                   unknown-type, host-type, bad-run

Traffic stays on loopback: SRC and ADDR must be 127.x.y.z. Prints one line
per finding; exits 0 when the daemon dropped the connection as it should,
1 otherwise, 2 on a usage error.
"""
import os
import random
import select
import socket
import struct
import sys
import time

HELLO, AUTH, RUN, EXEC = 1, 2, 3, 4


def proto_version():
    """MIG_PROTO_VERSION, as include/mig/proto.h says it."""
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "..", "include", "mig", "proto.h")) as f:
        for line in f:
            if line.startswith("#define MIG_PROTO_VERSION "):
                return int(line.split()[2])
    sys.exit("poke.py: no MIG_PROTO_VERSION in include/mig/proto.h")


PROTO_VERSION = proto_version()  # the control socket's


def frame(mtype, payload=b"", flags=0, stream=0, length=None):
    n = len(payload) if length is None else length
    return struct.pack("<IHHI", n, mtype, flags, stream) + payload


def closed_by_peer(s, secs):
    """Reads (and drops) until the peer closes; True when it did in time."""
    end = time.monotonic() + secs
    s.setblocking(False)
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([s], [], [], left)
        if not r:
            continue
        try:
            if s.recv(65536) == b"":
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except BlockingIOError:
            continue


def send_all(s, data):
    """Sends data; the daemon may reset the connection half-way."""
    try:
        s.sendall(data)
    except (ConnectionResetError, BrokenPipeError):
        pass


def loopback(a):
    if not a.startswith("127."):
        sys.exit(f"poke.py: refusing non-loopback address {a}")
    return a


def tcp_connect(src, addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((loopback(src), 0))
    s.settimeout(5)
    s.connect((loopback(addr), port))
    return s


def read_frame(s, secs):
    """One whole frame from s, or None on close or timeout."""
    buf = b""
    s.settimeout(secs)
    try:
        while len(buf) < 12:
            b = s.recv(12 - len(buf))
            if not b:
                return None
            buf += b
        n, t, fl, st = struct.unpack("<IHHI", buf)
        body = b""
        while len(body) < n:
            b = s.recv(n - len(body))
            if not b:
                return None
            body += b
        return t, body
    except (socket.timeout, ConnectionResetError):
        return None


def tcp(what, src, addr, port):
    s = tcp_connect(src, addr, port)
    ok = True
    if what == "garbage":
        # Seeded, so every run sends the same bytes; the first header's
        # type is not one of mig's.
        data = bytearray(random.Random(4242).randbytes(4096))
        data[4:6] = struct.pack("<H", 0xBEEF)
        send_all(s, bytes(data))
    elif what == "huge":
        send_all(s, frame(HELLO, b"\0" * 64, length=0xFFFFFFF0))
    elif what == "version99":
        send_all(s, frame(HELLO, struct.pack("<I", 99) + b"\0" * 40))
        # The daemon answers with its own HELLO first, so that the caller
        # learns its version too.
        f = read_frame(s, 5)
        if f is None or f[0] != HELLO or len(f[1]) < 4:
            print(f"no HELLO answer: {f!r}")
            ok = False
        else:
            print("answered HELLO version %d" % struct.unpack("<I", f[1][:4]))
    elif what == "half":
        whole = frame(HELLO, struct.pack("<I", PROTO_VERSION) + b"\x55" * 60)
        send_all(s, whole[: len(whole) // 2])
        time.sleep(0.2)
        s.shutdown(socket.SHUT_WR)
    else:
        sys.exit(f"poke.py: unknown tcp test {what}")
    if closed_by_peer(s, 10):
        print("closed by the daemon")
    else:
        print("still open after 10 s")
        ok = False
    s.close()
    return ok


def idle(n, srcs, addr, port):
    srcs = srcs.split(",")
    socks = [tcp_connect(srcs[i % len(srcs)], addr, port) for i in range(n)]
    start = time.monotonic()
    for s in socks:
        s.setblocking(False)
    open_ = set(socks)
    closed_at = {}  # index of the connection (in the order made): when
    while open_ and time.monotonic() - start < 15:
        r, _, _ = select.select(list(open_), [], [], 0.5)
        for s in r:
            try:
                if s.recv(4096) != b"":
                    continue
            except BlockingIOError:
                continue
            except ConnectionResetError:
                pass
            closed_at[socks.index(s)] = time.monotonic() - start
            open_.discard(s)
            s.close()
    for s in open_:
        s.close()
    if closed_at:
        print("%d of %d closed by the daemon, after %.1f to %.1f s" %
              (len(closed_at), n, min(closed_at.values()),
               max(closed_at.values())))
    if open_:
        print(f"{len(open_)} of {n} still open after 15 s")
        return False
    # Past the daemon's cap on handshakes from one address, the oldest
    # are closed at once, as newer ones come; the rest wait for their
    # handshake deadline.
    early = sorted(i for i, t in closed_at.items() if t < 0.5)
    oldest = early == list(range(len(early)))
    print("%d closed at once%s, %d later" %
          (len(early), " (the oldest)" if oldest else
           " (not the oldest: %s)" % early, n - len(early)))
    print("order:", " ".join(str(i) for i in
                             sorted(closed_at, key=closed_at.get)))
    return True


def unix(what, path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    ok = True
    if what in ("unknown-type", "host-type", "bad-run"):
        send_all(s, frame(HELLO, struct.pack("<I", PROTO_VERSION)))
        f = read_frame(s, 5)
        if f is None or f[0] != HELLO:
            print(f"no HELLO answer: {f!r}")
            ok = False
    if what == "garbage":
        data = bytearray(random.Random(2424).randbytes(4096))
        data[4:6] = struct.pack("<H", 0xBEEF)
        send_all(s, bytes(data))
    elif what == "huge":
        send_all(s, frame(HELLO, b"\0" * 64, length=0xFFFFFFF0))
    elif what == "run-before-hello":
        send_all(s, frame(RUN, b"\0" * 32))
    elif what == "unknown-type":
        send_all(s, frame(999, b"\0" * 8))
    elif what == "host-type":
        # A known type that only daemons send each other.
        send_all(s, frame(EXEC, b"\0" * 32))
    elif what == "bad-run":
        send_all(s, frame(RUN, b"\xff" * 32))
    else:
        sys.exit(f"poke.py: unknown unix test {what}")
    if closed_by_peer(s, 10):
        print("closed by the daemon")
    else:
        print("still open after 10 s")
        ok = False
    s.close()
    return ok


def main(a):
    try:
        if len(a) == 5 and a[0] == "tcp":
            return tcp(a[1], a[2], a[3], int(a[4]))
        if len(a) == 5 and a[0] == "idle":
            return idle(int(a[1]), a[2], a[3], int(a[4]))
        if len(a) == 3 and a[0] == "unix":
            return unix(a[1], a[2])
    except OSError as e:
        print(f"poke.py: {e}")
        return False
    print(__doc__, file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
    sys.exit(0 if main(sys.argv[1:]) else 1)
