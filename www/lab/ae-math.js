// Plain-JS metrics for the autoencoder exercises, computed in the page from the images the engine
// returns: per-image MSE, PSNR, the ROC curve and its AUC, precision and recall at a threshold,
// histograms, and the noise models used to corrupt inputs. Images are Float32Arrays of n*784 values
// in [0, 1], image after image.

export const PIXELS = 784;

// Mean squared error of each image against its target: Float64Array(n).
export function perImageMse(a, b, size = PIXELS) {
  if (a.length !== b.length || a.length % size !== 0) throw new Error('perImageMse: sizes differ');
  const n = a.length / size;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = i * size; j < (i + 1) * size; j++) {
      const d = a[j] - b[j];
      s += d * d;
    }
    out[i] = s / size;
  }
  return out;
}

// Peak signal-to-noise ratio in dB for pixels in [0, peak]: 10 log10(peak^2 / MSE).
// Identical images give Infinity.
export function psnrFromMse(mse, peak = 1) {
  return mse === 0 ? Infinity : 10 * Math.log10((peak * peak) / mse);
}

export function psnr(a, b, peak = 1) {
  return psnrFromMse(perImageMse(a, b, a.length)[0], peak);
}

// PSNR of each image and their mean (the mean of per-image dB values, as usually reported).
export function psnrPerImage(a, b, size = PIXELS) {
  const per = Array.from(perImageMse(a, b, size), (m) => psnrFromMse(m));
  return { per, mean: mean(per) };
}

export function mean(xs) {
  let s = 0;
  for (const x of xs) s += x;
  return xs.length ? s / xs.length : NaN;
}

// ROC for "positive if score >= t", swept over every distinct score from high to low.
// scores: higher means more likely positive; positive[i] truthy for the positive class.
// Returns { points: [{ fpr, tpr, threshold }], auc }, starting at (0, 0) and ending at (1, 1).
// Tied scores move the curve diagonally, which counts a tie between a positive and a negative as
// half a correct ordering: the AUC equals the Mann-Whitney U statistic divided by P * N.
export function roc(scores, positive) {
  const n = scores.length;
  let P = 0;
  for (let i = 0; i < n; i++) if (positive[i]) P++;
  const N = n - P;
  if (P === 0 || N === 0) throw new Error('roc: needs both positives and negatives');
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => scores[j] - scores[i]);
  const points = [{ fpr: 0, tpr: 0, threshold: Infinity }];
  let tp = 0, fp = 0, auc = 0;
  for (let k = 0; k < n; ) {
    const t = scores[order[k]];
    let dtp = 0, dfp = 0;
    while (k < n && scores[order[k]] === t) {
      if (positive[order[k]]) dtp++;
      else dfp++;
      k++;
    }
    auc += (dfp / N) * ((tp + dtp / 2) / P);
    tp += dtp;
    fp += dfp;
    points.push({ fpr: fp / N, tpr: tp / P, threshold: t });
  }
  return { points, auc };
}

// Counts and rates when everything with score >= threshold is called positive.
// Precision is NaN when nothing is called positive.
export function atThreshold(scores, positive, threshold) {
  let tp = 0, fp = 0, fn = 0, tn = 0;
  for (let i = 0; i < scores.length; i++) {
    const called = scores[i] >= threshold;
    if (positive[i]) called ? tp++ : fn++;
    else called ? fp++ : tn++;
  }
  return {
    tp, fp, fn, tn,
    precision: tp + fp ? tp / (tp + fp) : NaN,
    recall: tp + fn ? tp / (tp + fn) : NaN,
    fpr: fp + tn ? fp / (fp + tn) : NaN,
  };
}

// Counts per bin over [lo, hi) with `bins` equal bins; values at or past hi go to the last bin,
// below lo to the first.
export function histogram(values, lo, hi, bins) {
  const counts = new Array(bins).fill(0);
  const w = (hi - lo) / bins;
  for (const v of values) {
    const b = w > 0 ? Math.floor((v - lo) / w) : 0;
    counts[Math.max(0, Math.min(bins - 1, b))]++;
  }
  return counts;
}

export function quantile(values, q) {
  const s = Array.from(values).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const pos = Math.max(0, Math.min(1, q)) * (s.length - 1);
  const i = Math.floor(pos);
  return i + 1 < s.length ? s[i] + (s[i + 1] - s[i]) * (pos - i) : s[i];
}

// Seeded generator (mulberry32): the same seed gives the same noise in every browser.
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gaussian(rand) {
  const u = 1 - rand(); // (0, 1], so the log is finite
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

// Corrupts a copy of `images`:
//   gaussian:   x + N(0, level^2), clipped to [0, 1]
//   saltpepper: a fraction `level` of the pixels set to 0 or 1 (half each on average)
//   mask:       a fraction `level` of the pixels set to 0 (dropped out)
// `seed` may also be a generator from rng(), so that noise can be made in chunks and still equal
// one call on the whole array.
export function addNoise(images, { type, level }, seed = 1) {
  const rand = typeof seed === 'function' ? seed : rng(seed);
  const out = new Float32Array(images.length);
  for (let i = 0; i < images.length; i++) {
    const x = images[i];
    if (type === 'gaussian') out[i] = Math.min(1, Math.max(0, x + level * gaussian(rand)));
    else if (type === 'saltpepper') out[i] = rand() < level ? (rand() < 0.5 ? 0 : 1) : x;
    else if (type === 'mask') out[i] = rand() < level ? 0 : x;
    else throw new Error(`unknown noise type ${type}`);
  }
  return out;
}

// Points on the segment from a to b (both Float32Array(latent)), `steps` of them including both ends.
export function interpolate(a, b, steps) {
  const d = a.length;
  const out = new Float32Array(steps * d);
  for (let s = 0; s < steps; s++) {
    const t = steps === 1 ? 0 : s / (steps - 1);
    for (let j = 0; j < d; j++) out[s * d + j] = a[j] + (b[j] - a[j]) * t;
  }
  return out;
}

// `steps` points from a to b along the great circle (spherical interpolation, "slerp"; White 2016,
// "Sampling Generative Networks"): a·sin((1−t)ω)/sin ω + b·sin(tω)/sin ω, ω the angle between them.
// Why: in k dimensions nearly all of N(0, I) lies at a distance of about √k from the origin, and a
// VAE's codes spread out like it. The straight line between two such codes cuts inside that shell
// (at its midpoint the length shrinks by cos(ω/2)), where few codes lie; the arc keeps the length
// when |a| = |b|. Nearly parallel or opposite codes (sin ω ≈ 0) fall back to the straight line.
export function slerp(a, b, steps) {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let j = 0; j < a.length; j++) {
    dot += a[j] * b[j];
    na += a[j] * a[j];
    nb += b[j] * b[j];
  }
  const omega = Math.acos(Math.min(1, Math.max(-1, dot / Math.sqrt(na * nb))));
  if (!(Math.sin(omega) > 1e-6)) return interpolate(a, b, steps);
  const d = a.length;
  const out = new Float32Array(steps * d);
  for (let s = 0; s < steps; s++) {
    const t = steps === 1 ? 0 : s / (steps - 1);
    const [ca, cb] = [Math.sin((1 - t) * omega) / Math.sin(omega), Math.sin(t * omega) / Math.sin(omega)];
    for (let j = 0; j < d; j++) out[s * d + j] = ca * a[j] + cb * b[j];
  }
  return out;
}

// A g x g grid of 2-D latent points over [-r, r]^2, row-major with z2 decreasing downwards (so the
// picture has z2 pointing up, as on a plot).
export function latentGrid(g, r) {
  const z = new Float32Array(g * g * 2);
  for (let row = 0; row < g; row++) {
    for (let col = 0; col < g; col++) {
      const k = (row * g + col) * 2;
      z[k] = g === 1 ? 0 : -r + (2 * r * col) / (g - 1);
      z[k + 1] = g === 1 ? 0 : r - (2 * r * row) / (g - 1);
    }
  }
  return z;
}

// n tiles of th x tw (row-major, tile after tile) laid out in a cols-wide mosaic.
export function mosaic(tiles, n, th, tw, cols) {
  const rows = Math.ceil(n / cols);
  const W = cols * tw;
  const out = new Float32Array(rows * th * W);
  for (let i = 0; i < n; i++) {
    const r0 = Math.floor(i / cols) * th;
    const c0 = (i % cols) * tw;
    // a row at a time (a native copy): a loop per pixel, run once and not yet optimised by the JIT,
    // took 12 ms for 64 digits, on the main thread as training ends
    for (let y = 0; y < th; y++) out.set(tiles.subarray((i * th + y) * tw, (i * th + y + 1) * tw), (r0 + y) * W + c0);
  }
  return { data: out, h: rows * th, w: W };
}
