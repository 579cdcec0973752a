#!/usr/bin/env python3
"""Run ../shared/conformance against redoubt and check the result against
scripts/conformance-known-failures.txt.

Every case not listed there must pass; every listed case must still fail
(so a fix forces the list to shrink). The list is the honest ledger of
what redoubt does not yet do; it never hides a regression.

Usage: scripts/conformance.py [--bin PATH] [--port N]
The last line is 'N passed, N failed' for the whole run.
"""
import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "conformance")
KNOWN = os.path.join(ROOT, "scripts", "conformance-known-failures.txt")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "debug", "redoubt"))
    ap.add_argument("--port", type=int, default=18801)
    args = ap.parse_args()
    args.bin = os.path.abspath(args.bin)
    if not os.path.isdir(SHARED):
        print("conformance suite not found at %s" % SHARED)
        print("0 passed, 1 failed")
        return 1
    if not os.access(args.bin, os.X_OK):
        print("redoubt binary not found at %s (build it first)" % args.bin)
        print("0 passed, 1 failed")
        return 1
    known = set()
    with open(KNOWN, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                known.add(line)
    env = dict(os.environ, REDOUBT_BIN=args.bin)
    cmd = [sys.executable, os.path.join(SHARED, "run.py"), "-v", "--port", str(args.port),
           "--start", os.path.join(SHARED, "redoubt-start.sh") + " {flows} {port} {userdir}"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    passed, failed = set(), {}
    for line in out.splitlines():
        m = re.match(r"^ok   (\S+)$", line)
        if m:
            passed.add(m.group(1))
        m = re.match(r"^FAIL (\S+): (.*)$", line)
        if m:
            failed[m.group(1)] = m.group(2)
    total_line = [l for l in out.splitlines() if re.match(r"^\d+ passed, \d+ failed$", l)]
    if not total_line or (not passed and not failed):
        print(out)
        print("the conformance runner did not report any case")
        print("0 passed, 1 failed")
        return 1
    problems = []
    for case, why in sorted(failed.items()):
        if case not in known:
            problems.append("REGRESSION %s: %s" % (case, why))
    for case in sorted(known):
        if case in passed:
            problems.append("FIXED %s: now passes; remove it from %s" % (case, os.path.relpath(KNOWN, ROOT)))
        elif case not in failed:
            problems.append("UNKNOWN %s: listed as a known failure but not in the suite" % case)
    for case, why in sorted(failed.items()):
        if case in known:
            print("known failure %s: %s" % (case, why[:300]))
    for p in problems:
        print(p)
    print("conformance: %d cases passed, %d known failures, %d problems" % (len(passed), len(known & set(failed)), len(problems)))
    print("%d passed, %d failed" % (len(passed), len(problems)))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
