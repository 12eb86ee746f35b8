// The only module that knows the engine lives in a Web Worker and speaks postMessage.
// Protocol: docs/protocol.md. Commands get `{ id, type, ...fields }`; the worker answers each
// with one `{ id, type: "ok", ... }` or `{ id, type: "error", message }`; events carry no id.

import { clearDigits, loadDigits, saveDigits } from '../store.js';

export class EngineError extends Error {}

// Transfer the buffers of typed arrays found at the top level of `fields`, so big images are moved,
// not copied. The caller must not reuse an array it sent.
function transferables(fields) {
  const list = [];
  for (const v of Object.values(fields)) {
    if (ArrayBuffer.isView(v) && !list.includes(v.buffer)) list.push(v.buffer);
  }
  return list;
}

export class EngineClient {
  constructor(worker) {
    this.worker = worker;
    this.nextId = 1;
    this.pending = new Map();
    this.listeners = new Map();
    this.dead = null;
    worker.addEventListener('message', (e) => this.onMessage(e.data));
    worker.addEventListener('error', (e) => this.fail(new EngineError(e.message || 'worker failed to load')));
    worker.addEventListener('messageerror', () => this.fail(new EngineError('message could not be decoded')));
  }

  // call('train', { slot: 'a', epochs: 1 }) -> Promise of the ok message's fields.
  call(type, fields = {}, { copy = false } = {}) {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, type });
      this.worker.postMessage({ id, type, ...fields }, copy ? [] : transferables(fields));
    });
  }

  // on('progress', fn) -> unsubscribe function. '*' receives every event.
  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
    return () => this.listeners.get(type).delete(fn);
  }

  emit(msg) {
    for (const key of [msg.type, '*']) {
      for (const fn of this.listeners.get(key) || []) fn(msg);
    }
  }

  onMessage(msg) {
    if (msg == null || typeof msg !== 'object') return;
    if (msg.id != null && this.pending.has(msg.id)) {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      const { id, type, ...rest } = msg;
      if (type === 'ok') p.resolve(rest);
      else p.reject(new EngineError(`${p.type}: ${msg.message || 'engine error'}`));
      return;
    }
    if (msg.type === 'fatal') this.fail(new EngineError(msg.message || 'engine stopped'));
    else this.emit(msg);
  }

  fail(err) {
    if (this.dead) return;
    this.dead = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.emit({ type: 'fatal', message: err.message });
  }
}

// Starts the worker (a module worker at www/worker.js by default) and returns a client, or a client
// that rejects every call with the reason the worker could not start.
export function startEngine(url = new URL('../worker.js', import.meta.url)) {
  let worker;
  try {
    worker = new Worker(url, { type: 'module' });
  } catch (e) {
    const failed = new EngineClient(new EventTarget());
    failed.fail(new EngineError(`could not start the engine worker: ${e.message}`));
    return failed;
  }
  return new EngineClient(worker);
}

// Lazily shared across exercises: init and loadData run once, whoever asks first.
export class Engine {
  constructor(client) {
    this.client = client;
    this.ready = null;
    this.dataReady = null;
    this.backend = null;
    client.on('backend', (m) => { this.backend = m.backend; });
  }
  call(type, fields, opts) { return this.client.call(type, fields, opts); }
  on(type, fn) { return this.client.on(type, fn); }
  init({ timeoutMs = 60000 } = {}) {
    if (!this.ready) {
      let timer;
      const late = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new EngineError(`the engine did not answer init within ${timeoutMs / 1000} s`)), timeoutMs);
      });
      const answered = this.call('init').finally(() => clearTimeout(timer));
      this.ready = Promise.race([answered, late]).then((r) => {
        this.backend = r.backend;
        this.client.emit({ type: 'backend', backend: r.backend });
        return r;
      });
    }
    return this.ready;
  }
  // The digits models train and test on: the bundled set, or the student's own MNIST when they
  // picked its IDX files earlier (useDigits keeps them in this browser). Resolves to { train, test }.
  data() {
    if (!this.dataReady) {
      this.dataReady = this.init().then(() => this.call('loadData')).then(async (bundled) => {
        const kept = await this.keptDigits();
        if (!kept) return bundled;
        try {
          return await this.call('loadIdx', kept.files);
        } catch (e) {
          if (this.client.dead) throw e;
          // files that no longer load (gone from the browser's storage): forgotten, with a word
          console.warn(`cnn-lab: your MNIST files kept in this browser did not load (${e.message}); using the bundled digits`);
          await clearDigits().catch(() => {});
          return bundled;
        }
      });
    }
    return this.dataReady;
  }
  // The student's own MNIST (the four IDX Files, read by the worker): models created afterwards use
  // them, and so does the page after a reload. Resolves to { train, test } and whether they were kept.
  async useDigits(files) {
    await this.init();
    await this.dataReady?.catch(() => {}); // a load on its way ends first (none is started: loadIdx loads the bundled set itself)
    const loading = this.call('loadIdx', files);
    // models created meanwhile wait for these files; refused files leave the data as data() makes it
    this.dataReady = loading.catch(() => {
      this.dataReady = null;
      return this.data();
    });
    const sizes = await loading;
    const kept = await saveDigits(files, sizes).then(() => true, (e) => { console.warn(`cnn-lab: MNIST files not kept: ${e.message}`); return false; });
    return { ...sizes, kept };
  }
  // Back to the bundled digits, forgetting the kept files.
  async useBundled() {
    await this.init();
    await clearDigits().catch(() => {});
    this.dataReady = this.call('loadData', { bundled: true });
    return this.dataReady;
  }
  // The kept files' record ({ files, sizes, updated }), or null.
  keptDigits() {
    return loadDigits().catch(() => null);
  }
  async setBackend(prefer) {
    await this.init();
    const r = await this.call('setBackend', { prefer });
    this.backend = r.backend;
    this.client.emit({ type: 'backend', backend: r.backend });
    return r;
  }
}
