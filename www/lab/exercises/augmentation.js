// Exercise 7: data augmentation. Preview computed in JS (widgets/augment.js); training with and
// without augmentation runs in the engine, and both models are evaluated on a shifted/rotated test set.

import { field, h, intOf, statusLine } from '../widgets/dom.js';
import { Check } from '../widgets/check.js';
import { ImageGrid } from '../widgets/image-grid.js';
import { DrawCanvas, EXAMPLE_FOUR } from '../widgets/draw-canvas.js';
import { augment, rng } from '../widgets/augment.js';
import { TrainPanel, createModels, percent } from '../widgets/train-panel.js';
import { toSpecLayers } from '../widgets/conv-math.js';
import { OUTPUT_LAYER } from '../widgets/layer-builder.js';
import { PRESETS } from './train-cnn.js';
import { SavedTraining } from '../saved-models.js';

const PLAIN = 'aug-off';
const AUG = 'aug-on';

function slider(min, max, step, value) {
  return h('input', { type: 'range', min, max, step, value: String(value) });
}

export default {
  id: 'augmentation',
  title: '7. Data augmentation',
  needsEngine: true,
  mount(section, ctx) {
    section.append(
      h('p', {
        text:
          'Data augmentation trains on randomly transformed copies of the training images: small rotations, ' +
          'shifts, zooms, contrast changes and noise. The network sees more variety, so it generalises better ' +
          'to digits that are not perfectly centred and upright. The transformations must keep the label true: ' +
          'these are domain-specific constraints. Flipping a photo of a cat left–right gives another cat, but a ' +
          'flipped or upside-down digit can become another digit (6 and 9) or no digit at all.',
      }),
    );

    const s = {
      rotate: slider(0, 180, 1, 15),
      shift: slider(0, 8, 0.5, 2),
      zoom: slider(0, 0.5, 0.01, 0.1),
      contrast: slider(0, 0.9, 0.05, 0.2),
      noise: slider(0, 0.5, 0.01, 0.05),
    };
    const flipH = h('input', { type: 'checkbox', id: 'aug-flip-h' });
    const flipV = h('input', { type: 'checkbox', id: 'aug-flip-v' });
    const units = { rotate: '°', shift: ' px', zoom: '', contrast: '', noise: '' };
    const labels = { rotate: 'rotation ±', shift: 'shift ±', zoom: 'zoom ±', contrast: 'contrast ±', noise: 'noise σ' };
    const outs = {};
    const sliderFields = Object.entries(s).map(([key, el]) => {
      const f = field(labels[key], el).wrap;
      outs[key] = h('output', { for: el.id });
      f.append(outs[key]);
      return f;
    });
    let seed = 1;
    const resample = h('button', { type: 'button', text: 'New random samples', on: { click: () => { seed += 1; updatePreview(); } } });

    function opts() {
      return {
        rotate: Number(s.rotate.value),
        shift: Number(s.shift.value),
        zoom: Number(s.zoom.value),
        contrast: Number(s.contrast.value),
        noise: Number(s.noise.value),
        flipH: flipH.checked,
        flipV: flipV.checked,
      };
    }

    const pad = new DrawCanvas({ label: 'Drawing pad: the digit to augment' });
    const preview = new ImageGrid({ label: 'Augmented copies of the digit', scale: 2 });
    let source = new Float32Array(784);
    const COUNT = 15;

    function updatePreview() {
      const o = opts();
      for (const key of Object.keys(s)) {
        outs[key].textContent = `${s[key].value}${units[key]}`;
        s[key].setAttribute('aria-valuetext', `${s[key].value}${units[key]}`);
      }
      const rand = rng(seed);
      const all = new Float32Array(784 * (COUNT + 1));
      all.set(source, 0);
      for (let i = 1; i <= COUNT; i++) all.set(augment(source, o, rand), i * 784);
      preview.render(all, [COUNT + 1, 28, 28], { captions: ['original', ...Array(COUNT).fill('')] });
    }
    pad.addEventListener('change', (e) => {
      source = e.detail.image;
      updatePreview();
    });
    for (const el of [...Object.values(s), flipH, flipV]) el.addEventListener('input', updatePreview);

    const testIndex = h('input', { type: 'number', min: 0, max: 1999, value: '4', inputmode: 'numeric' });
    const loadTest = h('button', {
      type: 'button',
      text: 'Use this test digit',
      on: {
        click: async () => {
          try {
            await ctx.engine().data();
            const r = await ctx.engine().call('testImages', { indices: [intOf(testIndex, 0)] });
            source = r.images.slice(0, 784);
            updatePreview();
          } catch (e) {
            status.textContent = `Could not load a test digit: ${e.message}`;
          }
        },
      },
    });

    // training with and without augmentation
    const status = statusLine('');
    const epochsIn = h('input', { type: 'number', min: 1, max: 10, value: '2', inputmode: 'numeric' });
    const sizeIn = h('input', { type: 'number', min: 100, max: 8000, step: 100, value: '2000', inputmode: 'numeric' });
    const evalRot = h('input', { type: 'number', min: 0, max: 90, value: '20', inputmode: 'numeric' });
    const evalShift = h('input', { type: 'number', min: 0, max: 8, value: '3', inputmode: 'numeric' });
    const trainBtn = h('button', { type: 'button', class: 'primary', text: 'Train both models' });
    const evalBtn = h('button', { type: 'button', text: 'Evaluate again', disabled: true });
    const panel = new TrainPanel(ctx.engine, { slots: [{ slot: PLAIN, name: 'without' }, { slot: AUG, name: 'with' }] });
    const results = h('table', { class: 'results-table' });
    const resultsNote = h('p', { class: 'note', role: 'status', 'aria-live': 'polite' });

    async function evaluate() {
      const engine = ctx.engine();
      const transform = { rotate: intOf(evalRot, 20), shift: intOf(evalShift, 3) };
      const rows = [];
      for (const [slot, name] of [[PLAIN, 'without augmentation'], [AUG, 'with augmentation']]) {
        const clean = await engine.call('evaluate', { slot });
        const moved = await engine.call('evaluate', { slot, transform });
        rows.push({ name, clean: percent(clean.accuracy), moved: percent(moved.accuracy) });
      }
      results.replaceChildren(
        h('caption', { text: `Test accuracy (%), clean and with random rotation up to ±${transform.rotate}° and shift up to ±${transform.shift} px` }),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'model' }), h('th', { scope: 'col', text: 'clean test' }), h('th', { scope: 'col', text: 'shifted/rotated test' }))),
        h('tbody', {}, ...rows.map((r) => h('tr', {}, h('th', { scope: 'row', text: r.name }), h('td', { text: r.clean.toFixed(2) }), h('td', { text: r.moved.toFixed(2) })))),
      );
      const gain = rows[1].moved - rows[0].moved;
      resultsNote.textContent =
        gain >= 0
          ? `On the shifted/rotated digits, augmentation gained ${gain.toFixed(2)} percentage points.`
          : `Here augmentation lost ${(-gain).toFixed(2)} points on the shifted/rotated digits: try more epochs, or gentler augmentation.`;
    }

    const saved = new SavedTraining(ctx.engine, {
      exercise: 'augmentation',
      panel,
      slots: [PLAIN, AUG],
      show: async (run) => {
        const o = run.extra.opts || {};
        for (const key of Object.keys(s)) if (Number.isFinite(o[key])) s[key].value = String(o[key]);
        flipH.checked = !!o.flipH;
        flipV.checked = !!o.flipV;
        updatePreview();
        epochsIn.value = String(run.planned[PLAIN]);
        if (run.train[PLAIN].trainSize) sizeIn.value = String(run.train[PLAIN].trainSize);
        status.textContent = 'Evaluating on clean and on shifted/rotated test digits…';
        await evaluate();
        status.textContent = 'Done.';
        evalBtn.disabled = false;
      },
      clear: () => { results.replaceChildren(); resultsNote.textContent = ''; evalBtn.disabled = true; },
    });

    trainBtn.addEventListener('click', async () => {
      trainBtn.disabled = true;
      evalBtn.disabled = true;
      panel.reset();
      try {
        status.textContent = 'Loading data and creating the two models…';
        const spec = { kind: 'cnn', layers: toSpecLayers([...PRESETS.small.layers, OUTPUT_LAYER]) };
        const models = [{ slot: PLAIN, spec, seed: 3 }, { slot: AUG, spec, seed: 3 }];
        await createModels(ctx.engine(), models);
        const o = opts();
        const base = { epochs: intOf(epochsIn, 2), batch: 32, lr: 0.002, optimizer: 'adam', trainSize: intOf(sizeIn, 2000) };
        const augmentFields = {
          augment: { rotate: o.rotate, shift: o.shift, zoom: o.zoom, flip: o.flipH || o.flipV, contrast: o.contrast },
          ...(o.noise > 0 ? { noise: { type: 'gaussian', level: o.noise } } : {}),
        };
        status.textContent = 'Training both models…';
        await saved.train(models, [{ slot: PLAIN, train: base }, { slot: AUG, train: { ...base, ...augmentFields } }], { opts: o });
        status.textContent = 'Evaluating on clean and on shifted/rotated test digits…';
        await evaluate();
        status.textContent = 'Done.';
        evalBtn.disabled = false;
      } catch (e) {
        status.textContent = `Error: ${e.message}`;
      } finally {
        trainBtn.disabled = false;
      }
    });
    evalBtn.addEventListener('click', () => evaluate().catch((e) => { status.textContent = `Error: ${e.message}`; }));

    const flipFields = [
      h('span', { class: 'switch' }, flipH, h('label', { for: flipH.id, text: 'flip left–right' })),
      h('span', { class: 'switch' }, flipV, h('label', { for: flipV.id, text: 'flip upside-down' })),
    ];

    section.append(
      h('h4', { text: 'Preview' }),
      h('div', { class: 'controls' }, ...sliderFields),
      h('div', { class: 'row' }, ...flipFields, resample),
      h(
        'div',
        { class: 'panels' },
        h('div', { class: 'panel' }, pad.el, h('div', { class: 'row' }, field('test digit index', testIndex).wrap, loadTest)),
        h('div', { class: 'panel grow' }, preview.el),
      ),
      h('h4', { text: 'Train with and without augmentation' }),
      h('p', { text: 'Both models have the same architecture and starting weights; one trains on the augmentations set above.' }),
      h(
        'div',
        { class: 'controls' },
        field('epochs', epochsIn).wrap,
        field('training digits', sizeIn).wrap,
        field('test rotation ± (°)', evalRot).wrap,
        field('test shift ± (px)', evalShift).wrap,
      ),
      h('div', { class: 'row' }, trainBtn, evalBtn),
      status,
      panel.el,
      saved.el,
      results,
      resultsNote,
      h('h4', { text: 'Your turn' }),
      new Check({
        id: 'aug-safe',
        kind: 'multi',
        question: 'Which augmentations are safe for handwritten digits, that is, never change the right label? (select all)',
        choices: [
          { value: 'rot', text: 'Small rotations (±15°)' },
          { value: 'shift', text: 'Shifts by a few pixels' },
          { value: 'zoom', text: 'Zooming in or out by 10%' },
          { value: 'contrast', text: 'Contrast changes and light noise' },
          { value: 'fliph', text: 'Flipping left–right' },
          { value: 'flipv', text: 'Flipping upside-down' },
          { value: 'rot180', text: 'Rotating by 180°' },
        ],
        answer: ['rot', 'shift', 'zoom', 'contrast'],
        hint: 'Try the flips and a large rotation in the preview on a 2, a 6 or a 9.',
        solution:
          'Small rotations, shifts, zooms and contrast/noise keep a digit what it is. Flips and 180° rotations do not: a rotated 6 is a 9, a flipped 2 or 7 is no digit at all. That is a domain-specific constraint.',
      }).el,
    );
    pad.setStrokes(EXAMPLE_FOUR);
    saved.restore();
  },
};
