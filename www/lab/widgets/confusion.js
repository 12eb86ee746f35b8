// Confusion matrix as a table: rows are true labels, columns predictions; counts shaded by row share.

import { h } from './dom.js';

export class ConfusionMatrix {
  constructor({ classes = 10 } = {}) {
    this.k = classes;
    this.el = h('div', { class: 'confusion-wrap' });
  }

  // counts: Int32Array(k*k), row-major [true][pred]
  render(counts) {
    const k = this.k;
    const table = h('table', { class: 'confusion' });
    table.append(h('caption', { text: 'Confusion matrix: rows = true digit, columns = predicted digit' }));
    const head = h('tr', {}, h('th', { scope: 'col', text: 'true \\ pred' }));
    for (let j = 0; j < k; j++) head.append(h('th', { scope: 'col', text: String(j) }));
    table.append(h('thead', {}, head));
    const body = h('tbody', {});
    for (let i = 0; i < k; i++) {
      let rowSum = 0;
      for (let j = 0; j < k; j++) rowSum += counts[i * k + j];
      const tr = h('tr', {}, h('th', { scope: 'row', text: String(i) }));
      for (let j = 0; j < k; j++) {
        const c = counts[i * k + j];
        const share = rowSum ? c / rowSum : 0;
        const td = h('td', { text: String(c), class: i === j ? 'diag' : c ? 'off' : '' });
        const hue = i === j ? '46, 160, 67' : '214, 39, 40';
        if (c) td.style.backgroundColor = `rgba(${hue}, ${Math.max(0.08, Math.sqrt(share)).toFixed(3)})`;
        if (share > 0.55) td.style.color = '#fff';
        tr.append(td);
      }
      body.append(tr);
    }
    table.append(body);
    this.el.replaceChildren(table);
  }
}
