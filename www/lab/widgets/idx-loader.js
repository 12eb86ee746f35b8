// Loads the student's own digits: the four standard MNIST IDX files (worker command loadIdx, which
// checks magic numbers and dimensions). Models created afterwards train and test on them, and the
// files are kept in IndexedDB so that a reload uses them again (Engine.useDigits, www/store.js).

import { field, formatInt, h, statusLine, whenText } from './dom.js';

const FILES = [
  ['trainImages', 'training images (train-images-idx3-ubyte)'],
  ['trainLabels', 'training labels (train-labels-idx1-ubyte)'],
  ['testImages', 'test images (t10k-images-idx3-ubyte)'],
  ['testLabels', 'test labels (t10k-labels-idx1-ubyte)'],
];

export class IdxLoader {
  constructor(getEngine) {
    this.inputs = Object.fromEntries(FILES.map(([k]) => [k, h('input', { type: 'file', 'data-idx': k })]));
    this.status = statusLine('');
    this.status.dataset.idxStatus = '';
    const load = h('button', { type: 'button', text: 'Use these files', on: { click: () => this.load(getEngine()) } });
    this.forgetBtn = h('button', { type: 'button', text: 'Use the bundled digits', hidden: true, on: { click: () => this.forget(getEngine()) } });
    this.el = h(
      'details',
      { class: 'results idx-loader' },
      h('summary', { text: 'Use your own MNIST files (IDX format)' }),
      h('p', { class: 'note', text: 'Pick the four uncompressed IDX files. They stay on this machine; models created afterwards use them, and so does this page after a reload (the files are kept in this browser until you go back to the bundled digits).' }),
      FILES.map(([k, label]) => field(label, this.inputs[k]).wrap),
      h('div', { class: 'row' }, load, this.forgetBtn),
      this.status,
    );
    // files picked earlier, on this or another exercise: the engine uses them (Engine.data())
    getEngine().keptDigits().then((kept) => {
      if (!kept || this.status.textContent) return;
      this.el.open = true;
      this.forgetBtn.hidden = false;
      this.say(`Using your MNIST files, picked ${whenText(kept.updated)}: ${formatInt(kept.sizes.train)} training and ${formatInt(kept.sizes.test)} test digits.`);
    });
  }

  say(text, error = false) {
    this.status.textContent = text;
    this.status.classList.toggle('error', error);
  }

  async load(engine) {
    const missing = FILES.filter(([k]) => !this.inputs[k].files[0]).map(([, label]) => label);
    if (missing.length) {
      this.say(`Pick the ${missing.join(', ')} first.`, true);
      return;
    }
    this.say('Loading…');
    try {
      // the Files themselves: the worker reads them, the main thread never holds their 55 MB
      const r = await engine.useDigits(Object.fromEntries(FILES.map(([k]) => [k, this.inputs[k].files[0]])));
      this.forgetBtn.hidden = !r.kept;
      const kept = r.kept ? ' Kept in this browser: a reload uses them again.' : ' (This browser did not let the lab keep them: after a reload the bundled digits are used.)';
      this.say(`Loaded ${formatInt(r.train)} training and ${formatInt(r.test)} test digits; create a model to use them.${kept}`);
    } catch (e) {
      this.say(`Could not load the files: ${e.message.replace(/^loadIdx: /, '')}`, true);
    }
  }

  async forget(engine) {
    try {
      const r = await engine.useBundled();
      this.forgetBtn.hidden = true;
      this.say(`Back to the bundled digits (${formatInt(r.train)} training, ${formatInt(r.test)} test); create a model to use them. Your files are no longer kept.`);
    } catch (e) {
      this.say(`Could not go back to the bundled digits: ${e.message.replace(/^loadData: /, '')}`, true);
    }
  }
}
