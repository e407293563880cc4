#!/usr/bin/env python3
"""Writes the fuzz targets' seed inputs into corpus/<target>/.

The frames are spelled out here from include/mig/proto.h rather than made
by the encoder, so they are a second reading of the format. Run it again
after a change to the wire format:

    python3 tests/fuzz/gen_corpus.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
(HELLO, AUTH, RUN, EXEC, LOCAL, STARTED, DATA, EOF, ACK, CLOSE, SIGNAL, KILL,
 EXIT, ERROR, PING, PONG) = range(1, 17)


def u32(v):
    return struct.pack("<I", v & 0xFFFFFFFF)


def u64(v):
    return struct.pack("<Q", v)


def s(b):
    b = b.encode() if isinstance(b, str) else b
    return u32(len(b)) + b


def strv(v):
    return u32(len(v)) + b"".join(s(x) for x in v)


def frame(type_, payload=b"", flags=0, stream=0):
    return struct.pack("<IHHI", len(payload), type_, flags, stream) + payload


def job(argv, envp=(), host="", flags=0, cwd="/", umask=0o022, rlimits=(),
        ids=(1000, 999, 1000, 998)):
    p = s(host) + u32(flags) + strv(argv) + strv(envp) + s(cwd) + u32(umask)
    p += u32(len(rlimits))
    for res, cur, max_ in rlimits:
        p += u32(res) + u64(cur) + u64(max_)
    return p + b"".join(u32(i) for i in ids) + s("homebox") + s("(none)")


JOBS = {
    "true": job(["true"]),
    "sh": job(["/bin/sh", "-c", "echo hi | wc -c"], ["PATH=/usr/bin:/bin",
              "HOME=/home/u", "EMPTY="], host="host1", flags=1,
              cwd="/home/u/src"),
    "rlimits": job(["make", "-j8"], ["X=1"], cwd="/tmp", umask=0o077,
                   rlimits=[(4, 0, 2**64 - 1), (7, 1024, 4096),
                            (3, 8 << 20, 2**64 - 1)],
                   ids=(-1 & 0xFFFFFFFF, 1, 0, 2**31)),
    "empty-strings": job([""], [""], cwd=""),
}

FRAMES = {
    "hello": frame(HELLO, u32(1) + s("home")),
    "run": frame(RUN, JOBS["sh"]),
    "exec": frame(EXEC, JOBS["rlimits"], stream=7),
    "session": b"".join([
        frame(HELLO, u32(1)),
        frame(RUN, JOBS["true"]),
        frame(STARTED, u32(4242) + s("host1")),
        frame(DATA, b"hello\n", flags=1),
        frame(EOF, flags=1),
        frame(ACK, u32(6), flags=1),
        frame(EXIT, u32(0) + u32(0)),
    ]),
    "streams": b"".join([
        frame(DATA, b"input", flags=0, stream=3),
        frame(EOF, flags=0, stream=3),
        frame(DATA, b"err\n", flags=2, stream=3),
        frame(CLOSE, flags=1, stream=3),
        frame(SIGNAL, u32(15), stream=3),
        frame(KILL, stream=3),
    ]),
    "error": frame(ERROR, u32(-5007) + s("unknown host 'x'")),
    "ping": frame(PING, u64(123456789)) + frame(PONG, u64(123456789)),
    "local": frame(LOCAL) + frame(AUTH, bytes(range(32))),
    "partial": frame(DATA, b"0123456789", flags=1)[:15],
}

HOSTS = {
    "basic": "home 127.0.0.1\nhost1 127.0.0.2:7411 4\nhost2 127.0.0.3\n",
    "comments": "# the cluster\n\n  \t\nbig [::1]:7410 16 # fast one\r\n"
                "#old 10.0.0.9\nsmall build.example.com:22 0\n",
    "ipv6": "a [fe80::1]\nb [::1]:9\nc [2001:db8::2]:65535 1\n",
    "no-newline": "only-one_host.x 192.168.1.20:1",
    "bad-port": "a 1.1.1.1:0\n",
    "bad-dup": "a 1.1.1.1\na 1.1.1.2\n",
    "bad-words": "a 1.1.1.1 4 more\n",
    "bad-long-line": "a 1.1.1.1 # " + "x" * 520 + "\nb 1.1.1.2\n",
    "bad-long-addr": "h " + "a" * 64 + ":7410\n",
}


def write(target, files):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name, data in files.items():
        data = data.encode() if isinstance(data, str) else data
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


write("fuzz_frame", FRAMES)
write("fuzz_job", JOBS)
write("fuzz_hosts", HOSTS)
