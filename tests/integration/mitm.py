#!/usr/bin/env python3
"""mitm.py: a man in the middle of a mig peer link (robust.bats).

  mitm.py DIR LISTEN_ADDR UPSTREAM_ADDR UPSTREAM_PORT OWNER_PID

Listens on LISTEN_ADDR at a free port, written to DIR/port once it
listens, and forwards every connection to UPSTREAM_ADDR:UPSTREAM_PORT.
The other way, the upstream's bytes pass untouched. From the dialer, the
plain handshake frames (HELLO, then AUTH) pass untouched; each sealed
record after them (u32 length, then that many bytes) is checked against
DIR/control, which may hold one word:

  flip     flip one bit of the next record's authentication tag
  replay   send the next record twice

The command applies to one record of the connection that sees it next;
then DIR/control is renamed DIR/control.done. While DIR/hold exists, a
new connection waits before the upstream is dialed (two dials at once). What it did goes to
DIR/log, one line per event. Exits when OWNER_PID is gone (so that a
killed test run leaves nothing behind) or on SIGTERM. Loopback only.
"""
import os
import socket
import struct
import sys
import threading
import time

D, LADDR, UADDR, UPORT, OWNER = sys.argv[1:6]
UPORT, OWNER = int(UPORT), int(OWNER)
for a in (LADDR, UADDR):
    if not a.startswith("127."):
        sys.exit(f"mitm.py: refusing non-loopback address {a}")
CONTROL = os.path.join(D, "control")
HOLD = os.path.join(D, "hold")
lock = threading.Lock()


def log(msg):
    with lock, open(os.path.join(D, "log"), "a") as f:
        f.write(msg + "\n")


def take_command():
    """The pending command, taken so that it applies once."""
    with lock:
        try:
            with open(CONTROL) as f:
                cmd = f.read().strip()
        except FileNotFoundError:
            return None
        if cmd not in ("flip", "replay"):
            return None
        os.rename(CONTROL, CONTROL + ".done")
        return cmd


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        b = s.recv(n - len(buf))
        if not b:
            raise EOFError
        buf += b
    return bytes(buf)


def shut(*socks):
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def pump_up(cid, src, dst):
    """Dialer to upstream: handshake as is, then record by record."""
    try:
        for name in ("HELLO", "AUTH"):
            hdr = recv_exact(src, 12)
            n, t = struct.unpack("<IH", hdr[:6])
            dst.sendall(hdr + recv_exact(src, n))
            log(f"conn {cid}: {name} (type {t}) passed")
        rec = 0
        while True:
            hdr = recv_exact(src, 4)
            (n,) = struct.unpack("<I", hdr)
            rec += 1
            record = bytearray(hdr + recv_exact(src, n))
            cmd = take_command()
            if cmd == "flip":
                record[-1] ^= 0x01
                dst.sendall(record)
                log(f"conn {cid}: record {rec} ({n} bytes) flipped")
            elif cmd == "replay":
                dst.sendall(record)
                dst.sendall(record)
                log(f"conn {cid}: record {rec} ({n} bytes) replayed")
            else:
                dst.sendall(record)
    except (EOFError, OSError):
        pass
    log(f"conn {cid}: dialer side closed")
    shut(src, dst)


def pump_down(cid, src, dst):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            dst.sendall(b)
    except OSError:
        pass
    log(f"conn {cid}: upstream side closed")
    shut(src, dst)


def relay(cid, c, peer):
    if os.path.exists(HOLD):
        log(f"conn {cid}: held")
        while os.path.exists(HOLD):
            time.sleep(0.05)
        log(f"conn {cid}: released")
    try:
        u = socket.create_connection((UADDR, UPORT), timeout=5)
        u.settimeout(None)
    except OSError as e:
        log(f"conn {cid}: upstream unreachable: {e}")
        c.close()
        return
    for s in (c, u):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    log(f"conn {cid}: from {peer[0]}:{peer[1]}")
    threading.Thread(target=pump_up, args=(cid, c, u), daemon=True).start()
    pump_down(cid, u, c)


def serve(ls):
    cid = 0
    while True:
        c, peer = ls.accept()
        cid += 1
        threading.Thread(target=relay, args=(cid, c, peer), daemon=True).start()


def main():
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((LADDR, 0))
    ls.listen(16)
    threading.Thread(target=serve, args=(ls,), daemon=True).start()
    tmp = os.path.join(D, "port.tmp")
    with open(tmp, "w") as f:
        f.write(f"{ls.getsockname()[1]}\n")
    os.rename(tmp, os.path.join(D, "port"))
    while True:
        time.sleep(0.5)
        try:
            os.kill(OWNER, 0)
        except ProcessLookupError:
            break


if __name__ == "__main__":
    main()
