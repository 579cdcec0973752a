#!/usr/bin/env bash
# Regenerates crates/redoubt/link-order.txt: the functions the release binary runs when it
# starts, serves flows and deploys, which the release link puts first in .text.
#
#   bench/link-order.sh            profile target/release/redoubt, rewrite the file
#   REDOUBT=/path/to/redoubt bench/link-order.sh
#
# Why: Linux maps executable pages in 64 KiB blocks around each page a process touches
# ("fault-around"). The few thousand functions redoubt runs are scattered over 15 MB of
# .text, so a hundred touches made ~6.5 MiB of it resident (most of the idle RSS). Listed
# in the order below, lld places them together and the touched code fits in ~2 MiB.
# See BENCHMARKS.md ("Reading the numbers") and crates/redoubt/build.rs.
#
# How: the binary runs under valgrind --tool=callgrind (exact: every executed function is
# recorded, not a sample) in three phases, each its own run:
#   1. start: start-up until the example flow serves, then idle;
#   2. serve: GET requests through http in/change/function/json/template/http response;
#   3. admin: the editor's boot requests and a full deploy.
# Functions are written phase by phase (start first), each once, as mangled symbol
# names. Names that no longer exist after a code change are ignored by the linker, so a
# stale file costs locality, never correctness; rerun this after larger changes.
# Needs: valgrind, curl, python3, a release build (cargo build --release -p redoubt).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
FLOWS=${BENCH_FLOWS:-$ROOT/../shared/bench/flows}
REDOUBT=${REDOUBT:-${CARGO_TARGET_DIR:-$ROOT/target}/release/redoubt}
OUT=$ROOT/crates/redoubt/link-order.txt
PORT=${BENCH_PORT:-27893}
WORK=$(mktemp -d)
[ -x "$REDOUBT" ] || { echo "no $REDOUBT: cargo build --release -p redoubt" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }

pid=
cleanup() {
    if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

wait_for() { # path
    local end=$((SECONDS + 120))
    until curl -fs -o /dev/null "http://127.0.0.1:$PORT$1"; do
        [ $SECONDS -lt $end ] || { echo "redoubt not serving $1 under callgrind" >&2; exit 1; }
        sleep 0.2
    done
}

run() { # phase flows-file editor(0/1) then the requests of the phase as a function name
    local phase=$1 flows=$2 editor=$3 drive=$4 ud="$WORK/ud-$1"
    mkdir -p "$ud"
    cp "$flows" "$ud/flows.json"
    BENCH_EDITOR=$editor BENCH_PORT=$PORT valgrind --tool=callgrind --demangle=no \
        --callgrind-out-file="$WORK/$phase.out" \
        "$REDOUBT" -u "$ud" -s "$HERE/settings.js" -p "$PORT" "$ud/flows.json" \
        >"$WORK/$phase.log" 2>&1 &
    pid=$!
    "$drive"
    kill -TERM "$pid"
    wait "$pid" || true
    pid=
    echo "[link-order] $phase: profiled" >&2
}

start_phase() { wait_for /hello; sleep 2; }
serve_phase() {
    wait_for /hello
    local i
    for i in $(seq 1 50); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/hello"; done
}
admin_phase() {
    wait_for /hello
    local p
    for p in / /settings /flows /nodes /locales/editor /theme /plugins /icons; do
        curl -s -o /dev/null -H 'Accept: application/json' "http://127.0.0.1:$PORT$p" || true
    done
    curl -fs -o /dev/null -X POST -H 'Content-Type: application/json' \
        -H 'Node-RED-Deployment-Type: full' --data-binary "@$FLOWS/http-json-template.json" \
        "http://127.0.0.1:$PORT/flows"
    wait_for /hello
    for _ in $(seq 1 20); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/hello"; done
}

# Serve phase: each workload flow in turn (same phase, several runs).
run start "$ROOT/examples/hello/flows.json" 0 start_phase
n=0
for f in http-change http-function http-json-template; do
    run "serve$n" "$FLOWS/$f.json" 0 serve_phase
    n=$((n + 1))
done
run admin "$FLOWS/http-change.json" 1 admin_phase

python3 - "$REDOUBT" "$OUT" "$WORK"/start.out "$WORK"/serve*.out "$WORK"/admin.out <<'EOF'
import re, subprocess, sys
binary, out, profiles = sys.argv[1], sys.argv[2], sys.argv[3:]
nm = subprocess.run(["nm", "--defined-only", binary], capture_output=True, text=True, check=True)
text = {p[2] for p in (l.split() for l in nm.stdout.splitlines()) if len(p) == 3 and p[1] in "tTwW"}
seen, order = set(), []
for path in profiles:
    for line in open(path, errors="replace"):
        m = re.match(r"^c?fn=\(\d+\) (\S+)$", line.rstrip("\n"))
        if m and m.group(1) in text and m.group(1) not in seen:
            seen.add(m.group(1))
            order.append(m.group(1))
with open(out, "w") as f:
    f.write("\n".join(order) + "\n")
print(f"[link-order] {len(order)} functions written to {out}", file=sys.stderr)
EOF
