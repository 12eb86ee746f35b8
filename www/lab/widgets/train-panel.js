// Training UI shared by the engine exercises: progress bar (pause/resume/stop), a per-step loss chart
// and a per-epoch test-accuracy chart, for one or several model slots trained at the same time.
// Talks to the engine only through the Engine object from engine-client.js.

import { h, statusLine } from './dom.js';
import { LiveChart } from './chart.js';
import { ProgressBar } from './progress.js';

export function percent(a) {
  return a <= 1 ? a * 100 : a;
}

export class TrainPanel {
  // slots: [{ slot, name }] — name labels the chart series.
  constructor(getEngine, { slots, title = 'Training', epochChart = true }) {
    this.getEngine = getEngine;
    this.slots = slots;
    this.progress = new ProgressBar({ label: `${title} progress` });
    this.status = statusLine('');
    this.loss = new LiveChart({ title: 'Training loss per step', xLabel: 'epoch', yLabel: 'loss', series: slots.map((s) => `${s.name} loss`) });
    this.acc = epochChart
      ? new LiveChart({ title: 'Test accuracy per epoch (%)', xLabel: 'epoch', yLabel: '%', series: slots.map((s) => `${s.name} test`), points: true })
      : null;
    this.track = new Map(); // slot -> { offset, lastStep, epochBase, fraction }
    this.running = [];
    this.lastLoss = new Map();
    this.el = h('div', { class: 'train-panel' }, this.progress.el, this.status, h('div', { class: 'charts' }, this.loss.el, this.acc?.el));
    for (const ev of ['pause', 'resume', 'stop']) {
      this.progress.addEventListener(ev, () => {
        for (const slot of this.running) this.getEngine().call(ev, { slot }).catch((e) => this.say(`${ev} failed: ${e.message}`));
      });
    }
  }

  say(text, error = false) {
    this.status.textContent = text;
    this.status.classList.toggle('error', error);
  }

  reset() {
    this.loss.reset();
    this.acc?.reset();
    this.track.clear();
    this.lastLoss.clear();
  }

  // jobs: [{ slot, train: {epochs, batch, lr, optimizer, ...} }] on models already created.
  // Resolves to the ok results in job order. Steps continue the x axis across successive runs.
  async train(jobs) {
    const engine = this.getEngine();
    const names = new Map(this.slots.map((s) => [s.slot, s.name]));
    const slotsHere = new Set(jobs.map((j) => j.slot));
    const epochsOf = new Map(jobs.map((j) => [j.slot, j.train.epochs]));
    for (const j of jobs) {
      const t = this.track.get(j.slot) || { offset: 0, lastStep: 0, xEnd: 0 };
      t.runStart = t.xEnd;
      t.offset = 0;
      t.lastStep = 0;
      t.fraction = 0;
      this.track.set(j.slot, t);
    }
    const offProgress = engine.on('progress', (m) => {
      if (!slotsHere.has(m.slot)) return;
      const t = this.track.get(m.slot);
      if (m.step < t.lastStep) t.offset += t.lastStep; // per-epoch step counters restart
      t.lastStep = m.step;
      const spe = m.stepsPerEpoch || 1;
      const runX = (t.offset + m.step) / spe;
      t.xEnd = t.runStart + runX;
      t.fraction = runX / (epochsOf.get(m.slot) || 1);
      const loss = m.losses?.loss ?? Object.values(m.losses || {})[0];
      this.lastLoss.set(m.slot, loss);
      this.loss.push(t.xEnd, { [`${names.get(m.slot)} loss`]: loss });
      const fractions = jobs.map((j) => this.track.get(j.slot).fraction);
      this.progress.update({
        fraction: fractions.reduce((a, b) => a + b, 0) / fractions.length,
        epoch: Math.floor(runX) + 1,
        epochs: epochsOf.get(m.slot),
        imagesPerSec: m.imagesPerSec,
        etaS: m.etaS,
      });
    });
    const offEpoch = engine.on('epoch', (m) => {
      if (!slotsHere.has(m.slot) || !this.acc || m.test?.accuracy == null) return;
      const t = this.track.get(m.slot);
      this.acc.push(Math.round(t.xEnd * 100) / 100, { [`${names.get(m.slot)} test`]: percent(m.test.accuracy) });
    });
    this.running = jobs.map((j) => j.slot);
    this.progress.start();
    try {
      const results = await Promise.all(jobs.map((j) => engine.call('train', { slot: j.slot, ...j.train })));
      const stopped = results.some((r) => r.stopped);
      this.progress.finish(stopped ? 'stopped' : 'done');
      return results;
    } catch (e) {
      this.progress.finish('failed');
      throw e;
    } finally {
      offProgress();
      offEpoch();
      this.running = [];
    }
  }
}

// init + loadData + createModel for each slot; returns the createModel results.
export async function createModels(engine, models) {
  await engine.data();
  const out = [];
  for (const m of models) out.push(await engine.call('createModel', { slot: m.slot, spec: m.spec, seed: m.seed ?? 1 }));
  return out;
}
