// The mock course page: listens to its two <cnn-lab> elements (DOM events) and to the iframe
// (postMessage events from frame.js, accepted only from this page's own origin, where the iframe
// is served), and sends the iframe commands.

import { registerServiceWorker } from '../sw-register.js';

const log = document.getElementById('events');
const summary = document.getElementById('summary');
const right = new Set();

function record(where, type, detail) {
  const li = document.createElement('li');
  li.dataset.where = where;
  li.dataset.type = type;
  const extra = type === 'check-answered' ? ` ${detail.id}: ${detail.right ? 'right' : 'wrong'}` : '';
  li.textContent = `${where} · ${detail.exercise} · ${type}${extra}`;
  log.append(li);
  if (type === 'check-answered' && detail.right) right.add(`${detail.exercise}/${detail.id}`);
  summary.textContent = `${right.size} question${right.size === 1 ? '' : 's'} answered right.`;
}

for (const type of ['exercise-started', 'check-answered', 'training-finished', 'exercise-completed']) {
  document.addEventListener(type, (e) => record('element', type, e.detail));
}

const frame = document.getElementById('lab-frame');
window.addEventListener('message', (e) => {
  if (e.origin !== location.origin || e.source !== frame.contentWindow) return;
  const m = e.data;
  if (!m || m.source !== 'cnn-lab' || typeof m.type !== 'string') return;
  record('iframe', m.type, m);
});

const send = (msg) => frame.contentWindow.postMessage(msg, location.origin);
document.getElementById('frame-reset').addEventListener('click', () => send({ type: 'reset' }));
document.getElementById('frame-preset').addEventListener('click', () => send({ type: 'load-preset', preset: 'tiny' }));

registerServiceWorker();
