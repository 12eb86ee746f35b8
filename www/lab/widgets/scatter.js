// 2-D scatter of latent codes coloured by class. Hover, tap or the arrow keys pick a point; the
// owner shows the digit behind it (event 'pick', detail { index }). Points: { x, y, cls }.

import { h } from './dom.js';
import { CLASS_COLOURS, canvasPoint, drawAxes, niceTicks, plotCanvas, scale } from './plot-canvas.js';

const SIZE = 440;
const AREA = { x0: 48, y0: 10, x1: SIZE - 10, y1: SIZE - 40 };

export class LatentScatter extends EventTarget {
  constructor({ label = 'Latent space scatter', xTitle = 'z₁', yTitle = 'z₂' } = {}) {
    super();
    this.titles = [xTitle, yTitle];
    this.points = [];
    this.picked = -1;
    this.canvas = plotCanvas(SIZE, SIZE, {
      tabindex: 0,
      role: 'img',
      'aria-label': `${label}. Hover or tap a point to see its digit; with the keyboard, use the arrow keys.`,
    });
    this.ctx = this.canvas.getContext('2d');
    this.legend = h('ul', { class: 'class-legend', 'aria-label': 'Colour of each digit class' });
    CLASS_COLOURS.forEach((c, d) => {
      const sw = h('span', { class: 'swatch' });
      sw.style.background = c;
      this.legend.append(h('li', {}, sw, String(d)));
    });
    this.el = h('figure', { class: 'scatter' }, this.canvas, this.legend);
    this.canvas.addEventListener('pointermove', (e) => this.hover(e));
    this.canvas.addEventListener('pointerdown', (e) => this.hover(e));
    this.canvas.addEventListener('keydown', (e) => this.key(e));
    this.draw();
  }

  setPoints(points) {
    this.points = points;
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const p of points) {
      x0 = Math.min(x0, p.x); x1 = Math.max(x1, p.x);
      y0 = Math.min(y0, p.y); y1 = Math.max(y1, p.y);
    }
    const padX = (x1 - x0) * 0.04 || 1;
    const padY = (y1 - y0) * 0.04 || 1;
    this.dom = points.length ? [x0 - padX, x1 + padX, y0 - padY, y1 + padY] : [-1, 1, -1, 1];
    this.picked = -1;
    this.draw();
  }

  sx() { return scale(this.dom[0], this.dom[1], AREA.x0, AREA.x1); }
  sy() { return scale(this.dom[2], this.dom[3], AREA.y1, AREA.y0); }

  draw() {
    const c = this.ctx;
    c.clearRect(0, 0, SIZE, SIZE);
    c.fillStyle = '#fff';
    c.fillRect(0, 0, SIZE, SIZE);
    if (!this.dom) this.dom = [-1, 1, -1, 1];
    const sx = this.sx(), sy = this.sy();
    drawAxes(c, AREA, sx, sy, niceTicks(this.dom[0], this.dom[1]), niceTicks(this.dom[2], this.dom[3]), ...this.titles);
    c.globalAlpha = 0.75;
    for (const p of this.points) {
      c.fillStyle = CLASS_COLOURS[p.cls % 10];
      c.beginPath();
      c.arc(sx(p.x), sy(p.y), 2.6, 0, Math.PI * 2);
      c.fill();
    }
    c.globalAlpha = 1;
    const p = this.points[this.picked];
    if (p) {
      c.strokeStyle = '#000';
      c.lineWidth = 2;
      c.beginPath();
      c.arc(sx(p.x), sy(p.y), 7, 0, Math.PI * 2);
      c.stroke();
    }
  }

  nearest(px, py, within = 14) {
    const sx = this.sx(), sy = this.sy();
    let best = -1, bd = within * within;
    this.points.forEach((p, i) => {
      const d = (sx(p.x) - px) ** 2 + (sy(p.y) - py) ** 2;
      if (d < bd) { bd = d; best = i; }
    });
    return best;
  }

  hover(e) {
    const i = this.nearest(...canvasPoint(this.canvas, e));
    if (i >= 0 && i !== this.picked) this.pick(i);
  }

  key(e) {
    if (!this.points.length) return;
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[e.key];
    if (!step) return;
    e.preventDefault();
    const n = this.points.length;
    this.pick(this.picked < 0 ? 0 : (this.picked + step + n) % n);
  }

  pick(i) {
    this.picked = i;
    this.draw();
    this.dispatchEvent(new CustomEvent('pick', { detail: { index: i, point: this.points[i] } }));
  }
}
