// AE exercise 2: a denoising autoencoder, trained on corrupted inputs with the clean digit as target,
// next to a plain autoencoder trained on clean digits. Both get the same corrupted test digits; PSNR
// against the clean digits is computed here, in the page, from the images the engine returns.

import { field, h, intOf, select } from '../widgets/dom.js';
import { Check } from '../widgets/check.js';
import { TrainPanel, createModels } from '../widgets/train-panel.js';
import { addNoise, psnrPerImage, rng } from '../ae-math.js';
import { SavedTraining } from '../saved-models.js';
import { TRAIN, ensureStyles, fmt, latest, reconstruct, renderStacks, slider, stackGrid, testImages } from './ae-common.js';

const DAE = 'dn';
const PLAIN = 'dn-plain';
const EVAL_N = 500;
const SHOW_N = 10;
const NOISE_SEED = 2024;

const LEVEL_HINT = {
  gaussian: 'level = σ of the Gaussian added to each pixel (then clipped to [0, 1])',
  saltpepper: 'level = fraction of pixels set to black or white at random',
  mask: 'level = fraction of pixels dropped (set to 0)',
};

export default {
  id: 'ae-denoise',
  title: '10. Denoising autoencoder',
  needsEngine: true,
  mount(section, ctx) {
    ensureStyles();
    section.append(
      h('p', {
        text:
          'A denoising autoencoder gets a corrupted digit as input but is scored against the clean digit: the ' +
          'loss is the reconstruction error between its output and the clean original. To win it must learn what ' +
          'digits look like and undo the corruption, instead of copying pixels. Compare it with a plain ' +
          'autoencoder trained on clean digits and fed the same corrupted test digits.',
      }),
      h('p', {
        class: 'note',
        text: 'Quality is measured as PSNR = 10·log10(1 / MSE) in dB against the clean digit (pixels in [0, 1]); higher is better, +6 dB is a quarter of the squared error.',
      }),
    );

    const noiseSel = select([['gaussian', 'Gaussian'], ['saltpepper', 'salt and pepper'], ['mask', 'masking (dropout)']], 'gaussian');
    const level = slider('noise level', { min: 0.05, max: 0.9, step: 0.05, value: 0.5, format: (v) => v.toFixed(2) });
    const levelHint = h('p', { class: 'field-hint', id: `${level.input.id}-hint`, text: LEVEL_HINT.gaussian });
    level.input.setAttribute('aria-describedby', levelHint.id);
    const archSel = select([['ae', 'dense (784-128-k-128-784)'], ['convae', 'convolutional']], 'ae');
    const latentIn = h('input', { type: 'number', min: 2, max: 64, value: '32', inputmode: 'numeric' });
    const epochsIn = h('input', { type: 'number', min: 1, max: 30, value: '5', inputmode: 'numeric' });
    const trainBtn = h('button', { type: 'button', class: 'primary', text: 'Train denoiser and plain AE' });
    const panel = new TrainPanel(ctx.engine, { slots: [{ slot: DAE, name: 'denoiser' }, { slot: PLAIN, name: 'plain AE' }], title: 'Denoising training', epochChart: false });
    const table = h('table', { class: 'ae-table' });
    const grid = stackGrid('Per digit, top to bottom: noisy input, denoiser output, plain AE output, clean digit');
    const legend = h('p', { class: 'ae-legend', text: '' });
    const status = h('p', { class: 'note', role: 'status', 'aria-live': 'polite' });

    let trainedWith = null;
    let clean = null;

    const noise = () => ({ type: noiseSel.value, level: Number(level.input.value) });

    // Corrupts the held-out digits with the current setting and measures both models on them.
    const evaluate = latest(async (nz) => {
      const engine = ctx.engine();
      const noisy = await noisyCopy(clean.images, nz);
      const den = await reconstruct(engine, DAE, noisy);
      const plain = await reconstruct(engine, PLAIN, noisy);
      const pn = psnrPerImage(noisy, clean.images);
      const pd = psnrPerImage(den, clean.images);
      const pp = psnrPerImage(plain, clean.images);
      const row = (name, p, key) => h('tr', { 'data-row': key, 'data-psnr': p.mean.toFixed(2) }, h('th', { scope: 'row', text: name }), h('td', { text: `${fmt(p.mean, 2)} dB` }), h('td', { text: key === 'noisy' ? '–' : `${p.mean - pn.mean >= 0 ? '+' : ''}${fmt(p.mean - pn.mean, 2)} dB` }));
      table.replaceChildren(
        h('caption', { text: `Mean PSNR against the clean digit over ${EVAL_N} held-out digits, noise: ${describe(nz)}` }),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'image' }), h('th', { scope: 'col', text: 'PSNR' }), h('th', { scope: 'col', text: 'gain over noisy' }))),
        h('tbody', {}, row('noisy input', pn, 'noisy'), row('denoiser output', pd, 'denoised'), row('plain AE output', pp, 'plain')),
      );
      renderStacks(grid, [noisy, den, plain, clean.images], SHOW_N,
        Array.from({ length: SHOW_N }, (_, i) => `${fmt(pn.per[i], 1)} → ${fmt(pd.per[i], 1)} / ${fmt(pp.per[i], 1)} dB`));
      legend.textContent = 'Top to bottom: noisy input, denoiser output, plain AE output, clean digit. Caption: PSNR of the noisy input → denoiser / plain AE.';
      const same = trainedWith && trainedWith.type === nz.type && trainedWith.level === nz.level;
      status.textContent = same
        ? `The denoiser gains ${fmt(pd.mean - pn.mean, 2)} dB over its noisy input; the plain AE ${fmt(pp.mean - pn.mean, 2)} dB.`
        : `Test noise (${describe(nz)}) differs from the training noise (${describe(trainedWith)}): this is how the denoiser copes with noise it was not trained on.`;
    }, (e) => { status.textContent = `Error: ${e.message}`; });

    const onNoiseChange = () => {
      levelHint.textContent = LEVEL_HINT[noiseSel.value];
      if (trainedWith) evaluate(noise());
    };
    noiseSel.addEventListener('change', onNoiseChange);
    level.input.addEventListener('change', onNoiseChange);

    const saved = new SavedTraining(ctx.engine, {
      exercise: 'ae-denoise',
      panel,
      slots: [DAE, PLAIN],
      show: async (run) => {
        const nz = run.train[DAE].noise;
        const spec = run.models[0].spec;
        noiseSel.value = nz.type;
        level.input.value = String(nz.level);
        level.output.textContent = nz.level.toFixed(2);
        levelHint.textContent = LEVEL_HINT[nz.type] || '';
        archSel.value = spec.kind;
        latentIn.value = String(spec.latent);
        epochsIn.value = String(run.planned[DAE]);
        trainedWith = nz;
        clean = clean || (await testImages(ctx.engine(), EVAL_N));
        evaluate(noise());
      },
      clear: () => { trainedWith = null; table.replaceChildren(); status.textContent = ''; },
    });

    trainBtn.addEventListener('click', async () => {
      trainBtn.disabled = true;
      trainedWith = null;
      panel.reset();
      const nz = noise();
      const latent = intOf(latentIn, 32);
      const epochs = intOf(epochsIn, 5);
      try {
        panel.say('Loading data and creating both models…');
        const kind = archSel.value;
        const models = [
          { slot: DAE, spec: { kind, latent }, seed: 1 },
          { slot: PLAIN, spec: { kind, latent }, seed: 1 },
        ];
        await createModels(ctx.engine(), models);
        panel.say(`Training the denoiser on ${describe(nz)} inputs and the plain AE on clean ones…`);
        await saved.train(models, [
          { slot: DAE, train: { ...TRAIN, epochs, noise: nz } },
          { slot: PLAIN, train: { ...TRAIN, epochs } },
        ]);
        trainedWith = nz;
        clean = clean || (await testImages(ctx.engine(), EVAL_N));
        panel.say('Done. Change the noise type or level to test both models on other noise (no retraining).');
        evaluate(noise());
      } catch (e) {
        panel.say(`Error: ${e.message}`, true);
      } finally {
        trainBtn.disabled = false;
      }
    });

    section.append(
      h('div', { class: 'controls' }, field('noise type', noiseSel).wrap, level.wrap, field('architecture', archSel).wrap, field('latent size', latentIn).wrap, field('epochs', epochsIn).wrap),
      levelHint,
      h('div', { class: 'row' }, trainBtn),
      panel.el,
      saved.el,
      table,
      status,
      legend,
      grid.el,
      h('h4', { text: 'Your turn' }),
      new Check({
        id: 'dn-target',
        kind: 'choice',
        question: 'A denoising autoencoder is trained with which input and which target?',
        choices: [
          { value: 'clean', text: 'Input: the corrupted digit. Target: the clean digit' },
          { value: 'noisy', text: 'Input and target: the corrupted digit' },
          { value: 'reverse', text: 'Input: the clean digit. Target: the corrupted digit' },
        ],
        answer: 'clean',
        hint: 'The loss compares the output with what the digit should look like.',
        solution: 'Corrupted in, clean out: the reconstruction error is measured against the clean digit, so copying the input is penalised by exactly the noise.',
      }).el,
      new Check({
        id: 'dn-psnr',
        question: 'A reconstruction has mean squared error 0.01 against the clean digit (pixels in [0, 1]). What is its PSNR in dB?',
        answer: 20,
        tolerance: 0.05,
        hint: 'PSNR = 10·log10(1 / MSE).',
        solution: '10·log10(1 / 0.01) = 10·2 = 20 dB.',
      }).el,
    );
    saved.restore();
  },
};

function describe(nz) {
  if (!nz) return 'none';
  const name = { gaussian: 'Gaussian σ', saltpepper: 'salt and pepper', mask: 'masking' }[nz.type];
  return `${name} ${nz.level.toFixed(2)}`;
}

// The seeded noise for the held-out digits, made 50 digits at a time with a pause between chunks so
// the page never blocks for long; equal to addNoise(images, nz, NOISE_SEED) in one go.
async function noisyCopy(images, nz) {
  const rand = rng(NOISE_SEED);
  const out = new Float32Array(images.length);
  const step = 50 * 784;
  for (let i = 0; i < images.length; i += step) {
    out.set(addNoise(images.subarray(i, i + step), nz, rand), i);
    await new Promise((r) => setTimeout(r, 0));
  }
  return out;
}
