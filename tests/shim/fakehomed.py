#!/usr/bin/python3
"""fakehomed.py SOCK LOG [NAMELEN [HOLDPID]]: a stand-in for mig-homed's
control socket, for tests of the clients' checks and of the shim's
forwarded calls.

It listens on the unix socket SOCK (writing SOCK.ready once it does) and
appends to LOG one line per event: "bytes N" with the running total of
bytes received, and "frame TYPE ARGS..." for each whole frame. With
NAMELEN it answers as a daemon would: HELLO with a host name of NAMELEN
characters, CALLRET 0 (errno 0) to every CALL, HOLDRET HOLDPID to every
HOLD. Without it, it only listens (a trap: it must receive nothing).
It ends when SOCK is removed or after 120 s.
"""
import os
import socket
import struct
import sys
import threading
import time

sock_path, log_path = sys.argv[1], sys.argv[2]
namelen = int(sys.argv[3]) if len(sys.argv) > 3 else None
holdpid = int(sys.argv[4]) if len(sys.argv) > 4 else 5555
HELLO, CALL, CALLRET, HOLD, HOLDRET = 1, 21, 22, 23, 24
CALLS = ["kill", "killpg", "sigqueue", "tgkill"]
lock = threading.Lock()
total = 0


def log(line):
    with lock:
        with open(log_path, "a") as f:
            f.write(line + "\n")


def frame(t, payload, stream=0):
    return struct.pack("<IHHI", len(payload), t, 0, stream) + payload


def serve(c):
    global total
    buf = b""
    try:
        while True:
            d = c.recv(65536)
            if not d:
                return
            with lock:
                total += len(d)
                n = total
            log("bytes %d" % n)
            buf += d
            while len(buf) >= 12:
                ln, t, _, _ = struct.unpack("<IHHI", buf[:12])
                if len(buf) < 12 + ln:
                    break
                p, buf = buf[12:12 + ln], buf[12 + ln:]
                if t == CALL and len(p) >= 12:
                    seq, call, k = struct.unpack("<III", p[:12])
                    args = struct.unpack("<%dq" % k, p[12:12 + 8 * k])
                    name = CALLS[call] if call < len(CALLS) else str(call)
                    log("frame CALL %s %s" % (name, " ".join(map(str, args))))
                    if namelen is not None:
                        c.sendall(frame(CALLRET, struct.pack("<Iqi", seq, 0, 0)))
                elif t == HOLD and len(p) >= 8:
                    seq, pid = struct.unpack("<Ii", p[:8])
                    log("frame HOLD %d" % pid)
                    if namelen is not None:
                        c.sendall(frame(HOLDRET, struct.pack("<Ii", seq, holdpid)))
                elif t == HELLO:
                    log("frame HELLO")
                    if namelen is not None:
                        name = b"h" * namelen
                        c.sendall(frame(HELLO, struct.pack("<II", 1, len(name)) + name))
                else:
                    log("frame %d" % t)
    except OSError:
        pass
    finally:
        c.close()


s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sock_path)
os.chmod(sock_path, 0o777)
s.listen(16)
s.settimeout(0.2)
open(log_path, "a").close()
open(sock_path + ".ready", "w").close()
end = time.time() + 120
while time.time() < end and os.path.exists(sock_path):
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    threading.Thread(target=serve, args=(c,), daemon=True).start()
