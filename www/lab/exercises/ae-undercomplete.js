// AE exercise 1: an undercomplete autoencoder. Train it with a chosen latent size, look at test digits
// next to their reconstructions, draw a digit and watch it being reconstructed, and compare two latent
// sizes to see that the bottleneck bounds what survives.

import { field, h, intOf, statusLine } from '../widgets/dom.js';
import { Check } from '../widgets/check.js';
import { DrawCanvas } from '../widgets/draw-canvas.js';
import { ImageGrid } from '../widgets/image-grid.js';
import { TrainPanel, createModels } from '../widgets/train-panel.js';
import { mean, perImageMse } from '../ae-math.js';
import { SavedTraining } from '../saved-models.js';
import { TRAIN, concat, ensureStyles, fmt, latest, reconstruct, renderStacks, slider, stackGrid, testImages } from './ae-common.js';

const SLOT = 'ae-under';
const CMP_A = 'ae-cmp-a';
const CMP_B = 'ae-cmp-b';
const EVAL_N = 500; // test digits the mean error is measured on
const SHOW_N = 12;

export default {
  id: 'ae-undercomplete',
  title: '9. Undercomplete autoencoder',
  needsEngine: true,
  mount(section, ctx) {
    ensureStyles();
    section.append(
      h('p', {
        text:
          'An autoencoder is trained to output its own input. The encoder maps the 784 pixels to a latent code ' +
          'of k numbers, the decoder maps the code back to 784 pixels, and the loss is the reconstruction error ' +
          '(here the mean squared error per pixel between input and output). It is undercomplete when k is ' +
          'smaller than the input: the code is a bottleneck, so the network cannot simply copy pixels and has to ' +
          'learn the structure that digits share. What does not fit through the bottleneck is lost.',
      }),
      h('p', { class: 'note', text: 'Model: dense 784 → 128 → k → 128 → 784, ReLU hidden layers, sigmoid output, MSE loss, Adam.' }),
    );

    const latent = slider('latent size k', { min: 2, max: 64, step: 1, value: 16 });
    const epochsIn = h('input', { type: 'number', min: 1, max: 30, value: '3', inputmode: 'numeric' });
    const trainBtn = h('button', { type: 'button', class: 'primary', text: 'Train autoencoder' });
    const panel = new TrainPanel(ctx.engine, { slots: [{ slot: SLOT, name: 'AE' }], title: 'Autoencoder training', epochChart: false });
    const lossLine = h('p', { class: 'ae-metric', role: 'status', 'aria-live': 'polite', 'data-mse': '' });
    const grid = stackGrid('Test digits (top) and their reconstructions (bottom)');

    const pad = new DrawCanvas({ label: 'Drawing pad: draw a digit to see its reconstruction' });
    const drawView = new ImageGrid({ label: 'Your digit and its reconstruction', scale: 4 });
    const drawInfo = h('p', { class: 'ae-metric', role: 'status', 'aria-live': 'polite', text: 'Train the autoencoder, then draw.' });
    let trained = false;

    const showDrawing = latest(async (image) => {
      const r = await ctx.engine().call('reconstruct', { slot: SLOT, images: image.slice() });
      if (pad.isEmpty()) return; // cleared while the answer was on its way
      const err = perImageMse(image, r.images)[0];
      drawView.render(concat(image, r.images), [2, 28, 28], { captions: ['your digit', `reconstruction, MSE ${fmt(err)}`] });
      drawInfo.textContent = `Reconstruction error of your digit: ${fmt(err)} (MSE per pixel)`;
      drawInfo.dataset.mse = fmt(err);
    }, (e) => { drawInfo.textContent = `Error: ${e.message}`; });

    pad.addEventListener('change', (e) => {
      if (e.detail.empty || !trained) {
        drawView.render(e.detail.image, [1, 28, 28], { captions: ['your digit'] });
        if (!trained) drawInfo.textContent = 'Train the autoencoder, then draw.';
        return;
      }
      showDrawing(e.detail.image);
    });

    // test digits next to their reconstructions by the model in SLOT (latent size k)
    async function showResults(k) {
      trained = true;
      const engine = ctx.engine();
      const test = await testImages(engine, EVAL_N);
      const rec = await reconstruct(engine, SLOT, test.images);
      const errs = perImageMse(test.images, rec);
      const m = mean(errs);
      lossLine.textContent = `Test reconstruction error with k = ${k}: ${fmt(m)} (MSE per pixel, mean over ${EVAL_N} held-out digits)`;
      lossLine.dataset.mse = fmt(m);
      renderStacks(grid, [test.images, rec], SHOW_N, Array.from(errs.subarray(0, SHOW_N), (e) => `MSE ${fmt(e)}`));
      if (!pad.isEmpty()) showDrawing(pad.image);
    }
    const saved = new SavedTraining(ctx.engine, {
      exercise: 'ae-undercomplete',
      panel,
      slots: [SLOT],
      show: async (run) => {
        const k = run.models[0].spec.latent;
        latent.input.value = String(k);
        latent.output.textContent = String(k);
        epochsIn.value = String(run.planned[SLOT]);
        await showResults(k);
      },
      clear: () => { trained = false; lossLine.textContent = ''; },
    });

    trainBtn.addEventListener('click', async () => {
      trainBtn.disabled = true;
      trained = false;
      panel.reset();
      lossLine.textContent = '';
      const k = intOf(latent.input, 16);
      try {
        panel.say('Loading data and creating the model…');
        const models = [{ slot: SLOT, spec: { kind: 'ae', latent: k }, seed: 1 }];
        await createModels(ctx.engine(), models);
        panel.say(`Training with a ${k}-number code…`);
        await saved.train(models, [{ slot: SLOT, train: { ...TRAIN, epochs: intOf(epochsIn, 3) } }]);
        await showResults(k);
        panel.say('Done. Draw a digit below to see it reconstructed.');
      } catch (e) {
        panel.say(`Error: ${e.message}`, true);
      } finally {
        trainBtn.disabled = false;
      }
    });

    // --- two latent sizes side by side
    const kA = h('input', { type: 'number', min: 2, max: 64, value: '2', inputmode: 'numeric' });
    const kB = h('input', { type: 'number', min: 2, max: 64, value: '32', inputmode: 'numeric' });
    const cmpBtn = h('button', { type: 'button', text: 'Train both and compare' });
    const cmpPanel = new TrainPanel(ctx.engine, { slots: [{ slot: CMP_A, name: 'small k' }, { slot: CMP_B, name: 'large k' }], title: 'Comparison training', epochChart: false });
    const cmpTable = h('table', { class: 'ae-table' });
    const cmpGrid = stackGrid('Each test digit (top) and its reconstruction with the small k (middle) and the large k (bottom)');
    const cmpVerdict = h('p', { class: 'note', role: 'status', 'aria-live': 'polite' });

    // both models' errors and reconstructions of the same test digits (latent sizes a and b)
    async function showComparison(a, b) {
      const engine = ctx.engine();
      const test = await testImages(engine, EVAL_N);
      const ra = await reconstruct(engine, CMP_A, test.images);
      const rb = await reconstruct(engine, CMP_B, test.images);
      const ea = perImageMse(test.images, ra);
      const eb = perImageMse(test.images, rb);
      const ma = mean(ea), mb = mean(eb);
      cmpTable.replaceChildren(
        h('caption', { text: `Mean test reconstruction error over ${EVAL_N} digits` }),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'latent size k' }), h('th', { scope: 'col', text: 'numbers kept' }), h('th', { scope: 'col', text: 'MSE per pixel' }))),
        h('tbody', {},
          h('tr', { 'data-k': a }, h('th', { scope: 'row', text: String(a) }), h('td', { text: `${a} of 784` }), h('td', { text: fmt(ma) })),
          h('tr', { 'data-k': b }, h('th', { scope: 'row', text: String(b) }), h('td', { text: `${b} of 784` }), h('td', { text: fmt(mb) }))),
      );
      renderStacks(cmpGrid, [test.images, ra, rb], SHOW_N, Array.from({ length: SHOW_N }, (_, i) => `${fmt(ea[i])} / ${fmt(eb[i])}`));
      const [small, big] = a <= b ? [[a, ma], [b, mb]] : [[b, mb], [a, ma]];
      cmpVerdict.textContent =
        `k = ${small[0]}: error ${fmt(small[1])}; k = ${big[0]}: error ${fmt(big[1])}. ` +
        (small[1] > big[1]
          ? 'The narrower code keeps only the rough shape (often a blurred, typical digit, sometimes the wrong one); the wider code lets strokes and details through.'
          : 'Here the narrower code did not lose more: train longer, or pick sizes further apart.');
    }
    const savedCmp = new SavedTraining(ctx.engine, {
      exercise: 'ae-undercomplete',
      panel: cmpPanel,
      slots: [CMP_A, CMP_B],
      show: async (run) => {
        const [a, b] = run.models.map((m) => m.spec.latent);
        kA.value = String(a);
        kB.value = String(b);
        await showComparison(a, b);
      },
      clear: () => { cmpTable.replaceChildren(); cmpVerdict.textContent = ''; },
    });

    cmpBtn.addEventListener('click', async () => {
      cmpBtn.disabled = true;
      cmpPanel.reset();
      const a = intOf(kA, 2);
      const b = intOf(kB, 32);
      try {
        cmpPanel.say('Creating both models…');
        const models = [
          { slot: CMP_A, spec: { kind: 'ae', latent: a }, seed: 1 },
          { slot: CMP_B, spec: { kind: 'ae', latent: b }, seed: 1 },
        ];
        await createModels(ctx.engine(), models);
        cmpPanel.say(`Training k = ${a} and k = ${b} side by side…`);
        const epochs = intOf(epochsIn, 3);
        await savedCmp.train(models, [{ slot: CMP_A, train: { ...TRAIN, epochs } }, { slot: CMP_B, train: { ...TRAIN, epochs } }]);
        await showComparison(a, b);
        cmpPanel.say('Done.');
      } catch (e) {
        cmpPanel.say(`Error: ${e.message}`, true);
      } finally {
        cmpBtn.disabled = false;
      }
    });

    drawView.render(new Float32Array(784), [1, 28, 28], { captions: ['your digit'] });
    section.append(
      h('div', { class: 'controls' }, latent.wrap, field('epochs', epochsIn).wrap),
      h('div', { class: 'row' }, trainBtn),
      panel.el,
      saved.el,
      lossLine,
      grid.el,
      h('h4', { text: 'Draw a digit' }),
      h('div', { class: 'panels' }, h('div', { class: 'panel' }, pad.el), h('div', { class: 'panel' }, drawView.el, drawInfo)),
      h('h4', { text: 'What survives the bottleneck' }),
      h('p', { text: 'Train two autoencoders that differ only in the latent size, on the same data for the same epochs, and compare their reconstructions of the same test digits.' }),
      h('div', { class: 'controls' }, field('small latent size', kA).wrap, field('large latent size', kB).wrap),
      h('div', { class: 'row' }, cmpBtn),
      cmpPanel.el,
      savedCmp.el,
      cmpTable,
      cmpGrid.el,
      cmpVerdict,
      h('h4', { text: 'Your turn' }),
      new Check({
        id: 'ae-under-why',
        kind: 'choice',
        question: 'Why can an undercomplete autoencoder not just learn to copy its input?',
        choices: [
          { value: 'bottleneck', text: 'The code has fewer numbers than the input, so it can only keep what is most useful to rebuild typical inputs' },
          { value: 'labels', text: 'It is trained with the class labels, which forbid copying' },
          { value: 'sigmoid', text: 'The sigmoid output cannot reach 0 or 1' },
        ],
        answer: 'bottleneck',
        hint: 'Count the numbers that pass between encoder and decoder.',
        solution: 'With k < 784 the identity does not fit through the bottleneck; minimising the reconstruction error forces the code to capture the structure shared by the training digits.',
      }).el,
      new Check({
        id: 'ae-under-params',
        question: 'A dense layer maps a 128-unit hidden layer to a 32-number code. How many parameters (weights and biases) does it have?',
        answer: 4128,
        hint: 'inputs × outputs weights, plus one bias per output.',
        solution: '128 × 32 + 32 = 4,128.',
      }).el,
      new Check({
        id: 'ae-under-bound',
        kind: 'choice',
        question: 'With everything else equal, which autoencoder reaches the lower test reconstruction error?',
        choices: [
          { value: 'small', text: 'The one with the smaller latent size: it has to generalise' },
          { value: 'large', text: 'The one with the larger latent size: more information gets through the bottleneck' },
          { value: 'same', text: 'Both the same: the latent size only changes the speed' },
        ],
        answer: 'large',
        hint: 'Look at your comparison table.',
        solution: 'The larger code: the latent size bounds how much of each digit can survive, so the error falls as k grows (until the model is no longer the limit).',
      }).el,
    );
    saved.restore();
    savedCmp.restore();
  },
};
