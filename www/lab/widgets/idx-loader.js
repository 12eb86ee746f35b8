// Loads the student's own digits: the four standard MNIST IDX files (worker command loadIdx, which
// checks magic numbers and dimensions). Models created afterwards train and test on them.

import { field, h, statusLine } from './dom.js';

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
    this.el = h(
      'details',
      { class: 'results idx-loader' },
      h('summary', { text: 'Use your own MNIST files (IDX format)' }),
      h('p', { class: 'note', text: 'Pick the four uncompressed IDX files. They stay on this machine; models created afterwards use them.' }),
      FILES.map(([k, label]) => field(label, this.inputs[k]).wrap),
      h('div', { class: 'row' }, load),
      this.status,
    );
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
      const fields = {};
      for (const [k] of FILES) fields[k] = await this.inputs[k].files[0].arrayBuffer();
      const r = await engine.call('loadIdx', fields);
      this.say(`Loaded ${r.train.toLocaleString('en-US')} training and ${r.test.toLocaleString('en-US')} test digits; create a model to use them.`);
    } catch (e) {
      this.say(`Could not load the files: ${e.message.replace(/^loadIdx: /, '')}`, true);
    }
  }
}
