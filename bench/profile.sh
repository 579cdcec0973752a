#!/usr/bin/env bash
# Where does redoubt spend its time? Profiles the release binary on these workloads:
#   http      GET /hello on http-change.json under wrk -t2 -c50 (10 s)
#   function  the same on http-function.json (http in -> function -> response)
#   template  the same on http-json-template.json (change -> json -> template)
#   chain     messages through the 10 change nodes of chain.json (burst, 200,000 msgs;
#             PROFILE_CHAIN_MODE=loop: 1,000 tokens circulating instead, so only the
#             chain and its counter run, not the burst producer)
#
#   bench/profile.sh                 all four, with perf (cpu-clock sampling, DWARF call graphs)
#   bench/profile.sh http            one of them
#   PROFILER=callgrind bench/profile.sh chain    valgrind --tool=callgrind instead
#                                    (exact instruction counts; ~50x slower, so less load)
#
# Output: bench/.cache/profile/<workload>.{perf.data,callgrind.out} and a text summary
# (<workload>.top.txt: self time per function, then inclusive time) printed at the end.
# Needs: perf or valgrind, wrk, curl, a release build (cargo build --release -p redoubt).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
FLOWS=${BENCH_FLOWS:-$ROOT/../shared/bench/flows}
OUT=${BENCH_CACHE:-$HERE/.cache}/profile
REDOUBT=${REDOUBT:-${CARGO_TARGET_DIR:-$ROOT/target}/release/redoubt}
PROFILER=${PROFILER:-perf}
PORT=${BENCH_PORT:-27890}
SECONDS_HTTP=${PROFILE_SECONDS:-10}
CHAIN_N=${PROFILE_CHAIN_N:-200000}
CHAIN_MODE=${PROFILE_CHAIN_MODE:-burst}
case $CHAIN_MODE in burst) CHAIN_ARGS="batch=10000" ;; loop) CHAIN_ARGS="k=1000" ;;
*) echo "PROFILE_CHAIN_MODE is burst or loop, not '$CHAIN_MODE'" >&2; exit 2 ;; esac
mkdir -p "$OUT"
[ -x "$REDOUBT" ] || { echo "no $REDOUBT: cargo build --release -p redoubt" >&2; exit 1; }
command -v "$( [ "$PROFILER" = perf ] && echo perf || echo valgrind )" >/dev/null ||
    { echo "$PROFILER is not installed (apt-get install linux-perf / valgrind)" >&2; exit 1; }

pid=
ud=
cleanup() {
    if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    if [ -n "$ud" ]; then rm -rf "$ud"; fi
    pid= ud=
}
trap cleanup EXIT

wait_for() { # path [seconds]
    local end=$((SECONDS + ${2:-60}))
    until curl -fs -o /dev/null "http://127.0.0.1:$PORT$1"; do
        [ $SECONDS -lt $end ] || { echo "redoubt not serving $1" >&2; exit 1; }
        sleep 0.05
    done
}

start() { # workload flow
    ud=$(mktemp -d "$OUT/ud-$1.XXXX")
    cp "$FLOWS/$2.json" "$ud/flows.json"
    local cmd=("$REDOUBT" -u "$ud" -s "$HERE/settings.js" -p "$PORT" "$ud/flows.json")
    if [ "$PROFILER" = callgrind ]; then
        valgrind --tool=callgrind --callgrind-out-file="$OUT/$1.callgrind.out" \
            "${cmd[@]}" >"$ud/log" 2>&1 &
    else
        "${cmd[@]}" >"$ud/log" 2>&1 &
    fi
    pid=$!
}

drive() { # workload
    case $1 in
    http | function | template)
        local secs=$SECONDS_HTTP conns=50
        [ "$PROFILER" = callgrind ] && conns=10
        wrk -t2 -c$conns -d${secs}s --latency "http://127.0.0.1:$PORT/hello" | grep -E "Requests/sec|99%"
        ;;
    chain)
        local n=$CHAIN_N
        [ "$PROFILER" = callgrind ] && n=$((CHAIN_N / 10))
        curl -fs "http://127.0.0.1:$PORT/start-$CHAIN_MODE?n=$n&$CHAIN_ARGS" >/dev/null
        until curl -fs "http://127.0.0.1:$PORT/stats" | python3 -c \
            "import json,sys; s=json.load(sys.stdin); sys.exit(0 if s.get('count',0)>=s['n'] and s.get('last') else 1)"; do
            sleep 0.2
        done
        curl -fs "http://127.0.0.1:$PORT/stats" | python3 -c \
            "import json,sys; s=json.load(sys.stdin); print('%d msgs in %d ms: %.0f msgs/s' % (s['n'], s['last']-s['t0'], s['n']*1000/max(1,s['last']-s['t0'])))"
        ;;
    esac
}

profile() { # workload flow ready-path
    echo "== $1 ($PROFILER)"
    start "$1" "$2"
    wait_for "$3" 120
    local top=$OUT/$1.top.txt
    if [ "$PROFILER" = perf ]; then
        drive "$1" >/dev/null # warm-up (allocator, caches), not recorded
        perf record -q -e cpu-clock -F 499 --call-graph dwarf,16384 -p "$pid" -o "$OUT/$1.perf.data" &
        local perf_pid=$!
        sleep 0.5
        drive "$1"
        kill -INT $perf_pid
        wait $perf_pid 2>/dev/null || true
        cleanup
        {
            echo "# self time (top functions)"
            perf report -i "$OUT/$1.perf.data" --stdio --no-children --sort symbol -g none \
                --percent-limit 0.7 2>/dev/null | grep -v '^#' | grep -v '^$'
            echo
            echo "# inclusive time (callers included)"
            echo "# (runtime plumbing frames: tokio task/thread entry, inlined wrappers are left out)"
            perf report -i "$OUT/$1.perf.data" --stdio --children --sort symbol -g none \
                --percent-limit 3 2>/dev/null | grep -v '^#' | grep -v '^$' |
                grep -v -E '\(inlined\)|catch_unwind|call_once|do_call|poll_future|poll_inner|with_mut|std::sys|start_thread|clone3|tokio::runtime::(task|context|blocking::pool|scheduler::multi_thread::worker::(run|Context::run))|BlockingTask|entry_SYSCALL|do_syscall' |
                cut -c1-160
        } >"$top"
    else
        drive "$1"
        cleanup
        {
            echo "# self cost (instructions)"
            callgrind_annotate --inclusive=no "$OUT/$1.callgrind.out" 2>/dev/null | sed -n '1,60p'
            echo
            echo "# inclusive cost"
            callgrind_annotate --inclusive=yes "$OUT/$1.callgrind.out" 2>/dev/null | sed -n '1,60p'
        } >"$top"
    fi
    cat "$top"
}

want=${1:-all}
case $want in all | http | function | template | chain) ;; *)
    echo "unknown workload '$want' (all, http, function, template, chain)" >&2
    exit 2
    ;;
esac
[ "$want" = all ] || [ "$want" = http ] && profile http http-change /hello
[ "$want" = all ] || [ "$want" = function ] && profile function http-function /hello
[ "$want" = all ] || [ "$want" = template ] && profile template http-json-template /hello
[ "$want" = all ] || [ "$want" = chain ] && profile chain chain /stats
exit 0
