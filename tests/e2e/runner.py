#!/usr/bin/env python3
"""make e2e: boot the QEMU machine and follow its serial console.

Starts the command after '--' (QEMU, under timeout(1)), keeps every line of
its serial console in --log, and waits, each with its own deadline, for the
lines tests/e2e/dom0/lib.sh prints: dom0 ready, then for each expected
scenario its E2E-PASS or E2E-FAIL, then E2E-DONE.  Prints the E2E- lines as
they come with the time since the start; whatever does not come in time is
a FAIL with the reason and the console's last lines, and the machine is
stopped.  Writes one TAP line per scenario to --tap and ends with
'e2e: N passed, N failed'.  Exit 0 when every scenario passed.

A machine that dies of a signal of its own (QEMU's SIGSEGV, seen once in
dom0's boot on a loaded host) before E2E-DONE is booted again, once, and
said: that is the emulator's death, not a result of the scenarios; what
the first boot printed stays in the output and the log.  A scenario that
fails, a deadline missed or a second death are results.
"""
import argparse
import os
import re
import select
import signal
import subprocess
import sys
import time

MARK = re.compile(r'E2E-([A-Z0-9-]+)(?: (.*))?$')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--log', required=True)
    ap.add_argument('--tap', required=True)
    ap.add_argument('--expect', required=True, help='scenario names, space separated')
    ap.add_argument('--boot-timeout', type=float, default=240)
    ap.add_argument('--scenario-timeout', type=float, default=420)
    ap.add_argument('--total-timeout', type=float, default=1500)
    ap.add_argument('cmd', nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ['--'] else a.cmd
    expect = a.expect.split()
    t0 = time.monotonic()

    def say(s):
        print(f'[{time.monotonic() - t0:6.1f}s] {s}', flush=True)

    results, reason, status = boot(a, cmd, t0, say, 'w')
    if reason and status is not None and status < 0 and status != -signal.SIGKILL:
        say(f'the machine died of signal {-status} before E2E-DONE: '
            'booting it again, once (its log follows the first)')
        results, reason, status = boot(a, cmd, t0, say, 'a')
    return report(a, expect, results, reason, t0)


def boot(a, cmd, t0, say, logmode):
    """One boot: (results, reason it stopped short or None, exit status)."""
    results = {}            # scenario -> (passed, reason)
    tail = []               # the console's last lines, for a failure's reason
    started = {}            # scenario -> time its E2E-BEGIN came
    state = {'ready': False, 'done': False}
    reason = None
    tb = time.monotonic()   # the deadlines are each boot's

    log = open(a.log, logmode, errors='replace', buffering=1)
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True)
    buf = b''

    def handle(line):
        log.write(line + '\n')
        tail.append(line)
        del tail[:-40]
        m = MARK.search(line)
        if not m:
            return
        kind, rest = m.group(1), (m.group(2) or '').rstrip()
        say(f'{kind} {rest}')
        if kind == 'DOM0-READY':
            state['ready'] = True
        elif kind == 'BEGIN':
            started[rest.split(' ', 1)[0]] = time.monotonic()
        elif kind in ('PASS', 'FAIL'):
            name, _, why = rest.partition(' ')
            results[name] = (kind == 'PASS', why)
            started.pop(name, None)
        elif kind == 'DONE':
            state['done'] = True

    while True:
        now = time.monotonic()
        if not state['ready'] and now - tb > a.boot_timeout:
            reason = f'dom0 not ready in {a.boot_timeout:.0f} s'
        elif now - tb > a.total_timeout:
            reason = f'the run did not end in {a.total_timeout:.0f} s'
        for name, ts in started.items():
            if now - ts > a.scenario_timeout:
                reason = f'scenario {name} gave no result in {a.scenario_timeout:.0f} s'
        if reason or state['done']:
            break
        r, _, _ = select.select([p.stdout], [], [], 1.0)
        if not r:
            if p.poll() is not None:
                reason = f'the machine stopped (status {p.returncode}) before E2E-DONE'
                break
            continue
        chunk = os.read(p.stdout.fileno(), 65536)
        if not chunk:
            p.wait()
            reason = f'the machine stopped (status {p.returncode}) before E2E-DONE'
            break
        buf += chunk
        *lines, buf = buf.split(b'\n')
        for l in lines:
            handle(l.decode('utf-8', 'replace').rstrip('\r'))

    if state['done']:
        # dom0 powers off after E2E-DONE; give Xen a moment to stop QEMU.
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    if buf:
        handle(buf.decode('utf-8', 'replace'))
    log.close()

    if reason:
        say(f'ERROR: {reason}; the console\'s last lines:')
        for l in tail[-25:]:
            print('    ' + l)
    return results, reason, p.returncode


def report(a, expect, results, reason, t0):
    passed = failed = 0
    with open(a.tap, 'w') as tap:
        for i, name in enumerate(expect, 1):
            ok, why = results.get(name, (False, f'no result: {reason or "dom0 never said"}'))
            passed += ok
            failed += not ok
            tap.write(f'{"ok" if ok else "not ok"} {i} - e2e {name}: {why}\n')
            print(f'e2e {name}: {"PASS" if ok else "FAIL"} {why}')
        for name in sorted(set(results) - set(expect)):
            ok, why = results[name]
            passed += ok
            failed += not ok
            tap.write(f'{"ok" if ok else "not ok"} - e2e {name}: {why}\n')
            print(f'e2e {name}: {"PASS" if ok else "FAIL"} {why}')
        tap.write(f'1..{passed + failed}\n')
    print(f'e2e: {time.monotonic() - t0:.0f} s, console in {a.log}')
    print(f'{passed} passed, {failed} failed')
    return 0 if failed == 0 and passed else 1


if __name__ == '__main__':
    sys.exit(main())
