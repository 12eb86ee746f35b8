//! The wasm-bindgen surface that www/worker.js talks to (wasm32 only). It stays narrow: a few
//! functions taking and returning strings and small structs; the message protocol between the page
//! and the worker lives in www/protocol.js.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Installs the panic hook (once). A panic message goes to the console (console_error_panic_hook)
/// and to the host's `globalThis.cnnLabPanic(message)` when the host defines one: the worker does,
/// and forwards it to the page. With `panic = "abort"` the wasm instance traps right after the hook,
/// and a trap inside an async task would otherwise leave the page waiting forever.
#[wasm_bindgen]
pub fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            console_error_panic_hook::hook(info);
            forward_panic_to_host(&info.to_string());
        }));
    });
}

fn forward_panic_to_host(message: &str) {
    let host = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("cnnLabPanic"));
    if let Ok(Some(report)) = host.map(|f| f.dyn_into::<js_sys::Function>().ok()) {
        let _ = report.call1(&JsValue::NULL, &JsValue::from_str(message));
    }
}

/// Panics with `message`. The page sends it only when asked to (`index.html#panic-test`), to show
/// and test that a Rust panic reaches the page as a readable error.
#[wasm_bindgen]
pub fn panic_for_test(message: &str) {
    panic!("{message}");
}

/// Which compute backend the engine will use, as the page shows it.
#[wasm_bindgen(getter_with_clone)]
pub struct BackendReport {
    /// True when a WebGPU adapter was found.
    pub webgpu: bool,
    /// The adapter's description, or the one-line reason why there is none.
    pub description: String,
}

/// Asks for a WebGPU adapter (through wgpu) and reports what was found.
#[wasm_bindgen]
pub async fn probe_backend() -> BackendReport {
    match probe().await {
        Ok(description) => BackendReport {
            webgpu: true,
            description,
        },
        Err(description) => BackendReport {
            webgpu: false,
            description,
        },
    }
}

/// `Ok(adapter description)` or `Err(why there is no adapter)`.
pub async fn probe() -> Result<String, String> {
    #[cfg(feature = "webgpu")]
    {
        let adapter = request_adapter().await?;
        Ok(describe(&adapter.get_info(), &browser_adapter_info().await))
    }
    #[cfg(not(feature = "webgpu"))]
    {
        Err("this build of the engine was made without the `webgpu` feature".into())
    }
}

/// The adapter the engine computes on, or the one-line reason why there is none.
#[cfg(feature = "webgpu")]
pub async fn request_adapter() -> Result<wgpu::Adapter, String> {
    // BROWSER_WEBGPU only: the wasm build has no WebGL backend (wgpu's "webgl" feature is off).
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: wgpu::Backends::BROWSER_WEBGPU,
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    });
    let options = wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::HighPerformance,
        ..Default::default()
    };
    instance.request_adapter(&options).await.map_err(|_| {
        if navigator_gpu().is_some() {
            "the browser has WebGPU but offers no adapter (GPU blocklisted, or WebGPU disabled)"
                .to_string()
        } else {
            "this browser does not offer WebGPU (navigator.gpu is missing)".to_string()
        }
    })
}

/// `navigator.gpu`, in a window or in a worker, when the browser defines it.
pub fn navigator_gpu() -> Option<JsValue> {
    let navigator = js_sys::Reflect::get(&js_sys::global(), &"navigator".into()).ok()?;
    let gpu = js_sys::Reflect::get(&navigator, &"gpu".into()).ok()?;
    (!gpu.is_undefined() && !gpu.is_null()).then_some(gpu)
}

/// The browser's own `GPUAdapterInfo` (vendor, architecture, ...), straight from
/// `navigator.gpu.requestAdapter()`: wgpu keeps only its description. `None` without an adapter.
pub async fn browser_adapter_info() -> Option<JsValue> {
    let gpu = navigator_gpu()?;
    let request: js_sys::Function = js_sys::Reflect::get(&gpu, &"requestAdapter".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let promise: js_sys::Promise = request.call0(&gpu).ok()?.dyn_into().ok()?;
    let adapter = wasm_bindgen_futures::JsFuture::from(promise).await.ok()?;
    if adapter.is_null() || adapter.is_undefined() {
        return None;
    }
    js_sys::Reflect::get(&adapter, &"info".into()).ok()
}

/// One line: "<description>, vendor <v>, architecture <a> (<backend>)", skipping empty fields.
#[cfg(feature = "webgpu")]
fn describe(info: &wgpu::AdapterInfo, browser: &Option<JsValue>) -> String {
    let field = |name: &str| {
        let value = browser.as_ref()?;
        let text = js_sys::Reflect::get(value, &name.into())
            .ok()?
            .as_string()?;
        (!text.is_empty()).then_some(text)
    };
    let mut parts = Vec::new();
    if !info.name.is_empty() {
        parts.push(info.name.clone());
    }
    if let Some(vendor) = field("vendor") {
        parts.push(format!("vendor {vendor}"));
    }
    if let Some(architecture) = field("architecture") {
        parts.push(format!("architecture {architecture}"));
    }
    if parts.is_empty() {
        parts.push("unnamed adapter".into());
    }
    format!("{} ({:?})", parts.join(", "), info.backend)
}
