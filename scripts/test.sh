#!/usr/bin/env bash
# The project's test command: build once (dev profile, dependencies
# optimised), run every unit and end-to-end test with nextest, check
# formatting and lints, then run the Node-RED conformance suite against
# the same binary.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== editor assets (pinned npm tarballs, verified)"
scripts/fetch-editor-assets.sh

echo "== build"
cargo build --workspace --all-targets --locked --features redoubt-nodes/testing

echo "== unit and end-to-end tests"
cargo nextest run --workspace --no-fail-fast

echo "== micro-benchmarks, each run once (quick mode; 'cargo bench' measures)"
cargo test --locked -p redoubt-core -p redoubt-nodes -p redoubt-js --features redoubt-nodes/testing --bench hot_paths --bench flows --bench quickjs_floor --bench sandbox_start

echo "== formatting and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== conformance (../shared/conformance)"
python3 scripts/conformance.py --bin target/debug/redoubt
tests/editor/run.sh
