// Exercise 1: convolution by hand on the course's 5x5 binary input and 3x3 kernel.

import { h } from '../widgets/dom.js';
import { Check } from '../widgets/check.js';
import { conv2d, windowProducts } from '../widgets/conv-math.js';

export const COURSE_INPUT = [
  [1, 1, 1, 0, 0],
  [0, 1, 1, 1, 0],
  [0, 0, 1, 1, 1],
  [0, 0, 1, 1, 0],
  [0, 1, 1, 0, 0],
];
export const COURSE_KERNEL = [
  [1, 0, 1],
  [0, 1, 0],
  [1, 0, 1],
];

function grid(cls, n, m, label) {
  const el = h('div', { class: `grid ${cls}`, role: 'group', 'aria-label': label });
  el.style.gridTemplateColumns = `repeat(${m}, var(--cell))`;
  return el;
}

export default {
  id: 'convolution',
  title: '1. Convolution by hand',
  mount(section) {
    const input = COURSE_INPUT.map((r) => [...r]);
    const kernel = COURSE_KERNEL.map((r) => [...r]);
    let pos = 0; // receptive field index, row-major over the 3x3 output
    const revealed = new Set();

    section.append(
      h('p', {
        text:
          'A convolutional layer slides a small kernel (filter) over the input. At each position the kernel ' +
          'covers a receptive field; the output value is the sum of the element-wise products of kernel and ' +
          'receptive field. With a 5×5 input, a 3×3 kernel, stride 1 and no padding there are 3×3 positions, ' +
          'so the output (feature map) is 3×3. Deep-learning libraries do not flip the kernel (strictly this ' +
          'is cross-correlation), and neither do we.',
      }),
      h('p', { text: 'Click an input cell to flip it between 0 and 1, or edit the kernel. Step the window, then fill in the output.' }),
    );

    const inGrid = grid('in-grid', 5, 5, 'Input 5×5');
    const inCells = [];
    input.forEach((row, r) =>
      row.forEach((_, c) => {
        const b = h('button', { type: 'button', class: 'cell-btn', on: { click: () => { input[r][c] = 1 - input[r][c]; update(); } } });
        inCells.push(b);
        inGrid.append(b);
      }),
    );

    const kGrid = grid('k-grid', 3, 3, 'Kernel 3×3');
    kernel.forEach((row, r) =>
      row.forEach((_, c) => {
        const inp = h('input', { type: 'number', class: 'cell-in', value: String(kernel[r][c]), step: 1, 'aria-label': `kernel row ${r + 1} column ${c + 1}` });
        inp.addEventListener('input', () => {
          const v = Number(inp.value);
          kernel[r][c] = Number.isFinite(v) ? v : 0;
          update();
        });
        kGrid.append(inp);
      }),
    );

    const prodGrid = grid('prod-grid', 3, 3, 'Products of kernel and receptive field');
    const sumLine = h('p', { class: 'sum-line', 'aria-live': 'polite' });
    const posLabel = h('span', { class: 'pos-label' });
    const prev = h('button', { type: 'button', text: '◀ Previous', on: { click: () => { pos = (pos + 8) % 9; update(); } } });
    const next = h('button', { type: 'button', text: 'Next ▶', on: { click: () => { pos = (pos + 1) % 9; update(); } } });
    const revealBtn = h('button', { type: 'button', text: 'Reveal sum', on: { click: () => { revealed.add(pos); update(); } } });

    const outGrid = grid('out-grid', 3, 3, 'Output 3×3: type each value');
    const outInputs = [];
    for (let i = 0; i < 9; i++) {
      const inp = h('input', {
        type: 'text',
        inputmode: 'numeric',
        class: 'cell-in out-cell',
        autocomplete: 'off',
        'aria-label': `output row ${Math.floor(i / 3) + 1} column ${(i % 3) + 1}`,
      });
      inp.addEventListener('focus', () => { pos = i; update(); });
      inp.addEventListener('change', () => grade(i)); // fires on Enter and on leaving the cell
      outInputs.push(inp);
      outGrid.append(inp);
    }
    const score = h('p', { class: 'score', role: 'status', 'aria-live': 'polite' });

    function expected() {
      return conv2d(input, kernel, 1, 0);
    }

    function grade(i) {
      const inp = outInputs[i];
      const raw = inp.value.trim();
      const want = expected()[Math.floor(i / 3)][i % 3];
      if (raw === '') {
        inp.dataset.result = '';
        inp.removeAttribute('aria-invalid');
      } else {
        const right = Number(raw) === want;
        inp.dataset.result = right ? 'right' : 'wrong';
        inp.setAttribute('aria-invalid', String(!right));
        if (right) revealed.add(i);
        inp.dispatchEvent(new CustomEvent('lab-check', { bubbles: true, detail: { id: `convolution-cell-${i}`, right, value: raw } }));
      }
      update();
    }

    function update() {
      const r0 = Math.floor(pos / 3);
      const c0 = pos % 3;
      inCells.forEach((b, i) => {
        const r = Math.floor(i / 5);
        const c = i % 5;
        const inside = r >= r0 && r < r0 + 3 && c >= c0 && c < c0 + 3;
        b.textContent = String(input[r][c]);
        b.classList.toggle('hl', inside);
        b.classList.toggle('one', input[r][c] === 1);
        b.setAttribute('aria-label', `input row ${r + 1} column ${c + 1}: ${input[r][c]}${inside ? ', in the window' : ''}`);
      });
      const { prods, sum } = windowProducts(input, kernel, r0, c0);
      prodGrid.replaceChildren(
        ...prods.flat().map((p) => h('span', { class: p.p ? 'prod nz' : 'prod', text: `${p.x}×${p.w}=${p.p}` })),
      );
      const terms = prods.flat().map((p) => p.p).join(' + ');
      sumLine.textContent = revealed.has(pos) ? `${terms} = ${sum}` : `${terms} = ?`;
      posLabel.textContent = `window ${pos + 1} of 9 (row ${r0 + 1}, column ${c0 + 1})`;
      outInputs.forEach((inp, i) => inp.classList.toggle('hl', i === pos));
      // regrade filled cells: an edited input or kernel changes the right answers
      const exp = expected();
      let right = 0;
      outInputs.forEach((inp, i) => {
        if (inp.value.trim() === '') return;
        const ok = Number(inp.value.trim()) === exp[Math.floor(i / 3)][i % 3];
        inp.dataset.result = ok ? 'right' : 'wrong';
        inp.setAttribute('aria-invalid', String(!ok));
        if (ok) right += 1;
      });
      score.textContent = right === 9 ? '✓ All 9 output cells are right.' : `${right} of 9 output cells right.`;
      section.dataset.cellsRight = String(right);
    }

    const reset = h('button', {
      type: 'button',
      text: 'Reset to the course example',
      on: {
        click: () => {
          COURSE_INPUT.forEach((row, r) => row.forEach((v, c) => { input[r][c] = v; }));
          COURSE_KERNEL.forEach((row, r) => row.forEach((v, c) => { kernel[r][c] = v; }));
          [...kGrid.children].forEach((inp, i) => { inp.value = String(kernel[Math.floor(i / 3)][i % 3]); });
          update();
        },
      },
    });

    section.append(
      h(
        'div',
        { class: 'panels' },
        h('div', { class: 'panel' }, h('h4', { text: 'Input (5×5)' }), inGrid),
        h('div', { class: 'panel' }, h('h4', { text: 'Kernel (3×3)' }), kGrid),
        h('div', { class: 'panel' }, h('h4', { text: 'Output (3×3)' }), outGrid),
      ),
      h('div', { class: 'row stepper' }, prev, next, revealBtn, posLabel),
      h('div', { class: 'row' }, reset),
      h('div', { class: 'panel' }, h('h4', { text: 'Products in the window (input × kernel)' }), prodGrid, sumLine),
      score,
      new Check({
        id: 'convolution-mults',
        question: 'How many multiplications does one output value of this layer take?',
        answer: 9,
        hint: 'One product per kernel weight.',
        solution: 'A 3×3 kernel has 9 weights, so 9 products are summed for each output value.',
      }).el,
      new Check({
        id: 'convolution-size',
        kind: 'choice',
        question: 'The top-left output is 4. Which receptive field produced it?',
        choices: [
          { value: 'tl', text: 'Input rows 1–3, columns 1–3' },
          { value: 'c', text: 'Input rows 2–4, columns 2–4' },
          { value: 'all', text: 'The whole 5×5 input' },
        ],
        answer: 'tl',
        hint: 'Each output cell sees only the window at the same position.',
        solution: 'Rows 1–3, columns 1–3: the products 1·1, 1·1, 1·1 and 1·1 are non-zero, so the sum is 4.',
      }).el,
    );
    update();
  },
};
