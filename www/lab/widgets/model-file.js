// Export / import of a trained model as a safetensors file (worker commands exportModel,
// importModel; tensor names and layouts: src/io/state.rs). Nothing leaves the machine: export
// is a download made from a blob in the page, import reads a file the student picks.
// Options: slot; ensureModel() -> Promise, run before an import (creates the model to load into);
// onImported() after a successful import.

import { h, statusLine } from './dom.js';

export class ModelFile {
  constructor(getEngine, { slot, ensureModel = async () => {}, onImported = () => {} }) {
    this.status = statusLine('');
    this.status.dataset.modelFile = '';
    this.exportBtn = h('button', { type: 'button', text: 'Export model (.safetensors)', on: { click: () => this.export(getEngine(), slot) } });
    this.importIn = h('input', { type: 'file', accept: '.safetensors,application/octet-stream', 'aria-label': 'Import a model file (.safetensors)' });
    this.importIn.addEventListener('change', async () => {
      const file = this.importIn.files[0];
      if (!file) return;
      this.say(`Reading ${file.name}…`);
      try {
        await ensureModel();
        const bytes = await file.arrayBuffer();
        await getEngine().call('importModel', { slot, bytes });
        this.say(`Loaded the weights from ${file.name}.`);
        await onImported();
      } catch (e) {
        this.say(`Import failed: ${e.message.replace(/^importModel: /, '')}. The model was not changed.`, true);
      } finally {
        this.importIn.value = '';
      }
    });
    this.el = h(
      'div',
      { class: 'row model-file' },
      this.exportBtn,
      h('label', { class: 'file-button' }, 'Import model: ', this.importIn),
      this.status,
    );
  }

  say(text, error = false) {
    this.status.textContent = text;
    this.status.classList.toggle('error', error);
  }

  async export(engine, slot) {
    try {
      const { bytes, filename } = await engine.call('exportModel', { slot });
      const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
      const a = h('a', { href: url, download: filename });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      this.say(`Exported ${filename} (${bytes.byteLength.toLocaleString('en-US')} bytes).`);
    } catch (e) {
      this.say(`Export failed: ${e.message.replace(/^exportModel: /, '')}`, true);
    }
  }
}
