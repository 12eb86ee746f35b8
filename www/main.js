// The page: starts the engine worker and shows what it reports. It never computes itself.
import * as msg from "./protocol.js";

const backendLine = document.getElementById("backend");
const errorBox = document.getElementById("error");
let panicked = false;

function showError(text) {
  errorBox.hidden = false;
  const line = document.createElement("pre");
  line.textContent = text;
  errorBox.append(line);
}

const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });

worker.onmessage = ({ data }) => {
  switch (data.type) {
    case "ready": {
      const { kind, description } = data.backend;
      backendLine.textContent =
        kind === "webgpu"
          ? `Compute backend: WebGPU — ${description}`
          : `Compute backend: CPU (wasm SIMD) — ${description}`;
      backendLine.dataset.backend = kind;
      if (location.hash === "#panic-test") worker.postMessage(msg.panicTest());
      break;
    }
    case "error":
      if (data.panic) {
        panicked = true;
        backendLine.textContent = "Compute backend: stopped (the engine panicked)";
        showError(`The engine panicked: ${data.message}`);
      } else {
        showError(`Engine error: ${data.message}`);
      }
      break;
    default:
      showError(`Unexpected message from the engine: ${JSON.stringify(data)}`);
  }
};

// The worker script failed to load, or an error escaped it. After a panic that error is the trap
// the panic caused, already explained above.
worker.onerror = (event) => {
  event.preventDefault();
  if (!panicked) showError(`The engine worker failed: ${event.message || "could not start it"}`);
};

worker.postMessage(msg.init());
