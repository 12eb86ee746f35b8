// AE exercise 4: anomaly detection. An autoencoder trained on one digit class only reconstructs that
// class well; the reconstruction error (MSE, computed here from `reconstruct` of every held-out digit)
// is the anomaly score. Histogram, threshold with precision and recall, ROC curve and AUC, a drawn
// digit's score, and the trap: non-inlier digits that are reconstructed well.

import { field, h, intOf, select } from '../widgets/dom.js';
import { Check } from '../widgets/check.js';
import { DrawCanvas } from '../widgets/draw-canvas.js';
import { ImageGrid } from '../widgets/image-grid.js';
import { OverlayHistogram } from '../widgets/histogram.js';
import { RocPlot } from '../widgets/roc.js';
import { TrainPanel, createModels } from '../widgets/train-panel.js';
import { atThreshold, perImageMse, quantile, roc } from '../ae-math.js';
import { SavedTraining } from '../saved-models.js';
import { TRAIN, concat, ensureStyles, fmt, latest, reconstruct, renderStacks, stackGrid, testImages } from './ae-common.js';

const SLOT = 'anom';
const TEST_N = 2000;
const TRAP_N = 12;
const STEPS = 200; // threshold slider positions

export default {
  id: 'ae-anomaly',
  title: '12. Anomaly detection',
  needsEngine: true,
  mount(section, ctx) {
    ensureStyles();
    section.append(
      h('p', {
        text:
          'Train an autoencoder on one digit class only (the inliers). It learns to reconstruct that class, so ' +
          'its reconstruction error is low on inliers and, we hope, high on anything else. The error becomes an ' +
          'anomaly score: above a threshold, a digit is flagged as an anomaly. Here the anomalies (positives) are ' +
          'all held-out digits of the other nine classes.',
      }),
      h('p', {
        class: 'note',
        text: 'Precision = flagged anomalies that really are anomalies / all flagged; recall = anomalies flagged / all anomalies. The ROC curve plots recall against the false-positive rate for every threshold; its area (AUC) is the probability that a random anomaly scores higher than a random inlier.',
      }),
    );

    const classSel = select(Array.from({ length: 10 }, (_, d) => [d, String(d)]), 1);
    const latentIn = h('input', { type: 'number', min: 2, max: 64, value: '16', inputmode: 'numeric' });
    const epochsIn = h('input', { type: 'number', min: 1, max: 50, value: '10', inputmode: 'numeric' });
    const trainBtn = h('button', { type: 'button', class: 'primary', text: 'Train on the inlier class' });
    const panel = new TrainPanel(ctx.engine, { slots: [{ slot: SLOT, name: 'AE' }], title: 'Anomaly detector training', epochChart: false });

    const aucLine = h('p', { class: 'big-number', role: 'status', 'aria-live': 'polite', 'data-auc': '' });
    const hist = new OverlayHistogram({ label: 'Histogram of reconstruction errors: inliers and the other classes', xTitle: 'reconstruction error (MSE)', groups: ['inliers', 'other classes'] });
    const rocPlot = new RocPlot({ label: 'ROC curve of the reconstruction-error score' });
    const thr = h('input', { type: 'range', min: 0, max: STEPS, step: 1, value: '0', disabled: true });
    const thrField = field('threshold', thr);
    thrField.wrap.classList.add('slider-field');
    const thrOut = h('output', { for: thr.id, class: 'ae-metric' });
    thrField.wrap.append(thrOut);
    const prLine = h('p', { class: 'ae-metric', role: 'status', 'aria-live': 'polite', 'data-precision': '', 'data-recall': '' });
    const trapGrid = stackGrid('Best-reconstructed digits of the other classes: digit (top) and reconstruction (bottom)');
    const trapNote = h('p', { class: 'note' });

    const pad = new DrawCanvas({ label: 'Drawing pad: draw a digit to get its anomaly score' });
    const drawView = new ImageGrid({ label: 'Your digit and its reconstruction', scale: 4 });
    const drawInfo = h('p', { class: 'ae-metric', role: 'status', 'aria-live': 'polite', text: 'Train the detector, then draw.' });

    const indexIn = h('input', { type: 'number', min: 0, max: TEST_N - 1, value: '0', inputmode: 'numeric' });
    const scoreBtn = h('button', { type: 'button', text: 'Score this test digit', disabled: true });

    let result = null; // { inlier, errors, positive, lo, hi, test, rec, trap }
    let lastDrawn = null;

    const thresholdValue = () => result.lo + ((result.hi - result.lo) * Number(thr.value)) / STEPS;

    function showThreshold() {
      if (!result) return;
      const t = thresholdValue();
      const m = atThreshold(result.errors, result.positive, t);
      thrOut.textContent = fmt(t, 4);
      hist.setThreshold(t);
      rocPlot.mark(m.fpr, m.recall);
      prLine.textContent =
        `Threshold ${fmt(t, 4)}: ${m.tp + m.fp} flagged. Precision ${pct(m.precision)}, recall ${pct(m.recall)}, ` +
        `false-positive rate ${pct(m.fpr)} (${m.tp} true and ${m.fp} false alarms, ${m.fn} anomalies missed).`;
      prLine.dataset.precision = Number.isFinite(m.precision) ? m.precision.toFixed(4) : '';
      prLine.dataset.recall = m.recall.toFixed(4);
      if (lastDrawn != null) showScore(lastDrawn);
      showTrapNote();
    }

    function showTrapNote() {
      if (!result?.trap) return;
      const { trap, errors, inlier } = result;
      const below = trap.filter((ix) => errors[ix] < thresholdValue()).length;
      trapNote.textContent =
        `The ${trap.length} digits of other classes with the lowest reconstruction error; at the current threshold ${below} of them pass as ${inlier}s. ` +
        'A model that learned to draw simple strokes can draw other simple digits too: a low error does not prove a digit is normal.';
      trapNote.dataset.passing = String(below);
    }
    thr.addEventListener('input', showThreshold);

    function showScore({ image, rec, err, what = 'your digit' }) {
      const flagged = result && err >= thresholdValue();
      drawView.render(concat(image, rec), [2, 28, 28], { captions: [what, `reconstruction, MSE ${fmt(err)}`] });
      drawInfo.textContent = `Anomaly score (reconstruction error): ${fmt(err)}${result ? (flagged ? ` ≥ threshold: flagged as an anomaly (not a ${result.inlier}).` : ` < threshold: looks like a ${result.inlier}.`) : ''}`;
      drawInfo.dataset.score = fmt(err);
      drawInfo.dataset.flagged = String(!!flagged);
    }

    const scoreDrawing = latest(async (image) => {
      const r = await ctx.engine().call('reconstruct', { slot: SLOT, images: image.slice() });
      if (pad.isEmpty()) return;
      lastDrawn = { image, rec: r.images, err: perImageMse(image, r.images)[0] };
      showScore(lastDrawn);
    }, (e) => { drawInfo.textContent = `Error: ${e.message}`; });

    scoreBtn.addEventListener('click', () => {
      const n = result.errors.length;
      const i = Math.min(n - 1, intOf(indexIn, 0));
      const part = (arr) => arr.slice(i * 784, (i + 1) * 784);
      lastDrawn = { image: part(result.test.images), rec: part(result.rec), err: result.errors[i], what: `test digit #${i} (a ${result.test.labels[i]})` };
      showScore(lastDrawn);
    });

    pad.addEventListener('change', (e) => {
      if (e.detail.empty || !result) {
        lastDrawn = null;
        drawView.render(e.detail.image, [1, 28, 28], { captions: ['your digit'] });
        drawInfo.textContent = result ? 'Draw a digit.' : 'Train the detector, then draw.';
        return;
      }
      scoreDrawing(e.detail.image);
    });

    // Scores every held-out digit with the model in SLOT trained on `inlier`s: histogram, ROC, threshold, trap.
    async function score(inlier) {
      const engine = ctx.engine();
      const sizes = await engine.data();
      const test = await testImages(engine, Math.min(TEST_N, sizes.test || TEST_N));
      const rec = await reconstruct(engine, SLOT, test.images);
      const errors = perImageMse(test.images, rec);
      const positive = Array.from(test.labels, (l) => (l === inlier ? 0 : 1));
      const curve = roc(errors, positive);
      const inl = errors.filter((_, i) => !positive[i]);
      const rest = errors.filter((_, i) => positive[i]);
      const hi = quantile(errors, 0.99);
      result = { inlier, errors, positive, lo: 0, hi, test, rec };
      indexIn.max = String(errors.length - 1);
      scoreBtn.disabled = false;
      aucLine.textContent = `ROC AUC, inlier class ${inlier}: ${curve.auc.toFixed(3)} (${inl.length} inliers, ${rest.length} others)`;
      aucLine.dataset.auc = curve.auc.toFixed(4);
      hist.set([inl, rest], 0, hi);
      rocPlot.set(curve.points);
      // start at the 95th percentile of the inliers' errors: about 5% false alarms
      thr.value = String(Math.round((quantile(inl, 0.95) / hi) * STEPS));
      thr.disabled = false;
      showThreshold();

      const trap = positive.map((p, i) => i).filter((i) => positive[i]).sort((a, b) => errors[a] - errors[b]).slice(0, TRAP_N);
      const pick = (arr) => {
        const out = new Float32Array(trap.length * 784);
        trap.forEach((ix, j) => out.set(arr.subarray(ix * 784, (ix + 1) * 784), j * 784));
        return out;
      };
      renderStacks(trapGrid, [pick(test.images), pick(rec)], trap.length, trap.map((ix) => `a ${test.labels[ix]}, MSE ${fmt(errors[ix], 4)}`));
      result.trap = trap;
      showTrapNote();
      if (!pad.isEmpty()) scoreDrawing(pad.image);
    }
    const saved = new SavedTraining(ctx.engine, {
      exercise: 'ae-anomaly',
      panel,
      slots: [SLOT],
      show: async (run) => {
        const inlier = run.train[SLOT].classes[0];
        classSel.value = String(inlier);
        latentIn.value = String(run.models[0].spec.latent);
        epochsIn.value = String(run.planned[SLOT]);
        lastDrawn = null;
        await score(inlier);
      },
      clear: () => { result = null; aucLine.textContent = ''; aucLine.dataset.auc = ''; thr.disabled = true; scoreBtn.disabled = true; },
    });

    trainBtn.addEventListener('click', async () => {
      trainBtn.disabled = true;
      thr.disabled = true;
      scoreBtn.disabled = true;
      lastDrawn = null;
      result = null;
      panel.reset();
      aucLine.textContent = '';
      aucLine.dataset.auc = '';
      const inlier = Number(classSel.value);
      try {
        panel.say('Loading data and creating the model…');
        const models = [{ slot: SLOT, spec: { kind: 'ae', latent: intOf(latentIn, 16) }, seed: 1 }];
        await createModels(ctx.engine(), models);
        panel.say(`Training on the ${inlier}s of the training set only…`);
        await saved.train(models, [{ slot: SLOT, train: { ...TRAIN, epochs: intOf(epochsIn, 10), classes: [inlier] } }]);
        panel.say('Scoring the held-out digits…');
        await score(inlier);
        panel.say('Done. Move the threshold, or draw a digit.');
      } catch (e) {
        panel.say(`Error: ${e.message}`, true);
      } finally {
        trainBtn.disabled = false;
      }
    });

    drawView.render(new Float32Array(784), [1, 28, 28], { captions: ['your digit'] });
    section.append(
      h('div', { class: 'controls' }, field('inlier class', classSel).wrap, field('latent size', latentIn).wrap, field('epochs', epochsIn).wrap),
      h('div', { class: 'row' }, trainBtn),
      panel.el,
      saved.el,
      aucLine,
      h('div', { class: 'panels' }, hist.el, rocPlot.el),
      h('div', { class: 'controls' }, thrField.wrap),
      prLine,
      h('h4', { text: 'Draw a digit' }),
      h('div', { class: 'panels' }, h('div', { class: 'panel' }, pad.el), h('div', { class: 'panel' }, drawView.el, drawInfo)),
      h('div', { class: 'row' }, field('or a held-out test digit (index)', indexIn).wrap, scoreBtn),
      h('h4', { text: 'The trap: anomalies that reconstruct well' }),
      trapNote,
      trapGrid.el,
      h('h4', { text: 'Your turn' }),
      new Check({
        id: 'anom-threshold',
        kind: 'choice',
        question: 'You raise the threshold. What happens to recall, and usually to precision?',
        choices: [
          { value: 'recall-down', text: 'Recall falls (fewer anomalies flagged); precision usually rises' },
          { value: 'recall-up', text: 'Recall rises; precision falls' },
          { value: 'both-up', text: 'Both rise' },
        ],
        answer: 'recall-down',
        hint: 'Move the slider to the right and watch the numbers.',
        solution: 'Fewer digits are flagged: some anomalies are missed (recall falls), and the flagged ones are more surely anomalies (precision usually rises).',
      }).el,
      new Check({
        id: 'anom-precision',
        question: 'At some threshold 90 digits are flagged, 72 of which really are anomalies. What is the precision (as a fraction)?',
        answer: 0.8,
        tolerance: 0.001,
        hint: 'true positives / everything flagged.',
        solution: '72 / 90 = 0.8.',
      }).el,
      new Check({
        id: 'anom-trap',
        kind: 'choice',
        question: 'Why are some digits of other classes reconstructed well?',
        choices: [
          { value: 'simple', text: 'They look like the inliers or are simple shapes the decoder can also draw; the error only measures what the model can reproduce' },
          { value: 'bug', text: 'Because of label noise in MNIST only' },
          { value: 'overfit', text: 'The model saw them during training' },
        ],
        answer: 'simple',
        hint: 'The model was never told what an anomaly is.',
        solution: 'An autoencoder can generalise to inputs it never saw; nothing forces a high error on them. So a low error is not a proof of normality, which is the known weakness of reconstruction-based anomaly detection.',
      }).el,
    );
    saved.restore();
  },
};

function pct(x) {
  return Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : '–';
}
