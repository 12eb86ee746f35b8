// Drawing pad for digits. Pointer events cover mouse, touch and pen. Keeps the strokes so the last
// one can be undone. Emits 'change' (throttled while drawing, and once when a stroke ends) with
// detail.image = Float32Array(784), the MNIST-style 28x28 version of the drawing.

import { h, uniqueId } from './dom.js';
import { mnistify } from './mnistify.js';

const RES = 280; // drawing resolution in canvas pixels (10x the 28x28 target)

// A handwritten-looking 4 in 0..1 canvas coordinates, so pads can start with an example digit.
export const EXAMPLE_FOUR = [
  [[0.55, 0.15], [0.28, 0.6], [0.72, 0.6]],
  [[0.6, 0.35], [0.6, 0.88]],
];

export class DrawCanvas extends EventTarget {
  constructor({ label = 'Drawing pad: draw a digit with mouse, finger or pen', throttleMs = 80 } = {}) {
    super();
    this.strokes = [];
    this.current = null;
    this.throttleMs = throttleMs;
    this.lastEmit = 0;
    this.timer = null;
    this.image = new Float32Array(784);

    const helpId = uniqueId('draw-help');
    this.canvas = h('canvas', {
      class: 'draw-canvas',
      width: RES,
      height: RES,
      role: 'img',
      'aria-label': label,
      'aria-describedby': helpId,
    });
    this.ctx = this.canvas.getContext('2d');
    this.clearBtn = h('button', { type: 'button', text: 'Clear', on: { click: () => this.clear() } });
    this.undoBtn = h('button', { type: 'button', text: 'Undo stroke', on: { click: () => this.undo() } });
    this.el = h(
      'div',
      { class: 'draw-widget' },
      this.canvas,
      h('div', { class: 'row' }, this.clearBtn, this.undoBtn),
      h('p', { class: 'field-hint', id: helpId, text: 'Draw one digit, large and centred; it is resized to 28×28 like MNIST.' }),
    );

    this.canvas.addEventListener('pointerdown', (e) => this.down(e));
    this.canvas.addEventListener('pointermove', (e) => this.move(e));
    this.canvas.addEventListener('pointerup', (e) => this.up(e));
    this.canvas.addEventListener('pointercancel', (e) => this.up(e));
    this.redraw();
  }

  point(e) {
    const r = this.canvas.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * RES, ((e.clientY - r.top) / r.height) * RES];
  }

  down(e) {
    if (e.button !== undefined && e.button > 0) return;
    e.preventDefault();
    this.canvas.setPointerCapture?.(e.pointerId);
    this.current = { id: e.pointerId, points: [this.point(e)] };
    this.strokes.push(this.current.points);
    this.redraw();
  }

  move(e) {
    if (!this.current || e.pointerId !== this.current.id) return;
    e.preventDefault();
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
    for (const ce of events.length ? events : [e]) this.current.points.push(this.point(ce));
    this.redraw();
    this.scheduleEmit();
  }

  up(e) {
    if (!this.current || e.pointerId !== this.current.id) return;
    this.current = null;
    this.emitNow();
  }

  clear() {
    this.strokes = [];
    this.current = null;
    this.redraw();
    this.emitNow();
  }

  undo() {
    this.strokes.pop();
    this.current = null;
    this.redraw();
    this.emitNow();
  }

  // strokes: arrays of [x, y] points in 0..1 coordinates (for examples and defaults).
  setStrokes(strokes) {
    this.strokes = strokes.map((pts) => pts.map(([x, y]) => [x * RES, y * RES]));
    this.current = null;
    this.redraw();
    this.emitNow();
  }

  isEmpty() {
    return this.strokes.length === 0;
  }

  redraw() {
    paint(this.ctx, this.strokes, RES / 12);
  }

  // The 28x28 image is made from a hidden copy painted with a pen width proportional to the size of
  // the drawing, so the stroke ends up about 2.5 px wide in the 20x20 box however large the digit
  // was drawn (MNIST strokes are about that wide). The ink is the alpha channel.
  compute() {
    if (!this.hidden) {
      this.hidden = document.createElement('canvas');
      this.hidden.width = RES;
      this.hidden.height = RES;
      this.hiddenCtx = this.hidden.getContext('2d', { willReadFrequently: true });
    }
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const pts of this.strokes) {
      for (const [x, y] of pts) {
        x0 = Math.min(x0, x); x1 = Math.max(x1, x);
        y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
    }
    const side = Math.max(x1 - x0, y1 - y0, 1);
    // width w on a drawing of extent side lands as 20 * w / (side + w) pixels; solve for 2.5 px
    const width = Math.min(60, Math.max(4, (2.5 * side) / 17.5));
    paint(this.hiddenCtx, this.strokes, width);
    const data = this.hiddenCtx.getImageData(0, 0, RES, RES).data;
    const gray = new Float32Array(RES * RES);
    for (let i = 0; i < gray.length; i++) gray[i] = data[i * 4 + 3] / 255;
    this.image = mnistify(gray, RES, RES);
    return this.image;
  }

  scheduleEmit() {
    const wait = this.throttleMs - (performance.now() - this.lastEmit);
    if (wait <= 0) this.emitNow();
    else if (!this.timer) this.timer = setTimeout(() => this.emitNow(), wait);
  }

  emitNow() {
    clearTimeout(this.timer);
    this.timer = null;
    this.lastEmit = performance.now();
    const image = this.compute();
    this.dispatchEvent(new CustomEvent('change', { detail: { image, empty: this.isEmpty() } }));
  }
}

function paint(c, strokes, width) {
  c.clearRect(0, 0, RES, RES);
  c.strokeStyle = '#fff';
  c.fillStyle = '#fff';
  c.lineWidth = width;
  c.lineCap = 'round';
  c.lineJoin = 'round';
  for (const pts of strokes) {
    c.beginPath();
    if (pts.length === 1) {
      c.arc(pts[0][0], pts[0][1], width / 2, 0, Math.PI * 2);
      c.fill();
      continue;
    }
    c.moveTo(pts[0][0], pts[0][1]);
    for (let i = 1; i < pts.length; i++) c.lineTo(pts[i][0], pts[i][1]);
    c.stroke();
  }
}
