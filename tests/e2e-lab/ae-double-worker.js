// TEST DOUBLE, never served by the site: a module worker that speaks the protocol of
// docs/protocol.md for the autoencoder exercises, with synthetic deterministic images and no
// learning. Its "models" follow simple rules (below) so that the tests can recompute, in node, what
// the page must show (mean errors, PSNR, AUC) from the same exported functions. Nothing it returns is
// a training result.
//
// Test digit i has label i % 10: a class pattern (two bars whose position depends on the class) plus
// a faint per-image mark. Reconstruction rules:
//   trained on classes [c]:   the class-c pattern mixed with 10% of the input
//   trained with noise:       the pattern of the nearest class (a perfect "denoiser")
//   otherwise, latent k:      nearest pattern + (input - pattern) * k / 64 (more survives as k grows)

export function pattern(cls) {
  const img = new Float32Array(784);
  const col = 4 + 2 * cls;
  const row = 3 + 2 * cls;
  for (let y = 4; y < 24; y++) img[y * 28 + col] = img[y * 28 + col + 1] = 1;
  for (let x = 6; x < 22; x++) img[row * 28 + x] = 0.8;
  return img;
}

export function testImage(i) {
  const img = pattern(i % 10);
  img[(i * 37) % 784] = Math.max(img[(i * 37) % 784], 0.5);
  img[(i * 53 + 11) % 784] = 0.3;
  return img;
}

export function nearestClass(img) {
  let best = 0, bd = Infinity;
  for (let c = 0; c < 10; c++) {
    const p = pattern(c);
    let d = 0;
    for (let j = 0; j < 784; j++) d += (img[j] - p[j]) ** 2;
    if (d < bd) { bd = d; best = c; }
  }
  return best;
}

// model: { spec, train } where train is the last train command (or null).
export function reconstructOne(model, img) {
  const t = model.train || {};
  let proto, keep;
  if (t.classes) [proto, keep] = [pattern(t.classes[0]), 0.1];
  else if (t.noise) [proto, keep] = [pattern(nearestClass(img)), 0];
  else [proto, keep] = [pattern(nearestClass(img)), Math.min(1, (model.spec.latent || 16) / 64)];
  return proto.map((p, j) => p + (img[j] - p) * keep);
}

export function encodeOne(model, img) {
  const k = model.spec.latent;
  const c = nearestClass(img);
  let mass = 0;
  for (const v of img) mass += v;
  const z = new Float32Array(k);
  const r = 3 + (mass % 1);
  z[0] = r * Math.cos((2 * Math.PI * c) / 10);
  if (k > 1) z[1] = r * Math.sin((2 * Math.PI * c) / 10);
  for (let j = 2; j < k; j++) z[j] = 0.1 * j;
  return z;
}

export function decodeOne(model, z) {
  const angle = Math.atan2(z[1] || 0, z[0]);
  const c = ((Math.round((angle / (2 * Math.PI)) * 10) % 10) + 10) % 10;
  const p = pattern(c);
  return model.spec.kind === 'vae' ? p : p.map((v) => v * 0.5 + 0.1);
}

// A stand-in judge for the acceptance test's dry run: confident only near a class pattern.
export function predictOne(img) {
  const c = nearestClass(img);
  const p = pattern(c);
  let d = 0;
  for (let j = 0; j < 784; j++) d += (img[j] - p[j]) ** 2;
  const top = Math.exp((-300 * d) / 784);
  const probs = new Float32Array(10).fill((1 - top) / 9);
  probs[c] = top;
  return probs;
}

export const STEPS = 10;

// losses reported by the double at a given step (x = epochs so far)
export function lossesAt(kind, x) {
  if (kind === 'vae') {
    const recon = 200 * Math.exp(-0.3 * x) + 90;
    const kl = 25 - 10 * Math.exp(-x);
    return { loss: recon + kl, recon, kl };
  }
  return { loss: 0.1 * Math.exp(-0.5 * x) + 0.01 };
}

if (typeof WorkerGlobalScope !== 'undefined') {
  const models = new Map();
  const reply = (id, fields) => self.postMessage({ id, type: 'ok', ...fields });
  const fail = (id, message) => self.postMessage({ id, type: 'error', message });
  const perImage = (images, latent, fn) => {
    const n = images.length / latent;
    const first = fn(images.subarray(0, latent));
    const out = new Float32Array(n * first.length);
    for (let i = 0; i < n; i++) out.set(i ? fn(images.subarray(i * latent, (i + 1) * latent)) : first, i * first.length);
    return out;
  };

  function train(id, msg) {
    const m = models.get(msg.slot);
    m.train = msg;
    m.run = { paused: false, stopped: false };
    let epoch = 0;
    let step = 0;
    const tick = () => {
      if (m.run.stopped) return reply(id, { stopped: true, epochs: epoch, metrics: {} });
      if (m.run.paused) return setTimeout(tick, 10);
      step += 1;
      const losses = lossesAt(m.spec.kind, epoch + step / STEPS);
      self.postMessage({ type: 'progress', slot: msg.slot, step, epoch, stepsPerEpoch: STEPS, losses, imagesPerSec: 1000, etaS: 1 });
      if (step === STEPS) {
        step = 0;
        epoch += 1;
        self.postMessage({ type: 'epoch', slot: msg.slot, epoch, test: { loss: losses.loss, mse: 0.02 } });
        if (epoch === msg.epochs) return reply(id, { stopped: false, epochs: epoch, metrics: {} });
      }
      setTimeout(tick, 4);
    };
    setTimeout(tick, 0);
  }

  self.onmessage = (e) => {
    const msg = e.data;
    const { id, type } = msg;
    const m = models.get(msg.slot);
    if (['train', 'reconstruct', 'encode', 'decode', 'sample', 'predict'].includes(type) && !m) return fail(id, `no model in slot ${msg.slot}`);
    switch (type) {
      case 'init':
        return reply(id, { backend: { kind: 'cpu', description: 'AE protocol test double', reason: 'test' } });
      case 'setBackend':
        return reply(id, { backend: { kind: 'cpu', description: 'AE double', reason: 'test' } });
      case 'loadData':
        return reply(id, { train: 8000, test: 2000 });
      case 'testImages': {
        const idx = msg.indices || Array.from({ length: msg.count }, (_, i) => msg.start + i);
        const images = new Float32Array(idx.length * 784);
        idx.forEach((ix, i) => images.set(testImage(ix), i * 784));
        return reply(id, { images, labels: Uint8Array.from(idx, (ix) => ix % 10) });
      }
      case 'createModel':
        models.set(msg.slot, { spec: msg.spec, train: null, run: null });
        return reply(id, { summary: [{ name: msg.spec.kind, outShape: [784], params: 1000 }], totalParams: 1000 });
      case 'train':
        return train(id, msg);
      case 'pause':
      case 'resume':
      case 'stop':
        if (m?.run) {
          if (type === 'stop') m.run.stopped = true;
          else m.run.paused = type === 'pause';
        }
        return reply(id, {});
      case 'reconstruct':
        return reply(id, { images: perImage(msg.images, 784, (img) => reconstructOne(m, img)) });
      case 'encode': {
        const z = perImage(msg.images, 784, (img) => encodeOne(m, img));
        return reply(id, m.spec.kind === 'vae' ? { z, mu: z.slice(), logvar: new Float32Array(z.length).fill(-1) } : { z });
      }
      case 'decode':
        return reply(id, { images: perImage(msg.z, m.spec.latent, (z) => decodeOne(m, z)) });
      case 'predict':
        return reply(id, { probs: predictOne(msg.image) });
      case 'sample': {
        const images = new Float32Array(msg.count * 784);
        for (let i = 0; i < msg.count; i++) images.set(pattern((msg.seed + i) % 10), i * 784);
        return reply(id, { images });
      }
      default:
        return fail(id, `unknown command ${type}`);
    }
  };
}
