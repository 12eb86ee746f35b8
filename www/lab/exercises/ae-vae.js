// AE exercise 5: the variational autoencoder. The reparameterization trick as a diagram; the
// reconstruction and KL terms and the ELBO plotted while training (progress events carry
// losses { recon, kl }); a beta control; samples from the prior; the decoded manifold of a 2-D latent;
// interpolation between two drawn digits through a VAE and a vanilla AE side by side.

import { field, h, intOf, select } from '../widgets/dom.js';
import { Check } from '../widgets/check.js';
import { DrawCanvas } from '../widgets/draw-canvas.js';
import { ImageGrid } from '../widgets/image-grid.js';
import { LiveChart } from '../widgets/chart.js';
import { TrainPanel, createModels } from '../widgets/train-panel.js';
import { IdxLoader } from '../widgets/idx-loader.js';
import { gaussian, interpolate, latentGrid, mosaic, rng, slerp } from '../ae-math.js';
import { TRAIN, ensureStyles, latest } from './ae-common.js';
import { SavedTraining } from '../saved-models.js';

const VAE = 'vae';
const AE = 'vae-ae';
const BETA = 3;
const EPOCHS = 20;
const HIDDEN = 512; // the first hidden layer; the second has HIDDEN / 2 units
const SAMPLES = 64;
const GRID = 15;
const STEPS = 7;

export const ZERO = [Array.from({ length: 29 }, (_, i) => [0.5 + 0.2 * Math.sin((2 * Math.PI * i) / 28), 0.5 - 0.32 * Math.cos((2 * Math.PI * i) / 28)])];
export const SEVEN = [[[0.26, 0.18], [0.74, 0.18], [0.44, 0.86]]];

const SVG = 'http://www.w3.org/2000/svg';
function s(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text != null) el.textContent = text;
  return el;
}

// The reparameterization trick: the randomness enters from the side as eps, so z is a
// deterministic, differentiable function of mu and sigma.
export function reparamDiagram() {
  const svg = s('svg', { viewBox: '0 0 540 250', class: 'ae-diagram', role: 'img', 'aria-labelledby': 'ae-reparam-title ae-reparam-desc' });
  svg.append(
    s('title', { id: 'ae-reparam-title' }, 'The reparameterization trick'),
    s('desc', { id: 'ae-reparam-desc' }, 'The encoder maps x to mu and log sigma squared. Noise eps is drawn from N(0, I) outside the network. z equals mu plus sigma times eps, then the decoder maps z to the reconstruction. Gradients flow back from z to mu and sigma; eps needs none.'),
  );
  const defs = s('defs');
  for (const [id, colour] of [['ae-arrow', '#333'], ['ae-arrow-red', '#d62728']]) {
    const m = s('marker', { id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
    m.append(s('path', { d: 'M0,0 L10,5 L0,10 z', fill: colour }));
    defs.append(m);
  }
  svg.append(defs);
  const box = (x, y, w, hh, lines, cls = 'box') => {
    svg.append(s('rect', { x, y, width: w, height: hh, rx: 6, class: cls }));
    lines.forEach((t, i) => svg.append(s('text', { x: x + w / 2, y: y + hh / 2 + (i - (lines.length - 1) / 2) * 16 + 5, 'text-anchor': 'middle' }, t)));
  };
  const line = (x1, y1, x2, y2, cls = 'arrow') => svg.append(s('path', { d: `M${x1},${y1} L${x2},${y2}`, class: cls }));
  box(6, 95, 34, 40, ['x']);
  box(62, 80, 82, 70, ['encoder', 'q(z|x)']);
  box(176, 40, 70, 36, ['μ']);
  box(176, 150, 70, 36, ['log σ²']);
  box(196, 204, 110, 36, ['ε ~ N(0, I)'], 'noise');
  box(290, 92, 104, 46, ['z = μ + σ·ε']);
  box(418, 80, 80, 70, ['decoder', 'p(x|z)']);
  svg.append(s('text', { x: 522, y: 120, 'text-anchor': 'middle' }, 'x̂'));
  line(40, 115, 60, 115);
  line(144, 100, 174, 60);
  line(144, 130, 174, 166);
  line(246, 58, 300, 92);
  line(246, 168, 300, 138);
  svg.append(s('text', { x: 270, y: 176, class: 'small' }, 'σ = exp(½·log σ²)'));
  line(290, 204, 330, 140);
  line(394, 115, 416, 115);
  line(498, 115, 512, 115);
  // gradients: dashed red, backwards along the deterministic path only
  line(292, 104, 240, 76, 'grad');
  line(292, 128, 240, 152, 'grad');
  svg.append(
    s('text', { x: 300, y: 28, class: 'small red' }, 'gradients flow back through μ and σ'),
    s('text', { x: 300, y: 44, class: 'small red' }, '∂z/∂μ = 1, ∂z/∂σ = ε'),
    s('text', { x: 312, y: 226, class: 'small' }, 'sampled outside the network:'),
    s('text', { x: 312, y: 242, class: 'small' }, 'no parameters, no gradient needed'),
  );
  return svg;
}

export default {
  id: 'ae-vae',
  title: '13. Variational autoencoder',
  needsEngine: true,
  mount(section, ctx) {
    ensureStyles();
    section.append(
      h('p', {
        text:
          'A variational autoencoder (VAE) encodes each digit not to one point but to a Gaussian: the encoder outputs ' +
          'a mean μ and a log-variance log σ² per latent dimension. A code is sampled from it and decoded. ' +
          'Sampling "z ~ N(μ, σ²)" has no gradient with respect to μ and σ, so the reparameterization trick ' +
          'writes z = μ + σ·ε with ε ~ N(0, I) drawn outside the network: z is then an ordinary differentiable ' +
          'function of μ and σ, and backpropagation trains the encoder.',
      }),
      reparamDiagram(),
      h('p', {
        text:
          'Training maximises the ELBO (evidence lower bound) on log p(x): ELBO = E[log p(x|z)] − KL(q(z|x) ‖ N(0, I)). ' +
          'The first term is the (negative) reconstruction error; the KL term pulls every encoded Gaussian towards the ' +
          'prior N(0, I). The loss minimised is −ELBO = reconstruction + KL; a β-VAE weighs the KL term by β. ' +
          'Because codes are packed around the prior, decoding a sample from N(0, I) or a point between two codes ' +
          'should give a plausible digit, which a vanilla autoencoder does not even aim for.',
      }),
      h('p', { class: 'note', text: `Model: dense 784 → ${HIDDEN} → ${HIDDEN / 2} → (μ, log σ²) of size k; z → ${HIDDEN / 2} → ${HIDDEN} → 784 logits; reconstruction = binary cross-entropy, both terms in nats per image. The vanilla AE has the same latent size. The defaults (β = ${BETA}, ${EPOCHS} epochs) make more samples from the prior readable: with a 16-number code, the lab\'s own CNN reads about 7 in 10 of them with confidence, against about 5 in 10 with β = 1 and one hidden layer of 256. The codes of only 8,000 training digits still leave gaps in N(0, I) that decode to blends of two digits: load the full MNIST (60,000 digits, below) and 10 epochs give about 3 in 4.` }),
    );

    const latentSel = select([[2, '2 (shows the manifold)'], [16, '16'], [32, '32']], 16);
    const betaIn = h('input', { type: 'number', min: 0, max: 10, step: 0.1, value: String(BETA), inputmode: 'decimal' });
    const epochsIn = h('input', { type: 'number', min: 1, max: 50, value: String(EPOCHS), inputmode: 'numeric' });
    const idxLoader = new IdxLoader(ctx.engine);
    const trainBtn = h('button', { type: 'button', class: 'primary', text: 'Train VAE and vanilla AE' });
    // two panels: the VAE's loss is in nats per image, the vanilla AE's an MSE per pixel
    const panel = new TrainPanel(ctx.engine, { slots: [{ slot: VAE, name: 'VAE (recon + β·KL)' }], title: 'VAE training', epochChart: false });
    const aePanel = new TrainPanel(ctx.engine, { slots: [{ slot: AE, name: 'vanilla AE (MSE)' }], title: 'Vanilla AE training', epochChart: false });
    const terms = new LiveChart({ title: 'VAE loss terms per step (nats per image)', xLabel: 'epoch', yLabel: 'nats', series: ['reconstruction', 'KL'] });
    const elbo = new LiveChart({ title: 'ELBO per step (higher is better)', xLabel: 'epoch', yLabel: 'nats', series: ['ELBO'] });
    const termsNote = h('p', { class: 'ae-metric', role: 'status', 'aria-live': 'polite' });

    const sampleBtn = h('button', { type: 'button', text: 'New samples', disabled: true });
    const samplesVae = new ImageGrid({ label: `${SAMPLES} VAE samples decoded from z ~ N(0, I)`, scale: 1.5 });
    const samplesAe = new ImageGrid({ label: `The same kind of N(0, I) codes through the vanilla AE decoder`, scale: 1.5 });
    const manifold = new ImageGrid({ label: `Decoded manifold: a ${GRID}×${GRID} grid of z over [−2, 2]²`, scale: 1 });
    manifold.el.classList.add('manifold');
    const manifoldNote = h('p', { class: 'note' });
    const samplesInfo = h('p', { class: 'note', role: 'status', 'aria-live': 'polite' });

    const padA = new DrawCanvas({ label: 'Drawing pad A: the first digit of the interpolation' });
    const padB = new DrawCanvas({ label: 'Drawing pad B: the second digit of the interpolation' });
    const interpBtn = h('button', { type: 'button', text: 'Interpolate', disabled: true });
    const pathSel = select([['arc', 'along the arc (spherical)'], ['line', 'straight line']], 'arc');
    const rowVae = new ImageGrid({ label: 'VAE: decoded points from code A to code B', scale: 1.5 });
    const rowAe = new ImageGrid({ label: 'Vanilla AE: decoded points from code A to code B', scale: 1.5 });
    const interpNote = h('p', { class: 'note', role: 'status', 'aria-live': 'polite' });

    let trained = null; // { latent }
    let sampleSeed = 1;

    async function showSamples() {
      const engine = ctx.engine();
      const r = await engine.call('sample', { slot: VAE, count: SAMPLES, seed: sampleSeed });
      const m = mosaic(r.images, SAMPLES, 28, 28, 8);
      samplesVae.render(m.data, [m.h, m.w]);
      samplesInfo.textContent = `Seed ${sampleSeed}: left, ${SAMPLES} codes z ~ N(0, I) decoded by the VAE; right, ${SAMPLES} codes from N(0, I) (drawn here in the page) decoded by the vanilla AE.`;
      const rand = rng(sampleSeed);
      const z = Float32Array.from({ length: SAMPLES * trained.latent }, () => gaussian(rand));
      const a = await engine.call('decode', { slot: AE, z });
      const ma = mosaic(a.images, SAMPLES, 28, 28, 8);
      samplesAe.render(ma.data, [ma.h, ma.w]);
      sampleSeed += 1;
    }
    sampleBtn.addEventListener('click', () => showSamples().catch((e) => panel.say(`Error: ${e.message}`, true)));

    async function showManifold() {
      if (trained.latent !== 2) {
        manifold.el.replaceChildren();
        manifoldNote.textContent = 'Choose latent size 2 and train again to see the decoded manifold.';
        return;
      }
      const r = await ctx.engine().call('decode', { slot: VAE, z: latentGrid(GRID, 2) });
      const m = mosaic(r.images, GRID * GRID, 28, 28, GRID);
      manifold.render(m.data, [m.h, m.w]);
      manifoldNote.textContent = 'z₁ runs from −2 (left) to 2 (right), z₂ from 2 (top) to −2 (bottom). Each tile is the decoder\'s digit for one grid point of z. Moving through the latent space morphs one digit into the next: the space is continuous.';
    }

    async function codes(slot, images) {
      const r = await ctx.engine().call('encode', { slot, images });
      return r.mu || r.z; // the VAE's mean code: the point the digit is encoded around
    }

    const runInterp = latest(async () => {
      if (padA.isEmpty() || padB.isEmpty()) {
        interpNote.textContent = 'Draw a digit on both pads.';
        return;
      }
      const k = trained.latent;
      const both = new Float32Array(2 * 784);
      both.set(padA.image);
      both.set(padB.image, 784);
      const rows = [];
      for (const slot of [VAE, AE]) {
        const z = await codes(slot, both.slice());
        const line = (pathSel.value === 'line' ? interpolate : slerp)(z.subarray(0, k), z.subarray(k, 2 * k), STEPS);
        const r = await ctx.engine().call('decode', { slot, z: line });
        rows.push(r.images);
      }
      const caps = Array.from({ length: STEPS }, (_, i) => (i === 0 ? 'A' : i === STEPS - 1 ? 'B' : `t=${(i / (STEPS - 1)).toFixed(2)}`));
      rowVae.render(rows[0], [STEPS, 28, 28], { captions: caps });
      rowAe.render(rows[1], [STEPS, 28, 28], { captions: caps });
      interpNote.textContent = 'Compare the middle tiles. The VAE was trained so that every code near N(0, I) decodes to something digit-like; the vanilla AE promises nothing about the space between its codes. Judged by the lab\'s CNN over 250 pairs of test digits (code size 16, trained on the full MNIST), the VAE\'s midpoints along the arc were read as one digit with confidence 78% of the time, the vanilla AE\'s 70%; on the straight line, which dips towards the blurred average digit near the origin, both 64%. Part of that lead is size, not the KL term: an AE with the VAE\'s own layers and loss (no KL, no sampling) did as well along the arc. Switch the path and look for yourself.';
      interpNote.dataset.done = 'true';
    }, (e) => { interpNote.textContent = `Error: ${e.message}`; });
    interpBtn.addEventListener('click', () => runInterp());
    pathSel.addEventListener('change', () => { if (trained) runInterp(); });
    for (const pad of [padA, padB]) pad.addEventListener('change', () => { if (trained) runInterp(); });

    async function showTrained(latent) {
      trained = { latent };
      sampleBtn.disabled = false;
      interpBtn.disabled = false;
      await showSamples();
      await showManifold();
      runInterp();
    }
    const saved = new SavedTraining(ctx.engine, {
      exercise: 'ae-vae',
      panel: [panel, aePanel],
      slots: [VAE, AE],
      charts: { terms, elbo },
      show: async (run) => {
        const { latent, beta } = run.models[0].spec;
        latentSel.value = String(latent);
        betaIn.value = String(beta);
        epochsIn.value = String(run.planned[VAE]);
        termsNote.textContent = run.extra.termsNote || '';
        if (run.extra.elbo) termsNote.dataset.elbo = run.extra.elbo;
        await showTrained(latent);
      },
      clear: () => { trained = null; sampleBtn.disabled = true; interpBtn.disabled = true; termsNote.textContent = ''; },
    });

    trainBtn.addEventListener('click', async () => {
      trainBtn.disabled = true;
      sampleBtn.disabled = true;
      interpBtn.disabled = true;
      trained = null;
      panel.reset();
      aePanel.reset();
      terms.reset();
      elbo.reset();
      termsNote.textContent = '';
      const latent = Number(latentSel.value);
      const beta = Math.max(0, Number(betaIn.value) || 0);
      const engine = ctx.engine();
      const track = { offset: 0, lastStep: 0, recon: NaN, kl: NaN };
      const off = engine.on('progress', (m) => {
        if (m.slot !== VAE || !m.losses) return;
        if (m.step < track.lastStep) track.offset += track.lastStep;
        track.lastStep = m.step;
        const x = (track.offset + m.step) / (m.stepsPerEpoch || 1);
        const { recon, kl } = m.losses;
        if (!Number.isFinite(recon) || !Number.isFinite(kl)) return;
        Object.assign(track, { recon, kl });
        terms.push(x, { reconstruction: recon, KL: kl });
        elbo.push(x, { ELBO: -(recon + kl) });
      });
      try {
        panel.say('Loading data and creating both models…');
        const models = [
          { slot: VAE, spec: { kind: 'vae', latent, hidden: HIDDEN, beta }, seed: 1 },
          { slot: AE, spec: { kind: 'ae', latent }, seed: 1 },
        ];
        await createModels(engine, models);
        panel.say(`Training the VAE (β = ${beta}) and the vanilla AE with a ${latent}-number code…`);
        const epochs = intOf(epochsIn, EPOCHS);
        await saved.train(models, [{ slot: VAE, train: { ...TRAIN, epochs } }, { slot: AE, train: { ...TRAIN, epochs } }]);
        if (Number.isFinite(track.recon)) {
          termsNote.textContent = `Last step: reconstruction ${track.recon.toFixed(1)}, KL ${track.kl.toFixed(1)}, ELBO ${(-(track.recon + track.kl)).toFixed(1)} nats per image (the loss minimised was reconstruction + ${beta}·KL).`;
          termsNote.dataset.elbo = (-(track.recon + track.kl)).toFixed(2);
        }
        saved.remember({ termsNote: termsNote.textContent, elbo: termsNote.dataset.elbo });
        await showTrained(latent);
        panel.say('Done. Draw two digits to interpolate between them.');
      } catch (e) {
        panel.say(`Error: ${e.message}`, true);
      } finally {
        off();
        trainBtn.disabled = false;
      }
    });

    padA.setStrokes(ZERO);
    padB.setStrokes(SEVEN);
    section.append(
      h('div', { class: 'controls' }, field('latent size', latentSel).wrap, field('β (weight of KL)', betaIn, 'β = 1 is the plain VAE; β > 1 trades sharper reconstructions for better samples').wrap, field('epochs', epochsIn).wrap),
      idxLoader.el,
      h('div', { class: 'row' }, trainBtn),
      panel.el,
      saved.el,
      h('div', { class: 'charts' }, terms.el, elbo.el),
      h('details', { class: 'results' }, h('summary', { text: 'Vanilla AE training (for the comparisons below)' }), aePanel.el),
      termsNote,
      h('h4', { text: 'Samples from the prior N(0, I)' }),
      h('div', { class: 'row' }, sampleBtn),
      samplesInfo,
      h('div', { class: 'panels' }, h('div', { class: 'panel' }, samplesVae.el), h('div', { class: 'panel' }, samplesAe.el)),
      h('h4', { text: 'The decoded manifold (2-D latent)' }),
      manifoldNote,
      manifold.el,
      h('h4', { text: 'Interpolation: VAE vs vanilla AE' }),
      h('p', { text: 'Both digits are encoded (the VAE\'s mean μ, the AE\'s code z), the path between the two codes is cut into equal steps here in the page, and every point is decoded. In 16 dimensions nearly every sample of N(0, I) lies about 4 (√16) from the origin, and the VAE\'s codes spread out like them. The straight line between two codes cuts inside that shell: halfway, its length has shrunk by cos(ω/2), ω the angle between the codes (by 30% for codes at right angles), into a region near the origin that decodes to a blurred average digit. The arc (spherical interpolation, White 2016) turns from one code to the other and keeps their length.' }),
      h('div', { class: 'panels' }, h('div', { class: 'panel' }, h('p', { class: 'act-name', text: 'Digit A' }), padA.el), h('div', { class: 'panel' }, h('p', { class: 'act-name', text: 'Digit B' }), padB.el)),
      h('div', { class: 'row' }, field('path', pathSel).wrap, interpBtn),
      h('p', { class: 'act-name', text: 'VAE' }),
      h('div', { class: 'interp-row' }, rowVae.el),
      h('p', { class: 'act-name', text: 'Vanilla AE' }),
      h('div', { class: 'interp-row' }, rowAe.el),
      interpNote,
      h('h4', { text: 'Your turn' }),
      new Check({
        id: 'vae-z',
        question: 'The encoder outputs μ = 1 and log σ² = 1.386 (so σ² = 4), and the sampled noise is ε = 0.5. What is z?',
        answer: 2,
        tolerance: 0.01,
        hint: 'σ = exp(½·log σ²), then z = μ + σ·ε.',
        solution: 'σ = exp(0.693) = 2, so z = 1 + 2 · 0.5 = 2.',
      }).el,
      new Check({
        id: 'vae-reparam',
        kind: 'choice',
        question: 'Why does z = μ + σ·ε make sampling trainable by backpropagation?',
        choices: [
          { value: 'eps', text: 'The randomness is in ε, which has no parameters; z is a differentiable function of μ and σ (∂z/∂μ = 1, ∂z/∂σ = ε)' },
          { value: 'noise', text: 'It removes the randomness: z is always μ' },
          { value: 'kl', text: 'The KL term provides the gradient of the sampling step' },
        ],
        answer: 'eps',
        hint: 'Which quantities does the gradient need to pass through?',
        solution: 'The sample is moved to an input ε ~ N(0, I); the path from μ and σ to z is a sum and a product, both differentiable.',
      }).el,
      new Check({
        id: 'vae-beta',
        kind: 'choice',
        question: 'What does a larger β (more weight on the KL term) do?',
        choices: [
          { value: 'prior', text: 'Codes are pulled closer to N(0, I): smoother latent space and prior samples, but blurrier reconstructions' },
          { value: 'sharper', text: 'Sharper reconstructions, with a less regular latent space' },
          { value: 'nothing', text: 'Nothing: β only scales the plotted numbers' },
        ],
        answer: 'prior',
        hint: 'Try β = 4 and watch the two loss terms.',
        solution: 'The KL term penalises codes that stray from the prior; weighting it more trades reconstruction quality for a latent space that is better packed, smoother and easier to sample from.',
      }).el,
    );
    saved.restore();
  },
};
