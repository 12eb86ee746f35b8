// The iframe route: www/embed/frame.html?exercise=NAME[&preset=P][&hide-solutions=1][&theme=dark]
// [&backend=cpu|auto][&dataset-size=N][&origins=https://a.example,https://b.example]
// Shows one exercise and talks to the embedding page with postMessage:
//   to the parent:   { source: "cnn-lab", type: "exercise-started" | "check-answered" |
//                      "training-finished" | "exercise-completed" | "ready", exercise, ...detail }
//   from the parent: { type: "reset" } and { type: "load-preset", preset: "tiny" }
// Messages are accepted only from the listed origins: `origins` if given, otherwise the parent's
// origin. Events are posted only to those origins. Anything else is ignored with a console warning.

import { mountExercise, EVENTS } from './embed.js';
import { registerServiceWorker } from '../sw-register.js';

const params = new URLSearchParams(location.search);
const flag = (name) => ['1', 'true', 'yes', ''].includes(params.get(name)) && params.has(name);

function parentOrigin() {
  if (window.parent === window) return null;
  const ancestors = location.ancestorOrigins;
  if (ancestors && ancestors.length && ancestors[0] !== 'null') return ancestors[0];
  try {
    return document.referrer ? new URL(document.referrer).origin : null;
  } catch {
    return null;
  }
}

function listedOrigins() {
  const given = params.get('origins');
  if (given) {
    return given
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => {
        try {
          return new URL(s).origin;
        } catch {
          console.warn(`cnn-lab: ignoring malformed origin "${s}"`);
          return null;
        }
      })
      .filter((o) => o && o !== 'null');
  }
  const p = parentOrigin();
  if (!p) console.warn('cnn-lab: the parent page\'s origin is unknown; pass ?origins= to accept its messages');
  return p ? [p] : [];
}

const origins = listedOrigins();
const exercise = params.get('exercise');
const ctl = mountExercise(document.getElementById('cnn-lab-frame'), {
  exercise,
  preset: params.get('preset'),
  hideSolutions: flag('hide-solutions'),
  theme: params.get('theme') || 'light',
  backend: params.get('backend'),
  datasetSize: params.get('dataset-size'),
});

function post(type, detail) {
  if (window.parent === window) return;
  for (const origin of origins) window.parent.postMessage({ source: 'cnn-lab', type, ...detail }, origin);
}
for (const type of [...EVENTS, 'ready']) ctl.addEventListener(type, (e) => post(type, e.detail));

// Commands: plain data, validated field by field; nothing in a message is ever evaluated.
const COMMANDS = {
  reset: () => ctl.reset(),
  'load-preset': (m) => {
    if (typeof m.preset !== 'string' || m.preset.length > 64) return false;
    return ctl.loadPreset(m.preset);
  },
};

window.addEventListener('message', (e) => {
  if (!origins.includes(e.origin)) {
    console.warn(`cnn-lab: ignored a message from ${e.origin}, which is not a listed origin`);
    return;
  }
  const m = e.data;
  const run = m && typeof m === 'object' && typeof m.type === 'string' && Object.hasOwn(COMMANDS, m.type) ? COMMANDS[m.type] : null;
  if (!run) {
    console.warn('cnn-lab: ignored a malformed or unknown message', m);
    return;
  }
  run(m);
});

registerServiceWorker();
