// Overlaid histograms of two groups of values (e.g. reconstruction errors of inliers and of the rest)
// with a movable threshold line. Each group is normalised to fractions of its own size, so a small
// group stays visible next to a large one.

import { h } from './dom.js';
import { drawAxes, niceTicks, plotCanvas, scale } from './plot-canvas.js';
import { histogram } from '../ae-math.js';

const W = 480, H = 260;
const AREA = { x0: 52, y0: 10, x1: W - 10, y1: H - 40 };

export class OverlayHistogram {
  constructor({ label = 'Histogram', xTitle = 'value', groups = ['a', 'b'], colours = ['#2ca02c', '#d62728'], bins = 40 } = {}) {
    Object.assign(this, { xTitle, groups, colours, bins });
    this.canvas = plotCanvas(W, H, { role: 'img', 'aria-label': label });
    this.ctx = this.canvas.getContext('2d');
    this.legend = h('ul', { class: 'class-legend' });
    groups.forEach((g, i) => {
      const sw = h('span', { class: 'swatch' });
      sw.style.background = colours[i];
      this.legend.append(h('li', {}, sw, g));
    });
    this.legend.append(h('li', {}, h('span', { class: 'swatch line' }), 'threshold'));
    this.el = h('figure', { class: 'histogram' }, this.canvas, this.legend);
    this.data = null;
    this.threshold = null;
  }

  // values: [groupA values, groupB values]; [lo, hi] the x range.
  set(values, lo, hi) {
    const counts = values.map((v) => histogram(v, lo, hi, this.bins).map((c) => c / Math.max(1, v.length)));
    this.data = { counts, lo, hi };
    this.draw();
  }

  setThreshold(t) {
    this.threshold = t;
    this.draw();
  }

  draw() {
    const c = this.ctx;
    c.fillStyle = '#fff';
    c.fillRect(0, 0, W, H);
    if (!this.data) return;
    const { counts, lo, hi } = this.data;
    const top = Math.max(...counts.flat(), 0.01);
    const sx = scale(lo, hi, AREA.x0, AREA.x1);
    const sy = scale(0, top, AREA.y1, AREA.y0);
    const bw = (hi - lo) / this.bins;
    counts.forEach((cs, g) => {
      c.globalAlpha = 0.55;
      c.fillStyle = this.colours[g];
      cs.forEach((v, b) => {
        const x = sx(lo + b * bw);
        c.fillRect(x, sy(v), sx(lo + (b + 1) * bw) - x - 0.5, AREA.y1 - sy(v));
      });
    });
    c.globalAlpha = 1;
    drawAxes(c, AREA, sx, sy, niceTicks(lo, hi), niceTicks(0, top, 4), this.xTitle, 'fraction of group');
    if (this.threshold != null) {
      const x = Math.min(AREA.x1, Math.max(AREA.x0, sx(this.threshold)));
      c.strokeStyle = '#000';
      c.lineWidth = 2;
      c.setLineDash([5, 3]);
      c.beginPath();
      c.moveTo(x, AREA.y0);
      c.lineTo(x, AREA.y1);
      c.stroke();
      c.setLineDash([]);
    }
  }
}
