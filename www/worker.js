// The engine's Web Worker: loads the wasm engine and answers the page's messages (www/protocol.js).
// Training will run here too, so the page's main thread never computes.
import initWasm, { install_panic_hook, panic_for_test, probe_backend } from "../pkg/cnn-lab.js";
import * as msg from "./protocol.js";

let panicked = false;
// Rust's panic hook calls this (src/web.rs) before the wasm instance traps.
globalThis.cnnLabPanic = (message) => {
  panicked = true;
  postMessage(msg.error(message, true));
};

const engine = initWasm().then(install_panic_hook, (e) => {
  throw new Error(`could not load the engine (it needs WebAssembly SIMD): ${e.message ?? e}`);
});

async function handle(message) {
  await engine;
  switch (message.type) {
    case "init": {
      const report = await probe_backend();
      const backend = { kind: report.webgpu ? "webgpu" : "cpu", description: report.description };
      report.free();
      postMessage(msg.ready(backend));
      break;
    }
    case "panic-test":
      panic_for_test("deliberate panic requested by the page (#panic-test)");
      break;
    default:
      throw new Error(`unknown message type ${JSON.stringify(message.type)}`);
  }
}

onmessage = async ({ data }) => {
  if (panicked) {
    postMessage(msg.error("the engine stopped after a panic; reload the page"));
    return;
  }
  try {
    await handle(data);
  } catch (e) {
    // After a panic the trap ("unreachable") adds nothing to the panic message already sent.
    if (!panicked) postMessage(msg.error(String(e?.message ?? e)));
  }
};
