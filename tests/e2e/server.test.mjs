// The static server (scripts/serve.mjs): MIME types, gzip, the Content-Security-Policy, no escape
// from the served folder. Serves a temporary folder, so it needs no build.
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { get } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { startServer } from "../../scripts/serve.mjs";

const root = mkdtempSync(join(tmpdir(), "cnn-lab-serve-"));
const WASM = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
mkdirSync(join(root, "pkg"));
writeFileSync(join(root, "index.html"), "<!doctype html><title>t</title>");
writeFileSync(join(root, "pkg", "engine.js"), "export const x = 1;\n".repeat(50));
writeFileSync(join(root, "pkg", "engine_bg.wasm"), WASM);
writeFileSync(join(tmpdir(), "cnn-lab-outside.txt"), "must not be served");

let server, base;
before(async () => {
  server = await startServer({ root, port: 0 });
  base = `http://127.0.0.1:${server.address().port}`;
});
after(() => new Promise((ok) => server.close(ok)));

test("MIME types: application/wasm, text/javascript, text/html for /", async () => {
  const wasm = await fetch(`${base}/pkg/engine_bg.wasm`, { headers: { "accept-encoding": "identity" } });
  assert.equal(wasm.headers.get("content-type"), "application/wasm");
  assert.deepEqual(Buffer.from(await wasm.arrayBuffer()), WASM);
  const js = await fetch(`${base}/pkg/engine.js`);
  assert.match(js.headers.get("content-type"), /^text\/javascript/);
  const html = await fetch(`${base}/`);
  assert.match(html.headers.get("content-type"), /^text\/html/);
  assert.match(await html.text(), /<title>t<\/title>/);
});

test("gzip only when the client accepts it, and the bytes survive", async () => {
  // fetch() always asks for gzip and decodes it; node:http shows the bytes on the wire.
  const raw = (accept) =>
    new Promise((ok) =>
      get(`${base}/pkg/engine.js`, { headers: { "accept-encoding": accept } }, (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => ok({ headers: res.headers, body: Buffer.concat(chunks) }));
      }),
    );
  const zipped = await raw("gzip, br");
  assert.equal(zipped.headers["content-encoding"], "gzip");
  assert.equal(gunzipSync(zipped.body).toString(), "export const x = 1;\n".repeat(50));
  const plain = await raw("identity");
  assert.equal(plain.headers["content-encoding"], undefined);
  assert.equal(plain.body.toString(), "export const x = 1;\n".repeat(50));
});

test("a strict Content-Security-Policy on every response: no eval, wasm allowed, same origin", async () => {
  for (const path of ["/", "/pkg/engine.js", "/missing"]) {
    const csp = (await fetch(base + path)).headers.get("content-security-policy");
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'(;|$)/);
    assert.doesNotMatch(csp, /'unsafe-eval'|'unsafe-inline'|https?:|\*/);
  }
});

test("404 for missing files, nothing outside the root, GET and HEAD only", async () => {
  assert.equal((await fetch(`${base}/nope.js`)).status, 404);
  assert.equal((await fetch(`${base}/%2e%2e/cnn-lab-outside.txt`)).status, 404);
  assert.equal((await fetch(`${base}/..%2fcnn-lab-outside.txt`)).status, 403);
  assert.equal((await fetch(`${base}/`, { method: "POST" })).status, 405);
  const head = await fetch(`${base}/pkg/engine_bg.wasm`, { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal((await head.arrayBuffer()).byteLength, 0);
});
