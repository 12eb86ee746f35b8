// The lab shell: table of contents, one <section> per exercise, `?exercise=NAME` shows one alone.
// Mounts itself into the element with [data-cnn-lab] when loaded; mountLab() is exported for hosts
// that want to mount it themselves. The engine worker is started lazily, only when an exercise
// that needs it is shown. data-worker on the root element overrides the worker URL.

import { h } from './widgets/dom.js';
import { Engine, startEngine } from './engine-client.js';
import { BackendBadge } from './widgets/backend-badge.js';
import convolution from './exercises/convolution.js';
import stridePadding from './exercises/stride-padding.js';
import pooling from './exercises/pooling.js';
import parameterSharing from './exercises/parameter-sharing.js';
import trainCnn from './exercises/train-cnn.js';
import whatCnnsLearn from './exercises/what-cnns-learn.js';
import augmentation from './exercises/augmentation.js';
import resnet from './exercises/resnet.js';
import aeUndercomplete from './exercises/ae-undercomplete.js';
import aeDenoise from './exercises/ae-denoise.js';
import aeLatent from './exercises/ae-latent.js';
import aeAnomaly from './exercises/ae-anomaly.js';
import aeVae from './exercises/ae-vae.js';

export const EXERCISES = [
  convolution, stridePadding, pooling, parameterSharing, trainCnn, whatCnnsLearn, augmentation, resnet,
  aeUndercomplete, aeDenoise, aeLatent, aeAnomaly, aeVae,
];

function addStylesheet(href) {
  const url = new URL(href, import.meta.url).href;
  if ([...document.querySelectorAll('link[rel=stylesheet]')].some((l) => l.href === url)) return;
  document.head.append(h('link', { rel: 'stylesheet', href: url }));
}

export function mountLab(root, { engine, workerUrl, only = new URLSearchParams(location.search).get('exercise') } = {}) {
  addStylesheet('./vendor/uplot/uPlot.min.css');
  addStylesheet('./lab.css');
  root.classList.add('lab');

  let shared = engine || null;
  const getEngine = () => {
    if (!shared) shared = new Engine(startEngine(workerUrl || root.dataset.worker || undefined));
    return shared;
  };

  let shown = EXERCISES;
  if (only) {
    shown = EXERCISES.filter((ex) => ex.id === only);
    if (!shown.length) {
      root.append(h('p', { class: 'status', role: 'alert', text: `No exercise named "${only}". Showing all.` }));
      shown = EXERCISES;
      only = null;
    }
  }

  const header = h('header', { class: 'lab-header' });
  root.append(header);
  if (shown.some((ex) => ex.needsEngine)) header.append(new BackendBadge(getEngine()).el);

  if (!only) {
    const toc = h('ol', {});
    for (const ex of shown) {
      toc.append(
        h(
          'li',
          {},
          h('a', { href: `#ex-${ex.id}`, text: ex.title.replace(/^\d+\.\s*/, '') }),
          ' ',
          h('a', { class: 'alone', href: `?exercise=${ex.id}`, 'aria-label': `${ex.title} on its own page`, text: '(alone)' }),
        ),
      );
    }
    header.append(h('nav', { class: 'toc', 'aria-label': 'Exercises' }, h('h2', { text: 'CNN exercises' }), toc));
  }

  const ctx = { engine: getEngine };
  for (const ex of shown) {
    const headingId = `ex-${ex.id}-title`;
    const section = h('section', { class: 'exercise', id: `ex-${ex.id}`, 'data-exercise': ex.id, 'aria-labelledby': headingId });
    section.append(h('h3', { id: headingId, text: ex.title }));
    root.append(section);
    try {
      ex.mount(section, ctx);
    } catch (e) {
      section.append(h('p', { class: 'status error', role: 'alert', text: `This exercise failed to start: ${e.message}` }));
      console.error(e);
    }
  }
  return { engine: () => shared };
}

const auto = document.querySelector('[data-cnn-lab]');
if (auto && !auto.dataset.mounted) {
  auto.dataset.mounted = 'true';
  mountLab(auto);
}
