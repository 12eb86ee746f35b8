// Shows which backend the engine runs on (WebGPU adapter or CPU SIMD), with a switch to force CPU.

import { h, uniqueId } from './dom.js';

export function describeBackend(b) {
  if (!b) return 'unknown';
  const kind = b.kind === 'webgpu' ? 'WebGPU' : 'CPU (wasm SIMD)';
  return b.description ? `${kind}: ${b.description}` : kind;
}

export class BackendBadge {
  constructor(engine) {
    this.engine = engine;
    this.text = h('span', { class: 'badge-text', text: 'engine: starting…' });
    const id = uniqueId('force-cpu');
    this.force = h('input', { type: 'checkbox', id, role: 'switch', disabled: true, on: { change: () => this.toggle() } });
    this.el = h(
      'div',
      { class: 'backend-badge', role: 'status', 'aria-live': 'polite' },
      h('span', { class: 'badge-kind', text: 'Backend' }),
      this.text,
      h('span', { class: 'switch' }, this.force, h('label', { for: id, text: 'Force CPU' })),
    );
    engine.on('backend', (m) => this.show(m.backend));
    engine.on('fatal', (m) => this.showError(m.message));
    engine.init().then(
      () => {
        this.force.disabled = false;
      },
      (e) => this.showError(e.message),
    );
  }

  show(b) {
    this.el.dataset.kind = b?.kind || '';
    this.text.textContent = describeBackend(b);
    this.text.title = b?.reason || '';
    this.force.checked = b?.kind === 'cpu' && this.force.checked;
  }

  showError(message) {
    this.el.dataset.kind = 'none';
    this.text.textContent = `engine unavailable (${message})`;
    this.force.disabled = true;
  }

  async toggle() {
    const want = this.force.checked;
    this.force.disabled = true;
    try {
      await this.engine.setBackend(want ? 'cpu' : 'auto');
      this.force.checked = want;
    } catch (e) {
      this.force.checked = !want;
      this.text.textContent = `could not switch backend: ${e.message}`;
    } finally {
      this.force.disabled = !!this.engine.client.dead;
    }
  }
}
