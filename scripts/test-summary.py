#!/usr/bin/env python3
"""Count test cases in meson's testlog.json and print 'N passed, N failed'.

usage: test-summary.py TESTLOG.json [TAP-FILE...]

TAP tests count one per 'ok' / 'not ok' line; a test that printed no TAP
line counts once by its own result.  A test that crashed or timed out after
passing cases still adds one failure, so a crash is never hidden.  Each
TAP file (make e2e's scenarios) adds its lines the same way; a TAP file or
a testlog that is missing, or a TAP file with no result line, counts as one
failure.  Exits 1 when anything failed or nothing ran."""
import json
import re
import sys

passed = failed = skipped = 0


def tap_counts(out):
    """(passed, failed, skipped) of TAP text."""
    skips = len(re.findall(r'^ok\b.*#\s*SKIP', out, re.M | re.I))
    oks = len(re.findall(r'^ok\b', out, re.M)) - skips
    return oks, len(re.findall(r'^not ok\b', out, re.M)), skips


for tap in sys.argv[2:]:
    try:
        with open(tap) as f:
            p, fl, sk = tap_counts(f.read())
    except OSError as e:
        p, fl, sk = 0, 0, 0
        print(f"{tap}: {e.strerror}", file=sys.stderr)
    if p + fl + sk == 0:
        fl = 1
        print(f"{tap}: no result", file=sys.stderr)
    passed += p
    failed += fl
    skipped += sk

try:
    with open(sys.argv[1]) as f:
        testlog = f.readlines()
except OSError as e:
    print(f"{sys.argv[1]}: {e.strerror}", file=sys.stderr)
    failed += 1
    testlog = []
for line in testlog:
    t = json.loads(line)
    out = t.get('stdout') or ''
    oks, notoks, skips = tap_counts(out)
    skipped += skips
    res = t.get('result')
    good = res in ('OK', 'EXPECTEDFAIL')
    if oks + notoks + skips:
        passed += oks
        failed += notoks
        if not good and notoks == 0:
            failed += 1
            print(f"{t['name']}: {res}", file=sys.stderr)
    elif good:
        passed += 1
    elif res != 'SKIP':
        failed += 1
        print(f"{t['name']}: {res}", file=sys.stderr)
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
sys.exit(1 if failed or passed == 0 else 0)
