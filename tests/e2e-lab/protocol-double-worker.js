// TEST DOUBLE, never served by the site: a module worker that speaks the protocol of
// docs/protocol.md with synthetic, deterministic numbers and no learning at all. It lets the
// UI of exercises 5-8 be tested (messages sent, events routed, results rendered, pause/resume/stop)
// while the real engine worker is built elsewhere. Nothing it returns is a training result.

const models = new Map(); // slot -> { spec, trainedEpochs, run }

function reply(id, fields) {
  self.postMessage({ id, type: 'ok', ...fields });
}

function outSize(n, k, s, p) {
  return Math.floor((n + 2 * p - k) / s) + 1;
}

// Independent of the page's conv-math.js on purpose: the page compares its own count with this one.
function summarize(spec) {
  if (spec.kind !== 'cnn') {
    const rows = [];
    for (let i = 0; i < spec.depth; i++) rows.push({ name: `conv${i + 1}`, outShape: [8, 28, 28], params: i === 0 ? 80 : 584 });
    rows.push({ name: 'dense', outShape: [10], params: 8 * 28 * 28 * 10 + 10 });
    return rows;
  }
  let shape = [1, 28, 28];
  return spec.layers.map((l, i) => {
    let params = 0;
    if (l.type === 'conv') {
      params = l.filters * (shape[0] * l.k * l.k + 1);
      shape = [l.filters, outSize(shape[1], l.k, l.stride, l.pad), outSize(shape[2], l.k, l.stride, l.pad)];
    } else if (l.type === 'pool') {
      shape = [shape[0], outSize(shape[1], l.k, l.stride, 0), outSize(shape[2], l.k, l.stride, 0)];
    } else if (l.type === 'flatten') {
      shape = [shape.reduce((a, b) => a * b, 1)];
    } else if (l.type === 'dense') {
      params = shape[0] * l.units + l.units;
      shape = [l.units];
    }
    return { name: `${l.type}${i + 1}`, outShape: shape, params };
  });
}

function fakeImage(index) {
  const img = new Float32Array(784);
  const col = 8 + (index % 12);
  for (let y = 5; y < 23; y++) img[y * 28 + col] = 1;
  return img;
}

const STEPS = 10;

function train(id, msg) {
  const m = models.get(msg.slot);
  const fast = msg.slot === 'resnet' ? 0.6 : 0.25;
  let epoch = 0;
  let step = 0;
  m.run = { paused: false, stopped: false };
  const tick = () => {
    if (m.run.stopped) {
      reply(id, { stopped: true, epochs: epoch, metrics: {} });
      return;
    }
    if (m.run.paused) {
      setTimeout(tick, 10);
      return;
    }
    step += 1;
    const x = m.trainedEpochs + epoch + step / STEPS;
    self.postMessage({
      type: 'progress',
      slot: msg.slot,
      step,
      epoch,
      stepsPerEpoch: STEPS,
      losses: { loss: 2.3 * Math.exp(-fast * x) },
      imagesPerSec: 1000,
      etaS: ((msg.epochs - epoch) * STEPS - step) * 0.015,
    });
    if (step === STEPS) {
      step = 0;
      epoch += 1;
      self.postMessage({ type: 'epoch', slot: msg.slot, epoch, test: { loss: 1 / (1 + epoch), accuracy: 0.9 + 0.01 * epoch } });
      if (epoch === msg.epochs) {
        m.trainedEpochs += epoch;
        reply(id, { stopped: false, epochs: epoch, metrics: { accuracy: 0.9 + 0.01 * epoch } });
        return;
      }
    }
    setTimeout(tick, msg.epochs > 5 ? 40 : 8);
  };
  setTimeout(tick, 0);
}

self.onmessage = (e) => {
  const msg = e.data;
  const { id, type } = msg;
  const m = models.get(msg.slot);
  switch (type) {
    case 'init':
      return reply(id, { backend: { kind: 'cpu', description: 'protocol test double', reason: 'test' } });
    case 'setBackend':
      return reply(id, { backend: { kind: msg.prefer === 'cpu' ? 'cpu' : 'webgpu', description: `double (${msg.prefer})`, reason: 'test' } });
    case 'loadData':
      return reply(id, { train: 8000, test: 2000 });
    case 'testImages': {
      const idx = msg.indices || Array.from({ length: msg.count }, (_, i) => msg.start + i);
      const images = new Float32Array(idx.length * 784);
      idx.forEach((ix, i) => images.set(fakeImage(ix), i * 784));
      return reply(id, { images, labels: Uint8Array.from(idx, (ix) => ix % 10) });
    }
    case 'createModel': {
      const summary = summarize(msg.spec);
      models.set(msg.slot, { spec: msg.spec, trainedEpochs: 0, run: null });
      return reply(id, { summary, totalParams: summary.reduce((a, r) => a + r.params, 0) });
    }
    case 'train':
      if (!m) return self.postMessage({ id, type: 'error', message: `no model in slot ${msg.slot}` });
      return train(id, msg);
    case 'pause':
    case 'resume':
    case 'stop':
      if (m?.run) {
        if (type === 'stop') m.run.stopped = true;
        else m.run.paused = type === 'pause';
      }
      return reply(id, {});
    case 'predict': {
      let mass = 0;
      for (const v of msg.image) mass += v;
      const top = Math.round(mass) % 10;
      const probs = new Float32Array(10).fill(0.02);
      probs[top] = 0.82;
      return reply(id, { probs });
    }
    case 'evaluate': {
      const shifted = !!msg.transform;
      const accuracy = shifted ? (msg.slot === 'aug-on' ? 0.93 : 0.81) : 0.975;
      const confusion = new Int32Array(100);
      for (let d = 0; d < 10; d++) confusion[d * 11] = 195;
      confusion[3 * 10 + 5] = 3;
      confusion[4 * 10 + 9] = 2;
      const misclassified = [
        { index: 11, label: 3, pred: 5 },
        { index: 12, label: 3, pred: 5 },
        { index: 13, label: 3, pred: 5 },
        { index: 14, label: 4, pred: 9 },
        { index: 15, label: 4, pred: 9 },
      ];
      return reply(id, { accuracy, confusion, misclassified });
    }
    case 'filters': {
      const data = new Float32Array(8 * 25);
      const t = m.trainedEpochs;
      for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.7 + t) * (t ? 1 : 0.1);
      return reply(id, { shape: [8, 1, 5, 5], data });
    }
    case 'activations': {
      const layers = [
        ['conv1', [8, 28, 28]],
        ['pool1', [8, 14, 14]],
        ['conv2', [16, 14, 14]],
        ['pool2', [16, 7, 7]],
        ['dense1', [64]],
        ['out', [10]],
      ].map(([name, shape]) => {
        const n = shape.reduce((a, b) => a * b, 1);
        const data = new Float32Array(n);
        for (let i = 0; i < n; i++) data[i] = msg.image[i % 784] * Math.cos(i * 0.01) * (m.trainedEpochs + 1);
        return { name, shape, data };
      });
      return reply(id, { layers });
    }
    case 'gradNorms': {
      const depth = m.spec.depth || 4;
      const layers = Array.from({ length: depth }, (_, i) => ({
        name: `conv${i + 1}`,
        norm: msg.slot === 'resnet' ? 0.05 * (1 + 0.02 * i) : 0.05 * 10 ** (-(depth - 1 - i) / 4),
      }));
      return reply(id, { layers });
    }
    default:
      return self.postMessage({ id, type: 'error', message: `unknown command ${type}` });
  }
};
