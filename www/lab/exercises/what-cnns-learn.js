// Exercise 6: first-layer filters and activation maps of every layer, before vs after training.
// Two slots built with the same seed: 'learn0' stays untrained (before), 'learn1' is trained (after).

import { field, h, intOf, statusLine } from '../widgets/dom.js';
import { Check } from '../widgets/check.js';
import { ImageGrid } from '../widgets/image-grid.js';
import { DrawCanvas } from '../widgets/draw-canvas.js';
import { TrainPanel, createModels } from '../widgets/train-panel.js';
import { toSpecLayers } from '../widgets/conv-math.js';
import { OUTPUT_LAYER } from '../widgets/layer-builder.js';
import { PRESETS } from './train-cnn.js';
import { SavedTraining } from '../saved-models.js';

const BEFORE = 'learn0';
const AFTER = 'learn1';
const MAX_MAPS = 16;

function filterGrid(label) {
  return new ImageGrid({ label, scale: 10, colormap: 'diverging', range: 'each' });
}

// One block per layer: its name, shape and up to MAX_MAPS channel maps.
function renderActivations(container, layers) {
  container.replaceChildren();
  for (const l of layers) {
    let shape = l.shape;
    while (shape.length > 3 && shape[0] === 1) shape = shape.slice(1); // a batch of one
    const grid = new ImageGrid({ label: `Activations of ${l.name}`, colormap: 'diverging', range: 'all' });
    if (shape.length === 3) {
      const [c, hh, ww] = shape;
      const n = Math.min(c, MAX_MAPS);
      const scale = Math.max(1, Math.min(4, Math.floor(84 / ww)));
      grid.render(l.data.subarray(0, n * hh * ww), [n, hh, ww], { scale, captions: Array.from({ length: n }, (_, i) => `${i + 1}`) });
    } else {
      // a vector is wrapped into rows of up to 16 units so it stays visible
      const f = shape.reduce((a, b) => a * b, 1);
      const ww = Math.min(f, 16);
      const hh = Math.ceil(f / ww);
      const wrapped = new Float32Array(ww * hh);
      wrapped.set(l.data.subarray(0, f));
      grid.render(wrapped, [1, hh, ww], { scale: Math.max(4, Math.floor(160 / ww)) });
    }
    const more = shape.length === 3 && shape[0] > MAX_MAPS ? ` (first ${MAX_MAPS} of ${shape[0]} maps)` : '';
    container.append(h('div', { class: 'act-layer' }, h('p', { class: 'act-name', text: `${l.name}: ${shape.join('×')}${more}` }), grid.el));
  }
}

export default {
  id: 'what-cnns-learn',
  title: '6. What CNNs learn',
  needsEngine: true,
  mount(section, ctx) {
    section.append(
      h('p', {
        text:
          'Each first-layer filter is a small image of weights (here 5×5): red is positive, blue negative. ' +
          'Before training they are random noise. After training many become edge and stroke detectors: a ' +
          'bright-next-to-dark pattern at some orientation. An activation map (feature map) shows where in the ' +
          'image a filter responds. Deeper layers see larger receptive fields and respond to combinations of ' +
          'strokes; their maps are smaller and more abstract.',
      }),
    );

    const status = statusLine('Create the two models to begin.');
    const createBtn = h('button', { type: 'button', class: 'primary', text: '1. Create models (untrained)' });
    const trainBtn = h('button', { type: 'button', text: '2. Train the "after" model', disabled: true });
    const epochsIn = h('input', { type: 'number', min: 1, max: 10, value: '2', inputmode: 'numeric' });
    const panel = new TrainPanel(ctx.engine, { slots: [{ slot: AFTER, name: 'after' }] });

    const filtersBefore = filterGrid('First-layer filters before training');
    const filtersAfter = filterGrid('First-layer filters after training');

    const indexIn = h('input', { type: 'number', min: 0, max: 1999, value: '0', inputmode: 'numeric' });
    const useTest = h('button', { type: 'button', text: 'Use this test digit', disabled: true });
    const pad = new DrawCanvas({ label: 'Drawing pad: draw a digit to see its activation maps' });
    const inputView = new ImageGrid({ label: 'Input digit', scale: 3 });
    const actsBefore = h('div', { class: 'acts', role: 'group', 'aria-label': 'Activation maps before training' });
    const actsAfter = h('div', { class: 'acts', role: 'group', 'aria-label': 'Activation maps after training' });

    let created = false;
    let trainedOnce = false;
    let current = null;
    let caption = '';

    async function showFilters() {
      const engine = ctx.engine();
      for (const [slot, grid] of [[BEFORE, filtersBefore], [AFTER, filtersAfter]]) {
        if (slot === AFTER && !trainedOnce) {
          grid.el.replaceChildren(h('p', { class: 'note', text: 'Train the model to see these.' }));
          continue;
        }
        const f = await engine.call('filters', { slot });
        const [o, c, kh, kw] = f.shape;
        // show channel 0 of every filter (the first layer has one input channel)
        const one = new Float32Array(o * kh * kw);
        for (let i = 0; i < o; i++) one.set(f.data.subarray(i * c * kh * kw, i * c * kh * kw + kh * kw), i * kh * kw);
        grid.render(one, [o, kh, kw], { captions: Array.from({ length: o }, (_, i) => `${i + 1}`) });
      }
    }

    async function showActivations() {
      if (!created || !current) return;
      inputView.render(current, [28, 28], { captions: [caption] });
      const engine = ctx.engine();
      try {
        const before = await engine.call('activations', { slot: BEFORE, image: current.slice() });
        renderActivations(actsBefore, before.layers);
        if (trainedOnce) {
          const after = await engine.call('activations', { slot: AFTER, image: current.slice() });
          renderActivations(actsAfter, after.layers);
        } else {
          actsAfter.replaceChildren(h('p', { class: 'note', text: 'Train the model to compare.' }));
        }
      } catch (e) {
        status.textContent = `Error: ${e.message}`;
      }
    }

    const spec = { kind: 'cnn', layers: toSpecLayers([...PRESETS.small.layers, OUTPUT_LAYER]) };
    // The "after" model is saved; "before" is rebuilt from the same seed, as when it was created.
    const saved = new SavedTraining(ctx.engine, {
      exercise: 'what-cnns-learn',
      panel,
      slots: [AFTER],
      show: async (run) => {
        if (!created) await createModels(ctx.engine(), [{ slot: BEFORE, spec: run.models[0].spec, seed: run.models[0].seed }]);
        created = true;
        trainedOnce = true;
        trainBtn.disabled = false;
        useTest.disabled = false;
        epochsIn.value = String(run.planned[AFTER]);
        status.textContent = 'Compare the filters and the activation maps of your saved model.';
        await showFilters();
        if (!current) await loadTest();
        else await showActivations();
      },
      clear: () => { trainedOnce = false; showFilters().catch(() => {}); showActivations(); },
    });

    createBtn.addEventListener('click', async () => {
      createBtn.disabled = true;
      try {
        status.textContent = 'Loading data and creating the models…';
        await createModels(ctx.engine(), [{ slot: BEFORE, spec, seed: 7 }, { slot: AFTER, spec, seed: 7 }]);
        created = true;
        trainedOnce = false;
        saved.forget();
        panel.reset();
        trainBtn.disabled = false;
        useTest.disabled = false;
        status.textContent = 'Models created with the same random weights. Pick a test digit or draw one.';
        await showFilters();
        if (!current) await loadTest();
        else await showActivations();
      } catch (e) {
        status.textContent = `Error: ${e.message}`;
      } finally {
        createBtn.disabled = false;
      }
    });

    trainBtn.addEventListener('click', async () => {
      trainBtn.disabled = true;
      createBtn.disabled = true;
      try {
        status.textContent = 'Training…';
        await saved.train([{ slot: AFTER, spec, seed: 7 }], [{ slot: AFTER, train: { epochs: intOf(epochsIn, 2), batch: 32, lr: 0.002, optimizer: 'adam' } }]);
        trainedOnce = true;
        status.textContent = 'Trained. Compare the filters and the activation maps.';
        await showFilters();
        await showActivations();
      } catch (e) {
        status.textContent = `Error: ${e.message}`;
      } finally {
        trainBtn.disabled = false;
        createBtn.disabled = false;
      }
    });

    async function loadTest() {
      try {
        const r = await ctx.engine().call('testImages', { indices: [intOf(indexIn, 0)] });
        current = r.images.slice(0, 784);
        caption = `test digit #${intOf(indexIn, 0)} (label ${r.labels[0]})`;
        await showActivations();
      } catch (e) {
        status.textContent = `Error: ${e.message}`;
      }
    }
    useTest.addEventListener('click', loadTest);
    pad.addEventListener('change', (e) => {
      if (e.detail.empty) return;
      current = e.detail.image;
      caption = 'your drawing';
      showActivations();
    });

    section.append(
      h('div', { class: 'row' }, createBtn, field('epochs', epochsIn).wrap, trainBtn),
      status,
      panel.el,
      saved.el,
      h('h4', { text: 'First-layer filters' }),
      h(
        'div',
        { class: 'panels' },
        h('div', { class: 'panel' }, h('p', { class: 'act-name', text: 'Before training' }), filtersBefore.el),
        h('div', { class: 'panel' }, h('p', { class: 'act-name', text: 'After training' }), filtersAfter.el),
      ),
      h('h4', { text: 'Activation maps' }),
      h('div', { class: 'row' }, field('test digit index (0–1999)', indexIn).wrap, useTest),
      h('div', { class: 'panels' }, h('div', { class: 'panel' }, pad.el), h('div', { class: 'panel' }, inputView.el)),
      h(
        'div',
        { class: 'panels' },
        h('div', { class: 'panel grow' }, h('p', { class: 'act-name', text: 'Before training' }), actsBefore),
        h('div', { class: 'panel grow' }, h('p', { class: 'act-name', text: 'After training' }), actsAfter),
      ),
      h('h4', { text: 'Your turn' }),
      new Check({
        id: 'learn-filters',
        kind: 'choice',
        question: 'After training, what do most first-layer filters look like?',
        choices: [
          { value: 'edges', text: 'Oriented edge or stroke detectors: positive weights beside negative ones' },
          { value: 'digits', text: 'Small copies of whole digits' },
          { value: 'noise', text: 'Random noise, as before training' },
        ],
        answer: 'edges',
        hint: 'A 5×5 window sees only a piece of a stroke.',
        solution: 'Edge and stroke detectors: a 5×5 receptive field is too small for a whole digit, and local contrast is what the first layer can use.',
      }).el,
      new Check({
        id: 'learn-map-size',
        question: 'In this network, the first conv (5×5, padding 2) keeps 28×28 and is followed by 2×2 max pooling with stride 2. How wide are the maps after that pooling?',
        answer: 14,
        hint: 'Pooling 2×2 with stride 2 halves each side.',
        solution: '28 → 14.',
      }).el,
    );
    saved.restore();
  },
};
