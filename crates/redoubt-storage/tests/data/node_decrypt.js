// Decrypts a credentials file as Node-RED's credentials.js does and prints
// JSON.stringify of the result. Usage: node node_decrypt.js <file> <secret>
const crypto = require("crypto");
const fs = require("fs");
const [file, secret] = process.argv.slice(2);
const creds = JSON.parse(fs.readFileSync(file, "utf8"))["$"];
const key = crypto.createHash("sha256").update(secret).digest();
const iv = Buffer.from(creds.substring(0, 32), "hex");
const decipher = crypto.createDecipheriv("aes-256-ctr", key, iv);
const text = decipher.update(creds.substring(32), "base64", "utf8") + decipher.final("utf8");
process.stdout.write(JSON.stringify(JSON.parse(text)));
