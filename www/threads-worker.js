// Replica 1.. of a data-parallel run (www/threads.js): builds the same model as replica 0, then
// runs `total` steps in lockstep with it through the shared exchange buffer, and finally sends back
// its weights (safetensors bytes) so that replica 0 can check that they are identical.
import initWasm, * as wasm from "../pkg/cnn-lab.js";
import { exchangeViews, replicaStep, startReplica } from "./threads.js";

self.onmessage = async ({ data: m }) => {
  try {
    await initWasm();
    const slot = `threads-${m.part}`;
    await startReplica(wasm, slot, m);
    const ex = exchangeViews(m.buffer, m.len, m.parts);
    if (wasm.shard_record_len(slot) !== m.len) throw new Error("the replicas' models differ");
    self.postMessage({ ready: true });
    for (let s = 0; s < m.total; s++) {
      if (!(await replicaStep(wasm, slot, ex, m.part, s))) break;
    }
    self.postMessage({ done: true, weights: await wasm.export_model(slot) });
  } catch (e) {
    self.postMessage({ error: String(e?.stack ?? e) });
  }
};
