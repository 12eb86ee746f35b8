// Data augmentation of one 28x28 image in plain JS, for the preview grid (the engine augments
// training batches itself). Each call draws random parameters within the given limits:
// rotate: max degrees (±), shift: max pixels (±, per axis), zoom: max fraction (1 ± zoom),
// flipH / flipV: flip with probability 1/2, contrast: max fraction (factor 1 ± contrast around 0.5),
// noise: standard deviation of added Gaussian noise. Result clamped to [0,1].

export function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gauss(rand) {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

function bilinear(img, x, y) {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  const at = (xx, yy) => (xx < 0 || yy < 0 || xx > 27 || yy > 27 ? 0 : img[yy * 28 + xx]);
  return (
    at(x0, y0) * (1 - fx) * (1 - fy) + at(x0 + 1, y0) * fx * (1 - fy) + at(x0, y0 + 1) * (1 - fx) * fy + at(x0 + 1, y0 + 1) * fx * fy
  );
}

// Deterministic transform with explicit parameters (angle in degrees, dx/dy in pixels, scale factor).
export function transform(img, { angle = 0, dx = 0, dy = 0, scale = 1, flipH = false, flipV = false }) {
  const out = new Float32Array(784);
  const a = (angle * Math.PI) / 180;
  const cos = Math.cos(a);
  const sin = Math.sin(a);
  const c = 13.5;
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      // inverse map: output pixel -> source pixel
      let u = x - c - dx;
      let v = y - c - dy;
      const ru = (cos * u + sin * v) / scale;
      const rv = (-sin * u + cos * v) / scale;
      u = flipH ? -ru : ru;
      v = flipV ? -rv : rv;
      out[y * 28 + x] = bilinear(img, u + c, v + c);
    }
  }
  return out;
}

export function augment(img, opts, rand) {
  const r = (m) => (rand() * 2 - 1) * m;
  const out = transform(img, {
    angle: r(opts.rotate || 0),
    dx: r(opts.shift || 0),
    dy: r(opts.shift || 0),
    scale: 1 + r(opts.zoom || 0),
    flipH: !!opts.flipH && rand() < 0.5,
    flipV: !!opts.flipV && rand() < 0.5,
  });
  const k = 1 + r(opts.contrast || 0);
  for (let i = 0; i < 784; i++) {
    let v = (out[i] - 0.5) * k + 0.5;
    if (opts.noise) v += gauss(rand) * opts.noise;
    out[i] = Math.min(1, Math.max(0, v));
  }
  return out;
}
