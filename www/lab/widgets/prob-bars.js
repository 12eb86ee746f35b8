// Ten horizontal bars: the model's class probabilities for one image. The top class is marked.

import { h } from './dom.js';

export class ProbBars {
  constructor({ label = 'Class probabilities' } = {}) {
    this.rows = [];
    this.el = h('div', { class: 'prob-bars', role: 'group', 'aria-label': label });
    for (let d = 0; d < 10; d++) {
      const fill = h('span', { class: 'prob-fill' });
      const value = h('span', { class: 'prob-value', text: '–' });
      const row = h('div', { class: 'prob-row' }, h('span', { class: 'prob-digit', text: String(d) }), h('span', { class: 'prob-track' }, fill), value);
      this.rows.push({ row, fill, value });
      this.el.append(row);
    }
    this.top = h('p', { class: 'prob-top', role: 'status', 'aria-live': 'polite' });
    this.el.append(this.top);
  }

  show(probs) {
    let best = 0;
    for (let d = 1; d < 10; d++) if (probs[d] > probs[best]) best = d;
    this.rows.forEach(({ row, fill, value }, d) => {
      fill.style.width = `${Math.max(0, Math.min(1, probs[d])) * 100}%`;
      value.textContent = `${(probs[d] * 100).toFixed(1)}%`;
      row.classList.toggle('best', d === best);
    });
    this.top.textContent = `Prediction: ${best} (${(probs[best] * 100).toFixed(1)}%)`;
    this.el.dataset.prediction = String(best);
    return best;
  }

  clear(text = '') {
    this.rows.forEach(({ row, fill, value }) => {
      fill.style.width = '0%';
      value.textContent = '–';
      row.classList.remove('best');
    });
    this.top.textContent = text;
    delete this.el.dataset.prediction;
  }
}
