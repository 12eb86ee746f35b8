// Exercise 8: a deep plain CNN and the same depth with skip connections, trained side by side.

import { field, h, intOf, select, statusLine } from '../widgets/dom.js';
import { Check } from '../widgets/check.js';
import { LiveChart } from '../widgets/chart.js';
import { TrainPanel, createModels } from '../widgets/train-panel.js';
import { SavedTraining } from '../saved-models.js';

const PLAIN = 'plain';
const RES = 'resnet';

export default {
  id: 'resnet',
  title: '8. ResNets: skip connections',
  needsEngine: true,
  mount(section, ctx) {
    section.append(
      h('p', {
        text:
          'Stacking more layers should never hurt: the extra layers could just learn the identity. In practice ' +
          'a deep plain network trains worse than a shallower one, because during backpropagation the gradient ' +
          'is multiplied by one layer\'s Jacobian after another and shrinks (vanishing gradients), so the early ' +
          'layers barely learn. A residual block adds its input to its output: y = x + F(x). Its derivative is ' +
          'I + ∂F/∂x, so the gradient always has an identity path straight back to the early layers, and each ' +
          'block only needs to learn a small correction F to the identity.',
      }),
    );

    const depthSel = select([['6', '6 conv layers'], ['10', '10 conv layers'], ['16', '16 conv layers'], ['20', '20 conv layers']], '16');
    const epochsIn = h('input', { type: 'number', min: 1, max: 10, value: '2', inputmode: 'numeric' });
    const sizeIn = h('input', { type: 'number', min: 100, max: 8000, step: 100, value: '2000', inputmode: 'numeric' });
    const lrIn = h('input', { type: 'number', min: 0.0001, max: 1, step: 0.001, value: '0.05', inputmode: 'decimal' });
    const trainBtn = h('button', { type: 'button', class: 'primary', text: 'Train both side by side' });
    const status = statusLine('');
    const panel = new TrainPanel(ctx.engine, { slots: [{ slot: PLAIN, name: 'plain' }, { slot: RES, name: 'resnet' }] });
    const grads = new LiveChart({
      title: 'Gradient norm per layer (log scale), input side on the left',
      xLabel: 'layer',
      yLabel: '‖∇W‖',
      series: ['plain', 'resnet'],
      log: true,
      points: true,
    });
    const gradText = h('p', { class: 'note', role: 'status', 'aria-live': 'polite' });
    const verdict = h('p', { class: 'verdict', role: 'status', 'aria-live': 'polite' });

    async function refreshGrads() {
      const engine = ctx.engine();
      const [p, r] = await Promise.all([engine.call('gradNorms', { slot: PLAIN }), engine.call('gradNorms', { slot: RES })]);
      const n = Math.max(p.layers.length, r.layers.length);
      grads.set(Array.from({ length: n }, (_, i) => i + 1), { plain: p.layers.map((l) => l.norm), resnet: r.layers.map((l) => l.norm) });
      const first = (ls) => (ls.length ? ls[0].norm.toExponential(2) : '–');
      gradText.textContent = `First layer gradient norm: plain ${first(p.layers)}, resnet ${first(r.layers)}.`;
    }

    // The gradient chart is saved with the models: a restored model has no gradients to measure.
    const saved = new SavedTraining(ctx.engine, {
      exercise: 'resnet',
      panel,
      slots: [PLAIN, RES],
      charts: { grads },
      show: async (run, resumed) => {
        depthSel.value = String(run.models[0].spec.depth);
        epochsIn.value = String(run.planned[PLAIN]);
        if (run.train[PLAIN].trainSize) sizeIn.value = String(run.train[PLAIN].trainSize);
        lrIn.value = String(run.train[PLAIN].lr);
        if (resumed) {
          await refreshGrads();
          verdict.textContent = verdictText();
          await saved.remember({ gradText: gradText.textContent, verdict: verdict.textContent });
        } else {
          gradText.textContent = run.extra.gradText || '';
          verdict.textContent = run.extra.verdict || '';
        }
      },
      clear: () => { gradText.textContent = ''; verdict.textContent = ''; },
    });

    function verdictText() {
      const lp = panel.lastLoss.get(PLAIN);
      const lr = panel.lastLoss.get(RES);
      if (!Number.isFinite(lp) || !Number.isFinite(lr)) return '';
      return lr < lp
        ? `Final training loss: resnet ${lr.toFixed(3)} vs plain ${lp.toFixed(3)}. The residual net learned faster: its early layers receive gradients through the skip connections.`
        : `Final training loss: resnet ${lr.toFixed(3)} vs plain ${lp.toFixed(3)}. At this depth the plain net kept up; try more layers, where its gradients vanish.`;
    }

    trainBtn.addEventListener('click', async () => {
      trainBtn.disabled = true;
      panel.reset();
      grads.reset();
      verdict.textContent = '';
      const depth = Number(depthSel.value);
      const off = ctx.engine().on('epoch', (m) => {
        if (m.slot === RES) refreshGrads().catch(() => {});
      });
      try {
        status.textContent = 'Loading data and creating the two networks…';
        const models = [
          { slot: PLAIN, spec: { kind: 'plain', depth }, seed: 5 },
          { slot: RES, spec: { kind: 'resnet', depth }, seed: 5 },
        ];
        await createModels(ctx.engine(), models);
        status.textContent = 'Training both…';
        const train = { epochs: intOf(epochsIn, 2), batch: 32, lr: Number(lrIn.value) || 0.05, optimizer: 'sgd', trainSize: intOf(sizeIn, 2000) };
        await saved.train(models, [{ slot: PLAIN, train }, { slot: RES, train }]);
        await refreshGrads();
        verdict.textContent = verdictText();
        await saved.remember({ gradText: gradText.textContent, verdict: verdict.textContent });
        status.textContent = 'Done.';
      } catch (e) {
        status.textContent = `Error: ${e.message}`;
      } finally {
        off();
        trainBtn.disabled = false;
      }
    });

    section.append(
      h(
        'div',
        { class: 'controls' },
        field('depth', depthSel).wrap,
        field('epochs', epochsIn).wrap,
        field('training digits', sizeIn).wrap,
        field('learning rate (SGD)', lrIn).wrap,
      ),
      h('p', { class: 'note', text: 'Both networks get the same layers and the same starting weights; only the skip connections differ. Plain SGD makes the difference easiest to see.' }),
      h('div', { class: 'row' }, trainBtn),
      status,
      panel.el,
      saved.el,
      grads.el,
      gradText,
      verdict,
      h('h4', { text: 'Your turn' }),
      new Check({
        id: 'resnet-why',
        kind: 'choice',
        question: 'Why does the residual network train faster at the same depth?',
        choices: [
          { value: 'identity', text: 'Skip connections give the gradient an identity path, so early layers still get a useful gradient' },
          { value: 'params', text: 'It has far fewer parameters' },
          { value: 'lr', text: 'It is trained with a larger learning rate' },
          { value: 'pool', text: 'It pools more often' },
        ],
        answer: 'identity',
        hint: 'Compare the gradient norms of the first layers.',
        solution: 'With y = x + F(x) the derivative is I + ∂F/∂x: the identity term carries the gradient back unchanged, so it does not vanish over many layers. Same parameters, same learning rate.',
      }).el,
      new Check({
        id: 'resnet-deriv',
        question: 'For a residual block y = x + F(x) with a scalar x, what is dy/dx where F is flat (dF/dx = 0)?',
        answer: 1,
        hint: 'Differentiate both terms.',
        solution: 'dy/dx = 1 + dF/dx = 1.',
      }).el,
    );
    saved.restore();
  },
};
