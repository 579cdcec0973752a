// Writes flows_cred.node.json: {"n1":{"user":"u","password":"p"}} encrypted
// with secret "test-secret" exactly as Node-RED's credentials.js does.
// Run: node make_fixture.js > flows_cred.node.json
const crypto = require("crypto");
const key = crypto.createHash("sha256").update("test-secret").digest();
const iv = crypto.randomBytes(16);
const cipher = crypto.createCipheriv("aes-256-ctr", key, iv);
const creds = { n1: { user: "u", password: "p" } };
const out = { "$": iv.toString("hex") + cipher.update(JSON.stringify(creds), "utf8", "base64") + cipher.final("base64") };
process.stdout.write(JSON.stringify(out));
