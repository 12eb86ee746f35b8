// A small static file server for the lab (Node built-ins only).
//   node scripts/serve.mjs [--root dist] [--port 8080] [--host 127.0.0.1] [--isolated]
//   (--port 0: any free port)
// Correct MIME types (application/wasm lets the browser compile while downloading), gzip when the
// browser accepts it, and a strict Content-Security-Policy: same-origin only, no eval, wasm allowed.
// The page needs neither COOP nor COEP. --isolated adds both (COOP same-origin, COEP require-corp):
// the pages are then cross-origin isolated, which multi-threaded training (www/threads.js) needs
// for its SharedArrayBuffer, but other sites can no longer embed them, hence not the default.
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".bin": "application/octet-stream",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
};
const COMPRESSIBLE = new Set([".html", ".js", ".mjs", ".css", ".json", ".wasm", ".bin", ".svg", ".txt"]);

export const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data: blob:",
  "style-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'self'",
].join("; ");

const SECURITY_HEADERS = {
  "Content-Security-Policy": CSP,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-cache",
};

/** What --isolated adds to every response: the page becomes cross-origin isolated. */
export const ISOLATION_HEADERS = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

/** Starts serving `root`; resolves to the listening http.Server. */
export function startServer({ root = "dist", port = 8080, host = "127.0.0.1", log = false, isolated = false } = {}) {
  const always = isolated ? { ...SECURITY_HEADERS, ...ISOLATION_HEADERS } : SECURITY_HEADERS;
  const base = resolve(root);
  const gzipCache = new Map(); // path -> { mtimeMs, body }

  const server = createServer(async (req, res) => {
    const send = (status, headers, body) => {
      res.writeHead(status, { ...always, ...headers });
      res.end(req.method === "HEAD" ? undefined : body);
      if (log) console.log(`${status} ${req.method} ${req.url}`);
    };
    if (req.method !== "GET" && req.method !== "HEAD") {
      return send(405, { Allow: "GET, HEAD", "Content-Type": MIME[".txt"] }, "method not allowed\n");
    }
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    } catch {
      return send(400, { "Content-Type": MIME[".txt"] }, "bad request\n");
    }
    let file = normalize(join(base, path));
    if (file !== base && !file.startsWith(base + sep)) {
      return send(403, { "Content-Type": MIME[".txt"] }, "forbidden\n");
    }
    try {
      let info = await stat(file);
      if (info.isDirectory()) {
        file = join(file, "index.html");
        info = await stat(file);
      }
      const ext = extname(file);
      const headers = { "Content-Type": MIME[ext] ?? "application/octet-stream" };
      let body;
      if (COMPRESSIBLE.has(ext) && /\bgzip\b/.test(req.headers["accept-encoding"] ?? "")) {
        let cached = gzipCache.get(file);
        if (!cached || cached.mtimeMs !== info.mtimeMs) {
          cached = { mtimeMs: info.mtimeMs, body: gzipSync(await readFile(file)) };
          gzipCache.set(file, cached);
        }
        body = cached.body;
        headers["Content-Encoding"] = "gzip";
        headers["Vary"] = "Accept-Encoding";
      } else {
        body = await readFile(file);
      }
      headers["Content-Length"] = body.length;
      send(200, headers, body);
    } catch {
      send(404, { "Content-Type": MIME[".txt"] }, "not found\n");
    }
  });

  return new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(port, host, () => ok(server));
  });
}

function parseArgs(argv) {
  const opts = { root: "dist", port: Number(process.env.PORT ?? 8080), host: "127.0.0.1", log: true };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === "--root") opts.root = value;
    else if (flag === "--port") opts.port = Number(value);
    else if (flag === "--host") opts.host = value;
    else if (flag === "--isolated") (opts.isolated = true), i--;
    else throw new Error(`unknown option ${flag} (use --root DIR --port N --host ADDR --isolated)`);
  }
  return opts;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const opts = parseArgs(process.argv.slice(2));
  const server = await startServer(opts);
  const { address, port } = server.address();
  const isolated = opts.isolated ? ", cross-origin isolated" : "";
  console.log(`CNN Lab: serving ${resolve(opts.root)} at http://${address}:${port}/${isolated}  (Ctrl+C stops)`);
}
