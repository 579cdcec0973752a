// Computes what Node-RED would produce for flows_sample.json: the revision
// (sha256 of JSON.stringify(flows)) and the flowFilePretty file content.
// Run: node make_flows_expected.js
const crypto = require("crypto");
const fs = require("fs");
const flows = JSON.parse(fs.readFileSync(__dirname + "/flows_sample.json", "utf8"));
fs.writeFileSync(__dirname + "/flows_sample.rev", crypto.createHash("sha256").update(JSON.stringify(flows)).digest("hex"));
fs.writeFileSync(__dirname + "/flows_sample.compact.json", JSON.stringify(flows));
fs.writeFileSync(__dirname + "/flows_sample.pretty.json", JSON.stringify(flows, null, 4));
