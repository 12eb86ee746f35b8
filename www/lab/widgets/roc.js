// ROC curve (true-positive rate against false-positive rate) with the chance diagonal and a marker at
// the current threshold's operating point. points: [{ fpr, tpr }] as returned by ae-math.js roc().

import { h } from './dom.js';
import { drawAxes, plotCanvas, scale } from './plot-canvas.js';

const S = 300;
const AREA = { x0: 50, y0: 10, x1: S - 12, y1: S - 42 };

export class RocPlot {
  constructor({ label = 'ROC curve' } = {}) {
    this.canvas = plotCanvas(S, S, { role: 'img', 'aria-label': label });
    this.ctx = this.canvas.getContext('2d');
    this.el = h('figure', { class: 'roc' }, this.canvas);
    this.points = [];
    this.marker = null;
    this.draw();
  }

  set(points) {
    this.points = points;
    this.draw();
  }

  mark(fpr, tpr) {
    this.marker = Number.isFinite(fpr) && Number.isFinite(tpr) ? [fpr, tpr] : null;
    this.draw();
  }

  draw() {
    const c = this.ctx;
    c.fillStyle = '#fff';
    c.fillRect(0, 0, S, S);
    const sx = scale(0, 1, AREA.x0, AREA.x1);
    const sy = scale(0, 1, AREA.y1, AREA.y0);
    const ticks = [0, 0.25, 0.5, 0.75, 1];
    drawAxes(c, AREA, sx, sy, ticks, ticks, 'false-positive rate', 'true-positive rate (recall)');
    c.strokeStyle = '#aaa';
    c.setLineDash([4, 4]);
    c.beginPath();
    c.moveTo(sx(0), sy(0));
    c.lineTo(sx(1), sy(1));
    c.stroke();
    c.setLineDash([]);
    if (this.points.length) {
      c.strokeStyle = '#1f5fa8';
      c.lineWidth = 2;
      c.beginPath();
      this.points.forEach((p, i) => (i ? c.lineTo(sx(p.fpr), sy(p.tpr)) : c.moveTo(sx(p.fpr), sy(p.tpr))));
      c.stroke();
    }
    if (this.marker) {
      c.fillStyle = '#d62728';
      c.beginPath();
      c.arc(sx(this.marker[0]), sy(this.marker[1]), 5, 0, Math.PI * 2);
      c.fill();
    }
  }
}
