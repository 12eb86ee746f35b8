// AE exercise 3: compression and dimensionality reduction. An autoencoder with a 2-number code maps
// every test digit to a point in the plane; the scatter is coloured by class (the labels are never
// used in training). Hover, tap or arrow keys show the digit behind a point.

import { field, h, intOf } from '../widgets/dom.js';
import { Check } from '../widgets/check.js';
import { ImageGrid } from '../widgets/image-grid.js';
import { LatentScatter } from '../widgets/scatter.js';
import { TrainPanel, createModels } from '../widgets/train-panel.js';
import { SavedTraining } from '../saved-models.js';
import { TRAIN, ensureStyles, testImages } from './ae-common.js';

const SLOT = 'ae-2d';
const POINTS = 1000;

// Compression of 784 float pixels into k floats.
export function compression(k) {
  return { ratio: 784 / k, bytesIn: 784 * 4, bytesOut: k * 4, percent: (100 * k) / 784 };
}

export default {
  id: 'ae-latent',
  title: '11. Compression and the latent space',
  needsEngine: true,
  mount(section, ctx) {
    ensureStyles();
    section.append(
      h('p', {
        text:
          'The encoder of an undercomplete autoencoder is a learned compressor: it turns 784 numbers into k ' +
          'numbers, the latent code, from which the decoder rebuilds the digit. Unlike a zip file this ' +
          'compression is lossy and learned from data. It is also dimensionality reduction, a non-linear ' +
          'relative of PCA: with k = 2 every digit becomes a point in the plane, the latent space, and we can look at it.',
      }),
    );

    const kIn = h('input', { type: 'number', min: 1, max: 784, value: '2', inputmode: 'numeric' });
    const kField = field('latent size k', kIn);
    const ratioOut = h('output', { class: 'ae-metric', 'data-ratio': '', for: kIn.id });
    const showRatio = () => {
      const k = intOf(kIn, 2);
      const c = compression(k);
      ratioOut.textContent = `784 → ${k} numbers: compression ratio ${fmtRatio(c.ratio)} : 1 (${c.bytesIn.toLocaleString('en-US')} bytes → ${c.bytesOut.toLocaleString('en-US')} bytes as 32-bit floats; the code keeps ${c.percent.toFixed(1)}% of the numbers)`;
      ratioOut.dataset.ratio = fmtRatio(c.ratio);
    };
    kIn.addEventListener('input', showRatio);
    showRatio();

    const epochsIn = h('input', { type: 'number', min: 1, max: 30, value: '5', inputmode: 'numeric' });
    const trainBtn = h('button', { type: 'button', class: 'primary', text: 'Train a 2-D autoencoder and map the test digits' });
    const panel = new TrainPanel(ctx.engine, { slots: [{ slot: SLOT, name: 'AE k=2' }], title: '2-D autoencoder training', epochChart: false });
    const scatter = new LatentScatter({ label: `Latent codes of ${POINTS} test digits, coloured by their class` });
    const pickView = new ImageGrid({ label: 'The digit under the pointer', scale: 4 });
    const pickInfo = h('p', { class: 'ae-metric', role: 'status', 'aria-live': 'polite', text: 'Train, then hover or tap a point (or focus the plot and use the arrow keys).' });
    const indexIn = h('input', { type: 'number', min: 0, max: POINTS - 1, value: '0', inputmode: 'numeric' });
    const showBtn = h('button', { type: 'button', text: 'Show this test digit', disabled: true });
    let test = null;

    scatter.addEventListener('pick', (e) => {
      const i = e.detail.index;
      const p = e.detail.point;
      pickView.render(test.images.subarray(i * 784, (i + 1) * 784), [1, 28, 28], { captions: [`test digit #${i}, label ${p.cls}`] });
      pickInfo.textContent = `#${i}: label ${p.cls}, code z = (${p.x.toFixed(2)}, ${p.y.toFixed(2)})`;
      pickInfo.dataset.index = String(i);
      pickInfo.dataset.label = String(p.cls);
    });
    showBtn.addEventListener('click', () => scatter.pick(intOf(indexIn, 0)));

    // the held-out digits' 2-D codes under the model in SLOT
    async function showCodes() {
      const engine = ctx.engine();
      test = await testImages(engine, POINTS);
      const r = await engine.call('encode', { slot: SLOT, images: test.images.slice() });
      const z = r.z;
      if (z.length !== POINTS * 2) throw new Error(`expected ${POINTS * 2} latent values, got ${z.length}`);
      scatter.setPoints(Array.from({ length: POINTS }, (_, i) => ({ x: z[2 * i], y: z[2 * i + 1], cls: test.labels[i] })));
      showBtn.disabled = false;
    }
    const saved = new SavedTraining(ctx.engine, {
      exercise: 'ae-latent',
      panel,
      slots: [SLOT],
      show: async (run) => {
        epochsIn.value = String(run.planned[SLOT]);
        await showCodes();
      },
    });

    trainBtn.addEventListener('click', async () => {
      trainBtn.disabled = true;
      panel.reset();
      try {
        panel.say('Loading data and creating the model…');
        const models = [{ slot: SLOT, spec: { kind: 'ae', latent: 2 }, seed: 1 }];
        await createModels(ctx.engine(), models);
        panel.say('Training…');
        await saved.train(models, [{ slot: SLOT, train: { ...TRAIN, epochs: intOf(epochsIn, 5) } }]);
        await showCodes();
        panel.say(`Done: ${POINTS} held-out digits encoded to 2 numbers each.`);
      } catch (e) {
        panel.say(`Error: ${e.message}`, true);
      } finally {
        trainBtn.disabled = false;
      }
    });

    pickView.render(new Float32Array(784), [1, 28, 28], { captions: ['—'] });
    section.append(
      h('h4', { text: 'Compression ratio' }),
      h('div', { class: 'controls' }, kField.wrap),
      ratioOut,
      h('h4', { text: 'The 2-D latent space' }),
      h('div', { class: 'controls' }, field('epochs', epochsIn).wrap),
      h('div', { class: 'row' }, trainBtn),
      panel.el,
      saved.el,
      h('div', { class: 'panels' }, scatter.el, h('div', { class: 'panel' }, pickView.el, pickInfo, h('div', { class: 'row' }, field(`test digit (0–${POINTS - 1})`, indexIn).wrap, showBtn))),
      h('p', {
        class: 'note',
        text: 'Digits of the same class land near each other although the autoencoder never saw a label: the code organises digits by how they look. Classes that are drawn alike (4 and 9, 3 5 and 8) overlap.',
      }),
      h('h4', { text: 'Your turn' }),
      new Check({
        id: 'lat-ratio',
        question: 'An autoencoder compresses each 784-pixel digit into a latent code of 16 numbers. What is the compression ratio (784 / k)?',
        answer: 49,
        hint: 'Divide the input size by the code size.',
        solution: '784 / 16 = 49, i.e. 49 : 1.',
      }).el,
      new Check({
        id: 'lat-clusters',
        kind: 'choice',
        question: 'The autoencoder was trained without labels. Why do same-coloured points cluster?',
        choices: [
          { value: 'similar', text: 'Digits of one class look alike, and similar inputs need similar codes to be reconstructed well' },
          { value: 'labels', text: 'The class label is stored in one of the two latent numbers' },
          { value: 'chance', text: 'By chance: another training run would mix them' },
        ],
        answer: 'similar',
        hint: 'What does the decoder need to rebuild a 1 rather than a 0?',
        solution: 'Reconstruction only needs appearance, but appearance is mostly determined by the class, so the learned code separates classes as a side effect.',
      }).el,
    );
    saved.restore();
  },
};

function fmtRatio(r) {
  return Number.isInteger(r) ? String(r) : r.toFixed(1);
}
