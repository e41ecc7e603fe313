#!/usr/bin/env python3
"""Run a daemon with a Unix datagram socket listening where it will send:
systemd's $NOTIFY_SOCKET, or a /dev/log that a private mount namespace
puts in place (tests/integration/test_logging.sh).

usage: dgram_run.py SOCKET SECONDS WANT[,WANT...] -- COMMAND...

Binds SOCKET, sets NOTIFY_SOCKET=SOCKET in COMMAND's environment, starts
it, and prints every datagram that arrives, one per line.  When one
contains WANT (each of a comma list in turn: the first, then the second
...) it goes on to the next; after the last, COMMAND gets SIGTERM, and a
WANT after an empty one ("READY=1,,STOPPING=1") is awaited after the
SIGTERM.  Exits 0 when every WANT came and COMMAND exited 0 within
SECONDS, else 1 (COMMAND killed).
"""
import os
import select
import signal
import socket
import subprocess
import sys
import time


def main():
    sep = sys.argv.index('--')
    path, seconds, wants = sys.argv[1], float(sys.argv[2]), sys.argv[3].split(',')
    cmd = sys.argv[sep + 1:]
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    os.chmod(path, 0o666)
    env = dict(os.environ, NOTIFY_SOCKET=path)
    child = subprocess.Popen(cmd, env=env)
    deadline = time.monotonic() + seconds
    termed = False
    ok = True
    while wants:
        if wants[0] == '':
            child.send_signal(signal.SIGTERM)
            termed = True
            wants.pop(0)
            continue
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            print('timed out waiting for %r' % wants[0])
            ok = False
            break
        msg = s.recv(65536).decode(errors='replace')
        print(msg.rstrip('\n'))
        if wants[0] in msg:
            wants.pop(0)
    if not termed:
        child.send_signal(signal.SIGTERM)
    try:
        rc = child.wait(max(deadline - time.monotonic(), 1))
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
        print('COMMAND did not exit after SIGTERM')
        return 1
    if rc != 0:
        print('COMMAND exited %d' % rc)
    return 0 if ok and rc == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
