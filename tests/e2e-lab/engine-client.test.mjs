// engine-client.js against an in-process fake worker: ids, ok/error, events, fatal, transfers, timeout.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Engine, EngineClient, EngineError } from '../../www/lab/engine-client.js';

class FakeWorker extends EventTarget {
  constructor(answer) {
    super();
    this.posted = [];
    this.answer = answer;
  }
  postMessage(msg, transfer) {
    this.posted.push({ msg, transfer });
    const reply = this.answer?.(msg);
    if (reply) queueMicrotask(() => this.send(reply));
  }
  send(data) {
    const e = new Event('message');
    e.data = data;
    this.dispatchEvent(e);
  }
}

test('replies are matched by id; ok resolves without id/type, error rejects', async () => {
  const w = new FakeWorker((m) => (m.type === 'bad' ? { id: m.id, type: 'error', message: 'nope' } : { id: m.id, type: 'ok', echo: m.x }));
  const c = new EngineClient(w);
  const [a, b] = await Promise.all([c.call('one', { x: 1 }), c.call('two', { x: 2 })]);
  assert.deepEqual(a, { echo: 1 });
  assert.deepEqual(b, { echo: 2 });
  assert.deepEqual(w.posted.map((p) => p.msg), [{ id: 1, type: 'one', x: 1 }, { id: 2, type: 'two', x: 2 }]);
  await assert.rejects(c.call('bad'), (e) => e instanceof EngineError && e.message === 'bad: nope');
});

test('typed arrays are transferred unless copy is asked for', async () => {
  const w = new FakeWorker((m) => ({ id: m.id, type: 'ok' }));
  const c = new EngineClient(w);
  const image = new Float32Array(784);
  await c.call('predict', { slot: 'a', image });
  assert.deepEqual(w.posted[0].transfer, [image.buffer]);
  await c.call('predict', { slot: 'a', image: new Float32Array(4) }, { copy: true });
  assert.deepEqual(w.posted[1].transfer, []);
});

test('events reach subscribers by type and *, unsubscribe works; fatal rejects pending calls', async () => {
  const w = new FakeWorker(() => null);
  const c = new EngineClient(w);
  const seen = [];
  const off = c.on('progress', (m) => seen.push(['p', m.step]));
  c.on('*', (m) => seen.push(['*', m.type]));
  w.send({ type: 'progress', step: 1 });
  off();
  w.send({ type: 'progress', step: 2 });
  const pending = c.call('train', { slot: 'a' });
  w.send({ type: 'fatal', message: 'wasm trapped' });
  await assert.rejects(pending, /wasm trapped/);
  await assert.rejects(c.call('init'), /wasm trapped/);
  assert.deepEqual(seen, [['p', 1], ['*', 'progress'], ['*', 'progress'], ['*', 'fatal']]);
});

test('Engine.init runs once, announces the backend, and times out when the worker never answers', async () => {
  const w = new FakeWorker((m) => (m.type === 'init' ? { id: m.id, type: 'ok', backend: { kind: 'cpu', description: 'x' } } : null));
  const e = new Engine(new EngineClient(w));
  const announced = [];
  e.on('backend', (m) => announced.push(m.backend.kind));
  await Promise.all([e.init(), e.init()]);
  assert.equal(w.posted.filter((p) => p.msg.type === 'init').length, 1);
  assert.deepEqual(announced, ['cpu']);
  const silent = new Engine(new EngineClient(new FakeWorker(() => null)));
  await assert.rejects(silent.init({ timeoutMs: 50 }), /did not answer init within 0.05 s/);
});
