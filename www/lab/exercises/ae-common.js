// Shared by the autoencoder exercises (ae-*.js): their stylesheet, model specs, batched calls to the
// engine, and image stacks (several versions of one digit under each other, e.g. input over output).

import { h, field } from '../widgets/dom.js';
import { ImageGrid } from '../widgets/image-grid.js';

export function ensureStyles() {
  const url = new URL('../ae.css', import.meta.url).href;
  if ([...document.querySelectorAll('link[rel=stylesheet]')].some((l) => l.href === url)) return;
  document.head.append(h('link', { rel: 'stylesheet', href: url }));
}

export const TRAIN = { batch: 32, lr: 0.002, optimizer: 'adam' };

// Runs fn(arg) one call at a time; calls made meanwhile are coalesced into the latest one, so a
// drawing updates its reconstruction as fast as the engine answers and never queues up.
export function latest(fn, onError) {
  let busy = false;
  let queued = null;
  async function run(arg) {
    busy = true;
    try {
      await fn(arg);
    } catch (e) {
      onError?.(e);
    } finally {
      busy = false;
      if (queued) {
        const next = queued;
        queued = null;
        run(next);
      }
    }
  }
  return (arg) => {
    if (busy) queued = arg;
    else run(arg);
  };
}

// The engine client transfers the buffers it sends, so every call gets its own copy.
export async function reconstruct(engine, slot, images, chunk = 250) {
  const n = images.length / 784;
  const out = new Float32Array(images.length);
  for (let i = 0; i < n; i += chunk) {
    const part = images.slice(i * 784, Math.min(n, i + chunk) * 784);
    const r = await engine.call('reconstruct', { slot, images: part });
    out.set(r.images, i * 784);
  }
  return out;
}

export async function testImages(engine, count, start = 0) {
  return engine.call('testImages', { start, count });
}

// Tiles k versions of each of n digits vertically, with a one-pixel grey line between versions:
// versions is [Float32Array(n*784), ...].
const SEP = 0.35;
export function stacks(versions, n) {
  const k = versions.length;
  const hh = 28 * k + (k - 1);
  const out = new Float32Array(n * hh * 28);
  for (let i = 0; i < n; i++) {
    versions.forEach((v, j) => {
      const at = i * hh * 28 + j * 29 * 28;
      out.set(v.subarray(i * 784, (i + 1) * 784), at);
      if (j < k - 1) out.fill(SEP, at + 784, at + 812);
    });
  }
  return { data: out, shape: [n, hh, 28] };
}

export function stackGrid(label, scale = 2) {
  return new ImageGrid({ label, scale });
}

export function renderStacks(grid, versions, n, captions) {
  const s = stacks(versions, n);
  grid.render(s.data, s.shape, { captions });
}

export function fmt(x, digits = 4) {
  if (!Number.isFinite(x)) return x === Infinity ? '∞' : '–';
  return x.toFixed(digits);
}

// A range slider with its value shown beside it: returns { wrap, input, output }.
export function slider(label, { min, max, step, value, format = (v) => String(v) }) {
  const input = h('input', { type: 'range', min, max, step, value: String(value) });
  const output = h('output', { text: format(Number(value)) });
  input.addEventListener('input', () => {
    output.textContent = format(Number(input.value));
  });
  const f = field(label, input);
  f.wrap.classList.add('slider-field');
  f.wrap.append(output);
  output.setAttribute('for', input.id);
  return { wrap: f.wrap, input, output };
}

export function concat(a, b) {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
