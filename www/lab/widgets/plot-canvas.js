// A canvas with a fixed drawing resolution that scales down with its container (CSS width 100%,
// capped at its own width), plus the mapping from pointer positions to drawing coordinates.

import { h } from './dom.js';

export const CLASS_COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export function plotCanvas(width, height, props = {}) {
  const c = h('canvas', { class: 'plot-canvas', width, height, ...props });
  c.style.maxWidth = `${width}px`;
  return c;
}

export function canvasPoint(canvas, e) {
  const r = canvas.getBoundingClientRect();
  return [((e.clientX - r.left) / r.width) * canvas.width, ((e.clientY - r.top) / r.height) * canvas.height];
}

// Linear map from [d0, d1] to [r0, r1].
export function scale(d0, d1, r0, r1) {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

export function niceTicks(lo, hi, count = 5) {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const step0 = span / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

export function tickLabel(v) {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e4)) return v.toExponential(0);
  return String(Number(v.toPrecision(3)));
}

// Frame, ticks and axis titles for a plot area { x0, y0, x1, y1 } (canvas pixels, y0 at the top).
export function drawAxes(ctx, area, sx, sy, xTicks, yTicks, xTitle, yTitle) {
  ctx.save();
  ctx.strokeStyle = '#9aa1a9';
  ctx.lineWidth = 1;
  ctx.strokeRect(area.x0 + 0.5, area.y0 + 0.5, area.x1 - area.x0, area.y1 - area.y0);
  ctx.fillStyle = '#333';
  // wide canvases are shown shrunk on phones: their text is drawn larger to stay readable
  ctx.font = `${Math.max(12, Math.round(ctx.canvas.width / 34))}px system-ui, sans-serif`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const t of xTicks) {
    const x = sx(t);
    ctx.fillRect(x, area.y1, 1, 4);
    ctx.fillText(tickLabel(t), x, area.y1 + 6);
  }
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const t of yTicks) {
    const y = sy(t);
    ctx.fillRect(area.x0 - 4, y, 4, 1);
    ctx.fillText(tickLabel(t), area.x0 - 6, y);
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'bottom';
  ctx.fillText(xTitle, (area.x0 + area.x1) / 2, ctx.canvas.height - 2);
  ctx.translate(12, (area.y0 + area.y1) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = 'middle';
  ctx.fillText(yTitle, 0, 0);
  ctx.restore();
}
