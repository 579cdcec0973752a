#!/usr/bin/env bash
# Fetch the Node-RED editor assets pinned in editor-assets.json into the
# git-ignored cache the admin server reads them from:
#
#     .cache/editor-assets/<version>/editor-client/   (@node-red/editor-client)
#     .cache/editor-assets/<version>/nodes/           (@node-red/nodes)
#
# Each tarball is downloaded from the npm registry, checked against the
# manifest's sha512 integrity (the run fails on any mismatch), checked for
# unsafe member paths, and unpacked with the tarball's `package/` prefix
# stripped. Packages already unpacked with the same integrity are skipped,
# so running this again is cheap; `--force` fetches everything anew.
#
# Usage: scripts/fetch-editor-assets.sh [--force] [DEST]
#   DEST defaults to <repo>/.cache/editor-assets. Point redoubt at the
#   version directory with `--editor-assets DEST/<version>` or
#   REDOUBT_EDITOR_ASSETS when it is not the default.
# Needs: bash, npm (the ordinary client fetches the tarballs), tar, python3.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
manifest="$repo/editor-assets.json"
force=0
dest=""
for arg in "$@"; do
    case "$arg" in
        --force) force=1 ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        -*) echo "fetch-editor-assets: unknown option $arg" >&2; exit 2 ;;
        *) dest="$arg" ;;
    esac
done
dest="${dest:-$repo/.cache/editor-assets}"

fail() { echo "fetch-editor-assets: $*" >&2; exit 1; }

for tool in npm tar python3; do
    command -v "$tool" >/dev/null || fail "needs '$tool' on PATH"
done
[[ -f "$manifest" ]] || fail "manifest $manifest not found"

# One line per package: version, dir, name, integrity (tab separated).
entries="$(python3 - "$manifest" <<'PY'
import json, re, sys
m = json.load(open(sys.argv[1]))
for p in m["packages"]:
    fields = [m["version"], p["version"], p["dir"], p["name"], p["integrity"]]
    if p["version"] != m["version"]:
        sys.exit(f"{p['name']} is pinned to {p['version']}, not {m['version']}: pin every package to the same version")
    if not re.fullmatch(r"[A-Za-z0-9._-]+", p["dir"]) or not p["integrity"].startswith("sha512-"):
        sys.exit(f"bad manifest entry for {p['name']}")
    print("\t".join(fields[1:]))
PY
)" || fail "cannot read $manifest"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

while IFS=$'\t' read -r version dir name integrity; do
    url="$name@$version"
    target="$dest/$version/$dir"
    stamp="$target/.redoubt-integrity"
    if [[ $force -eq 0 && -f "$stamp" && "$(cat "$stamp")" == "$integrity" ]]; then
        echo "fetch-editor-assets: $dir $version already at $target"
        continue
    fi

    echo "fetch-editor-assets: fetching $url with npm pack"
    mkdir -p "$work/$dir"
    (cd "$work/$dir" && npm pack --silent "$url" >/dev/null) || fail "npm pack $url failed"
    tgz="$(ls "$work/$dir"/*.tgz 2>/dev/null | head -n 1)"
    [[ -n "$tgz" ]] || fail "npm pack $url produced no tarball"

    actual="$(python3 -c 'import base64, hashlib, sys
print("sha512-" + base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$tgz")"
    if [[ "$actual" != "$integrity" ]]; then
        fail "INTEGRITY MISMATCH for $url
  expected $integrity
  got      $actual
refusing to unpack it; check editor-assets.json and the registry"
    fi

    # Every member must sit under package/, with no absolute path and no '..'.
    members="$(tar -tzf "$tgz")" || fail "$url is not a readable gzip tarball"
    bad="$(grep -Ev '^package/' <<<"$members" | head -n 3 || true)"
    [[ -z "$bad" ]] || fail "$url has members outside package/: $bad"
    bad="$(grep -E '(^|/)\.\.(/|$)' <<<"$members" | head -n 3 || true)"
    [[ -z "$bad" ]] || fail "$url has members with '..': $bad"

    mkdir -p "$dest/$version"
    staging="$(mktemp -d "$dest/$version/.staging-$dir.XXXXXX")"
    tar -xzf "$tgz" -C "$staging" --no-same-owner --no-same-permissions \
        || { rm -rf "$staging"; fail "unpacking $url failed"; }
    # Symlinks or devices have no business in these packages.
    if [[ -n "$(find "$staging" ! -type f ! -type d -print -quit)" ]]; then
        rm -rf "$staging"
        fail "$url contains entries that are neither files nor directories"
    fi
    chmod -R u+rwX,go+rX "$staging"
    printf '%s\n' "$integrity" >"$staging/package/.redoubt-integrity"
    rm -rf "$target"
    mv "$staging/package" "$target"
    rm -rf "$staging"
    echo "fetch-editor-assets: $dir $version verified and unpacked into $target"
done <<<"$entries"
