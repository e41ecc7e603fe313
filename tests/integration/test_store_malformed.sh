#!/bin/sh
# pvpci-stored against malformed input on a raw socket: unknown types,
# payloads of the wrong shape, unknown transactions, headers and payloads
# cut short, lengths over the limit, a flood that is never read.  Each
# gets the error xenstored sends (or the connection dropped where it
# drops it), and the server never stops serving others.  TAP on stdout.
. "$(dirname "$0")/store_lib.sh"
command -v python3 >/dev/null || skip_all "python3 is not installed"
store_start
timeout 60 python3 - "$tmp/sock" >"$tmp/raw.out" 2>&1 <<'PY'
import socket, struct, sys

path = sys.argv[1]
XS = dict(CONTROL=0, DIRECTORY=1, READ=2, GET_PERMS=3, WATCH=4, UNWATCH=5, TX_START=6,
          TX_END=7, INTRODUCE=8, RELEASE=9, GET_DOMAIN_PATH=10, WRITE=11, MKDIR=12, RM=13,
          SET_PERMS=14, WATCH_EVENT=15, ERROR=16, IS_INTRODUCED=17, RESUME=18, SET_TARGET=19,
          RESET_WATCHES=21, DIRECTORY_PART=22)

def check(ok, what):
    print(("ok - " if ok else "not ok - ") + what, flush=True)

def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    return s

def recvn(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            return None
        b += c
    return b

def reply(s):
    h = recvn(s, 16)
    if h is None:
        return None
    t, req, tx, ln = struct.unpack("=IIII", h)
    return t, req, tx, recvn(s, ln)

def send(s, t, payload, req=7, tx=0, ln=None):
    s.sendall(struct.pack("=IIII", t, req, tx, len(payload) if ln is None else ln) + payload)

def ask(s, t, payload, req=7, tx=0):
    send(s, t, payload, req, tx)
    return reply(s)

def err(r):
    return r[3].rstrip(b"\0").decode() if r and r[0] == XS["ERROR"] else r

def alive():
    s = conn()
    r = ask(s, XS["READ"], b"/local/domain/0\0")
    s.close()
    return r is not None and r[0] == XS["READ"]

a = conn()
for t, what in ((999, "type 999"), (20, "type 20 (XS_RESTRICT, removed)"),
                (XS["WATCH_EVENT"], "WATCH_EVENT as a request"), (XS["ERROR"], "ERROR as a request"),
                (0xffff, "XS_INVALID"), (0xffffffff, "type 0xffffffff")):
    check(err(ask(a, t, b"/\0")) == "ENOSYS", what + ": ENOSYS")
r = ask(a, XS["READ"], b"/\0", req=0xdeadbeef, tx=0)
check(r[0] == XS["READ"] and r[1] == 0xdeadbeef, "req_id echoed (0xdeadbeef)")
r = ask(a, XS["READ"], b"/\0", req=3, tx=12345)
check(err(r) == "ENOENT" and r[1] == 3 and r[2] == 12345,
      "unknown transaction 12345: ENOENT, req_id and tx_id echoed")
check(err(ask(a, XS["TX_END"], b"T\0", tx=0)) == "ENOENT", "TRANSACTION_END without one: ENOENT")
r = ask(a, XS["TX_START"], b"\0")
txid = int(r[3].rstrip(b"\0"))
check(err(ask(a, XS["TX_END"], b"maybe\0", tx=txid)) == "EINVAL", "TRANSACTION_END 'maybe': EINVAL")
check(ask(a, XS["TX_END"], b"F\0", tx=txid)[3] == b"OK\0", "  and the transaction is still there to end")
# Payloads of the wrong shape: (type, payload, error, what).
for t, p, e, what in (
        ("READ", b"/no-nul", "EINVAL", "READ without a nul"),
        ("READ", b"", "EINVAL", "READ with no payload"),
        ("READ", b"/a\0/b\0", "EINVAL", "READ with two paths"),
        ("WRITE", b"/no-nul", "EINVAL", "WRITE without a nul"),
        ("READ", b"/a b\0", "EINVAL", "a space in a path"),
        ("READ", b"/a//b\0", "EINVAL", "'//' in a path"),
        ("READ", b"/a/\0", "EINVAL", "a trailing '/'"),
        ("READ", b"/" + b"x" * 2048 + b"\0", "EINVAL", "a path of 2049 bytes outside /local/domain/N/"),
        ("READ", b"a" * 2049 + b"\0", "EINVAL", "a relative path of 2049 bytes"),
        ("READ", b"/a\xff\0", "EINVAL", "a byte 0xff in a path"),
        ("WATCH", b"/w\0", "EINVAL", "WATCH without a token"),
        ("SET_PERMS", b"/local\0", "EINVAL", "SET_PERMS without permissions"),
        ("SET_PERMS", b"/local\0z0\0", "EINVAL", "SET_PERMS 'z0'"),
        ("SET_PERMS", b"/local\0r\0", "EINVAL", "SET_PERMS 'r' (no domain)"),
        ("DIRECTORY_PART", b"/\0x\0", "EINVAL", "DIRECTORY_PART offset 'x'"),
        ("INTRODUCE", b"1\0", "EINVAL", "INTRODUCE with one argument"),
        ("INTRODUCE", b"70000\0" b"0\0" b"1\0", "EINVAL", "INTRODUCE domain 70000"),
        ("RELEASE", b"9\0", "ENOENT", "RELEASE of a domain never introduced"),
        ("CONTROL", b"no-such-command\0", "EINVAL", "CONTROL no-such-command")):
    check(err(ask(a, XS[t], p)) == e, "%s: %s" % (what, e))
check(ask(a, XS["WRITE"], b"/local/domain/0/" + b"x" * 2048 + b"\0v")[0] == XS["WRITE"],
      "2048 bytes below /local/domain/0/ are fine")

# Several requests in one write, answered in order.
a.sendall(b"".join(struct.pack("=IIII", XS["READ"], i, 0, 2) + b"/\0" for i in range(50)))
ids = [reply(a)[1] for i in range(50)]
check(ids == list(range(50)), "50 requests in one write: 50 answers in order")

# One request a byte at a time.
msg = struct.pack("=IIII", XS["GET_PERMS"], 77, 0, 7) + b"/local\0"
for b in msg:
    a.send(bytes([b]))
r = reply(a)
check(r[0] == XS["GET_PERMS"] and r[1] == 77 and r[3] == b"n0\0", "a request sent byte by byte")

# Too long: E2BIG, then the connection is closed (xenstored just closes it).
for ln in (4097, 0x7fffffff, 0xffffffff):
    s = conn()
    send(s, XS["WRITE"], b"", req=9, ln=ln)
    r = reply(s)
    check(err(r) == "E2BIG" and r[1] == 9 and reply(s) is None,
          "payload length %#x: E2BIG, connection closed" % ln)
    s.close()
s = conn()
send(s, XS["WRITE"], b"/big\0" + b"x" * 4091)
check(reply(s)[0] == XS["WRITE"], "a payload of exactly 4096 bytes is taken")
s.close()

# Cut short and gone: a header, a payload.
for part in (struct.pack("=IIII", XS["READ"], 1, 0, 2)[:7],
             struct.pack("=IIII", XS["WRITE"], 1, 0, 100) + b"/cut\0" + b"x" * 20):
    s = conn()
    s.sendall(part)
    s.close()
check(alive(), "headers and payloads cut short: the server serves on")
s = conn()
send(s, XS["READ"], b"/local\0", req=5)
s.shutdown(socket.SHUT_WR)
r = reply(s)
check(r is not None and r[1] == 5 and reply(s) is None, "a request, then a half-close: its answer still comes")
s.close()
check(ask(a, XS["READ"], b"/cut\0")[0] == XS["ERROR"], "  and a payload cut short changed nothing")

# A client that floods requests and never reads: paused, the others served.
f = conn()
f.setblocking(False)
sent = 0
req = struct.pack("=IIII", XS["READ"], 0, 0, 5) + b"/big\0"
try:
    while sent < 5000:
        f.send(req)
        sent += 1
except BlockingIOError:
    pass
check(alive(), "a client sending %d requests and reading nothing: the others are served" % sent)
f.close()
check(alive(), "  and when it goes, the server serves on")

# Garbage of every kind in one stream.
import random
random.seed(1)
for i in range(200):
    s = conn()
    t = random.choice([random.randrange(0, 30), random.randrange(0, 1 << 32)])
    body = bytes(random.randrange(0, 256) for _ in range(random.randrange(0, 64)))
    try:
        send(s, t, body, tx=random.choice([0, 1, random.randrange(0, 1 << 32)]))
        s.settimeout(2)
        reply(s)
    except OSError:
        pass
    s.close()
check(alive(), "200 random requests of random types and bytes: the server serves on")
a.close()
PY
rc=$?
tap_from "$tmp/raw.out"
[ "$rc" -eq 0 ] && ok "the raw client ran to its end" || notok "the raw client ran to its end" "exit $rc"
check "the store is intact after it all" sh -c "timeout 10 xenstore-ls / >/dev/null"
store_stop
finish
