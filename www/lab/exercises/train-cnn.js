// Exercise 5: build and train a CNN on MNIST in the browser, inspect its errors, then draw digits.

import { field, h, intOf, select, statusLine } from '../widgets/dom.js';
import { Check } from '../widgets/check.js';
import { LayerBuilder } from '../widgets/layer-builder.js';
import { TrainPanel, createModels, percent } from '../widgets/train-panel.js';
import { ConfusionMatrix } from '../widgets/confusion.js';
import { ImageGrid } from '../widgets/image-grid.js';
import { DrawCanvas } from '../widgets/draw-canvas.js';
import { ProbBars } from '../widgets/prob-bars.js';
import { ModelFile } from '../widgets/model-file.js';
import { IdxLoader } from '../widgets/idx-loader.js';
import { SavedTraining } from '../saved-models.js';

export const PRESETS = {
  small: {
    name: 'Small CNN (two conv blocks)',
    layers: [
      { type: 'conv', k: 5, filters: 8, stride: 1, pad: 2 },
      { type: 'pool', k: 2, stride: 2, mode: 'max' },
      { type: 'conv', k: 3, filters: 16, stride: 1, pad: 1 },
      { type: 'pool', k: 2, stride: 2, mode: 'max' },
      { type: 'dense', units: 64 },
    ],
    // Without augmentation this net overfits the 8,000 digits near 96-97%; small random
    // rotations, shifts and zooms take it past 97% on the held-out digits (tests/engine.rs).
    train: { epochs: 8, batch: 32, lr: 0.002, optimizer: 'adam', augment: true },
  },
  tiny: {
    name: 'Tiny CNN (one conv block)',
    layers: [
      { type: 'conv', k: 3, filters: 4, stride: 1, pad: 1 },
      { type: 'pool', k: 2, stride: 2, mode: 'max' },
    ],
    train: { epochs: 2, batch: 32, lr: 0.003, optimizer: 'adam' },
  },
  mlp: {
    name: 'No convolution (dense only)',
    layers: [{ type: 'dense', units: 128 }],
    train: { epochs: 3, batch: 32, lr: 0.002, optimizer: 'adam' },
  },
};

export const SLOT = 'cnn';

// What "augment the training digits" sends: rotation ±10°, shift ±2 px, zoom ±10%.
export const AUGMENT = { rotate: 10, shift: 2, zoom: 0.1, flip: false, contrast: 0 };

// Sends the latest drawing to `predict`, one request at a time; drawings made meanwhile are coalesced.
export function livePredictor(getEngine, slot, onProbs, onError) {
  let busy = false;
  let queued = null;
  async function run(image) {
    busy = true;
    try {
      const r = await getEngine().call('predict', { slot, image: image.slice() });
      onProbs(r.probs);
    } catch (e) {
      onError(e);
    } finally {
      busy = false;
      if (queued) {
        const next = queued;
        queued = null;
        run(next);
      }
    }
  }
  return (image) => {
    if (busy) queued = image;
    else run(image);
  };
}

export default {
  id: 'train-cnn',
  title: '5. Train a CNN on MNIST',
  needsEngine: true,
  mount(section, ctx) {
    section.append(
      h('p', {
        text:
          'Now a whole network: convolution + ReLU blocks extract features, pooling shrinks the feature maps, ' +
          'and dense layers map the flattened features to 10 class scores (softmax gives probabilities). ' +
          'Training minimises the cross-entropy loss with mini-batch gradient descent (Adam or SGD) on 8,000 ' +
          'MNIST digits; accuracy is measured on 2,000 held-out test digits the network never trains on. ' +
          'Start from a preset or build your own; the parameter counts are computed as in exercise 4.',
      }),
    );

    const builder = new LayerBuilder({ layers: PRESETS.small.layers });
    const presetSel = select(Object.entries(PRESETS).map(([k, p]) => [k, p.name]), 'small');
    const epochsIn = h('input', { type: 'number', min: 1, max: 30, value: '8', inputmode: 'numeric' });
    const batchIn = h('input', { type: 'number', min: 1, max: 512, value: '32', inputmode: 'numeric' });
    const lrIn = h('input', { type: 'number', min: 0.00001, max: 1, step: 0.0001, value: '0.002', inputmode: 'decimal' });
    const optSel = select([['adam', 'Adam'], ['sgd', 'SGD']], 'adam');
    const sizeIn = h('input', { type: 'number', min: 100, max: 8000, step: 100, value: '8000', inputmode: 'numeric' });
    const augmentIn = h('input', { type: 'checkbox', checked: true });

    function applyPreset() {
      const p = PRESETS[presetSel.value];
      builder.setLayers(p.layers);
      epochsIn.value = String(p.train.epochs);
      batchIn.value = String(p.train.batch);
      lrIn.value = String(p.train.lr);
      optSel.value = p.train.optimizer;
      augmentIn.checked = !!p.train.augment;
    }
    presetSel.addEventListener('change', applyPreset);

    const trainBtn = h('button', { type: 'button', class: 'primary', text: 'Create model and train' });
    const engineSummary = statusLine('');
    const panel = new TrainPanel(ctx.engine, { slots: [{ slot: SLOT, name: 'cnn' }] });
    const accuracy = h('p', { class: 'big-number', role: 'status', 'aria-live': 'polite', 'data-accuracy': '' });
    const confusion = new ConfusionMatrix();
    const gallery = new ImageGrid({ label: 'Misclassified test digits', scale: 2 });
    const galleryNote = h('p', { class: 'note' });

    const pad = new DrawCanvas({ label: 'Drawing pad: draw a digit for the trained network' });
    const bars = new ProbBars({ label: 'Predicted probabilities for the drawing' });
    const preview = new ImageGrid({ label: '28×28 input the network sees', scale: 3 });
    bars.clear('Train a model, then draw a digit.');
    let trained = false;
    // an answer that arrives after the pad was cleared is stale
    const predict = livePredictor(ctx.engine, SLOT, (p) => { if (!pad.isEmpty()) bars.show(p); }, (e) => bars.clear(`prediction failed: ${e.message}`));
    pad.addEventListener('change', (e) => {
      preview.render(e.detail.image, [28, 28], { captions: ['what the network sees'] });
      if (e.detail.empty) bars.clear(trained ? 'Draw a digit.' : 'Train a model, then draw a digit.');
      else if (trained) predict(e.detail.image);
    });
    preview.render(new Float32Array(784), [28, 28], { captions: ['what the network sees'] });

    // keyboard-only alternative to drawing: classify a chosen test digit
    const testIdx = h('input', { type: 'number', min: 0, max: 1999, value: '0', inputmode: 'numeric' });
    const testBtn = h('button', {
      type: 'button',
      text: 'Classify this test digit',
      on: {
        click: async () => {
          if (!trained) {
            bars.clear('Train a model first.');
            return;
          }
          try {
            const i = intOf(testIdx, 0);
            const r = await ctx.engine().call('testImages', { indices: [i] });
            preview.render(r.images, [28, 28], { captions: [`test digit #${i} (label ${r.labels[0]})`] });
            const p = await ctx.engine().call('predict', { slot: SLOT, image: r.images.slice(0, 784) });
            bars.show(p.probs);
          } catch (e) {
            bars.clear(`prediction failed: ${e.message}`);
          }
        },
      },
    });

    // the model in SLOT, once created for training or for an import: its spec and the builder's
    // layers and preset it was made from
    let model = null;
    const described = () => ({ spec: { kind: 'cnn', layers: builder.specLayers() }, layers: builder.layers.map((l) => ({ ...l })), preset: presetSel.value });
    const createModel = async () => {
      const m = described();
      await createModels(ctx.engine(), [{ slot: SLOT, spec: m.spec, seed: 1 }]);
      model = m;
    };
    const modelFile = new ModelFile(ctx.engine, {
      slot: SLOT,
      // an import loads into the model the builder describes
      ensureModel: async () => { if (!model) await createModel(); },
      onImported: async () => {
        trained = true;
        await saved.keep([{ slot: SLOT, spec: model.spec, seed: 1 }], { layers: model.layers, preset: model.preset }, 'a model file');
        await showEvaluation();
        if (!pad.isEmpty()) predict(pad.image);
      },
    });
    const idxLoader = new IdxLoader(ctx.engine);

    builder.addEventListener('change', (e) => {
      trainBtn.disabled = !!e.detail.summary.error;
    });

    async function showEvaluation() {
      const engine = ctx.engine();
      const ev = await engine.call('evaluate', { slot: SLOT });
      const acc = percent(ev.accuracy);
      accuracy.textContent = `Test accuracy: ${acc.toFixed(2)}%`;
      accuracy.dataset.accuracy = acc.toFixed(2);
      confusion.render(ev.confusion);
      const wrong = ev.misclassified.slice(0, 32);
      galleryNote.textContent = `${ev.misclassified.length} of the test digits are misclassified; the first ${wrong.length} are shown as "true → predicted".`;
      if (wrong.length) {
        const imgs = await engine.call('testImages', { indices: wrong.map((w) => w.index) });
        gallery.render(imgs.images, [wrong.length, 28, 28], { captions: wrong.map((w) => `${w.label} → ${w.pred}`) });
      } else {
        gallery.el.replaceChildren();
      }
    }

    // a saved model (restored after a reload, or trained further with Resume) as the page shows it
    async function showTrained(run) {
      const { layers, preset } = run.extra;
      if (Array.isArray(layers)) {
        if (PRESETS[preset]) presetSel.value = preset;
        builder.setLayers(layers);
      }
      const t = run.train[SLOT];
      if (run.planned[SLOT] > 0) {
        // trained here (not loaded from a file): its training settings
        epochsIn.value = String(run.planned[SLOT]);
        batchIn.value = String(t.batch);
        lrIn.value = String(t.lr);
        optSel.value = t.optimizer;
        if (t.trainSize) sizeIn.value = String(t.trainSize);
        augmentIn.checked = !!t.augment;
      }
      model = { spec: run.models[0].spec, layers, preset };
      trained = true;
      await showEvaluation();
      if (!pad.isEmpty()) predict(pad.image);
      else bars.clear('Draw a digit.');
    }
    const saved = new SavedTraining(ctx.engine, {
      exercise: 'train-cnn',
      panel,
      slots: [SLOT],
      show: showTrained,
      clear: () => {
        trained = false;
        accuracy.textContent = '';
        accuracy.dataset.accuracy = '';
        bars.clear('Train a model, then draw a digit.');
      },
    });

    trainBtn.addEventListener('click', async () => {
      const summary = builder.summary();
      if (summary.error) return;
      trainBtn.disabled = true;
      trained = false;
      panel.reset();
      accuracy.textContent = '';
      try {
        panel.say('Loading data and creating the model…');
        const m = described();
        const models = [{ slot: SLOT, spec: m.spec, seed: 1 }];
        const [created] = await createModels(ctx.engine(), models);
        model = m;
        const same = created.totalParams === summary.total;
        engineSummary.textContent = `Engine: ${created.totalParams.toLocaleString('en-US')} parameters${same ? ' (matches the builder)' : ` (the builder computed ${summary.total.toLocaleString('en-US')})`}.`;
        panel.say('Training…');
        const train = {
          epochs: intOf(epochsIn, 4),
          batch: intOf(batchIn, 32),
          lr: Number(lrIn.value) || 0.002,
          optimizer: optSel.value,
          trainSize: intOf(sizeIn, 8000),
          ...(augmentIn.checked ? { augment: AUGMENT } : {}),
        };
        const [r] = await saved.train(models, [{ slot: SLOT, train }], { layers: m.layers, preset: m.preset });
        trained = true;
        panel.say(r.stopped ? 'Stopped early; evaluating the model as it is.' : 'Finished. Evaluating on the test digits…');
        await showEvaluation();
        panel.say('Done. Draw a digit below to test the network.');
        if (!pad.isEmpty()) predict(pad.image);
        else bars.clear('Draw a digit.');
      } catch (e) {
        panel.say(`Error: ${e.message}`, true);
      } finally {
        trainBtn.disabled = !!builder.summary().error;
      }
    });

    section.append(
      h('div', { class: 'controls' }, field('preset', presetSel).wrap),
      builder.el,
      h(
        'div',
        { class: 'controls' },
        field('epochs', epochsIn).wrap,
        field('batch size', batchIn).wrap,
        field('learning rate', lrIn).wrap,
        field('optimizer', optSel).wrap,
        field('training digits', sizeIn).wrap,
        field('random augmentation', augmentIn, 'random rotation ±10°, shift ±2 px, zoom ±10% (exercise 7)').wrap,
      ),
      h('div', { class: 'row' }, trainBtn),
      engineSummary,
      panel.el,
      saved.el,
      modelFile.el,
      idxLoader.el,
      accuracy,
      h('details', { class: 'results', open: true }, h('summary', { text: 'Confusion matrix' }), confusion.el),
      h('details', { class: 'results', open: true }, h('summary', { text: 'Misclassified test digits' }), galleryNote, gallery.el),
      h('h4', { text: 'Draw a digit' }),
      h('div', { class: 'panels' }, h('div', { class: 'panel' }, pad.el), h('div', { class: 'panel' }, preview.el), h('div', { class: 'panel grow' }, bars.el)),
      h('div', { class: 'row' }, field('or pick a test digit (0–1999)', testIdx).wrap, testBtn),
      h('h4', { text: 'Your turn' }),
      new Check({
        id: 'train-conv-params',
        question: 'The preset\'s first layer has 8 filters of 5×5 on the 1-channel input. How many parameters (weights and biases)?',
        answer: 208,
        hint: 'Each filter: k·k·C weights plus one bias.',
        solution: '8 × (5·5·1 + 1) = 208.',
      }).el,
      new Check({
        id: 'train-confusion',
        kind: 'choice',
        question: 'In the confusion matrix, where do the correctly classified test digits appear?',
        choices: [
          { value: 'diag', text: 'On the diagonal (true digit = predicted digit)' },
          { value: 'row0', text: 'In the first row' },
          { value: 'off', text: 'Off the diagonal' },
        ],
        answer: 'diag',
        hint: 'Rows are the true digit, columns the prediction.',
        solution: 'On the diagonal: there the row (true digit) equals the column (prediction). Off-diagonal cells count mistakes.',
      }).el,
    );
    saved.restore();
  },
};
