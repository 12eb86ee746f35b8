// Small CNN builder: conv (k, filters, stride, padding), pool (k, stride, max/avg) and dense layers,
// with each layer's output shape and parameter count computed in JS (conv-math.js). The 10-way
// output layer is always last and fixed. Emits 'change' with detail { layers, summary }.

import { h, intOf, select, uniqueId } from './dom.js';
import { shapeText, summarize, toSpecLayers } from './conv-math.js';

const DEFAULTS = {
  conv: { type: 'conv', k: 3, filters: 8, stride: 1, pad: 1 },
  pool: { type: 'pool', k: 2, stride: 2, mode: 'max' },
  dense: { type: 'dense', units: 64 },
};

const FIELDS = {
  conv: [['k', 'kernel', 1, 9], ['filters', 'filters', 1, 128], ['stride', 'stride', 1, 4], ['pad', 'padding', 0, 4]],
  pool: [['k', 'size', 1, 4], ['stride', 'stride', 1, 4]],
  dense: [['units', 'units', 1, 1024]],
};

export const OUTPUT_LAYER = { type: 'dense', units: 10 };

export class LayerBuilder extends EventTarget {
  constructor({ layers = [] } = {}) {
    super();
    this.layers = layers.map((l) => ({ ...l }));
    this.list = h('ol', { class: 'layers' });
    this.totalEl = h('p', { class: 'layers-total', role: 'status', 'aria-live': 'polite' });
    const add = (type) => h('button', { type: 'button', text: `+ ${type}`, 'aria-label': `Add a ${type} layer`, on: { click: () => this.add(type) } });
    this.el = h(
      'div',
      { class: 'layer-builder', role: 'group', 'aria-label': 'Layer builder' },
      h('p', { class: 'layers-input', text: 'input 1×28×28' }),
      this.list,
      h('div', { class: 'row' }, add('conv'), add('pool'), add('dense')),
      this.totalEl,
    );
    this.render();
  }

  all() {
    return [...this.layers, OUTPUT_LAYER];
  }

  summary() {
    return summarize(this.all());
  }

  specLayers() {
    return toSpecLayers(this.all());
  }

  setLayers(layers) {
    this.layers = layers.map((l) => ({ ...l }));
    this.render();
    this.changed();
  }

  add(type) {
    this.layers.push({ ...DEFAULTS[type] });
    this.render();
    this.changed();
    this.list.children[this.layers.length - 1]?.querySelector('select')?.focus();
  }

  remove(i) {
    this.layers.splice(i, 1);
    this.render();
    this.changed();
  }

  changed() {
    this.refreshNumbers();
    this.dispatchEvent(new CustomEvent('change', { detail: { layers: this.all(), summary: this.summary() } }));
  }

  render() {
    this.list.replaceChildren();
    this.layers.forEach((l, i) => this.list.append(this.row(l, i)));
    this.list.append(h('li', { class: 'layer fixed' }, h('span', { class: 'layer-name', text: 'dense 10 (output, softmax)' }), h('span', { class: 'layer-shape' }), h('span', { class: 'layer-params' })));
    this.refreshNumbers();
  }

  row(l, i) {
    const typeSel = select([['conv', 'conv + ReLU'], ['pool', 'pool'], ['dense', 'dense + ReLU']], l.type);
    typeSel.setAttribute('aria-label', `Layer ${i + 1} type`);
    typeSel.addEventListener('change', () => {
      this.layers[i] = { ...DEFAULTS[typeSel.value] };
      this.render();
      this.changed();
      this.list.children[i].querySelector('select').focus();
    });
    const li = h('li', { class: 'layer' }, typeSel);
    for (const [key, label, min, max] of FIELDS[l.type]) {
      const id = uniqueId('lb');
      const inp = h('input', { type: 'number', id, min, max, value: String(l[key]), inputmode: 'numeric' });
      inp.addEventListener('input', () => {
        this.layers[i][key] = intOf(inp, l[key]);
        this.changed();
      });
      li.append(h('span', { class: 'mini-field' }, h('label', { for: id, text: label }), inp));
    }
    if (l.type === 'pool') {
      const mode = select([['max', 'max'], ['avg', 'average']], l.mode);
      mode.setAttribute('aria-label', `Layer ${i + 1} pooling mode`);
      mode.addEventListener('change', () => {
        this.layers[i].mode = mode.value;
        this.changed();
      });
      li.append(mode);
    }
    li.append(
      h('span', { class: 'layer-shape' }),
      h('span', { class: 'layer-params' }),
      h('button', { type: 'button', class: 'icon', text: '✕', 'aria-label': `Remove layer ${i + 1}`, on: { click: () => this.remove(i) } }),
    );
    return li;
  }

  refreshNumbers() {
    const s = this.summary();
    [...this.list.children].forEach((li, i) => {
      const r = s.rows[i];
      li.querySelector('.layer-shape').textContent = `→ ${shapeText(r.outShape)}`;
      li.querySelector('.layer-params').textContent = `${r.params.toLocaleString('en-US')} params`;
    });
    this.totalEl.textContent = s.error ? `⚠ ${s.error}` : `Total: ${s.total.toLocaleString('en-US')} parameters`;
    this.el.dataset.valid = s.error ? 'false' : 'true';
  }
}
