// Embedding the lab in a course page.
//   <script type="module" src=".../www/embed/embed.js"></script>
//   <cnn-lab exercise="train-cnn" theme="dark" hide-solutions preset="tiny" backend="cpu" dataset-size="2000">
// Every <cnn-lab> on a page shares one engine worker, started only when an exercise needs it.
// Each element dispatches (bubbling) DOM events: exercise-started, check-answered { id, right, value },
// training-finished { slot, metrics, stopped, epochs }, exercise-completed; and has the methods
// reset() and loadPreset(name). frame.js uses the same mountExercise() for the iframe route and
// forwards these events to the parent page with postMessage.

import { mountLab, EXERCISES } from '../lab/lab.js';
import { Engine, startEngine } from '../lab/engine-client.js';
import { trackProgress, clearProgress, clearModels } from '../store.js';

export const EVENTS = ['exercise-started', 'check-answered', 'training-finished', 'exercise-completed'];
export const THEMES = ['light', 'dark'];

function addStylesheet(href) {
  const url = new URL(href, import.meta.url).href;
  if ([...document.querySelectorAll('link[rel=stylesheet]')].some((l) => l.href === url)) return;
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = url;
  document.head.append(link);
}

// One engine for the whole page, created on first use (so exercises without training start none).
let sharedEngine = null;
export function pageEngine(workerUrl) {
  if (!sharedEngine) sharedEngine = new Engine(startEngine(workerUrl || undefined));
  return sharedEngine;
}

// A per-exercise view of the shared engine: reports finished training runs to `report`, and caps
// the training-set size of every run at `datasetSize` when given.
function observedEngine(workerUrl, report, datasetSize) {
  return new Proxy({}, {
    get(_, key) {
      const real = pageEngine(workerUrl);
      if (key === 'call') {
        return (type, fields, opts) => {
          if (type === 'train' && datasetSize > 0) {
            fields = { ...fields, trainSize: Math.min(fields?.trainSize ?? Infinity, datasetSize) };
          }
          const answer = real.call(type, fields, opts);
          if (type === 'train') {
            answer.then(
              (r) => report({ slot: fields?.slot, metrics: r.metrics ?? null, stopped: !!r.stopped, epochs: r.epochs }),
              () => {},
            );
          }
          return answer;
        };
      }
      const v = real[key];
      return typeof v === 'function' ? v.bind(real) : v;
    },
  });
}

// Selects `name` in the exercise's preset menu (exercise 5 has one); false when there is none.
function selectPreset(root, name) {
  for (const sel of root.querySelectorAll('select')) {
    if ([...sel.options].some((o) => o.value === name)) {
      sel.value = name;
      sel.dispatchEvent(new Event('input', { bubbles: true }));
      sel.dispatchEvent(new Event('change', { bubbles: true }));
      return true;
    }
  }
  return false;
}

// Mounts one exercise into `root` with saved progress restored. Returns an EventTarget controller.
export function mountExercise(
  root,
  { exercise, preset = null, hideSolutions = false, theme = 'light', backend = null, datasetSize = null, workerUrl = null } = {},
) {
  addStylesheet('./embed.css');
  const ctl = new EventTarget();
  const emit = (type, detail = {}) => ctl.dispatchEvent(new CustomEvent(type, { detail: { exercise, ...detail } }));
  const known = EXERCISES.find((ex) => ex.id === exercise);
  root.classList.add('cnn-lab-embed');
  root.classList.toggle('cnn-lab-hide-solutions', !!hideSolutions);
  for (const t of THEMES) root.classList.toggle(`cnn-lab-theme-${t}`, t === (THEMES.includes(theme) ? theme : 'light'));

  let tracker = null;
  let started = false;
  const onFirstUse = () => {
    if (started || tracker?.restoring()) return;
    started = true;
    emit('exercise-started');
  };
  const size = Math.floor(Number(datasetSize));
  const engine = observedEngine(workerUrl, (d) => emit('training-finished', d), Number.isFinite(size) && size > 0 ? size : 0);

  async function mount() {
    root.replaceChildren();
    started = false;
    mountLab(root, { engine, only: exercise });
    if (!known) return;
    if (backend === 'cpu' || backend === 'auto') {
      if (known.needsEngine) engine.setBackend(backend).catch((e) => console.warn(`cnn-lab: backend ${backend}: ${e.message}`));
    }
    if (preset && !selectPreset(root, preset)) console.warn(`cnn-lab: exercise "${exercise}" has no preset "${preset}"`);
    tracker = trackProgress(root, exercise, {
      onCheck(detail, _record, justCompleted) {
        onFirstUse();
        emit('check-answered', { id: detail.id, right: !!detail.right, value: detail.value });
        if (justCompleted) emit('exercise-completed');
      },
    });
    await tracker.restore();
    ctl.dispatchEvent(new CustomEvent('ready', { detail: { exercise } }));
  }
  for (const type of ['pointerdown', 'keydown', 'input']) root.addEventListener(type, onFirstUse, true);

  ctl.ready = mount();
  ctl.reset = async () => {
    tracker?.stop();
    await clearProgress(exercise).catch((e) => console.warn(`cnn-lab: could not clear progress: ${e.message}`));
    await clearModels(exercise).catch((e) => console.warn(`cnn-lab: could not clear saved models: ${e.message}`));
    ctl.ready = mount();
    return ctl.ready;
  };
  ctl.loadPreset = (name) => {
    const ok = typeof name === 'string' && selectPreset(root, name);
    if (!ok) console.warn(`cnn-lab: exercise "${exercise}" has no preset "${name}"`);
    return ok;
  };
  return ctl;
}

export class CnnLabElement extends HTMLElement {
  connectedCallback() {
    if (this.ctl) return;
    this.ctl = mountExercise(this, {
      exercise: this.getAttribute('exercise'),
      preset: this.getAttribute('preset'),
      hideSolutions: this.hasAttribute('hide-solutions'),
      theme: this.getAttribute('theme') || 'light',
      backend: this.getAttribute('backend'),
      datasetSize: this.getAttribute('dataset-size'),
      workerUrl: this.getAttribute('worker'),
    });
    for (const type of [...EVENTS, 'ready']) {
      this.ctl.addEventListener(type, (e) => this.dispatchEvent(new CustomEvent(type, { detail: e.detail, bubbles: true, composed: true })));
    }
  }
  get ready() {
    return this.ctl?.ready;
  }
  reset() {
    return this.ctl.reset();
  }
  loadPreset(name) {
    return this.ctl.loadPreset(name);
  }
}

if (!customElements.get('cnn-lab')) customElements.define('cnn-lab', CnnLabElement);
