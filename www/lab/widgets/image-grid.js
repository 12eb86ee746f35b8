// Renders a batch of single-channel images from a Float32Array.
// shape: [n, h, w] (or [h, w] for one image); data is row-major, image after image.
// colormap 'gray': [lo, hi] -> black..white (white ink on black, as MNIST).
// colormap 'diverging': symmetric around 0, blue (negative) - white (0) - red (positive); for filters
// and activations, whose sign matters.
// range: 'each' scales every image on its own, 'all' uses one scale for the batch, or [lo, hi].

import { h } from './dom.js';

function rangeOf(data, from, to, diverging) {
  let lo = Infinity, hi = -Infinity;
  for (let i = from; i < to; i++) {
    const v = data[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (diverging) {
    const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
    return [-m, m];
  }
  return hi > lo ? [lo, hi] : [lo, lo + 1];
}

export function colour(v, lo, hi, diverging) {
  if (diverging) {
    const t = Math.max(-1, Math.min(1, v / hi));
    // white at 0, towards (33,102,172) for -1 and (178,24,43) for +1
    const [r, g, b] = t < 0 ? [33, 102, 172] : [178, 24, 43];
    const a = Math.abs(t);
    return [255 + (r - 255) * a, 255 + (g - 255) * a, 255 + (b - 255) * a];
  }
  const g = Math.max(0, Math.min(1, (v - lo) / (hi - lo))) * 255;
  return [g, g, g];
}

export function imageCanvas(data, offset, hgt, wid, { lo, hi, diverging = false, scale = 3, label } = {}) {
  const c = h('canvas', { class: 'pix', width: wid, height: hgt, role: 'img', 'aria-label': label || `${hgt}×${wid} image` });
  c.style.width = `${wid * scale}px`;
  c.style.height = `${hgt * scale}px`;
  const ctx = c.getContext('2d');
  const img = ctx.createImageData(wid, hgt);
  for (let i = 0; i < wid * hgt; i++) {
    const [r, g, b] = colour(data[offset + i], lo, hi, diverging);
    img.data[i * 4] = r;
    img.data[i * 4 + 1] = g;
    img.data[i * 4 + 2] = b;
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return c;
}

export class ImageGrid {
  constructor({ label = 'Images', scale = 3, colormap = 'gray', range = [0, 1] } = {}) {
    this.opts = { scale, colormap, range };
    this.el = h('div', { class: 'image-grid', role: 'group', 'aria-label': label });
  }

  // captions: optional array of strings under each image; labels: short text over each image.
  render(data, shape, { captions, labels, scale, colormap, range, highlight } = {}) {
    const o = { ...this.opts };
    if (scale) o.scale = scale;
    if (colormap) o.colormap = colormap;
    if (range) o.range = range;
    const [n, hh, ww] = shape.length === 2 ? [1, ...shape] : shape;
    const per = hh * ww;
    const diverging = o.colormap === 'diverging';
    const all = o.range === 'all' ? rangeOf(data, 0, n * per, diverging) : null;
    this.el.replaceChildren();
    for (let i = 0; i < n; i++) {
      let [lo, hi] = Array.isArray(o.range) ? o.range : all || rangeOf(data, i * per, (i + 1) * per, diverging);
      if (diverging && Array.isArray(o.range)) [lo, hi] = [-Math.abs(hi), Math.abs(hi)];
      const text = captions?.[i] ?? '';
      const canvas = imageCanvas(data, i * per, hh, ww, { lo, hi, diverging, scale: o.scale, label: text || `image ${i + 1}` });
      const fig = h('figure', { class: highlight?.[i] ? 'cell hl' : 'cell' });
      if (labels?.[i] != null) fig.append(h('span', { class: 'cell-label', text: labels[i] }));
      fig.append(canvas);
      if (text) fig.append(h('figcaption', { text }));
      this.el.append(fig);
    }
    return this;
  }
}
