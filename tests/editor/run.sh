#!/usr/bin/env bash
# Runs the editor tests against a redoubt binary:
#   contract.test.js   the editor's boot sequence replayed over plain HTTP
#   admin-cli.test.js  node-red-admin (target, list, info) against redoubt
#   browser.test.js    the real editor in headless Chromium (playwright-core)
#   browser-auth.test.js   the editor with adminAuth: login dialog, wrong
#                          password, logout, a read-only user (Chromium)
#   admin-cli-auth.test.js node-red-admin login/list against adminAuth
# Installs the pinned node packages first (npm ci) when node_modules is
# missing or older than package-lock.json. Prints one closing line for all
# tests, "N passed, N failed", and exits non-zero when any failed.
#
# Environment:
#   REDOUBT_BIN   the binary (default target/debug/redoubt, relative to the repo)
#   CHROMIUM_BIN  the browser (default /usr/bin/chromium; Debian's chromium)
# Needs: node >= 20 and npm; the editor assets (scripts/fetch-editor-assets.sh).
# Screenshots and the browser runs' redoubt logs go to tests/editor/artifacts/.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$here"
echo "== editor (tests/editor: boot-sequence contract, node-red-admin, headless Chromium, adminAuth)"

for tool in node npm; do
    command -v "$tool" >/dev/null || { echo "tests/editor: needs '$tool' on PATH" >&2; echo "0 passed, 1 failed"; exit 1; }
done

if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
    echo "== npm ci (tests/editor)"
    npm ci --no-audit --no-fund
fi

export REDOUBT_BIN="${REDOUBT_BIN:-$repo/target/debug/redoubt}"

summary="$(mktemp)"
trap 'rm -f "$summary"' EXIT

status=0
node --test --test-concurrency=1 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter="$here/lib/summary-reporter.mjs" --test-reporter-destination="$summary" \
    contract.test.js admin-cli.test.js browser.test.js \
    browser-auth.test.js admin-cli-auth.test.js || status=$?

if [[ -s "$summary" ]]; then
    cat "$summary"
else
    echo "0 passed, 1 failed"
    [[ $status -ne 0 ]] || status=1
fi
exit "$status"
