// Exercise 2: stride and padding; window positions drawn on the (padded) input grid.

import { field, h, intOf } from '../widgets/dom.js';
import { Check } from '../widgets/check.js';
import { outSize } from '../widgets/conv-math.js';

function num(value, min, max) {
  return h('input', { type: 'number', value: String(value), min, max, step: 1, inputmode: 'numeric' });
}

export default {
  id: 'stride-padding',
  title: '2. Stride and padding',
  mount(section) {
    section.append(
      h('p', {
        text:
          'The stride s is how far the window moves between positions; padding p adds p rings of zeros around ' +
          'the input so the window can also centre on border pixels. For an n×n input and a k×k kernel the ' +
          'output is floor((n + 2p − k) / s) + 1 on each side. "Valid" means no padding (p = 0): the output ' +
          'shrinks by k − 1. "Same" padding keeps the output as large as the input when s = 1: p = (k − 1) / 2, ' +
          'which is a whole number for odd k (p = 1 for 3×3, p = 2 for 5×5).',
      }),
    );

    const nIn = num(5, 1, 12);
    const kIn = num(3, 1, 7);
    const sIn = num(2, 1, 4);
    const pIn = num(1, 0, 4);
    const posIn = h('input', { type: 'range', min: 0, max: 0, value: '0', step: 1 });
    const validBtn = h('button', { type: 'button', text: 'Valid (p = 0)', on: { click: () => { pIn.value = '0'; update(); } } });
    const sameBtn = h('button', {
      type: 'button',
      text: 'Same (s = 1, p = (k−1)/2)',
      on: {
        click: () => {
          sIn.value = '1';
          pIn.value = String(Math.floor((intOf(kIn, 3) - 1) / 2));
          update();
        },
      },
    });
    const canvas = h('canvas', { class: 'sp-canvas', role: 'img' });
    const formula = h('p', { class: 'formula', role: 'status', 'aria-live': 'polite' });
    const note = h('p', { class: 'note' });
    const posText = h('span', { class: 'pos-label' });

    function params() {
      const n = intOf(nIn, 5);
      const k = Math.min(intOf(kIn, 3), n + 2 * intOf(pIn, 0));
      return { n, k, s: intOf(sIn, 1), p: intOf(pIn, 0) };
    }

    function draw({ n, k, s, p }, o, pos) {
      const N = n + 2 * p;
      const avail = Math.min(320, Math.max(200, section.clientWidth - 24));
      const cell = Math.max(8, Math.floor(Math.min(avail * 0.62, 300) / N));
      const ocell = Math.max(8, Math.min(cell, Math.floor((avail - N * cell - 24) / Math.max(o, 1))));
      const gap = 24;
      const W = N * cell + gap + Math.max(o, 1) * ocell + 2;
      const H = Math.max(N * cell, o * ocell) + 2;
      const dpr = window.devicePixelRatio || 1;
      canvas.width = Math.round(W * dpr);
      canvas.height = Math.round(H * dpr);
      canvas.style.width = `${W}px`; // height follows the aspect ratio, also when max-width shrinks it
      const c = canvas.getContext('2d');
      c.setTransform(dpr, 0, 0, dpr, 0, 0);
      c.clearRect(0, 0, W, H);
      for (let r = 0; r < N; r++) {
        for (let q = 0; q < N; q++) {
          const pad = r < p || q < p || r >= p + n || q >= p + n;
          c.fillStyle = pad ? '#e4e4e4' : '#cfe3f7';
          c.fillRect(q * cell + 1, r * cell + 1, cell - 1, cell - 1);
          if (pad && cell >= 14) {
            c.fillStyle = '#999';
            c.font = `${Math.floor(cell * 0.5)}px sans-serif`;
            c.textAlign = 'center';
            c.textBaseline = 'middle';
            c.fillText('0', q * cell + cell / 2 + 0.5, r * cell + cell / 2 + 1);
          }
        }
      }
      // every window position, faint; the current one bold
      c.lineWidth = 1;
      c.strokeStyle = 'rgba(200, 80, 0, 0.35)';
      for (let i = 0; i < o; i++) {
        for (let j = 0; j < o; j++) {
          c.strokeRect(j * s * cell + 2.5, i * s * cell + 2.5, k * cell - 4, k * cell - 4);
        }
      }
      if (o > 0) {
        const i = Math.floor(pos / o);
        const j = pos % o;
        c.lineWidth = 3;
        c.strokeStyle = '#c33';
        c.strokeRect(j * s * cell + 1.5, i * s * cell + 1.5, k * cell - 2, k * cell - 2);
        const x0 = N * cell + gap;
        for (let a = 0; a < o; a++) {
          for (let b = 0; b < o; b++) {
            c.fillStyle = a === i && b === j ? '#c33' : '#f3d9c4';
            c.fillRect(x0 + b * ocell + 1, a * ocell + 1, ocell - 1, ocell - 1);
          }
        }
      }
    }

    function update() {
      const prm = params();
      const { n, k, s, p } = prm;
      const o = outSize(n, k, s, p);
      const count = Math.max(0, o) ** 2;
      posIn.max = String(Math.max(0, count - 1));
      const pos = Math.min(intOf(posIn, 0), Math.max(0, count - 1));
      posIn.value = String(pos);
      if (o < 1) {
        formula.textContent = `floor((${n} + 2·${p} − ${k}) / ${s}) + 1 = ${o}: the kernel does not fit.`;
        canvas.setAttribute('aria-label', 'The kernel is larger than the padded input.');
        draw(prm, 0, 0);
        return;
      }
      formula.textContent = `output = floor((n + 2p − k) / s) + 1 = floor((${n} + 2·${p} − ${k}) / ${s}) + 1 = ${o}, so ${o}×${o} (${count} window positions)`;
      const rest = (n + 2 * p - k) % s;
      const notes = [];
      if (rest) notes.push(`The last ${rest} padded row(s) and column(s) are never covered: (n + 2p − k) is not a multiple of s, so floor drops them.`);
      if (s === 1 && o === n) notes.push('Output size equals input size: this is "same" padding.');
      if (k % 2 === 0 && s === 1) notes.push('With an even kernel, "same" needs uneven padding (more on one side).');
      note.textContent = notes.join(' ');
      const i = Math.floor(pos / o);
      const j = pos % o;
      posText.textContent = `window ${pos + 1} of ${count}: output (${i + 1}, ${j + 1})`;
      canvas.setAttribute(
        'aria-label',
        `Padded input ${n + 2 * p}×${n + 2 * p} with ${o * o} window positions; window ${pos + 1} covers padded rows ${i * s + 1}–${i * s + k}, columns ${j * s + 1}–${j * s + k}.`,
      );
      posIn.setAttribute('aria-valuetext', posText.textContent);
      draw(prm, o, pos);
    }

    for (const inp of [nIn, kIn, sIn, pIn, posIn]) inp.addEventListener('input', update);
    let lastWidth = 0;
    new ResizeObserver(() => {
      if (section.clientWidth !== lastWidth) {
        lastWidth = section.clientWidth;
        update();
      }
    }).observe(section);

    section.append(
      h(
        'div',
        { class: 'controls' },
        field('input size n', nIn).wrap,
        field('kernel k', kIn).wrap,
        field('stride s', sIn).wrap,
        field('padding p', pIn).wrap,
      ),
      h('div', { class: 'row' }, validBtn, sameBtn),
      formula,
      canvas,
      h('div', { class: 'row' }, field('window position', posIn).wrap, posText),
      note,
      h('h4', { text: 'Your turn' }),
      new Check({
        id: 'sp-32-5',
        question: 'A 32×32 input, 5×5 kernel, stride 1, no padding: what is the output size (one side)?',
        answer: 28,
        hint: 'floor((n + 2p − k) / s) + 1 with n = 32, k = 5, s = 1, p = 0.',
        solution: '(32 + 0 − 5) / 1 + 1 = 28, so the output is 28×28.',
      }).el,
      new Check({
        id: 'sp-28-3-2-1',
        question: 'A 28×28 input, 3×3 kernel, stride 2, padding 1: output size (one side)?',
        answer: 14,
        hint: 'Compute n + 2p − k first, divide by s, round down, add 1.',
        solution: 'floor((28 + 2 − 3) / 2) + 1 = floor(13.5) + 1 = 14.',
      }).el,
      new Check({
        id: 'sp-same-5',
        question: 'Which padding p gives "same" output size for a 5×5 kernel with stride 1?',
        answer: 2,
        hint: 'Same means n + 2p − k + 1 = n.',
        solution: 'n + 2p − 5 + 1 = n gives p = 2.',
      }).el,
    );
    update();
  },
};
