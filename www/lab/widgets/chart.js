// Live line chart on the vendored uPlot (www/lab/vendor/README.md). Several named series share one x
// axis (training step in epochs, epoch number, or layer index). Points are appended as they arrive and
// the chart redraws at most once per animation frame.

import uPlot from '../vendor/uplot/uPlot.esm.js';
import { h } from './dom.js';

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf'];

export class LiveChart {
  constructor({ title, xLabel = 'epoch', yLabel = '', series, height = 220, log = false, points = false }) {
    this.names = series.map((s) => (typeof s === 'string' ? s : s.name));
    this.xs = [];
    this.ys = this.names.map(() => []);
    this.frame = 0;
    this.last = h('p', { class: 'chart-last', 'aria-live': 'off' });
    this.plotEl = h('div', { class: 'chart-plot' });
    this.el = h('figure', { class: 'chart', role: 'group', 'aria-label': title }, h('figcaption', { text: title }), this.plotEl, this.last);
    const seriesOpts = this.names.map((name, i) => ({
      label: name,
      stroke: series[i].color || PALETTE[i % PALETTE.length],
      width: 2,
      spanGaps: true,
      points: { show: points, size: 6 },
    }));
    this.opts = {
      width: 320,
      height,
      scales: { x: { time: false }, y: log ? { distr: 3 } : {} },
      axes: [{ label: xLabel, size: 40 }, { label: yLabel, size: 50 }],
      series: [{ label: xLabel }, ...seriesOpts],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    };
    this.plot = null;
    this.resizer = new ResizeObserver(() => this.fit());
    this.resizer.observe(this.el);
    this.schedule();
  }

  width() {
    return Math.max(200, Math.floor(this.el.clientWidth || 320));
  }

  ensure() {
    if (!this.plot) this.plot = new uPlot({ ...this.opts, width: this.width() }, this.data(), this.plotEl);
  }

  fit() {
    if (this.plot && this.el.clientWidth) this.plot.setSize({ width: this.width(), height: this.opts.height });
  }

  data() {
    return [this.xs, ...this.ys];
  }

  // values: { seriesName: number } — missing series get a gap at this x.
  // Keeps x sorted (uPlot needs that): series from interleaved runs may arrive out of order.
  push(x, values) {
    let at = this.xs.length;
    while (at > 0 && this.xs[at - 1] > x) at--;
    this.xs.splice(at, 0, x);
    this.names.forEach((n, i) => {
      const v = values[n];
      this.ys[i].splice(at, 0, Number.isFinite(v) ? v : null);
    });
    this.schedule();
  }

  // Replace all data at once (e.g. per-layer values).
  set(xs, valuesByName) {
    this.xs = [...xs];
    this.ys = this.names.map((n) => (valuesByName[n] || []).map((v) => (Number.isFinite(v) ? v : null)));
    this.schedule();
  }

  reset() {
    this.xs = [];
    this.ys = this.names.map(() => []);
    this.schedule();
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.ensure();
      this.plot.setData(this.data());
      this.last.textContent = this.summary();
    });
  }

  summary() {
    if (!this.xs.length) return 'no data yet';
    const parts = this.names.map((n, i) => {
      const arr = this.ys[i];
      for (let k = arr.length - 1; k >= 0; k--) if (arr[k] != null) return `${n} ${fmt(arr[k])}`;
      return null;
    });
    return `latest: ${parts.filter(Boolean).join(', ')}`;
  }
}

function fmt(v) {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e4)) return v.toExponential(2);
  return v.toFixed(a < 1 ? 4 : 2);
}
