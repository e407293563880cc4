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
    "ssh": "a ssh:alice@build1 4 served\nb ssh:build2.example.org\n"
           "c ssh:ssh://bob@[::1]:2222\n",
    "bad-ssh-option": "a ssh:-oProxyCommand=x\n",
    "no-newline": "only-one_host.x 192.168.1.20:1",
    "bad-port": "a 1.1.1.1:0\n",
    "bad-dup": "a 1.1.1.1\na 1.1.1.2\n",
    "bad-words": "a 1.1.1.1 4 more\n",
    "bad-long-line": "a 1.1.1.1 # " + "x" * 520 + "\nb 1.1.1.2\n",
    "bad-long-addr": "h " + "a" * 64 + ":7410\n",
    "priority": "a 1.1.1.1 priority normal\nb 1.1.1.2 4 priority low served\n"
                "c 1.1.1.3 priority idle\n",
    "bad-priority": "a 1.1.1.1 priority\nb 1.1.1.2 priority busy\n",
    "owner": "a 1.1.1.1 idle 60s owner-cpu 0.5\nb 1.1.1.2 owner-cpu 12.25 idle 3\n",
    "bad-owner": "a 1.1.1.1 owner-cpu 0.0001\nb 1.1.1.2 idle 5m\n",
    "seed": "a 1.1.1.1 seed /usr:/opt/x served\nb 1.1.1.2 seed off\nc 1.1.1.3 seed /\n",
    "bad-seed": "a 1.1.1.1 seed /usr/../etc\nb 1.1.1.2 seed usr::\n",
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


# --- what a peer or a local client reaches in the daemon's transport ---


def proto_version():
    """MIG_PROTO_VERSION, as include/mig/proto.h says it."""
    with open(os.path.join(HERE, "..", "..", "include", "mig", "proto.h")) as f:
        for line in f:
            if line.startswith("#define MIG_PROTO_VERSION "):
                return int(line.split()[2])
    raise SystemExit("gen_corpus.py: no MIG_PROTO_VERSION in proto.h")


PROTO_VERSION = proto_version()  # the control socket's
PROTO_MIN = 4  # the lowest a link speaks: a HELLO's version word
(HOSTS_, PS_, HISTORY_, CALL_, CALLRET_, HOLD_, HOLDRET_, GONE_, STANDIN_,
 INPUT_, INPUT_EOF_, OUTPUT_ACK_, OUTPUT_CLOSE_, HOLD_SIGNAL_) = range(18, 32)
LOAD_ = 17


def hello(nonce, name, ciphers, epk, proof=None):
    p = u32(PROTO_MIN) + s(nonce) + s(name) + u32(ciphers) + s(epk)
    return p + (s(proof) if proof is not None else b"")


# fuzz_handshake: mode byte 0 (to an acceptor), 1 (to an initiator),
# 2 (an honest handshake, one message changed: which, u16 offset, xor),
# 3 (a stdio link's plain HELLO payload, also read as a BUILD payload).
EPK = bytes(range(9, 41))
HANDSHAKE = {
    "to-acceptor": b"\0" + frame(HELLO, hello(bytes(32), "home", 1, EPK))
    + frame(AUTH, s(bytes(32))),
    "to-acceptor-stranger": b"\0" + frame(HELLO, hello(bytes(32), "x", 0,
                                                        EPK)),
    "to-acceptor-v2": b"\0" + frame(HELLO, u32(2) + s(bytes(32)) + s("home")
                                    + u32(1)),
    "to-acceptor-zero-key": b"\0" + frame(HELLO, hello(bytes(32), "home", 1,
                                                        bytes(32))),
    "to-initiator": b"\1" + frame(HELLO, hello(bytes(32), "host1", 1, EPK,
                                                bytes(32))),
    "to-initiator-version": b"\1" + frame(HELLO, u32(99)),
    "to-initiator-error": b"\1" + frame(ERROR, u32(-5006) + s("no")),
    # Protocol 5: a 4-5 offer (bits 16-23 of the cipher word), a
    # protocol-3 HELLO, and refusals that say why.
    "to-acceptor-4-5": b"\0" + frame(HELLO, hello(bytes(32), "home",
                                                   1 | 5 << 16, EPK)),
    "to-acceptor-v3": b"\0" + frame(HELLO, u32(3) + s(bytes(32)) + s("home")
                                    + u32(1) + s(EPK)),
    "to-initiator-refused-version": b"\1" + frame(
        ERROR, u32(-5002) + s("protocol version mismatch") + u32(6) + u32(7)
        + s("0.3.0")),
    "to-initiator-refused-self": b"\1" + frame(
        ERROR, u32(-5016) + s("name resolves to this host") + u32(4) + u32(5)
        + s("0.2.0")),
    "to-initiator-refused-name": b"\1" + frame(
        ERROR, u32(-5007) + s("'home' is not in its hosts file\n\x1b[31m")
        + u32(4) + u32(5) + s("0.2.0")),
    "honest": b"\2" + b"\3\0\0\0",
    "honest-then-records": b"\2" + b"\3\0\0\0" + u32(40) + bytes(40),
    "changed-hello-i-cipher": b"\2" + b"\0" + struct.pack("<H", 12 + 48)
    + b"\1",
    "changed-hello-a-key": b"\2" + b"\1" + struct.pack("<H", 100) + b"\x80",
    "changed-auth": b"\2" + b"\2" + struct.pack("<H", 20) + b"\1",
    "changed-flags": b"\2" + b"\0" + struct.pack("<H", 6) + b"\1",
    "plain-hello": b"\3" + u32(PROTO_VERSION) + s("home")
    + s("mig-homed 0.1.0"),
    "plain-hello-v2": b"\3" + u32(2) + s("home") + s("mig-homed 0.0.1"),
    "plain-hello-bad-name": b"\3" + u32(PROTO_VERSION) + s("a b") + s("x"),
    "plain-hello-control-char": b"\3" + u32(PROTO_VERSION) + s("home")
    + s("mig\x01"),
    "build": b"\3" + s("0.2.0 (git 1a2b3c4)"),
    "build-too-long": b"\3" + s("0.2.0 (git " + "1" * 60 + ")"),
}


def piece(op, data):
    return struct.pack("<HB", len(data), op) + data


PING_ = frame(PING, u64(1) + u64(2))
# fuzz_record: mode byte even (raw bytes), odd (a session: cipher bit,
# then pieces of u16 length, u8 operation, bytes).
RECORD = {
    "raw": b"\0" + u32(40) + bytes(40),
    "raw-short-length": b"\0" + u32(3) + bytes(8),
    "raw-huge": b"\0" + u32(0xFFFFFFF0),
    "session": b"\1\0" + piece(0, PING_) + piece(0, frame(LOAD_, u32(4) * 4))
    + piece(0, frame(EXEC, JOBS["true"], stream=1)),
    "session-aes": b"\1\1" + piece(0, PING_) + piece(0, PING_),
    "flipped": b"\1\0" + piece(0, PING_) + piece(1, PING_) + piece(0, PING_),
    "replayed": b"\1\0" + piece(2, PING_) + piece(0, PING_),
    "cut": b"\1\0" + piece(3, PING_) + piece(0, PING_),
    "dropped": b"\1\0" + piece(4, PING_) + piece(0, PING_),
    "not-a-frame": b"\1\0" + piece(0, b"x" * 20) + piece(0, PING_),
}

# fuzz_control: what a local program sends a daemon's unix socket.
V = frame(HELLO, u32(PROTO_VERSION))
CONTROL = {
    "run": V + frame(RUN, JOBS["sh"]),
    "stub": V + frame(RUN, JOBS["true"]) + frame(INPUT_, b"in")
    + frame(INPUT_EOF_) + frame(OUTPUT_ACK_, u32(6), flags=1)
    + frame(OUTPUT_CLOSE_, flags=2) + frame(SIGNAL, u32(2))
    + frame(SIGNAL, u32(15) + u32(4242), flags=1),
    "call-kill": V + frame(CALL_, u32(0) + u32(0) + u32(2) + u64(42)
                           + u64(15), stream=3),
    "call-sigqueue": V + frame(CALL_, u32(0) + u32(2) + u32(3) + u64(42)
                               + u64(10) + u64(7), stream=3),
    "call-bad-count": V + frame(CALL_, u32(0) + u32(0) + u32(6)),
    "hold": V + frame(HOLD_, u32(1) + u32(4243) + s("cc1"), stream=3),
    "standin": V + frame(STANDIN_, u32(555)) + frame(HOLD_SIGNAL_, u32(15)),
    "views": V + frame(HOSTS_) + frame(PS_) + frame(HISTORY_),
    "before-hello": frame(RUN, JOBS["true"]) + V,
    "old-version": frame(HELLO, u32(2)) + frame(RUN, JOBS["true"]),
}

write("fuzz_handshake", HANDSHAKE)
write("fuzz_record", RECORD)
write("fuzz_control", CONTROL)


# --- the served view's wire formats (homed/fs/fs.h) ---
FS_REQ = 33
(LSTAT, READDIR, READLINK, OPEN, FETCH, MKDIR, UNLINK, RMDIR, RENAME,
 SYMLINK, LINK_, CREATE, SETATTR, PUT_BEGIN, PUT_DATA, PUT_COMMIT,
 PUT_BATCH) = range(1, 18)
HASH = bytes(range(32))


def req(op, payload, n=1):
    return frame(FS_REQ, payload, flags=op, stream=n)


# fuzz_fsreq: what a host sends home's fs role, a request per frame.
FSREQ = {
    "lookups": req(LSTAT, s("/usr/bin/cc"))
    + req(READLINK, s("/usr/lib/libc.so"), 2) + req(OPEN, s("/etc/passwd"), 3)
    + req(READDIR, s("/home/u/src") + u32(0), 4)
    + req(READDIR, s("/home/u/src") + u32(1200), 5),
    "fetch": req(OPEN, s("/usr/lib/cc1")) + req(FETCH, s("/usr/lib/cc1")
                                                + s(HASH) + u64(524288)
                                                + u32(524288), 2),
    "changes": req(MKDIR, s("/home/u/src/obj") + u32(0o755))
    + req(CREATE, s("/home/u/src/obj/a.o") + u32(0o644) + u32(1), 2)
    + req(RENAME, s("/home/u/src/a.tmp") + s("/home/u/src/a") + u32(0), 3)
    + req(SYMLINK, s("../lib/x.so") + s("/home/u/src/x.so"), 4)
    + req(LINK_, s("/home/u/src/a") + s("/home/u/src/b"), 5)
    + req(UNLINK, s("/home/u/src/b"), 6) + req(RMDIR, s("/home/u/tmp"), 7),
    "setattr": req(SETATTR, s("/home/u/src/a") + u32(0x3f) + u32(0o600)
                   + u64(4096) + u64(1700000000) + u32(999999999)
                   + u64(1700000001) + u32(0)),
    "put": req(PUT_BEGIN, s("/home/u/src/out") + u32(0o755))
    + req(PUT_DATA, u32(1) + s(b"\x7fELF" + bytes(60)), 2)
    + req(PUT_DATA, u32(1) + s(b""), 3) + req(PUT_COMMIT, u32(1), 4),
    "malformed": req(LSTAT, s("etc/passwd")) + req(LSTAT, s("/") + u32(7), 2)
    + req(FETCH, s("/a") + s(HASH) + u64(0) + u32(524289), 3)
    + req(0, s("/")) + req(18, s("/")),
    "put-batch": req(PUT_BATCH, u32(2) + s("/home/u/src/a.o") + u32(0o644)
                     + s(b"\x7fELF" + bytes(60)) + s("/home/u/src/b.d")
                     + u32(0o600) + s(b"")),
    "put-batch-bad": req(PUT_BATCH, u32(0))
    + req(PUT_BATCH, u32(65) + s("/a") + u32(0) + s(b""), 2)
    + req(PUT_BATCH, u32(1) + s("/a/../b") + u32(0) + s(b""), 3)
    + req(PUT_BATCH, u32(2) + s("/a") + u32(0) + s(b""), 4),
    "empty-and-long": req(LSTAT, s("")) + req(SYMLINK, s("") + s("/l"), 2)
    + req(OPEN, s("/" + "d/" * 2100), 3),
}


def attr(mode=0o100644, nlink=1, size=0, own=3, ino=1234, nsec=0):
    p = u32(mode) + u32(nlink) + u32(1000) + u32(1000) + u32(own)
    p += u64(size) + u64((size + 511) // 512) + u64(ino) + u64(0)
    return p + (u64(1700000000) + u32(nsec)) * 3


# fuzz_fsprime: MIG_M_FS_PRIME's payload, as a host's view reads it.
def prime(*entries):
    return u32(len(entries)) + b"".join(entries)


def entry(path, err=0, a=None, key=None, target=None):
    p = s(path) + u32(err)
    if err != 0:
        return p
    what = (1 if key is not None else 0) | (2 if target is not None else 0)
    p += (a if a is not None else attr()) + u32(what)
    return p + (s(key) if key is not None else b"") + (
        s(target) if target is not None else b"")


FSPRIME = {
    "empty": prime(),
    "build": prime(entry("/usr/bin/cc", a=attr(0o120777, size=5),
                         target="gcc-12"),
                   entry("/usr/bin/gcc-12", a=attr(0o100755, size=1 << 20),
                         key=HASH),
                   entry("/usr/include", a=attr(0o40755, nlink=40)),
                   entry("/home/u/src/config.h", err=2),
                   entry("/usr/lib/cc1", a=attr(nsec=999999999), key=HASH)),
    "again": prime(entry("/a", err=2), entry("/a", key=HASH),
                   entry("/a", err=13)),
    "bad-path": prime(entry("a/relative")),
    "bad-nsec": prime(entry("/t", a=attr(nsec=1000000000))),
    "bad-key": prime(entry("/k", key=HASH[:31])),
    "bad-count": u32(3) + entry("/only-one", err=2),
    "trailing": prime(entry("/x", err=2)) + b"\0",
}


# fuzz_fsrep: MIG_M_FS_REP's payload, as a host reads it: a byte for the
# op answered (its high bit: over protocol 6), then the i32 errno and what
# the op returns.
def rep(op, payload=b"", err=0):
    return bytes([op]) + u32(err) + (payload if err == 0 else b"")


# Over protocol 6 a change's answer ends with its folder's errno and attr.
def rep6(op, payload=b"", folder_err=0):
    folder = u32(folder_err) + (attr(0o40755, nlink=3) if folder_err == 0 else b"")
    return bytes([op | 0x80]) + u32(0) + payload + folder


def dirents(*names, eof=1):
    p = u32(len(names))
    for i, name in enumerate(names):
        p += s(name) + u32(4 if name in (".", "..") else 8) + u64(100 + i)
    return p + u32(eof)


FSREP = {
    "lstat": rep(LSTAT, attr(0o100755, size=1 << 20)),
    "lstat-enoent": rep(LSTAT, err=2),
    "lstat-not-own": rep(LSTAT, attr(own=0)),
    "readdir": rep(READDIR, dirents(".", "..", "a.c", "obj")),
    "readdir-page": rep(READDIR, dirents("x" * 255, eof=0)),
    "readdir-empty": rep(READDIR, dirents()),
    "readlink": rep(READLINK, s("../lib/libc.so.6")),
    "open": rep(OPEN, attr(size=12345) + s(HASH)),
    "fetch": rep(FETCH, s(bytes(range(256)) * 4)),
    "fetch-eof": rep(FETCH, s(b"")),
    "mkdir": rep(MKDIR, attr(0o40755, nlink=2)),
    "unlink": rep(UNLINK),
    "rmdir-notempty": rep(RMDIR, err=39),
    "rename": rep(RENAME),
    "symlink": rep(SYMLINK, attr(0o120777, size=11)),
    "link": rep(LINK_, attr(nlink=2)),
    "create": rep(CREATE, attr(0o100600)),
    "create-exists": rep(CREATE, err=17),
    "setattr": rep(SETATTR, attr(0o100600, size=4096, nsec=999999999)),
    "put-begin": rep(PUT_BEGIN, u32(7)),
    "put-data": rep(PUT_DATA),
    "put-commit": rep(PUT_COMMIT, attr(size=64)),
    "bad-readdir-slash": rep(READDIR, dirents("a/b")),
    "bad-readdir-count": rep(READDIR, u32(0xFFFFFFFF) + u32(1)),
    "bad-readlink-nul": rep(READLINK, s(b"a\0b")),
    "bad-open-key": rep(OPEN, attr() + s(HASH[:31])),
    "bad-nsec": rep(LSTAT, attr(nsec=1000000000)),
    "bad-errno-trailing": rep(UNLINK, err=13) + b"\0",
    "bad-op": rep(18, attr()),
    "put-batch": rep(PUT_BATCH, u32(3) + u32(0) + attr(size=64) + u32(13)
                     + u32(0) + attr(0o100600, own=0)),
    "put-batch-bad-count": rep(PUT_BATCH, u32(2) + u32(0) + attr()),
    "put-batch-none": rep(PUT_BATCH, u32(0)),
    "put-batch-trailing": rep(PUT_BATCH, u32(1) + u32(2)) + b"\0",
    "v6-create": rep6(CREATE, attr(0o100600)),
    "v6-unlink": rep6(UNLINK),
    "v6-rmdir-folder-gone": rep6(RMDIR, folder_err=2),
    "v6-link": rep6(LINK_, attr(nlink=2)),
    "v6-mkdir-trailing": rep6(MKDIR, attr(0o40755, nlink=2)) + b"\0",
    "v6-lstat": bytes([LSTAT | 0x80]) + u32(0) + attr(0o100755),
}

write("fuzz_fsreq", FSREQ)
write("fuzz_fsrep", FSREP)
write("fuzz_fsprime", FSPRIME)


# fuzz_fsmounts: a byte for which (0 MIG_M_FS_MOUNTS as protocol 5 sends
# it, 3 as protocol 4 does, 1 MIG_M_FS_PROVEN, 2 a mountinfo text), then it.
def mounts(boot, *m):
    return b"\3" + s(boot) + u32(len(m)) + b"".join(
        s(path) + u64(dev) + u64(ino) for path, dev, ino in m)


def netmounts(boot, *m):
    return b"\0" + s(boot) + u32(len(m)) + b"".join(
        s(path) + u64(dev) + u64(ino) + s(net) + s(name) + s(tok) + u64(7)
        + u64(1700000000) + u32(5) for path, dev, ino, net, name, tok in m)


def proven(all_, paths, extra):
    return b"\1" + u32(all_) + u32(len(paths)) + b"".join(
        s(p) for p in paths) + u32(len(extra)) + b"".join(s(p) for p in extra)


FSMOUNTS = {
    "mounts": mounts(b"6a4d-boot", (b"/", 2049, 2), (b"/home", 42, 2),
                     (b"/etc/hosts", 2049, 1234)),
    "mounts-empty": mounts(b""),
    "mounts-dup": mounts(b"b", (b"/a", 1, 1), (b"/a", 1, 1)),
    "mounts-dotdot": mounts(b"b", (b"/a/../b", 1, 1)),
    "mounts-pinned": mounts(b"b", (b"/proc/self", 1, 1)),
    "mounts-count": b"\3" + s(b"b") + u32(3) + s(b"/") + u64(1) + u64(2),
    "mounts-net": netmounts(b"6a4d-boot", (b"/", 2049, 2, b"", b"", b""),
                            (b"/home", 42, 2, b"nfs srv:/home /",
                             b".mig-proof-home-1000-0a1b2c3d",
                             b"0123456789abcdef0123456789abcdef")),
    "mounts-net-badtoken": netmounts(b"b", (b"/n", 1, 1, b"nfs s:/ /",
                                            b".mig-proof-h", b"XYZ")),
    "mounts-net-as-4": b"\3" + netmounts(b"b", (b"/n", 1, 1, b"nfs s:/ /",
                                                b"", b""))[1:],
    "proven": proven(0, [b"/", b"/data"], [b"/tmp", b"/home"]),
    "proven-all": proven(1, [b"/"], []),
    "proven-ctl": proven(0, [b"/a\x1b[2J"], []),
    "proven-bad-all": proven(7, [], []),
    "mountinfo": b"\2" + b"27 1 254:0 / / rw - ext4 /dev/vda rw\n"
                 b"22 27 0:21 / /proc rw - proc proc rw\n"
                 b"50 27 0:50 / /home/a\\040b rw - nfs srv:/x rw\n"
                 b"51 27 0:51 / /data rw - xfs /dev/vdb rw\n",
}
write("fuzz_fsmounts", FSMOUNTS)


# fuzz_hashes: a host's saved table of its files' hashes (fs.h,
# mig__hashdb_save): magic "MIGH", version 1, n, n entries.
def hentry(dev, ino, size, ms, mns, cs, cns, h=b"\x11" * 32):
    return (u64(dev) + u64(ino) + u64(size) + u64(ms) + u32(mns) + u64(cs) +
            u32(cns) + s(h))


def hashes(*e, n=None):
    return (u32(0x4847494D) + u32(1) + u32(len(e) if n is None else n) +
            b"".join(e))


HASHES = {
    "two": hashes(hentry(2049, 1234, 31500000, 1700000000, 5, 1700000001, 6),
                  hentry(2049, 99, 12, 1, 0, 2, 999999999, b"\x22" * 32)),
    "empty": hashes(),
    "same-inode": hashes(hentry(1, 1, 1, 1, 1, 1, 1),
                         hentry(1, 1, 2, 2, 2, 2, 2)),
    "bad-nsec": hashes(hentry(1, 1, 1, 1, 1000000000, 1, 1)),
    "bad-hash-len": hashes(hentry(1, 1, 1, 1, 1, 1, 1, b"\x33" * 31)),
    "bad-size": hashes(hentry(1, 1, 2**63, 1, 1, 1, 1)),
    "count": hashes(hentry(1, 1, 1, 1, 1, 1, 1), n=5),
    "bad-magic": b"MIGX" + u32(1) + u32(0),
}
write("fuzz_hashes", HASHES)


# fuzz_start: a host job's description, as its subreaper reads it
# (homed/helpers/start.h): struct mig_start (448 bytes on x86-64), then
# cwd, root, argv and environment, each with its NUL.
def start(argv, envp=(), cwd=b"/tmp", root=b"", argc=None, size=448,
          nrlimit=1, flags=0):
    head = (u32(size) + u32(len(argv) if argc is None else argc) +
            u32(4242) + u32(flags) + u32(0o022) + u32(0) + u32(0) + u32(0) +
            u32(1) + u32(1) + u32(1 if root else 0) + u32(nrlimit))
    lim = u32(7) + u32(0) + u64(1024) + u64(4096)
    head += lim + b"\0" * (24 * 15) + b"\0" * 16
    return head + b"".join(x + b"\0" for x in (cwd, root) + tuple(argv) +
                           tuple(envp))


START = {
    "true": start([b"true"], [b"PATH=/usr/bin:/bin", b"HOME=/root"]),
    "served": start([b"cc", b"-c", b"x.c"], [b"A=1"], cwd=b"/home/a/p",
                    root=b"/run/user/1000/mig/view-1", flags=0x8),
    "no-env": start([b"sh", b"-c", b"exit 3"]),
    "argc-over": start([b"true"], argc=5),
    "argc-zero": start([b"true"], argc=0),
    "bad-size": start([b"true"], size=447),
    "bad-nrlimit": start([b"true"], nrlimit=17),
    "no-nul": start([b"true"])[:-1],
    "short": start([b"true"])[:100],
}
write("fuzz_start", START)
