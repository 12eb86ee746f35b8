// Exercise 3: max and average pooling on a feature map and on a drawn digit.

import { field, h, intOf, select } from '../widgets/dom.js';
import { Check } from '../widgets/check.js';
import { pool } from '../widgets/conv-math.js';
import { DrawCanvas, EXAMPLE_FOUR } from '../widgets/draw-canvas.js';
import { ImageGrid } from '../widgets/image-grid.js';

export const FEATURE_MAP = [
  [1, 1, 2, 4, 0, 1],
  [5, 6, 7, 8, 2, 0],
  [3, 2, 1, 0, 1, 3],
  [1, 2, 3, 4, 6, 2],
  [0, 4, 1, 1, 2, 2],
  [2, 0, 3, 5, 1, 0],
];

function fmt(v) {
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

export default {
  id: 'pooling',
  title: '3. Pooling',
  mount(section) {
    section.append(
      h('p', {
        text:
          'A pooling layer summarises each k×k window of a feature map by one number: max pooling keeps the ' +
          'largest value (is the feature present anywhere in the window?), average pooling the mean. With ' +
          'stride s the output has floor((n − k) / s) + 1 cells per side; the usual 2×2 window with stride 2 ' +
          'halves width and height. Each channel is pooled on its own, and pooling has no weights to learn. ' +
          'It makes the representation smaller and a little tolerant to small shifts.',
      }),
    );

    const mode = select([['max', 'max'], ['avg', 'average']], 'max');
    const kIn = h('input', { type: 'number', min: 1, max: 4, value: '2', step: 1, inputmode: 'numeric' });
    const sIn = h('input', { type: 'number', min: 1, max: 4, value: '2', step: 1, inputmode: 'numeric' });
    const n = FEATURE_MAP.length;
    const flat = Float32Array.from(FEATURE_MAP.flat());
    const inGrid = h('div', { class: 'grid pool-in', role: 'group', 'aria-label': `Feature map ${n}×${n}` });
    inGrid.style.gridTemplateColumns = `repeat(${n}, var(--cell))`;
    const inCells = FEATURE_MAP.flat().map((v) => h('span', { class: 'cell-val', text: String(v) }));
    inGrid.append(...inCells);
    const outGrid = h('div', { class: 'grid pool-out', role: 'group', 'aria-label': 'Pooled output' });
    const sizeText = h('p', { class: 'formula', role: 'status', 'aria-live': 'polite' });

    function highlight(i, j, k, s) {
      inCells.forEach((cell, idx) => {
        const r = Math.floor(idx / n);
        const c = idx % n;
        cell.classList.toggle('hl', i != null && r >= i * s && r < i * s + k && c >= j * s && c < j * s + k);
      });
    }

    function updateMap() {
      const k = intOf(kIn, 2);
      const s = intOf(sIn, 2);
      const out = pool(flat, n, n, k, s, mode.value);
      outGrid.style.gridTemplateColumns = `repeat(${Math.max(out.w, 1)}, var(--cell-wide))`;
      outGrid.replaceChildren(
        ...Array.from(out.data, (v, idx) => {
          const i = Math.floor(idx / out.w);
          const j = idx % out.w;
          const b = h('button', {
            type: 'button',
            class: 'cell-val',
            text: fmt(v),
            'aria-label': `output row ${i + 1} column ${j + 1}: ${fmt(v)}`,
          });
          for (const ev of ['mouseenter', 'focus']) b.addEventListener(ev, () => highlight(i, j, k, s));
          for (const ev of ['mouseleave', 'blur']) b.addEventListener(ev, () => highlight(null));
          return b;
        }),
      );
      sizeText.textContent = `${n}×${n} → floor((${n} − ${k}) / ${s}) + 1 = ${out.h}, so ${out.h}×${out.w} (${mode.value === 'max' ? 'max' : 'average'} pooling)`;
      updateDigit();
    }

    const pad = new DrawCanvas({ label: 'Drawing pad for the pooling example' });
    const digitGrid = new ImageGrid({ label: 'Drawn digit and its pooled version', scale: 4 });
    let digit = new Float32Array(784);
    pad.addEventListener('change', (e) => {
      digit = e.detail.image;
      updateDigit();
    });

    function updateDigit() {
      const k = intOf(kIn, 2);
      const s = intOf(sIn, 2);
      const out = pool(digit, 28, 28, k, s, mode.value);
      // show both at the same on-screen size so the loss of detail is visible
      const up = new Float32Array(784);
      for (let y = 0; y < 28; y++) {
        for (let x = 0; x < 28; x++) {
          const oy = Math.min(out.h - 1, Math.floor((y * out.h) / 28));
          const ox = Math.min(out.w - 1, Math.floor((x * out.w) / 28));
          up[y * 28 + x] = out.data[oy * out.w + ox];
        }
      }
      const both = new Float32Array(784 * 2);
      both.set(digit, 0);
      both.set(up, 784);
      digitGrid.render(both, [2, 28, 28], { captions: ['28×28 input', `${out.h}×${out.w} after pooling`] });
    }

    for (const el of [mode, kIn, sIn]) el.addEventListener('input', updateMap);

    section.append(
      h('div', { class: 'controls' }, field('pooling', mode).wrap, field('size k', kIn).wrap, field('stride s', sIn).wrap),
      sizeText,
      h(
        'div',
        { class: 'panels' },
        h('div', { class: 'panel' }, h('h4', { text: 'Feature map' }), inGrid),
        h('div', { class: 'panel' }, h('h4', { text: 'Pooled (hover or focus a cell)' }), outGrid),
      ),
      h('h4', { text: 'Pooling a drawn digit' }),
      h('div', { class: 'panels' }, h('div', { class: 'panel' }, pad.el), h('div', { class: 'panel' }, digitGrid.el)),
      h('h4', { text: 'Your turn' }),
      h('p', { text: 'Use the top-left 4×4 block of the feature map: rows 1–4, columns 1–4.' }),
      new Check({
        id: 'pool-max',
        question: 'Max pooling, 2×2 window, stride 2, on that 4×4 block: what is the top-right output value?',
        answer: 8,
        hint: 'The top-right window covers rows 1–2, columns 3–4.',
        solution: 'max(2, 4, 7, 8) = 8.',
      }).el,
      new Check({
        id: 'pool-avg',
        question: 'Average pooling, 2×2 window, stride 2, on that block: what is the bottom-left output value?',
        answer: 2,
        tolerance: 1e-6,
        hint: 'Rows 3–4, columns 1–2 hold 3, 2, 1, 2.',
        solution: '(3 + 2 + 1 + 2) / 4 = 2.',
      }).el,
      new Check({
        id: 'pool-size',
        question: 'A 28×28 map after 2×2 pooling with stride 2 has how many cells per side?',
        answer: 14,
        hint: 'floor((n − k) / s) + 1.',
        solution: 'floor((28 − 2) / 2) + 1 = 14.',
      }).el,
      new Check({
        id: 'pool-params',
        question: 'How many learnable parameters does a 2×2 max-pooling layer have?',
        answer: 0,
        hint: 'What would it learn? The max is fixed.',
        solution: 'None: pooling is a fixed function of its window.',
      }).el,
    );
    updateMap();
    pad.setStrokes(EXAMPLE_FOUR);
  },
};
