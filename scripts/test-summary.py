#!/usr/bin/env python3
"""Count test cases in meson's testlog.json and print 'N passed, N failed'.

TAP tests count one per 'ok' / 'not ok' line; a test that printed no TAP
line counts once by its own result.  A test that crashed or timed out after
passing cases still adds one failure, so a crash is never hidden.
Exits 1 when anything failed or nothing ran."""
import json
import re
import sys

passed = failed = skipped = 0
with open(sys.argv[1]) as f:
    for line in f:
        t = json.loads(line)
        out = t.get('stdout') or ''
        skips = len(re.findall(r'^ok\b.*#\s*SKIP', out, re.M | re.I))
        oks = len(re.findall(r'^ok\b', out, re.M)) - skips
        skipped += skips
        notoks = len(re.findall(r'^not ok\b', out, re.M))
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
