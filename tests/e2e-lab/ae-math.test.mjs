// ae-math.js against values worked out by hand and against brute-force definitions.
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  perImageMse, psnr, psnrFromMse, psnrPerImage, roc, atThreshold, histogram, quantile, addNoise, rng, interpolate, slerp, latentGrid, mosaic,
} from '../../www/lab/ae-math.js';

const close = (a, b, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

test('PSNR of known images', () => {
  const zero = new Float32Array(784);
  const grey = new Float32Array(784).fill(0.1);
  close(psnr(zero, grey), 20, 1e-5); // MSE 0.01 -> 10 log10(100)
  const dot = new Float32Array(784);
  dot[300] = 1;
  close(psnr(zero, dot), 10 * Math.log10(784), 1e-9); // one wrong pixel out of 784
  assert.equal(psnr(dot, dot), Infinity);
  close(psnrFromMse(0.25, 2), 10 * Math.log10(16));
  const both = new Float32Array(1568);
  both.set(grey, 784);
  const r = psnrPerImage(both, new Float32Array(1568).fill(0.1));
  assert.deepEqual(r.per.map((x) => Math.round(x * 1e4) / 1e4), [20, Infinity]);
});

test('per-image MSE', () => {
  const a = Float32Array.from([0, 0, 1, 1]);
  const b = Float32Array.from([0, 1, 1, 0.5]);
  assert.deepEqual([...perImageMse(a, b, 2)], [0.5, 0.125]);
  assert.throws(() => perImageMse(a, b.subarray(1), 2));
});

test('AUC of known cases', () => {
  // the scikit-learn documentation example: 0.75
  close(roc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]).auc, 0.75);
  close(roc([1, 2, 3, 4], [0, 0, 1, 1]).auc, 1);
  close(roc([4, 3, 2, 1], [0, 0, 1, 1]).auc, 0);
  close(roc([5, 5, 5, 5], [0, 1, 0, 1]).auc, 0.5);
  // one positive tied with one negative, above another negative: (1 + 0.5) / 2
  close(roc([3, 3, 1], [1, 0, 0]).auc, 0.75);
  const { points } = roc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]);
  assert.deepEqual(points.map((p) => [p.fpr, p.tpr]), [[0, 0], [0, 0.5], [0.5, 0.5], [0.5, 1], [1, 1]]);
  assert.throws(() => roc([1, 2], [1, 1]));
});

test('AUC equals the Mann-Whitney probability on random scores with ties', () => {
  const r = rng(7);
  const scores = Array.from({ length: 300 }, () => Math.round(r() * 20) / 20);
  const pos = scores.map((s) => (r() < 0.3 + s * 0.4 ? 1 : 0));
  let wins = 0, pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!pos[i]) continue;
    for (let j = 0; j < scores.length; j++) {
      if (pos[j]) continue;
      pairs++;
      wins += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  close(roc(scores, pos).auc, wins / pairs, 1e-12);
});

test('precision and recall at a threshold', () => {
  const s = [0.1, 0.4, 0.35, 0.8, 0.9];
  const p = [0, 0, 1, 1, 0];
  const m = atThreshold(s, p, 0.35);
  assert.deepEqual([m.tp, m.fp, m.fn, m.tn], [2, 2, 0, 1]);
  close(m.precision, 0.5);
  close(m.recall, 1);
  const hi = atThreshold(s, p, 0.85);
  assert.deepEqual([hi.tp, hi.fp, hi.fn, hi.tn], [0, 1, 2, 2]);
  close(hi.precision, 0);
  assert.ok(Number.isNaN(atThreshold(s, p, 2).precision));
});

test('histogram and quantile', () => {
  assert.deepEqual(histogram([0, 0.1, 0.5, 0.99, 1, 7, -3], 0, 1, 4), [3, 0, 1, 3]);
  close(quantile([4, 1, 3, 2], 0.5), 2.5);
  close(quantile([4, 1, 3, 2], 1), 4);
});

test('noise models: level, clipping, determinism', () => {
  const clean = new Float32Array(20000).fill(0.5);
  const g = addNoise(clean, { type: 'gaussian', level: 0.1 }, 3);
  let s = 0, s2 = 0;
  for (const v of g) { s += v - 0.5; s2 += (v - 0.5) ** 2; }
  close(s / g.length, 0, 0.005);
  close(Math.sqrt(s2 / g.length), 0.1, 0.005);
  const big = addNoise(clean, { type: 'gaussian', level: 2 }, 3);
  assert.ok(big.every((v) => v >= 0 && v <= 1));
  assert.deepEqual(addNoise(clean, { type: 'gaussian', level: 0.1 }, 3), g);
  assert.notDeepEqual(addNoise(clean, { type: 'gaussian', level: 0.1 }, 4), g);
  const sp = addNoise(clean, { type: 'saltpepper', level: 0.2 }, 5);
  const zeros = sp.filter((v) => v === 0).length / sp.length;
  const ones = sp.filter((v) => v === 1).length / sp.length;
  close(zeros, 0.1, 0.01);
  close(ones, 0.1, 0.01);
  const m = addNoise(clean, { type: 'mask', level: 0.3 }, 5);
  close(m.filter((v) => v === 0).length / m.length, 0.3, 0.015);
  assert.ok(m.every((v) => v === 0 || v === 0.5));
  assert.throws(() => addNoise(clean, { type: 'blur', level: 1 }));
  // in chunks with one generator: the same as one call
  const gen = rng(3);
  const parts = [addNoise(clean.subarray(0, 7000), { type: 'gaussian', level: 0.1 }, gen), addNoise(clean.subarray(7000), { type: 'gaussian', level: 0.1 }, gen)];
  assert.deepEqual(Float32Array.from([...parts[0], ...parts[1]]), g);
});

test('spherical interpolation', () => {
  const f = (...v) => Float32Array.from(v);
  // a quarter circle of radius 2: the midpoint at 45 degrees, on the circle (the line's is at √2)
  const arc = slerp(f(2, 0), f(0, 2), 3);
  [2, 0, Math.SQRT2, Math.SQRT2, 0, 2].forEach((v, i) => close(arc[i], v, 1e-6));
  // every point of an arc between codes of equal length keeps that length
  const a = f(1, 2, -2, 0.5);
  const b = f(-2, 1, 0.5, 2);
  const path = slerp(a, b, 7);
  for (let s = 0; s < 7; s++) close(Math.hypot(...path.subarray(4 * s, 4 * s + 4)), Math.hypot(...a), 1e-5);
  // parallel and opposite codes have no plane to turn in: the straight line
  assert.deepEqual([...slerp(f(1, 1), f(3, 3), 3)], [...interpolate(f(1, 1), f(3, 3), 3)]);
  assert.deepEqual([...slerp(f(1, 0), f(-1, 0), 3)], [1, 0, 0, 0, -1, 0]);
});

test('interpolation, latent grid and mosaic', () => {
  assert.deepEqual([...interpolate(Float32Array.from([0, 2]), Float32Array.from([4, -2]), 3)], [0, 2, 2, 0, 4, -2]);
  assert.deepEqual([...latentGrid(3, 1)], [-1, 1, 0, 1, 1, 1, -1, 0, 0, 0, 1, 0, -1, -1, 0, -1, 1, -1]);
  // three 1x2 tiles in 2 columns: 2 rows of 4 values, the missing tile is zero
  const m = mosaic(Float32Array.from([1, 2, 3, 4, 5, 6]), 3, 1, 2, 2);
  assert.deepEqual([m.h, m.w, ...m.data], [2, 4, 1, 2, 3, 4, 5, 6, 0, 0]);
});
