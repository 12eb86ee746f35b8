// Trained models survive a reload: per-epoch checkpoints of the models an exercise trains, kept in
// IndexedDB (www/store.js, store `models`, one record per exercise and slot), and their restoration
// when the exercise is shown again. Used by every exercise that trains, the same way:
//
//   const saved = new SavedTraining(ctx.engine, { exercise, panel, slots, charts, show, clear });
//   section.append(saved.el);  saved.restore();          // on mount: puts the last saved models back
//   await createModels(engine, models);
//   await saved.train(models, jobs, extra);              // instead of panel.train(jobs)
//
// A record is { bytes: safetensors, meta } with meta:
//   { v, run, spec, seed, train, epochsDone, epochsPlanned, tests: [{ epoch, test }],
//     charts: { name: { xs, ys: { series: [...] } } }, extra, at }
// Checkpoints: the weights a run starts from (epoch 0, what exportModel gives), then at the end of
// every epoch the checkpoint the worker sends with its `epoch` event (the model file plus the
// optimizer state and the run's position, docs/protocol.md), so closing the tab loses at most the
// current epoch. importModel reads the weights of either.
// `show(run)` is the exercise's own code that renders a model it has (after a restore or a resume);
// `clear()` puts the exercise back to "nothing trained" after Start over. Without IndexedDB the
// exercise trains as before, unsaved, and says so once.
//
// Resuming creates the model afresh and trains it from the checkpoint (train { resumeFrom }) for
// the epochs left, with the run's settings: the engine puts back the weights, Adam's moments (or
// SGD's momentum), the data order and the random streams of augmentation and noise, so the resumed
// run ends exactly where the uninterrupted one would have. A record saved before checkpoints held
// the optimizer state (a plain model file after epoch 1 or later) resumes from its weights only,
// and the page says so.

import { h, statusLine, whenText } from './widgets/dom.js';
import { clearModel, loadModel, saveModel } from '../store.js';

const VERSION = 1;
const MAX_POINTS = 400; // per chart series kept in a checkpoint

const msg = (e) => String(e?.message ?? e).replace(/^(createModel|importModel|exportModel|loadData): /, '');

// A LiveChart's points, at most MAX_POINTS per series (evenly thinned, the last point kept).
function chartData(chart) {
  const n = chart.xs.length;
  const every = Math.max(1, Math.ceil(n / MAX_POINTS));
  const keep = (i) => i % every === 0 || i === n - 1;
  const ys = {};
  chart.names.forEach((name, j) => { ys[name] = chart.ys[j].filter((_, i) => keep(i)); });
  return { xs: chart.xs.filter((_, i) => keep(i)), ys };
}

function isChartData(d) {
  return d && Array.isArray(d.xs) && d.xs.every(Number.isFinite) && d.ys && typeof d.ys === 'object' &&
    Object.values(d.ys).every((v) => Array.isArray(v) && v.length === d.xs.length);
}

const whole = (x, lo) => Number.isInteger(x) && x >= lo;

// Whether safetensors bytes are a run checkpoint (its header's __metadata__ has cnn_lab.checkpoint).
export function isCheckpoint(bytes) {
  try {
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    return header.__metadata__?.['cnn_lab.checkpoint'] === '1';
  } catch {
    return false;
  }
}

// Why a set of records (one per slot) cannot be restored, or null when it looks usable.
export function problemWith(records, slots) {
  if (records.some((r) => !r)) return `the model of ${slots[records.findIndex((r) => !r)]} is missing`;
  for (const r of records) {
    const m = r.meta;
    if (!m || typeof m !== 'object') return `the record of ${r.slot} has no description`;
    if (m.v !== VERSION) return `it was saved by another version of the lab (${m.v})`;
    if (!m.spec || typeof m.spec.kind !== 'string') return `the record of ${r.slot} has no model description`;
    if (!whole(m.seed, 0) || !m.train || typeof m.train !== 'object') return `the record of ${r.slot} has no training settings`;
    // 0 of 0 epochs: a model loaded from a file rather than trained here
    if (!whole(m.epochsPlanned, 0) || !whole(m.epochsDone, 0) || m.epochsDone > m.epochsPlanned) return `the record of ${r.slot} has impossible epoch counts`;
    if (!(r.bytes instanceof Uint8Array) || r.bytes.length < 8) return `the record of ${r.slot} holds no model file`;
    if (m.run !== records[0].meta.run) return 'its models come from different training runs';
  }
  return null;
}

export class SavedTraining {
  // slots: the trained model slots saved together; panel: the TrainPanel that trains them, or a
  // list of panels each training its own slots (side by side); charts: extra LiveCharts
  // ({ name: chart }) kept with the panels' loss and accuracy charts.
  constructor(getEngine, { exercise, panel, slots, charts = {}, show = async () => {}, clear = () => {} }) {
    Object.assign(this, { getEngine, exercise, slots, show, clear });
    this.panels = [].concat(panel);
    this.panel = this.panels[0];
    this.charts = {};
    this.panels.forEach((p, i) => {
      const n = i ? String(i + 1) : '';
      this.charts[`loss${n}`] = p.loss;
      if (p.acc) this.charts[`acc${n}`] = p.acc;
    });
    Object.assign(this.charts, charts);
    this.run = null; // { id, models, train: {slot: fields}, planned: {slot}, done: {slot}, tests: {slot: []}, extra, at }
    // slot -> { file, checkpoint }: the last saved file, a Blob from the worker (as it trains) or
    // the Uint8Array of a restored record (the worker's importModel and train { resumeFrom } take
    // either), and whether it is a run checkpoint or only the weights
    this.files = new Map();
    this.writes = Promise.resolve();
    this.unsaved = false;
    this.gen = 0; // counts new runs and Start overs: a restore still on its way then gives up
    this.status = statusLine('');
    this.resumeBtn = h('button', { type: 'button', class: 'primary', text: 'Resume training', hidden: true, on: { click: () => this.resume() } });
    this.startOverBtn = h('button', { type: 'button', text: 'Start over', hidden: true, on: { click: () => this.startOver() } });
    this.note = h('p', {
      class: 'note',
      hidden: true,
      text: 'This model was saved by an earlier version of the lab, without the optimizer\'s state: resuming continues from its weights, with the optimizer\'s running averages (Adam\'s moments) starting again from zero, so the resumed run ends close to, not exactly at, an uninterrupted one.',
    });
    this.el = h('div', { class: 'saved-model', 'data-saved-model': '', hidden: true }, h('div', { class: 'row' }, this.status, this.resumeBtn, this.startOverBtn), this.note);
  }

  // The saved-model line is shown only while it has something to say.
  say(text, error = false) {
    this.el.hidden = !text;
    this.status.textContent = text;
    this.status.classList.toggle('error', error);
  }

  setState(state, epoch) {
    this.el.dataset.state = state;
    if (epoch != null) this.el.dataset.epoch = String(epoch);
  }

  buttons({ resume = false, startOver = false } = {}) {
    this.resumeBtn.hidden = !resume;
    const r = this.run;
    this.note.hidden = !resume || this.slots.every((s) => !r.done[s] || this.files.get(s)?.checkpoint);
    this.startOverBtn.hidden = !startOver;
  }

  // Writes happen one after another; a browser without IndexedDB makes the first one fail, once.
  write(slot) {
    const r = this.run;
    const file = this.files.get(slot)?.file;
    if (!r || !file) return this.writes;
    const meta = {
      v: VERSION,
      run: r.id,
      spec: r.models.find((m) => m.slot === slot).spec,
      seed: r.models.find((m) => m.slot === slot).seed ?? 1,
      train: r.train[slot],
      epochsDone: r.done[slot],
      epochsPlanned: r.planned[slot],
      tests: r.tests[slot],
      charts: Object.fromEntries(Object.entries(this.charts).map(([k, c]) => [k, chartData(c)])),
      extra: r.extra,
      at: Date.now(),
    };
    this.writes = this.writes.then(() => {
      if (this.unsaved || this.run !== r) return;
      return saveModel(this.exercise, slot, file, meta).then(
        () => {
          r.at = meta.at;
          const done = Math.min(...this.slots.map((s) => r.done[s]));
          const planned = r.planned[this.slots[0]];
          // epoch 0 is the starting weights, saved as training begins
          const what = !planned ? '' : done ? `: epoch ${done} of ${planned}` : `: the starting weights; each of the ${planned} epochs is saved as it ends`;
          this.say(`Saved in this browser${what} (${whenText(meta.at)}).`);
          this.setState('saved', done);
        },
        (e) => {
          this.unsaved = true;
          console.warn(`cnn-lab: the model is not saved: ${e.message}`);
          this.say(`This browser did not let the lab save the model (${e.message}): it will be gone after a reload.`);
          this.setState('unsaved');
        },
      );
    });
    return this.writes;
  }

  // Trains `jobs` ([{ slot, train }]) through the panel, saving a checkpoint per slot at the start
  // (unless `resumed`: the record holds it already) and after every epoch. base: epochs already
  // done per slot (a resume).
  async runJobs(jobs, { resumed = false } = {}) {
    const r = this.run;
    const engine = this.getEngine();
    const here = new Set(jobs.map((j) => j.slot));
    const base = Object.fromEntries(jobs.map((j) => [j.slot, r.done[j.slot]]));
    for (const j of resumed ? [] : jobs) {
      try {
        const { blob } = await engine.call('exportModel', { slot: j.slot, blob: true });
        this.files.set(j.slot, { file: blob, checkpoint: false });
        this.write(j.slot);
      } catch (e) {
        console.warn(`cnn-lab: no checkpoint of ${j.slot}: ${e.message}`);
      }
    }
    const training = this.trainOnPanels(jobs);
    // subscribed after the panel, so a checkpoint's charts include the epoch's own points
    const off = engine.on('epoch', (m) => {
      if (!here.has(m.slot) || this.run !== r || !(m.model instanceof Blob)) return;
      r.done[m.slot] = base[m.slot] + m.epoch;
      r.tests[m.slot] = [...r.tests[m.slot], { epoch: r.done[m.slot], test: m.test }];
      this.files.set(m.slot, { file: m.model, checkpoint: true });
      this.write(m.slot);
    });
    try {
      return await training;
    } finally {
      off();
      await this.writes;
    }
  }

  // Each panel trains the jobs of its own slots, all at the same time; results in job order.
  async trainOnPanels(jobs) {
    const panelOf = (slot) => this.panels.find((p) => p.slots.some((s) => s.slot === slot)) || this.panel;
    const groups = this.panels.map((p) => jobs.filter((j) => panelOf(j.slot) === p)).map((js, i) => [this.panels[i], js]).filter(([, js]) => js.length);
    const results = await Promise.all(groups.map(([p, js]) => p.train(js)));
    const bySlot = new Map(groups.flatMap(([, js], i) => js.map((j, k) => [j.slot, results[i][k]])));
    return jobs.map((j) => bySlot.get(j.slot));
  }

  // A new run on models just created: models [{ slot, spec, seed }], jobs [{ slot, train }] as for
  // TrainPanel.train, extra: what the exercise needs to show this model again (plain data).
  async train(models, jobs, extra = {}) {
    this.gen += 1;
    this.buttons();
    this.run = {
      id: Date.now(),
      models,
      train: Object.fromEntries(jobs.map((j) => [j.slot, j.train])),
      planned: Object.fromEntries(jobs.map((j) => [j.slot, j.train.epochs])),
      done: Object.fromEntries(jobs.map((j) => [j.slot, 0])),
      tests: Object.fromEntries(jobs.map((j) => [j.slot, []])),
      extra,
    };
    const run = this.run;
    this.files.clear();
    const results = await this.runJobs(jobs);
    // stopped by the student: the last checkpoint can be resumed right away
    const resumable = this.slots.every((slot) => this.files.has(slot));
    if (this.run === run && resumable && results.some((x) => x?.stopped)) this.announce('stopped');
    return results;
  }

  // Saves the models the exercise has now without training them here (e.g. loaded from a file):
  // restored later as they are, with nothing to resume. source: where they came from, in words.
  async keep(models, extra = {}, source = 'a file') {
    this.gen += 1;
    this.buttons();
    const slots = models.map((m) => m.slot);
    const each = (v) => Object.fromEntries(slots.map((s) => [s, typeof v === 'function' ? v() : v]));
    this.run = { id: Date.now(), models, train: each(() => ({})), planned: each(0), done: each(0), tests: each(() => []), extra: { ...extra, source } };
    this.files.clear();
    try {
      for (const slot of slots) this.files.set(slot, { file: (await this.getEngine().call('exportModel', { slot, blob: true })).blob, checkpoint: false });
    } catch (e) {
      console.warn(`cnn-lab: the loaded model is not saved: ${e.message}`);
      return;
    }
    for (const slot of slots) this.write(slot);
    await this.writes;
  }

  // Adds to the run's extra data (e.g. results computed after training) and saves it.
  remember(extra) {
    if (!this.run) return Promise.resolve();
    Object.assign(this.run.extra, extra);
    for (const slot of this.slots) this.write(slot);
    return this.writes;
  }

  async discard(reason) {
    console.warn(`cnn-lab: saved model of ${this.exercise} discarded: ${reason}`);
    await this.forget();
    this.say(`Your saved model could not be restored (${reason}), so it was discarded. Train a new one.`, true);
    this.setState('discarded');
  }

  // Drops the saved models (e.g. when the exercise builds new ones that are not trained yet).
  async forget() {
    this.run = null;
    this.files.clear();
    this.buttons();
    this.say('');
    delete this.el.dataset.state;
    delete this.el.dataset.epoch;
    for (const slot of this.slots) await clearModel(this.exercise, slot).catch(() => {});
  }

  // On mount: puts the last saved models of this exercise back into the engine and shows them.
  // Never throws; anything unusable is discarded with a message.
  async restore() {
    const gen = this.gen;
    const overtaken = () => this.gen !== gen;
    let records;
    try {
      records = await Promise.all(this.slots.map((s) => loadModel(this.exercise, s)));
    } catch (e) {
      console.warn(`cnn-lab: saved models unavailable: ${e.message}`);
      return false;
    }
    if (records.every((r) => !r) || overtaken()) return false;
    const problem = problemWith(records, this.slots);
    if (problem) {
      await this.discard(problem);
      return false;
    }
    this.say('Restoring your saved model…');
    this.setState('restoring');
    const engine = this.getEngine();
    try {
      await engine.data();
    } catch (e) {
      // the engine, not the record, failed: keep it for the next visit
      this.say(`Your saved model is kept, but the engine could not load it now: ${msg(e)}`, true);
      this.setState('kept');
      return false;
    }
    try {
      for (const r of records) {
        await engine.call('createModel', { slot: r.slot, spec: r.meta.spec, seed: r.meta.seed });
        await engine.call('importModel', { slot: r.slot, bytes: r.bytes.slice() });
      }
    } catch (e) {
      if (overtaken()) return false;
      if (engine.client?.dead) {
        this.say(`Your saved model is kept, but the engine stopped: ${msg(e)}`, true);
        this.setState('kept');
      } else {
        await this.discard(msg(e));
      }
      return false;
    }
    if (overtaken()) return false;
    const metas = records.map((r) => r.meta);
    const latest = metas.reduce((a, b) => (b.at > a.at ? b : a));
    this.run = {
      id: latest.run,
      models: records.map((r) => ({ slot: r.slot, spec: r.meta.spec, seed: r.meta.seed })),
      train: Object.fromEntries(records.map((r) => [r.slot, r.meta.train])),
      planned: Object.fromEntries(records.map((r) => [r.slot, r.meta.epochsPlanned])),
      done: Object.fromEntries(records.map((r) => [r.slot, r.meta.epochsDone])),
      tests: Object.fromEntries(records.map((r) => [r.slot, Array.isArray(r.meta.tests) ? r.meta.tests : []])),
      extra: latest.extra && typeof latest.extra === 'object' ? latest.extra : {},
      at: latest.at,
    };
    for (const r of records) this.files.set(r.slot, { file: r.bytes, checkpoint: isCheckpoint(r.bytes) });
    for (const p of this.panels) p.reset();
    for (const [name, chart] of Object.entries(this.charts)) {
      const d = latest.charts?.[name];
      if (isChartData(d)) chart.set(d.xs, d.ys);
    }
    // a resumed run continues the charts' x axis (in epochs) where the checkpoint ended
    for (const p of this.panels) {
      const mine = records.filter((r) => p.slots.some((s) => s.slot === r.slot));
      for (const r of mine) p.track.set(r.slot, { offset: 0, lastStep: 0, xEnd: r.meta.epochsDone });
      const [done, planned] = [Math.min(...mine.map((r) => r.meta.epochsDone)), mine[0]?.meta.epochsPlanned];
      if (planned) {
        p.progress.bar.value = done / planned;
        p.progress.finish(`restored: epoch ${done}/${planned}`);
      }
    }
    try {
      await this.show(this.run);
    } catch (e) {
      this.say(`Restored the saved model, but showing it failed: ${msg(e)}`, true);
      this.buttons({ startOver: true });
      return true;
    }
    this.announce('restored');
    return true;
  }

  // "Restored your model from <date>, epoch k of n" (or how a resumed run ended), with Resume while
  // epochs are left.
  announce(how) {
    const r = this.run;
    const done = Math.min(...this.slots.map((s) => r.done[s]));
    const planned = r.planned[this.slots[0]];
    const left = this.slots.some((s) => r.done[s] < r.planned[s]);
    const what = this.slots.length > 1 ? 'models' : 'model';
    const when = whenText(r.at ?? Date.now());
    const head = {
      restored: planned
        ? `Restored your ${what} from ${when}, epoch ${done} of ${planned}.`
        : `Restored your ${what} from ${when} (loaded from ${r.extra.source || 'a file'}, not trained here).`,
      finished: `Resumed training finished: epoch ${done} of ${planned}, saved ${when}.`,
      stopped: `Stopped at epoch ${done} of ${planned}${this.unsaved ? '' : `; the last checkpoint was saved ${when}`}.`,
    }[how];
    this.say(head + (left ? ' Training was interrupted: resume it, or start over.' : ''));
    this.setState(left ? 'interrupted' : how, done);
    this.buttons({ resume: left, startOver: true });
  }

  async resume() {
    const r = this.run;
    if (!r) return;
    const jobs = this.slots
      .filter((s) => r.done[s] < r.planned[s])
      .map((s) => ({ slot: s, train: { ...r.train[s], epochs: r.planned[s] - r.done[s], resumeFrom: this.files.get(s).file.slice() } }));
    this.buttons();
    this.setState('resuming');
    const from = Math.min(...this.slots.map((s) => r.done[s]));
    this.say(`Resuming from epoch ${from} of ${r.planned[this.slots[0]]}…`);
    this.panel.say('Training…');
    try {
      // a fresh model, so that nothing of a run stopped part-way into the next epoch is left
      // (train { resumeFrom } puts the checkpoint's weights, optimizer state and position in it)
      for (const j of jobs) {
        const m = r.models.find((x) => x.slot === j.slot);
        await this.getEngine().call('createModel', { slot: j.slot, spec: m.spec, seed: m.seed ?? 1 });
      }
      for (const p of this.panels) for (const j of jobs) if (p.track.has(j.slot)) p.track.get(j.slot).xEnd = r.done[j.slot];
      const results = await this.runJobs(jobs, { resumed: true });
      const stopped = results.some((x) => x.stopped);
      this.panel.say(stopped ? 'Stopped; showing the model as it is.' : 'Finished. Showing the trained model…');
      await this.show(this.run, { results });
      this.panel.say('Done.');
      if (this.run === r) this.announce(stopped ? 'stopped' : 'finished');
    } catch (e) {
      this.panel.say(`Error: ${msg(e)}`, true);
      // the model shows the checkpoint's weights again, not the fresh ones
      for (const j of jobs) await this.getEngine().call('importModel', { slot: j.slot, bytes: this.files.get(j.slot).file.slice() }).catch(() => {});
      if (this.run === r) this.announce('stopped');
    }
  }

  async startOver() {
    this.gen += 1;
    await this.forget();
    this.buttons();
    for (const p of this.panels) p.reset();
    for (const chart of Object.values(this.charts)) chart.reset();
    this.clear();
    this.say('The saved model was cleared. Train a new one.');
    this.setState('cleared');
  }
}
