// The messages between the page (www/main.js) and the engine worker (www/worker.js).
// Every message is a plain object with a `type`; build them with these functions only.
//
// page -> worker
//   {type: "init"}                         load the engine and probe the compute backend
//   {type: "panic-test"}                   make the engine panic (index.html#panic-test only)
// worker -> page
//   {type: "ready", backend: Backend}      the engine is loaded; which backend it computes on
//   {type: "error", message, panic}        something failed; `panic`: a Rust panic, the engine is dead
//
/** @typedef {{kind: "webgpu" | "cpu", description: string}} Backend
 *  kind "webgpu": description is the adapter; kind "cpu": description is why WebGPU is not used. */

export const init = () => ({ type: "init" });
export const panicTest = () => ({ type: "panic-test" });
/** @param {Backend} backend */
export const ready = (backend) => ({ type: "ready", backend });
/** @param {string} message @param {boolean} [panic] */
export const error = (message, panic = false) => ({ type: "error", message, panic });
