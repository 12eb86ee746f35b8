// The page: the lab (www/lab/) mounted under a status line that says which compute backend the
// engine worker uses, and shows the engine's errors (a Rust panic included). It never computes.
import { Engine, startEngine } from "./lab/engine-client.js";
import { mountLab } from "./lab/lab.js";

const backendLine = document.getElementById("backend");
const errorBox = document.getElementById("error");

function showError(text) {
  errorBox.hidden = false;
  const line = document.createElement("pre");
  line.textContent = text;
  errorBox.append(line);
}

const engine = new Engine(startEngine(new URL("./worker.js", import.meta.url)));

engine.on("backend", ({ backend }) => {
  const { kind, description } = backend;
  backendLine.textContent =
    kind === "webgpu"
      ? `Compute backend: WebGPU — ${description}`
      : `Compute backend: CPU (wasm SIMD) — ${description}`;
  backendLine.dataset.backend = kind;
});

// The worker died: a Rust panic (its message is Rust's "panicked at file:line:col: ..."), or the
// worker could not load. Either way the engine is gone until the page is reloaded.
engine.on("fatal", ({ message }) => {
  if (/^panicked at /.test(message)) {
    backendLine.textContent = "Compute backend: stopped (the engine panicked)";
    showError(`The engine panicked: ${message}`);
  } else {
    backendLine.textContent = "Compute backend: unavailable";
    showError(`The engine worker failed: ${message}`);
  }
});

mountLab(document.getElementById("lab"), { engine });

engine.init().then(
  () => {
    if (location.hash === "#panic-test") engine.call("panicTest").catch(() => {});
  },
  (e) => {
    if (!engine.client.dead) showError(`Engine error: ${e.message}`);
  },
);
