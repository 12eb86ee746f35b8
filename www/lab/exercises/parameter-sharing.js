// Exercise 4: parameter sharing; weights of a conv layer vs a dense layer computing the same map.

import { field, formatInt, h, intOf } from '../widgets/dom.js';
import { Check } from '../widgets/check.js';
import { denseEquivalentWeights, outSize } from '../widgets/conv-math.js';

const SUP = { 0: '⁰', 1: '¹', 2: '²', 3: '³', 4: '⁴', 5: '⁵', 6: '⁶', 7: '⁷', 8: '⁸', 9: '⁹', '-': '⁻' };

export function sci(x) {
  if (x < 1e6) return formatInt(x);
  const e = Math.floor(Math.log10(x));
  return `${(x / 10 ** e).toFixed(2)} × 10${[...String(e)].map((d) => SUP[d]).join('')}`;
}

export default {
  id: 'parameter-sharing',
  title: '4. Parameter sharing',
  mount(section) {
    section.append(
      h('p', {
        text:
          'A convolutional layer uses the same kernel at every position of the image (parameter sharing), and ' +
          'each output looks only at a small receptive field (local connectivity). So its weights depend on the ' +
          'kernel size and the number of channels, not on the image size. The course example: a 256×256 RGB ' +
          'image (256×256×3) and one 3×3×3 kernel need 3·3·3 = 27 weights (plus one bias). A dense layer ' +
          'producing the same 254×254 output from the same input needs one weight per input–output pair: ' +
          '196,608 × 64,516 ≈ 1.27 × 10¹⁰ weights.',
      }),
    );

    const inputs = {
      h: h('input', { type: 'number', min: 1, max: 4096, value: '256', inputmode: 'numeric' }),
      w: h('input', { type: 'number', min: 1, max: 4096, value: '256', inputmode: 'numeric' }),
      c: h('input', { type: 'number', min: 1, max: 512, value: '3', inputmode: 'numeric' }),
      k: h('input', { type: 'number', min: 1, max: 15, value: '3', inputmode: 'numeric' }),
      f: h('input', { type: 'number', min: 1, max: 1024, value: '1', inputmode: 'numeric' }),
      s: h('input', { type: 'number', min: 1, max: 8, value: '1', inputmode: 'numeric' }),
      p: h('input', { type: 'number', min: 0, max: 8, value: '0', inputmode: 'numeric' }),
    };
    const out = {
      shape: h('output', {}),
      conv: h('output', { class: 'big' }),
      dense: h('output', { class: 'big' }),
      ratio: h('output', {}),
    };
    const table = h(
      'dl',
      { class: 'calc-out', role: 'status', 'aria-live': 'polite' },
      h('dt', { text: 'Output shape' }), h('dd', {}, out.shape),
      h('dt', { text: 'Conv weights (k·k·C·F) + biases (F)' }), h('dd', {}, out.conv),
      h('dt', { text: 'Dense weights for the same map (H·W·C × H′·W′·F)' }), h('dd', {}, out.dense),
      h('dt', { text: 'Dense / conv weights' }), h('dd', {}, out.ratio),
    );

    function update() {
      const v = Object.fromEntries(Object.entries(inputs).map(([key, el]) => [key, intOf(el, 1)]));
      const oh = outSize(v.h, v.k, v.s, v.p);
      const ow = outSize(v.w, v.k, v.s, v.p);
      if (oh < 1 || ow < 1) {
        out.shape.textContent = 'the kernel does not fit the input';
        out.conv.textContent = out.dense.textContent = out.ratio.textContent = '–';
        return;
      }
      const convW = v.k * v.k * v.c * v.f;
      const dense = denseEquivalentWeights(v.h, v.w, v.c, oh, ow, v.f);
      out.shape.textContent = `${oh}×${ow}×${v.f}`;
      out.conv.textContent = `${formatInt(convW)} + ${formatInt(v.f)} = ${formatInt(convW + v.f)}`;
      out.dense.textContent = `${formatInt(v.h * v.w * v.c)} × ${formatInt(oh * ow * v.f)} = ${sci(dense)}`;
      out.ratio.textContent = `≈ ${sci(dense / convW)} times more`;
    }
    for (const el of Object.values(inputs)) el.addEventListener('input', update);

    const courseBtn = h('button', {
      type: 'button',
      text: 'Course example',
      on: {
        click: () => {
          Object.entries({ h: 256, w: 256, c: 3, k: 3, f: 1, s: 1, p: 0 }).forEach(([key, val]) => { inputs[key].value = String(val); });
          update();
        },
      },
    });

    section.append(
      h(
        'div',
        { class: 'controls' },
        field('height H', inputs.h).wrap,
        field('width W', inputs.w).wrap,
        field('channels C', inputs.c).wrap,
        field('kernel k', inputs.k).wrap,
        field('filters F', inputs.f).wrap,
        field('stride s', inputs.s).wrap,
        field('padding p', inputs.p).wrap,
      ),
      h('div', { class: 'row' }, courseBtn),
      table,
      h('h4', { text: 'Your turn' }),
      new Check({
        id: 'ps-27',
        question: 'How many weights (without the bias) does one 3×3 kernel on a 256×256×3 image have?',
        answer: 27,
        hint: 'The kernel spans all input channels: k × k × C.',
        solution: '3 × 3 × 3 = 27, whatever the image size.',
      }).el,
      new Check({
        id: 'ps-dense-exp',
        question: 'The dense layer doing the same map has about 10ˣ weights. What is x?',
        answer: 10,
        hint: 'Inputs 256·256·3 = 196,608; outputs 254·254 = 64,516. Multiply.',
        solution: '196,608 × 64,516 ≈ 1.27 × 10¹⁰, so x = 10.',
      }).el,
      new Check({
        id: 'ps-why',
        kind: 'multi',
        question: 'Which two properties let a conv layer get away with so few weights? (select all that apply)',
        choices: [
          { value: 'sharing', text: 'Parameter sharing: the same kernel at every position' },
          { value: 'local', text: 'Local connectivity: each output sees a small receptive field' },
          { value: 'pool', text: 'Pooling after the layer' },
          { value: 'relu', text: 'The ReLU activation' },
        ],
        answer: ['sharing', 'local'],
        hint: 'Pooling and ReLU have no weights; what about the kernel itself?',
        solution: 'Parameter sharing and local connectivity. Pooling and ReLU add no weights and change nothing here.',
      }).el,
    );
    update();
  },
};
